/* test_catalog.c: the SQLite catalog: commits and their checks, schema versions with
 * stable field ids, optimistic concurrency between handles and between processes,
 * time travel, position delete files and the rows they hide, expiry, drops, upgrades of
 * older formats, and the messages of each error. */
#include "test.h"

#include "catalog/catalog.h"
#include "core/mem.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

static char url[400];

static struct sl_catalog *open_cat(void) {
  struct sl_catalog *cat = NULL;
  struct sl_err err = {0};
  if (sl_catalog_open(url, &cat, &err)) fprintf(stderr, "open: %s\n", err.msg);
  return cat;
}

static struct sl_schema schema_of(const char *names[], const char *types[], size_t n) {
  struct sl_schema s = {0};
  s.cols = sl_calloc(n, sizeof *s.cols);
  s.n_cols = n;
  for (size_t i = 0; i < n; i++) {
    s.cols[i].name = sl_strdup(names[i]);
    s.cols[i].type = sl_strdup(types[i]);
    s.cols[i].nullable = 1;
  }
  return s;
}

static int commit(struct sl_catalog *cat, const char *table, int64_t parent, const struct sl_schema *s, const char *path,
                  int64_t rows, int replace, int64_t *snap, struct sl_err *err) {
  struct sl_data_file f = {.path = (char *)path, .rows = rows, .bytes = rows * 10, .stats_json = "{}"};
  struct sl_commit c = {.ns = "bronze", .table = table, .expected_parent = parent, .operation = replace ? "replace" : "append",
                        .summary_json = "{\"test\":true}", .schema = s, .add = &f, .n_add = path ? 1 : 0, .replace = replace};
  return sl_catalog_commit(cat, &c, snap, err);
}

static void test_open_and_namespaces(void) {
  struct sl_catalog *cat = open_cat();
  CHECK(cat != NULL);
  struct sl_err err = {0};
  CHECK_EQ_INT(sl_catalog_ns_create(cat, "bronze", &err), 0);
  CHECK_EQ_INT(sl_catalog_ns_create(cat, "bronze", &err), 0); /* idempotent */
  CHECK_EQ_INT(sl_catalog_ns_create(cat, "silver", &err), 0);
  CHECK_EQ_INT(sl_catalog_ns_create(cat, "bad name", &err), SL_EINVAL);
  CHECK_CONTAINS(err.msg, "'bad name'");
  char **ns = NULL;
  size_t n = 0;
  CHECK_EQ_INT(sl_catalog_ns_list(cat, &ns, &n, &err), 0);
  CHECK_EQ_INT(n, 2);
  if (n == 2) {
    CHECK_STR(ns[0], "bronze");
    CHECK_STR(ns[1], "silver");
  }
  sl_str_list_free(ns, n);
  sl_catalog_close(cat);
  cat = open_cat(); /* reopen keeps them */
  CHECK_EQ_INT(sl_catalog_ns_list(cat, &ns, &n, &err), 0);
  CHECK_EQ_INT(n, 2);
  sl_str_list_free(ns, n);
  sl_catalog_close(cat);
}

static void test_commits_and_time_travel(void) {
  struct sl_catalog *cat = open_cat();
  struct sl_err err = {0};
  const char *n1[] = {"id", "name"}, *t1[] = {"BIGINT", "VARCHAR"};
  struct sl_schema s1 = schema_of(n1, t1, 2);
  int64_t a = 0, b = 0, c = 0, d = 0;
  CHECK_EQ_INT(commit(cat, "t", 0, &s1, "bronze/t/data/a.parquet", 10, 0, &a, &err), 0);
  CHECK_EQ_INT(commit(cat, "t", a, &s1, "bronze/t/data/b.parquet", 5, 0, &b, &err), 0);
  CHECK(b > a);
  struct sl_table_info ti = {0};
  CHECK_EQ_INT(sl_catalog_table_get(cat, "bronze", "t", &ti, &err), 0);
  CHECK_EQ_INT(ti.current_snapshot, b);
  CHECK_EQ_INT(ti.rows, 15);
  CHECK_EQ_INT(ti.files, 2);
  CHECK_EQ_INT(ti.bytes, 150);
  /* replace: only the new file is visible; old snapshots still see theirs */
  usleep(5000);
  CHECK_EQ_INT(commit(cat, "t", b, &s1, "bronze/t/data/c.parquet", 7, 1, &c, &err), 0);
  struct sl_data_file *f = NULL;
  size_t nf = 0;
  CHECK_EQ_INT(sl_catalog_files_at(cat, ti.table_id, c, &f, &nf, &err), 0);
  CHECK_EQ_INT(nf, 1);
  if (nf == 1) CHECK_STR(f[0].path, "bronze/t/data/c.parquet");
  sl_data_file_list_free(f, nf);
  CHECK_EQ_INT(sl_catalog_files_at(cat, ti.table_id, a, &f, &nf, &err), 0);
  CHECK_EQ_INT(nf, 1);
  if (nf == 1) CHECK_STR(f[0].path, "bronze/t/data/a.parquet");
  sl_data_file_list_free(f, nf);
  CHECK_EQ_INT(sl_catalog_files_at(cat, ti.table_id, b, &f, &nf, &err), 0);
  CHECK_EQ_INT(nf, 2);
  sl_data_file_list_free(f, nf);
  /* an empty replace is a valid snapshot with no rows */
  CHECK_EQ_INT(commit(cat, "t", c, &s1, NULL, 0, 1, &d, &err), 0);
  CHECK_EQ_INT(sl_catalog_files_at(cat, ti.table_id, d, &f, &nf, &err), 0);
  CHECK_EQ_INT(nf, 0);
  sl_data_file_list_free(f, nf);
  struct sl_snapshot *ss = NULL;
  size_t ns = 0;
  CHECK_EQ_INT(sl_catalog_snapshot_list(cat, ti.table_id, &ss, &ns, &err), 0);
  CHECK_EQ_INT(ns, 4);
  if (ns == 4) {
    CHECK_EQ_INT(ss[0].parent_id, 0);
    CHECK_EQ_INT(ss[1].parent_id, a);
    CHECK_EQ_INT(ss[2].parent_id, b);
    CHECK_EQ_INT(ss[1].rows, 15);
    CHECK_EQ_INT(ss[2].rows, 7);
    CHECK_EQ_INT(ss[3].rows, 0);
    CHECK_STR(ss[2].operation, "replace");
    CHECK_STR(ss[0].summary_json, "{\"test\":true}");
    int64_t at = 0;
    CHECK_EQ_INT(sl_catalog_snapshot_at(cat, ti.table_id, ss[1].ts_ms, &at, &err), 0);
    CHECK(at == b || (at > b && ss[2].ts_ms == ss[1].ts_ms));
    CHECK_EQ_INT(sl_catalog_snapshot_at(cat, ti.table_id, ss[0].ts_ms - 1000, &at, &err), SL_ENOTFOUND);
    CHECK_CONTAINS(err.msg, "no snapshot yet");
  }
  sl_snapshot_list_free(ss, ns);
  /* a snapshot of another table is refused */
  int64_t o = 0;
  CHECK_EQ_INT(commit(cat, "other", 0, &s1, "bronze/other/data/x.parquet", 1, 0, &o, &err), 0);
  CHECK_EQ_INT(sl_catalog_files_at(cat, ti.table_id, o, &f, &nf, &err), SL_ENOTFOUND);
  sl_table_info_fini(&ti);
  sl_schema_fini(&s1);
  sl_catalog_close(cat);
}

static void test_schema_versions(void) {
  struct sl_catalog *cat = open_cat();
  struct sl_err err = {0};
  const char *n1[] = {"id", "name"}, *t1[] = {"BIGINT", "VARCHAR"};
  const char *n2[] = {"id", "name", "city"}, *t2[] = {"BIGINT", "VARCHAR", "VARCHAR"};
  const char *n3[] = {"id", "city"}, *t3[] = {"BIGINT", "VARCHAR"};
  struct sl_schema s1 = schema_of(n1, t1, 2), s2 = schema_of(n2, t2, 3), s3 = schema_of(n3, t3, 2);
  int64_t a = 0, b = 0, c = 0;
  CHECK_EQ_INT(commit(cat, "evo", 0, &s1, "bronze/evo/data/1.parquet", 1, 0, &a, &err), 0);
  CHECK_EQ_INT(commit(cat, "evo", a, &s2, "bronze/evo/data/2.parquet", 1, 0, &b, &err), 0);
  CHECK_EQ_INT(commit(cat, "evo", b, &s3, "bronze/evo/data/3.parquet", 1, 1, &c, &err), 0);
  struct sl_table_info ti = {0};
  sl_catalog_table_get(cat, "bronze", "evo", &ti, &err);
  CHECK_EQ_INT(ti.schema_id, 3);
  struct sl_schema got = {0};
  CHECK_EQ_INT(sl_catalog_schema_get(cat, ti.table_id, 2, &got, &err), 0);
  CHECK_EQ_INT(got.n_cols, 3);
  if (got.n_cols == 3) {
    CHECK_EQ_INT(got.cols[0].field_id, 1);
    CHECK_EQ_INT(got.cols[1].field_id, 2);
    CHECK_EQ_INT(got.cols[2].field_id, 3);
    CHECK_STR(got.cols[2].name, "city");
  }
  sl_schema_fini(&got);
  CHECK_EQ_INT(sl_catalog_schema_get(cat, ti.table_id, 3, &got, &err), 0);
  if (got.n_cols == 2) {
    CHECK_EQ_INT(got.cols[0].field_id, 1); /* id keeps its id */
    CHECK_EQ_INT(got.cols[1].field_id, 3); /* city keeps its id though its position moved */
  }
  sl_schema_fini(&got);
  /* the same schema again records no new version */
  int64_t d = 0;
  CHECK_EQ_INT(commit(cat, "evo", c, &s3, "bronze/evo/data/4.parquet", 1, 0, &d, &err), 0);
  sl_table_info_fini(&ti);
  sl_catalog_table_get(cat, "bronze", "evo", &ti, &err);
  CHECK_EQ_INT(ti.schema_id, 3);
  CHECK_EQ_INT(sl_catalog_schema_get(cat, ti.table_id, 9, &got, &err), SL_ENOTFOUND);
  sl_table_info_fini(&ti);
  sl_schema_fini(&s1);
  sl_schema_fini(&s2);
  sl_schema_fini(&s3);
  sl_catalog_close(cat);
}

static void test_conflicts(void) {
  struct sl_catalog *x = open_cat(), *y = open_cat();
  struct sl_err err = {0};
  const char *n1[] = {"id"}, *t1[] = {"BIGINT"};
  struct sl_schema s = schema_of(n1, t1, 1);
  int64_t a = 0, b = 0, c = 0;
  CHECK_EQ_INT(commit(x, "race", 0, &s, "bronze/race/data/1.parquet", 1, 0, &a, &err), 0);
  /* both saw snapshot a; x wins, y loses with a clear message */
  CHECK_EQ_INT(commit(x, "race", a, &s, "bronze/race/data/2.parquet", 1, 0, &b, &err), 0);
  CHECK_EQ_INT(commit(y, "race", a, &s, "bronze/race/data/3.parquet", 1, 0, &c, &err), SL_ECONFLICT);
  CHECK_CONTAINS(err.msg, "bronze.race");
  CHECK_CONTAINS(err.msg, "changed concurrently");
  CHECK_CONTAINS(err.msg, "retry");
  /* creating a table that another writer created meanwhile is a conflict too */
  CHECK_EQ_INT(commit(y, "race", 0, &s, "bronze/race/data/4.parquet", 1, 0, &c, &err), SL_ECONFLICT);
  /* the loser's commit left nothing behind */
  struct sl_table_info ti = {0};
  sl_catalog_table_get(y, "bronze", "race", &ti, &err);
  CHECK_EQ_INT(ti.current_snapshot, b);
  CHECK_EQ_INT(ti.files, 2);
  sl_table_info_fini(&ti);
  sl_schema_fini(&s);
  sl_catalog_close(x);
  sl_catalog_close(y);
}

/* Several processes commit to one table, retrying on conflict. Afterwards the chain is
 * linear (each parent is the previous snapshot) and every commit is there exactly once. */
static void test_concurrent_processes(void) {
  enum { PROCS = 4, EACH = 25 };
  for (int p = 0; p < PROCS; p++) {
    pid_t pid = fork();
    if (pid == 0) {
      struct sl_catalog *cat = open_cat();
      const char *n1[] = {"id"}, *t1[] = {"BIGINT"};
      struct sl_schema s = schema_of(n1, t1, 1);
      int fails = 0;
      for (int i = 0; i < EACH; i++) {
        char path[64];
        snprintf(path, sizeof path, "bronze/many/data/p%d-%d.parquet", p, i);
        for (;;) {
          struct sl_err err = {0};
          struct sl_table_info ti = {0};
          int64_t parent = 0, snap = 0;
          if (sl_catalog_table_get(cat, "bronze", "many", &ti, &err) == 0) parent = ti.current_snapshot;
          sl_table_info_fini(&ti);
          int rc = commit(cat, "many", parent, &s, path, 1, 0, &snap, &err);
          if (rc == 0) break;
          if (rc != SL_ECONFLICT) {
            fprintf(stderr, "proc %d: %s\n", p, err.msg);
            fails++;
            break;
          }
        }
      }
      sl_schema_fini(&s);
      sl_catalog_close(cat);
      _exit(fails ? 1 : 0);
    }
  }
  int bad = 0;
  for (int p = 0; p < PROCS; p++) {
    int st = 0;
    wait(&st);
    if (!WIFEXITED(st) || WEXITSTATUS(st)) bad++;
  }
  CHECK_EQ_INT(bad, 0);
  struct sl_catalog *cat = open_cat();
  struct sl_err err = {0};
  struct sl_table_info ti = {0};
  CHECK_EQ_INT(sl_catalog_table_get(cat, "bronze", "many", &ti, &err), 0);
  CHECK_EQ_INT(ti.rows, PROCS * EACH);
  CHECK_EQ_INT(ti.files, PROCS * EACH);
  struct sl_snapshot *ss = NULL;
  size_t n = 0;
  CHECK_EQ_INT(sl_catalog_snapshot_list(cat, ti.table_id, &ss, &n, &err), 0);
  CHECK_EQ_INT(n, PROCS * EACH);
  int linear = 1;
  for (size_t i = 1; i < n; i++) linear &= ss[i].parent_id == ss[i - 1].snapshot_id && ss[i].rows == (int64_t)i + 1;
  CHECK(linear);
  sl_snapshot_list_free(ss, n);
  sl_table_info_fini(&ti);
  sl_catalog_close(cat);
}

static void test_drop_and_errors(void) {
  struct sl_catalog *cat = open_cat();
  struct sl_err err = {0};
  const char *n1[] = {"id"}, *t1[] = {"BIGINT"};
  struct sl_schema s = schema_of(n1, t1, 1);
  int64_t a = 0, b = 0;
  CHECK_EQ_INT(commit(cat, "gone", 0, &s, "bronze/gone/data/1.parquet", 1, 0, &a, &err), 0);
  CHECK_EQ_INT(sl_catalog_table_drop(cat, "bronze", "gone", &err), 0);
  struct sl_table_info ti = {0};
  CHECK_EQ_INT(sl_catalog_table_get(cat, "bronze", "gone", &ti, &err), SL_ENOTFOUND);
  CHECK_CONTAINS(err.msg, "bronze.gone does not exist");
  CHECK_CONTAINS(err.msg, "sluice tables");
  CHECK_EQ_INT(sl_catalog_table_drop(cat, "bronze", "gone", &err), SL_ENOTFOUND);
  /* ids are never reused after a drop */
  CHECK_EQ_INT(commit(cat, "gone", 0, &s, "bronze/gone/data/2.parquet", 1, 0, &b, &err), 0);
  CHECK(b > a);
  struct sl_data_file f = {.path = "x", .rows = 1};
  struct sl_commit c = {.ns = "nowhere", .table = "t", .schema = &s, .add = &f, .n_add = 1};
  int64_t snap;
  CHECK_EQ_INT(sl_catalog_commit(cat, &c, &snap, &err), SL_ENOTFOUND);
  CHECK_CONTAINS(err.msg, "namespace nowhere does not exist");
  c.ns = "bronze";
  c.table = "../x";
  CHECK_EQ_INT(sl_catalog_commit(cat, &c, &snap, &err), SL_EINVAL);
  CHECK_CONTAINS(err.msg, "'../x'");
  char *ns = NULL, *tb = NULL;
  CHECK_EQ_INT(sl_catalog_name_split("bronze", &ns, &tb, &err), SL_EINVAL);
  CHECK_CONTAINS(err.msg, "namespace.table");
  CHECK_EQ_INT(sl_catalog_name_split("a.b.c", &ns, &tb, &err), SL_EINVAL);
  CHECK_EQ_INT(sl_catalog_name_split("silver.loan_2", &ns, &tb, &err), 0);
  CHECK_STR(ns, "silver");
  CHECK_STR(tb, "loan_2");
  sl_free(ns);
  sl_free(tb);
  sl_schema_fini(&s);
  sl_catalog_close(cat);
  struct sl_catalog *bad = NULL;
  CHECK_EQ_INT(sl_catalog_open("sqlite:/nonexistent-folder/c.db", &bad, &err), SL_EIO);
  CHECK_CONTAINS(err.msg, "/nonexistent-folder/c.db");
  CHECK_EQ_INT(sl_catalog_open("postgres://x", &bad, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "sqlite:PATH");
}

static void test_newer_format_refused(void) {
  char path[400];
  snprintf(path, sizeof path, "%s/future.db", sl_test_tmpdir());
  sqlite3 *db;
  sqlite3_open(path, &db);
  sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
  sqlite3_close(db);
  char u[450];
  snprintf(u, sizeof u, "sqlite:%s", path);
  struct sl_catalog *cat = NULL;
  struct sl_err err = {0};
  CHECK_EQ_INT(sl_catalog_open(u, &cat, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "upgrade sluice");
}

/* A catalog of the first format gains the delete files' table when opened. */
static void test_upgrade(void) {
  char path[400];
  snprintf(path, sizeof path, "%s/old.db", sl_test_tmpdir());
  char u[450];
  snprintf(u, sizeof u, "sqlite:%s", path);
  struct sl_catalog *cat = NULL;
  struct sl_err err = {0};
  CHECK_EQ_INT(sl_catalog_open(u, &cat, &err), 0);
  sl_catalog_close(cat);
  sqlite3 *db;
  sqlite3_open(path, &db);
  sqlite3_exec(db, "DROP TABLE delete_files; PRAGMA user_version = 1", NULL, NULL, NULL);
  sqlite3_close(db);
  CHECK_EQ_INT(sl_catalog_open(u, &cat, &err), 0);
  sl_catalog_close(cat);
  sqlite3_open(path, &db);
  sqlite3_stmt *st;
  sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM sqlite_master WHERE name = 'delete_files'), "
                         "(SELECT user_version FROM pragma_user_version)", -1, &st, NULL);
  CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
  CHECK_EQ_INT(sqlite3_column_int(st, 0), 1);
  CHECK_EQ_INT(sqlite3_column_int(st, 1), 3);
  sqlite3_finalize(st);
  /* Format 2: snapshots without expired_ms. */
  sqlite3_exec(db, "ALTER TABLE snapshots DROP COLUMN expired_ms; PRAGMA user_version = 2", NULL, NULL, NULL);
  sqlite3_close(db);
  CHECK_EQ_INT(sl_catalog_open(u, &cat, &err), 0);
  sl_catalog_close(cat);
  sqlite3_open(path, &db);
  sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM pragma_table_info('snapshots') WHERE name = 'expired_ms'), "
                         "(SELECT user_version FROM pragma_user_version)", -1, &st, NULL);
  CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
  CHECK_EQ_INT(sqlite3_column_int(st, 0), 1);
  CHECK_EQ_INT(sqlite3_column_int(st, 1), 3);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

/* Expiring snapshots: the files no kept snapshot sees are forgotten and listed, the
 * current snapshot is never expired, reading an expired one is an error, a dry run
 * changes nothing. */
static void test_expire(void) {
  struct sl_catalog *cat = open_cat();
  struct sl_err err = {0};
  const char *n1[] = {"id"}, *t1[] = {"BIGINT"};
  struct sl_schema s1 = schema_of(n1, t1, 1);
  int64_t s[5] = {0};
  CHECK_EQ_INT(commit(cat, "exp", 0, &s1, "bronze/exp/data/a.parquet", 10, 0, &s[1], &err), 0);
  CHECK_EQ_INT(commit(cat, "exp", s[1], &s1, "bronze/exp/data/b.parquet", 5, 0, &s[2], &err), 0);
  CHECK_EQ_INT(commit(cat, "exp", s[2], &s1, "bronze/exp/data/c.parquet", 3, 1, &s[3], &err), 0);
  CHECK_EQ_INT(commit(cat, "exp", s[3], &s1, "bronze/exp/data/d.parquet", 2, 0, &s[4], &err), 0);
  struct sl_table_info ti = {0};
  CHECK_EQ_INT(sl_catalog_table_get(cat, "bronze", "exp", &ti, &err), 0);
  struct sl_data_file *gone = NULL, *f = NULL;
  size_t ng = 0, nf = 0;
  /* s1 alone: its file a is still seen by s2. */
  CHECK_EQ_INT(sl_catalog_expire(cat, ti.table_id, &s[1], 1, 1000, 1, &gone, &ng, &err), 0);
  CHECK_EQ_INT(ng, 0);
  int64_t both[] = {s[1], s[2]};
  CHECK_EQ_INT(sl_catalog_expire(cat, ti.table_id, both, 2, 1000, 1, &gone, &ng, &err), 0);
  CHECK_EQ_INT(ng, 2);
  if (ng == 2) {
    CHECK_STR(gone[0].path, "bronze/exp/data/a.parquet");
    CHECK_EQ_INT(gone[0].bytes, 100);
    CHECK_STR(gone[1].path, "bronze/exp/data/b.parquet");
  }
  sl_data_file_list_free(gone, ng);
  /* The dry run changed nothing. */
  CHECK_EQ_INT(sl_catalog_files_at(cat, ti.table_id, s[1], &f, &nf, &err), 0);
  CHECK_EQ_INT(nf, 1);
  sl_data_file_list_free(f, nf);
  CHECK_EQ_INT(sl_catalog_expire(cat, ti.table_id, both, 2, 1000, 0, &gone, &ng, &err), 0);
  CHECK_EQ_INT(ng, 2);
  sl_data_file_list_free(gone, ng);
  CHECK_EQ_INT(sl_catalog_files_at(cat, ti.table_id, s[1], &f, &nf, &err), SL_ENOTFOUND);
  CHECK_CONTAINS(err.msg, "has expired");
  struct sl_delete_file *d = NULL;
  size_t nd = 0;
  CHECK_EQ_INT(sl_catalog_deletes_at(cat, ti.table_id, s[2], &d, &nd, &err), SL_ENOTFOUND);
  int64_t at = 0;
  CHECK_EQ_INT(sl_catalog_snapshot_at(cat, ti.table_id, INT64_MAX, &at, &err), 0);
  CHECK_EQ_INT(at, s[4]);
  CHECK_EQ_INT(sl_catalog_files_at(cat, ti.table_id, s[3], &f, &nf, &err), 0);
  CHECK_EQ_INT(nf, 1);
  sl_data_file_list_free(f, nf);
  /* The current snapshot is never expired; s3's files are live, so nothing goes. */
  int64_t rest[] = {s[3], s[4]};
  CHECK_EQ_INT(sl_catalog_expire(cat, ti.table_id, rest, 2, 2000, 0, &gone, &ng, &err), 0);
  CHECK_EQ_INT(ng, 0);
  struct sl_snapshot *ss = NULL;
  size_t ns = 0;
  CHECK_EQ_INT(sl_catalog_snapshot_list(cat, ti.table_id, &ss, &ns, &err), 0);
  CHECK_EQ_INT(ns, 4);
  for (size_t i = 0; i < ns; i++) CHECK_EQ_INT(ss[i].expired_ms, ss[i].snapshot_id == s[4] ? 0 : ss[i].snapshot_id == s[3] ? 2000 : 1000);
  sl_snapshot_list_free(ss, ns);
  CHECK_EQ_INT(sl_catalog_files_at(cat, ti.table_id, s[4], &f, &nf, &err), 0);
  CHECK_EQ_INT(nf, 2);
  sl_data_file_list_free(f, nf);
  /* One snapshot alone, or the table's first (0). */
  struct sl_snapshot one;
  CHECK_EQ_INT(sl_catalog_snapshot_get(cat, ti.table_id, s[3], &one, &err), 0);
  CHECK_EQ_INT(one.snapshot_id, s[3]);
  CHECK_EQ_INT(one.parent_id, s[2]);
  CHECK_EQ_INT(one.expired_ms, 2000);
  CHECK_STR(one.operation, "replace");
  sl_snapshot_fini(&one);
  CHECK_EQ_INT(sl_catalog_snapshot_get(cat, ti.table_id, 0, &one, &err), 0);
  CHECK_EQ_INT(one.snapshot_id, s[1]);
  sl_snapshot_fini(&one);
  CHECK_EQ_INT(sl_catalog_snapshot_get(cat, ti.table_id, s[4] + 1000, &one, &err), SL_ENOTFOUND);
  /* The files it still names, whatever their snapshot. */
  char **paths = NULL;
  size_t np = 0;
  CHECK_EQ_INT(sl_catalog_paths(cat, ti.table_id, &paths, &np, &err), 0);
  CHECK_EQ_INT(np, 2);
  if (np == 2) {
    CHECK_STR(paths[0], "bronze/exp/data/c.parquet");
    CHECK_STR(paths[1], "bronze/exp/data/d.parquet");
  }
  sl_str_list_free(paths, np);
  sl_table_info_fini(&ti);
  sl_schema_fini(&s1);
  sl_catalog_close(cat);
}

/* A snapshot that drops some files of its parent and adds others (a merge). */
static void test_remove_files(void) {
  struct sl_catalog *cat = open_cat();
  struct sl_err err = {0};
  const char *n1[] = {"id"}, *t1[] = {"BIGINT"};
  struct sl_schema s1 = schema_of(n1, t1, 1);
  int64_t a = 0, b = 0, m = 0, x = 0;
  CHECK_EQ_INT(commit(cat, "rm", 0, &s1, "bronze/rm/data/a.parquet", 10, 0, &a, &err), 0);
  CHECK_EQ_INT(commit(cat, "rm", a, &s1, "bronze/rm/data/b.parquet", 7, 0, &b, &err), 0);
  struct sl_data_file add = {.path = "bronze/rm/data/a2.parquet", .rows = 9, .bytes = 90, .stats_json = "{}"};
  const char *gone[] = {"bronze/rm/data/a.parquet"};
  struct sl_commit c = {.ns = "bronze", .table = "rm", .expected_parent = b, .operation = "merge", .schema = &s1,
                        .add = &add, .n_add = 1, .remove = gone, .n_remove = 1};
  CHECK_EQ_INT(sl_catalog_commit(cat, &c, &m, &err), 0);
  struct sl_data_file *f = NULL;
  size_t n = 0;
  struct sl_table_info ti = {0};
  CHECK_EQ_INT(sl_catalog_table_get(cat, "bronze", "rm", &ti, &err), 0);
  CHECK_EQ_INT(ti.rows, 16);
  CHECK_EQ_INT(ti.files, 2);
  CHECK_EQ_INT(sl_catalog_files_at(cat, ti.table_id, m, &f, &n, &err), 0);
  CHECK_EQ_INT(n, 2);
  for (size_t i = 0; i < n; i++) CHECK(strcmp(f[i].path, "bronze/rm/data/a.parquet") != 0);
  sl_data_file_list_free(f, n);
  /* The parent still sees it (time travel). */
  CHECK_EQ_INT(sl_catalog_files_at(cat, ti.table_id, b, &f, &n, &err), 0);
  CHECK_EQ_INT(n, 2);
  sl_data_file_list_free(f, n);
  /* Removing a file the current snapshot does not have is a conflict, and changes nothing. */
  c.expected_parent = m;
  CHECK_EQ_INT(sl_catalog_commit(cat, &c, &x, &err), SL_ECONFLICT);
  CHECK_CONTAINS(err.msg, "bronze/rm/data/a.parquet");
  sl_table_info_fini(&ti);
  CHECK_EQ_INT(sl_catalog_table_get(cat, "bronze", "rm", &ti, &err), 0);
  CHECK_EQ_INT(ti.current_snapshot, m);
  CHECK_EQ_INT(ti.rows, 16);
  sl_table_info_fini(&ti);
  sl_schema_fini(&s1);
  sl_catalog_close(cat);
}

/* rows of table t at its current snapshot, and its live delete files */
static int64_t rows_of(struct sl_catalog *cat, const char *t, size_t *n_dels) {
  struct sl_table_info ti = {0};
  struct sl_err err = {0};
  struct sl_delete_file *d = NULL;
  CHECK_EQ_INT(sl_catalog_table_get(cat, "bronze", t, &ti, &err), 0);
  CHECK_EQ_INT(sl_catalog_deletes_at(cat, ti.table_id, ti.current_snapshot, &d, n_dels, &err), 0);
  sl_delete_file_list_free(d, *n_dels);
  int64_t rows = ti.rows;
  sl_table_info_fini(&ti);
  return rows;
}

static void test_delete_files(void) {
  struct sl_catalog *cat = open_cat();
  struct sl_err err = {0};
  const char *n1[] = {"id"}, *t1[] = {"BIGINT"};
  struct sl_schema s1 = schema_of(n1, t1, 1);
  int64_t a = 0, b = 0, m1 = 0, m2 = 0, m3 = 0, x = 0;
  size_t nd = 0;
  CHECK_EQ_INT(commit(cat, "del", 0, &s1, "bronze/del/data/a.parquet", 100, 0, &a, &err), 0);
  CHECK_EQ_INT(commit(cat, "del", a, &s1, "bronze/del/data/b.parquet", 50, 0, &b, &err), 0);
  /* A merge: new rows, and 3 rows of a hidden. */
  struct sl_data_file add = {.path = "bronze/del/data/c.parquet", .rows = 4, .bytes = 40, .stats_json = "{}"};
  struct sl_delete_file d1 = {.path = "bronze/del/data/d1.parquet", .data_path = "bronze/del/data/a.parquet", .rows = 3, .bytes = 9};
  struct sl_commit c = {.ns = "bronze", .table = "del", .expected_parent = b, .operation = "merge", .schema = &s1,
                        .add = &add, .n_add = 1, .add_deletes = &d1, .n_add_deletes = 1};
  CHECK_EQ_INT(sl_catalog_commit(cat, &c, &m1, &err), 0);
  CHECK_EQ_INT(rows_of(cat, "del", &nd), 151);
  CHECK_EQ_INT(nd, 1);
  /* Touched again: a's delete file is replaced by one hiding 5 rows. */
  struct sl_delete_file d2 = {.path = "bronze/del/data/d2.parquet", .data_path = "bronze/del/data/a.parquet", .rows = 5, .bytes = 9};
  const char *gone[] = {"bronze/del/data/d1.parquet"};
  struct sl_commit c2 = {.ns = "bronze", .table = "del", .expected_parent = m1, .operation = "merge", .schema = &s1,
                         .remove = gone, .n_remove = 1, .add_deletes = &d2, .n_add_deletes = 1};
  CHECK_EQ_INT(sl_catalog_commit(cat, &c2, &m2, &err), 0);
  CHECK_EQ_INT(rows_of(cat, "del", &nd), 149);
  CHECK_EQ_INT(nd, 1);
  /* Time travel sees the delete file of its snapshot. */
  struct sl_table_info ti = {0};
  struct sl_delete_file *d = NULL;
  CHECK_EQ_INT(sl_catalog_table_get(cat, "bronze", "del", &ti, &err), 0);
  CHECK_EQ_INT(sl_catalog_deletes_at(cat, ti.table_id, m1, &d, &nd, &err), 0);
  CHECK_EQ_INT(nd, 1);
  if (nd) CHECK_STR(d[0].path, "bronze/del/data/d1.parquet");
  sl_delete_file_list_free(d, nd);
  CHECK_EQ_INT(sl_catalog_deletes_at(cat, ti.table_id, b, &d, &nd, &err), 0);
  CHECK_EQ_INT(nd, 0);
  sl_delete_file_list_free(d, nd);
  struct sl_snapshot *ss = NULL;
  size_t ns = 0;
  CHECK_EQ_INT(sl_catalog_snapshot_list(cat, ti.table_id, &ss, &ns, &err), 0);
  for (size_t i = 0; i < ns; i++)
    if (ss[i].snapshot_id == m1) CHECK_EQ_INT(ss[i].rows, 151);
  sl_snapshot_list_free(ss, ns);
  sl_table_info_fini(&ti);
  /* Removing (rewriting) a retires its delete file with it: 95 of a's rows rewritten. */
  struct sl_data_file a2 = {.path = "bronze/del/data/a2.parquet", .rows = 95, .bytes = 950, .stats_json = "{}"};
  const char *gone_a[] = {"bronze/del/data/a.parquet"};
  struct sl_commit c3 = {.ns = "bronze", .table = "del", .expected_parent = m2, .operation = "merge", .schema = &s1,
                         .add = &a2, .n_add = 1, .remove = gone_a, .n_remove = 1};
  CHECK_EQ_INT(sl_catalog_commit(cat, &c3, &m3, &err), 0);
  CHECK_EQ_INT(rows_of(cat, "del", &nd), 149);
  CHECK_EQ_INT(nd, 0);
  /* A delete file for a data file no longer live is a conflict, and changes nothing. */
  c2.expected_parent = m3;
  c2.n_remove = 0;
  CHECK_EQ_INT(sl_catalog_commit(cat, &c2, &x, &err), SL_ECONFLICT);
  CHECK_CONTAINS(err.msg, "bronze/del/data/a.parquet");
  /* So is removing a delete file that is gone. */
  c2.n_remove = 1;
  c2.n_add_deletes = 0;
  CHECK_EQ_INT(sl_catalog_commit(cat, &c2, &x, &err), SL_ECONFLICT);
  CHECK_CONTAINS(err.msg, "bronze/del/data/d1.parquet");
  CHECK_EQ_INT(rows_of(cat, "del", &nd), 149);
  /* Bad delete files are refused before the backend. */
  struct sl_delete_file bad = {.path = "bronze/del/data/x.parquet", .data_path = NULL, .rows = 1};
  struct sl_commit c4 = {.ns = "bronze", .table = "del", .expected_parent = m3, .operation = "merge", .schema = &s1,
                         .add_deletes = &bad, .n_add_deletes = 1};
  CHECK_EQ_INT(sl_catalog_commit(cat, &c4, &x, &err), SL_EINVAL);
  /* Replacing the table retires every delete file. */
  CHECK_EQ_INT(commit(cat, "del", m3, &s1, "bronze/del/data/r.parquet", 7, 1, &x, &err), 0);
  CHECK_EQ_INT(rows_of(cat, "del", &nd), 7);
  CHECK_EQ_INT(nd, 0);
  sl_schema_fini(&s1);
  sl_catalog_close(cat);
}

int main(void) {
  snprintf(url, sizeof url, "sqlite:%s/catalog.db", sl_test_tmpdir());
  TEST_RUN(test_open_and_namespaces);
  TEST_RUN(test_commits_and_time_travel);
  TEST_RUN(test_schema_versions);
  TEST_RUN(test_conflicts);
  TEST_RUN(test_remove_files);
  TEST_RUN(test_delete_files);
  TEST_RUN(test_expire);
  TEST_RUN(test_concurrent_processes);
  TEST_RUN(test_drop_and_errors);
  TEST_RUN(test_newer_format_refused);
  TEST_RUN(test_upgrade);
  return TEST_DONE();
}
