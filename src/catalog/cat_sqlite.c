/* cat_sqlite.c: the catalog in a SQLite file. WAL mode so readers never block the
 * writer; synchronous=FULL so a commit that returned survives a crash; a busy timeout
 * so several processes can share one catalog. Every statement binds its values.
 *
 * NOTES: snapshot ids come from an AUTOINCREMENT column, so they are global, increase
 * with every commit, and are never reused after a table is dropped. A commit runs in
 * BEGIN IMMEDIATE, which takes the write lock first: the check of the expected parent
 * and the writes that follow cannot interleave with another writer's. */
#include "catalog/catalog.h"

#include "core/buf.h"
#include "core/mem.h"
#include "core/time.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The catalog's format: 1 first; 2 added delete_files (an older sluice, not knowing
 * them, would read hidden rows, so it must refuse the catalog); 3 added
 * snapshots.expired_ms (an older sluice would time-travel to an expired snapshot
 * whose files are gone). */
#define CAT_VERSION 3

struct cat_sqlite {
  sqlite3 *db;
  char *path;
};

static const char *schema_sql =
    "CREATE TABLE IF NOT EXISTS namespaces(name TEXT PRIMARY KEY, created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tables(table_id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  ns TEXT NOT NULL REFERENCES namespaces(name), name TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    "  current_snapshot INTEGER NOT NULL DEFAULT 0, schema_id INTEGER NOT NULL DEFAULT 0, UNIQUE(ns, name));"
    "CREATE TABLE IF NOT EXISTS schemas(table_id INTEGER NOT NULL REFERENCES tables(table_id) ON DELETE CASCADE,"
    "  schema_id INTEGER NOT NULL, created_ms INTEGER NOT NULL, PRIMARY KEY(table_id, schema_id));"
    "CREATE TABLE IF NOT EXISTS columns(table_id INTEGER NOT NULL, schema_id INTEGER NOT NULL,"
    "  position INTEGER NOT NULL, field_id INTEGER NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,"
    "  nullable INTEGER NOT NULL, PRIMARY KEY(table_id, schema_id, position),"
    "  FOREIGN KEY(table_id, schema_id) REFERENCES schemas(table_id, schema_id) ON DELETE CASCADE);"
    "CREATE TABLE IF NOT EXISTS snapshots(snapshot_id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  table_id INTEGER NOT NULL REFERENCES tables(table_id) ON DELETE CASCADE, parent_id INTEGER NOT NULL,"
    "  schema_id INTEGER NOT NULL, ts_ms INTEGER NOT NULL, operation TEXT NOT NULL, summary TEXT,"
    "  total_rows INTEGER NOT NULL, expired_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS snapshots_by_table ON snapshots(table_id, snapshot_id);"
    "CREATE TABLE IF NOT EXISTS data_files(file_id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  table_id INTEGER NOT NULL REFERENCES tables(table_id) ON DELETE CASCADE, path TEXT NOT NULL,"
    "  rows INTEGER NOT NULL, bytes INTEGER NOT NULL, stats TEXT, partition TEXT,"
    "  added_snapshot INTEGER NOT NULL, removed_snapshot INTEGER);"
    "CREATE INDEX IF NOT EXISTS data_files_by_table ON data_files(table_id, added_snapshot);"
    "CREATE TABLE IF NOT EXISTS delete_files(file_id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  table_id INTEGER NOT NULL REFERENCES tables(table_id) ON DELETE CASCADE, path TEXT NOT NULL,"
    "  data_path TEXT NOT NULL, rows INTEGER NOT NULL, bytes INTEGER NOT NULL,"
    "  added_snapshot INTEGER NOT NULL, removed_snapshot INTEGER);"
    "CREATE INDEX IF NOT EXISTS delete_files_by_table ON delete_files(table_id, added_snapshot);";

static int fail(struct cat_sqlite *c, struct sl_err *err, const char *what) {
  int ec = sqlite3_errcode(c->db);
  if (ec == SQLITE_BUSY || ec == SQLITE_LOCKED)
    return sl_err_set(err, SL_EIO, "catalog %s: %s: locked by another process for too long; retry", c->path, what);
  if (ec == SQLITE_FULL)
    return sl_err_set(err, SL_EIO, "catalog %s: %s: the disk is full; free space and retry", c->path, what);
  return sl_err_set(err, SL_EIO, "catalog %s: %s: %s", c->path, what, sqlite3_errmsg(c->db));
}

static struct cat_sqlite *impl(struct sl_catalog *cat) { return cat->impl; }
static int query_int(struct cat_sqlite *c, sqlite3_stmt *st, int64_t *v, int *found, struct sl_err *err);

static int exec(struct cat_sqlite *c, const char *sql, struct sl_err *err) {
  if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK) return fail(c, err, sql);
  return 0;
}

/* Prepares sql and binds the arguments described by fmt: 'i' int64, 's' text (NULL ok). */
static int prep(struct cat_sqlite *c, sqlite3_stmt **st, struct sl_err *err, const char *sql, const char *fmt, ...) {
  if (sqlite3_prepare_v2(c->db, sql, -1, st, NULL) != SQLITE_OK) return fail(c, err, "prepare");
  va_list ap;
  va_start(ap, fmt);
  for (int i = 0; fmt[i]; i++) {
    if (fmt[i] == 'i') sqlite3_bind_int64(*st, i + 1, va_arg(ap, int64_t));
    else {
      const char *s = va_arg(ap, const char *);
      if (s) sqlite3_bind_text(*st, i + 1, s, -1, SQLITE_TRANSIENT);
      else sqlite3_bind_null(*st, i + 1);
    }
  }
  va_end(ap);
  return 0;
}

static char *col_text(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? sl_strdup((const char *)t) : NULL;
}

static int sq_open(struct sl_catalog *cat, const char *path, struct sl_err *err) {
  struct cat_sqlite *c = sl_calloc(1, sizeof *c);
  if (!c) return sl_err_set(err, SL_ENOMEM, "out of memory");
  c->path = sl_strdup(path);
  if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    int rc = sl_err_set(err, SL_EIO, "catalog %s: cannot open: %s (does its folder exist and is it writable?)", path,
                        c->db ? sqlite3_errmsg(c->db) : "out of memory");
    sqlite3_close(c->db);
    sl_free(c->path);
    sl_free(c);
    return rc;
  }
  sqlite3_busy_timeout(c->db, 10000);
  cat->impl = c;
  int rc = exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", err);
  sqlite3_stmt *st = NULL;
  int version = 0;
  if (!rc && !(rc = prep(c, &st, err, "PRAGMA user_version", ""))) {
    if (sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  if (!rc && version > CAT_VERSION)
    rc = sl_err_set(err, SL_ECONFIG, "catalog %s has format %d, newer than this sluice understands (%d); upgrade sluice",
                    path, version, CAT_VERSION);
  if (!rc && version < CAT_VERSION) {
    rc = exec(c, "BEGIN IMMEDIATE", err);
    if (!rc) rc = exec(c, schema_sql, err);
    /* Formats 1 and 2 made snapshots without expired_ms (CREATE ... IF NOT EXISTS keeps it so). */
    int64_t has = 0;
    if (!rc && !(rc = prep(c, &st, err, "SELECT count(*) FROM pragma_table_info('snapshots') WHERE name = 'expired_ms'", "")))
      rc = query_int(c, st, &has, NULL, err);
    if (!rc && !has) rc = exec(c, "ALTER TABLE snapshots ADD COLUMN expired_ms INTEGER", err);
    char set[64];
    snprintf(set, sizeof set, "PRAGMA user_version = %d; COMMIT", CAT_VERSION);
    if (!rc) rc = exec(c, set, err);
    if (rc) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
  }
  if (rc) {
    sqlite3_close(c->db);
    sl_free(c->path);
    sl_free(c);
    cat->impl = NULL;
  }
  return rc;
}

static void sq_close(struct sl_catalog *cat) {
  struct cat_sqlite *c = impl(cat);
  if (!c) return;
  sqlite3_close(c->db);
  sl_free(c->path);
  sl_free(c);
}

static int sq_ns_create(struct sl_catalog *cat, const char *ns, struct sl_err *err) {
  struct cat_sqlite *c = impl(cat);
  sqlite3_stmt *st;
  int rc = prep(c, &st, err, "INSERT OR IGNORE INTO namespaces(name, created_ms) VALUES (?, ?)", "si", ns,
                sl_time_now_ms());
  if (rc) return rc;
  if (sqlite3_step(st) != SQLITE_DONE) rc = fail(c, err, "create namespace");
  sqlite3_finalize(st);
  return rc;
}

static int sq_ns_list(struct sl_catalog *cat, char ***out, size_t *n, struct sl_err *err) {
  struct cat_sqlite *c = impl(cat);
  sqlite3_stmt *st;
  int rc = prep(c, &st, err, "SELECT name FROM namespaces ORDER BY name", "");
  if (rc) return rc;
  size_t cnt = 0, cap = 0;
  char **v = NULL;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (sl_array_grow(&v, &cap, cnt + 1, sizeof *v)) {
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      break;
    }
    v[cnt++] = col_text(st, 0);
  }
  sqlite3_finalize(st);
  if (rc) {
    sl_str_list_free(v, cnt);
    return rc;
  }
  *out = v;
  *n = cnt;
  return 0;
}

/* Fills a table_info from a row of TABLE_COLS. */
#define TABLE_COLS                                                                                      \
  "t.table_id, t.ns, t.name, t.created_ms, t.current_snapshot, t.schema_id,"                            \
  " coalesce((SELECT total_rows FROM snapshots s WHERE s.snapshot_id = t.current_snapshot), 0),"        \
  " (SELECT count(*) FROM data_files f WHERE f.table_id = t.table_id AND f.removed_snapshot IS NULL),"  \
  " coalesce((SELECT sum(bytes) FROM data_files f WHERE f.table_id = t.table_id AND f.removed_snapshot IS NULL), 0)"

static void table_row(sqlite3_stmt *st, struct sl_table_info *t) {
  t->table_id = sqlite3_column_int64(st, 0);
  t->ns = col_text(st, 1);
  t->name = col_text(st, 2);
  t->created_ms = sqlite3_column_int64(st, 3);
  t->current_snapshot = sqlite3_column_int64(st, 4);
  t->schema_id = sqlite3_column_int64(st, 5);
  t->rows = sqlite3_column_int64(st, 6);
  t->files = sqlite3_column_int64(st, 7);
  t->bytes = sqlite3_column_int64(st, 8);
}

static int sq_table_get(struct sl_catalog *cat, const char *ns, const char *name, struct sl_table_info *out,
                        struct sl_err *err) {
  struct cat_sqlite *c = impl(cat);
  sqlite3_stmt *st;
  memset(out, 0, sizeof *out);
  int rc = prep(c, &st, err, "SELECT " TABLE_COLS " FROM tables t WHERE t.ns = ? AND t.name = ?", "ss", ns, name);
  if (rc) return rc;
  int s = sqlite3_step(st);
  if (s == SQLITE_ROW) table_row(st, out);
  else if (s == SQLITE_DONE)
    rc = sl_err_set(err, SL_ENOTFOUND, "table %s.%s does not exist; `sluice tables` lists the tables", ns, name);
  else rc = fail(c, err, "read table");
  sqlite3_finalize(st);
  return rc;
}

static int sq_table_list(struct sl_catalog *cat, const char *ns, struct sl_table_info **out, size_t *n,
                         struct sl_err *err) {
  struct cat_sqlite *c = impl(cat);
  sqlite3_stmt *st;
  int rc = prep(c, &st, err, "SELECT " TABLE_COLS " FROM tables t WHERE ?1 IS NULL OR t.ns = ?1 ORDER BY t.ns, t.name",
                "s", ns);
  if (rc) return rc;
  size_t cnt = 0, cap = 0;
  struct sl_table_info *v = NULL;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (sl_array_grow(&v, &cap, cnt + 1, sizeof *v)) {
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      break;
    }
    table_row(st, &v[cnt++]);
  }
  sqlite3_finalize(st);
  if (rc) {
    sl_table_list_free(v, cnt);
    return rc;
  }
  *out = v;
  *n = cnt;
  return 0;
}

static int sq_table_drop(struct sl_catalog *cat, const char *ns, const char *name, struct sl_err *err) {
  struct cat_sqlite *c = impl(cat);
  sqlite3_stmt *st;
  int rc = exec(c, "BEGIN IMMEDIATE", err);
  if (rc) return rc;
  if (!(rc = prep(c, &st, err, "DELETE FROM tables WHERE ns = ? AND name = ?", "ss", ns, name))) {
    if (sqlite3_step(st) != SQLITE_DONE) rc = fail(c, err, "drop table");
    else if (sqlite3_changes(c->db) == 0)
      rc = sl_err_set(err, SL_ENOTFOUND, "table %s.%s does not exist; `sluice tables` lists the tables", ns, name);
    sqlite3_finalize(st);
  }
  if (!rc) rc = exec(c, "COMMIT", err);
  if (rc) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

static int sq_schema_get(struct sl_catalog *cat, int64_t table_id, int64_t schema_id, struct sl_schema *out,
                         struct sl_err *err) {
  struct cat_sqlite *c = impl(cat);
  sqlite3_stmt *st;
  memset(out, 0, sizeof *out);
  int rc = prep(c, &st, err,
                "SELECT field_id, name, type, nullable FROM columns WHERE table_id = ? AND schema_id = ? ORDER BY position",
                "ii", table_id, schema_id);
  if (rc) return rc;
  size_t cap = 0;
  out->schema_id = schema_id;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (sl_array_grow(&out->cols, &cap, out->n_cols + 1, sizeof *out->cols)) {
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      break;
    }
    struct sl_column *col = &out->cols[out->n_cols++];
    col->field_id = sqlite3_column_int(st, 0);
    col->name = col_text(st, 1);
    col->type = col_text(st, 2);
    col->nullable = sqlite3_column_int(st, 3);
  }
  sqlite3_finalize(st);
  if (!rc && out->n_cols == 0)
    rc = sl_err_set(err, SL_ENOTFOUND, "schema %lld of table id %lld does not exist", (long long)schema_id,
                    (long long)table_id);
  if (rc) sl_schema_fini(out);
  return rc;
}

#define SNAPSHOT_COLS                                                                                \
  "SELECT snapshot_id, parent_id, table_id, schema_id, ts_ms, operation, summary, total_rows,"     \
  " coalesce(expired_ms, 0) FROM snapshots WHERE table_id = ?"

/* A row of SNAPSHOT_COLS. */
static void snapshot_row(sqlite3_stmt *st, struct sl_snapshot *s) {
  s->snapshot_id = sqlite3_column_int64(st, 0);
  s->parent_id = sqlite3_column_int64(st, 1);
  s->table_id = sqlite3_column_int64(st, 2);
  s->schema_id = sqlite3_column_int64(st, 3);
  s->ts_ms = sqlite3_column_int64(st, 4);
  s->operation = col_text(st, 5);
  s->summary_json = col_text(st, 6);
  s->rows = sqlite3_column_int64(st, 7);
  s->expired_ms = sqlite3_column_int64(st, 8);
}

static int sq_snapshot_get(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id, struct sl_snapshot *out,
                           struct sl_err *err) {
  struct cat_sqlite *c = impl(cat);
  sqlite3_stmt *st;
  int rc = snapshot_id ? prep(c, &st, err, SNAPSHOT_COLS " AND snapshot_id = ?", "ii", table_id, snapshot_id)
                       : prep(c, &st, err, SNAPSHOT_COLS " ORDER BY snapshot_id LIMIT 1", "i", table_id);
  if (rc) return rc;
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) snapshot_row(st, out);
  else if (r == SQLITE_DONE)
    rc = sl_err_set(err, SL_ENOTFOUND, "snapshot %lld is not a snapshot of this table; `sluice snapshots` lists them",
                    (long long)snapshot_id);
  else rc = fail(c, err, "read snapshot");
  sqlite3_finalize(st);
  if (!rc && !out->operation) {
    sl_snapshot_fini(out);
    rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  return rc;
}

static int sq_snapshot_range(struct sl_catalog *cat, int64_t table_id, int64_t after, int64_t upto,
                             struct sl_snapshot **out, size_t *n, struct sl_err *err) {
  struct cat_sqlite *c = impl(cat);
  sqlite3_stmt *st;
  int rc = prep(c, &st, err, SNAPSHOT_COLS " AND snapshot_id > ? AND snapshot_id <= ? ORDER BY snapshot_id", "iii",
                table_id, after, upto);
  if (rc) return rc;
  size_t cnt = 0, cap = 0;
  struct sl_snapshot *v = NULL;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (sl_array_grow(&v, &cap, cnt + 1, sizeof *v)) {
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      break;
    }
    snapshot_row(st, &v[cnt++]);
  }
  sqlite3_finalize(st);
  if (rc) {
    sl_snapshot_list_free(v, cnt);
    return rc;
  }
  *out = v;
  *n = cnt;
  return 0;
}

/* Fails unless snapshot_id is a snapshot of the table whose files are still kept. */
static int live_snapshot(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id, struct sl_err *err) {
  struct sl_snapshot s = {0};
  int rc = sq_snapshot_get(cat, table_id, snapshot_id, &s, err);
  if (!rc && s.expired_ms) {
    char when[40];
    sl_time_iso8601(s.expired_ms, when, sizeof when);
    rc = sl_err_set(err, SL_ENOTFOUND, "snapshot %lld has expired: `sluice vacuum` removed its files at %s "
                    "(lake.retention); `sluice snapshots` lists the snapshots kept", (long long)snapshot_id, when);
  }
  sl_snapshot_fini(&s);
  return rc;
}

static int sq_snapshot_at(struct sl_catalog *cat, int64_t table_id, int64_t ts_ms, int64_t *snapshot_id,
                          struct sl_err *err) {
  struct cat_sqlite *c = impl(cat);
  sqlite3_stmt *st;
  int rc = prep(c, &st, err, "SELECT max(snapshot_id) FROM snapshots WHERE table_id = ? AND ts_ms <= ?", "ii",
                table_id, ts_ms);
  if (rc) return rc;
  char when[40];
  sl_time_iso8601(ts_ms, when, sizeof when);
  if (sqlite3_step(st) != SQLITE_ROW) rc = fail(c, err, "find snapshot");
  else if (sqlite3_column_type(st, 0) == SQLITE_NULL)
    rc = sl_err_set(err, SL_ENOTFOUND, "the table had no snapshot yet at %s", when);
  else *snapshot_id = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return rc ? rc : live_snapshot(cat, table_id, *snapshot_id, err);
}

static int sq_files_at(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id, struct sl_data_file **out,
                       size_t *n, struct sl_err *err) {
  struct cat_sqlite *c = impl(cat);
  sqlite3_stmt *st;
  int rc = live_snapshot(cat, table_id, snapshot_id, err);
  if (rc) return rc;
  if ((rc = prep(c, &st, err,
                 "SELECT path, rows, bytes, stats, partition FROM data_files WHERE table_id = ?1 AND added_snapshot <= ?2"
                 " AND (removed_snapshot IS NULL OR removed_snapshot > ?2) ORDER BY file_id",
                 "ii", table_id, snapshot_id)))
    return rc;
  size_t cnt = 0, cap = 0;
  struct sl_data_file *v = NULL;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (sl_array_grow(&v, &cap, cnt + 1, sizeof *v)) {
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      break;
    }
    struct sl_data_file *f = &v[cnt++];
    f->path = col_text(st, 0);
    f->rows = sqlite3_column_int64(st, 1);
    f->bytes = sqlite3_column_int64(st, 2);
    f->stats_json = col_text(st, 3);
    f->partition = col_text(st, 4);
  }
  sqlite3_finalize(st);
  if (rc) {
    sl_data_file_list_free(v, cnt);
    return rc;
  }
  *out = v;
  *n = cnt;
  return 0;
}

static int sq_deletes_at(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id, struct sl_delete_file **out,
                         size_t *n, struct sl_err *err) {
  struct cat_sqlite *c = impl(cat);
  sqlite3_stmt *st;
  *out = NULL;
  *n = 0;
  int rc = snapshot_id ? live_snapshot(cat, table_id, snapshot_id, err) : 0;
  if (!rc)
    rc = prep(c, &st, err,
                "SELECT path, data_path, rows, bytes FROM delete_files WHERE table_id = ?1 AND added_snapshot <= ?2"
                " AND (removed_snapshot IS NULL OR removed_snapshot > ?2) ORDER BY file_id",
                "ii", table_id, snapshot_id);
  if (rc) return rc;
  size_t cnt = 0, cap = 0;
  struct sl_delete_file *v = NULL;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (sl_array_grow(&v, &cap, cnt + 1, sizeof *v)) {
      rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      break;
    }
    struct sl_delete_file *f = &v[cnt++];
    f->path = col_text(st, 0);
    f->data_path = col_text(st, 1);
    f->rows = sqlite3_column_int64(st, 2);
    f->bytes = sqlite3_column_int64(st, 3);
  }
  sqlite3_finalize(st);
  if (rc) {
    sl_delete_file_list_free(v, cnt);
    return rc;
  }
  *out = v;
  *n = cnt;
  return 0;
}

/* Runs one statement of the commit that returns no rows. */
static int step_done(struct cat_sqlite *c, sqlite3_stmt *st, struct sl_err *err, const char *what) {
  int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(c, err, what);
  sqlite3_finalize(st);
  return rc;
}

/* One value of a query that returns an integer (0 when it returns no row); *found
 * tells whether it did. */
static int query_int(struct cat_sqlite *c, sqlite3_stmt *st, int64_t *v, int *found, struct sl_err *err) {
  int r = sqlite3_step(st);
  *v = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  if (found) *found = r == SQLITE_ROW;
  sqlite3_finalize(st);
  return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : fail(c, err, "read files");
}

/* Inside the commit: retires the files named in cm->remove (data or delete files, each
 * live in the parent, else someone else removed it first), the delete files of retired
 * data files, and records the new delete files, each against a live data file. *delta
 * is what this does to the table's row count. */
static int commit_files(struct cat_sqlite *c, const struct sl_commit *cm, int64_t table_id, int64_t snap,
                        int64_t *delta, struct sl_err *err) {
  static const char *const kinds[2][2] = {
      {"SELECT rows FROM data_files WHERE table_id = ? AND path = ? AND removed_snapshot IS NULL",
       "UPDATE data_files SET removed_snapshot = ? WHERE table_id = ? AND path = ? AND removed_snapshot IS NULL"},
      {"SELECT rows FROM delete_files WHERE table_id = ? AND path = ? AND removed_snapshot IS NULL",
       "UPDATE delete_files SET removed_snapshot = ? WHERE table_id = ? AND path = ? AND removed_snapshot IS NULL"}};
  sqlite3_stmt *st;
  int64_t v = 0;
  int rc = 0;
  *delta = 0;
  if (cm->replace) {
    if ((rc = prep(c, &st, err, "UPDATE data_files SET removed_snapshot = ? WHERE table_id = ? AND removed_snapshot IS NULL",
                   "ii", snap, table_id)) ||
        (rc = step_done(c, st, err, "retire files")))
      return rc;
  }
  for (size_t i = 0; !cm->replace && i < cm->n_remove; i++) {
    int found = 0, kind = 0;
    for (; kind < 2 && !found && !rc; kind++)
      if (!(rc = prep(c, &st, err, kinds[kind][0], "is", table_id, cm->remove[i]))) rc = query_int(c, st, &v, &found, err);
    if (!rc && !found)
      rc = sl_err_set(err, SL_ECONFLICT, "commit to %s.%s: file %s is not part of the current snapshot; retry", cm->ns,
                      cm->table, cm->remove[i]);
    int is_delete = kind - 1; /* the kind it was found as */
    if (!rc) *delta += is_delete ? v : -v; /* a data file's rows go; those a delete file hid come back */
    if (!rc && !(rc = prep(c, &st, err, kinds[is_delete][1], "iis", snap, table_id, cm->remove[i])))
      rc = step_done(c, st, err, "retire file");
    if (rc) return rc;
  }
  /* Delete files of data files no longer live go with them (their rows were counted
   * with the data file's). */
#define ORPHANS                                                                                      \
  " FROM delete_files WHERE table_id = ?2 AND removed_snapshot IS NULL"                           \
  " AND data_path NOT IN (SELECT path FROM data_files WHERE table_id = ?2 AND removed_snapshot IS NULL)"
  if ((rc = prep(c, &st, err, "SELECT coalesce(sum(rows), 0), ?1" ORPHANS, "ii", snap, table_id)) ||
      (rc = query_int(c, st, &v, NULL, err)))
    return rc;
  if (!cm->replace) *delta += v;
  if ((rc = prep(c, &st, err, "UPDATE delete_files SET removed_snapshot = ?1 WHERE file_id IN (SELECT file_id" ORPHANS ")",
                 "ii", snap, table_id)) ||
      (rc = step_done(c, st, err, "retire delete files")))
    return rc;
#undef ORPHANS
  for (size_t i = 0; i < cm->n_add_deletes; i++) {
    const struct sl_delete_file *f = &cm->add_deletes[i];
    int live = 0;
    if ((rc = prep(c, &st, err, kinds[0][0], "is", table_id, f->data_path)) || (rc = query_int(c, st, &v, &live, err)))
      return rc;
    if (!live)
      return sl_err_set(err, SL_ECONFLICT, "commit to %s.%s: delete file %s is for %s, which is not part of the current snapshot; retry",
                        cm->ns, cm->table, f->path, f->data_path);
    if ((rc = prep(c, &st, err,
                   "INSERT INTO delete_files(table_id, path, data_path, rows, bytes, added_snapshot) VALUES (?, ?, ?, ?, ?, ?)",
                   "issiii", table_id, f->path, f->data_path, f->rows, f->bytes, snap)) ||
        (rc = step_done(c, st, err, "record delete file")))
      return rc;
    *delta -= f->rows;
  }
  return 0;
}

/* Inside the commit transaction: the schema id to record for c->schema, inserting a
 * new version when the columns differ from the current one. */
static int commit_schema(struct cat_sqlite *c, struct sl_catalog *cat, int64_t table_id, int64_t cur_schema,
                         const struct sl_schema *want, int64_t *schema_id, struct sl_err *err) {
  struct sl_schema cur = {0};
  int rc = 0;
  if (cur_schema) {
    if ((rc = sq_schema_get(cat, table_id, cur_schema, &cur, err))) return rc;
    int same = cur.n_cols == want->n_cols;
    for (size_t i = 0; same && i < want->n_cols; i++)
      same = !strcmp(cur.cols[i].name, want->cols[i].name) && !strcmp(cur.cols[i].type, want->cols[i].type);
    if (same) {
      *schema_id = cur_schema;
      sl_schema_fini(&cur);
      return 0;
    }
  }
  sqlite3_stmt *st;
  int64_t max_field = 0;
  if (!(rc = prep(c, &st, err, "SELECT coalesce(max(field_id), 0) FROM columns WHERE table_id = ?", "i", table_id))) {
    if (sqlite3_step(st) == SQLITE_ROW) max_field = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  int64_t sid = cur_schema + 1;
  if (!rc && !(rc = prep(c, &st, err, "INSERT INTO schemas(table_id, schema_id, created_ms) VALUES (?, ?, ?)", "iii",
                         table_id, sid, sl_time_now_ms()))) {
    if (sqlite3_step(st) != SQLITE_DONE) rc = fail(c, err, "record schema");
    sqlite3_finalize(st);
  }
  for (size_t i = 0; !rc && i < want->n_cols; i++) {
    int64_t fid = 0;
    for (size_t k = 0; k < cur.n_cols && !fid; k++)
      if (!strcmp(cur.cols[k].name, want->cols[i].name)) fid = cur.cols[k].field_id;
    if (!fid) fid = ++max_field;
    if ((rc = prep(c, &st, err,
                   "INSERT INTO columns(table_id, schema_id, position, field_id, name, type, nullable)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)",
                   "iiiissi", table_id, sid, (int64_t)i, fid, want->cols[i].name, want->cols[i].type,
                   (int64_t)(want->cols[i].nullable ? 1 : 0))))
      break;
    if (sqlite3_step(st) != SQLITE_DONE) rc = fail(c, err, "record column");
    sqlite3_finalize(st);
  }
  sl_schema_fini(&cur);
  if (!rc) *schema_id = sid;
  return rc;
}

static int sq_commit(struct sl_catalog *cat, const struct sl_commit *cm, int64_t *snapshot_id, struct sl_err *err) {
  struct cat_sqlite *c = impl(cat);
  sqlite3_stmt *st = NULL;
  int rc = exec(c, "BEGIN IMMEDIATE", err);
  if (rc) return rc;
  int64_t table_id = 0, current = 0, cur_schema = 0, now = sl_time_now_ms();
  if ((rc = prep(c, &st, err, "SELECT 1 FROM namespaces WHERE name = ?", "s", cm->ns))) goto out;
  int ns_ok = sqlite3_step(st) == SQLITE_ROW;
  sqlite3_finalize(st);
  if (!ns_ok) {
    rc = sl_err_set(err, SL_ENOTFOUND, "commit to %s.%s: namespace %s does not exist; the zones are bronze, silver and gold",
                    cm->ns, cm->table, cm->ns);
    goto out;
  }
  if ((rc = prep(c, &st, err, "SELECT table_id, current_snapshot, schema_id FROM tables WHERE ns = ? AND name = ?", "ss",
                 cm->ns, cm->table)))
    goto out;
  if (sqlite3_step(st) == SQLITE_ROW) {
    table_id = sqlite3_column_int64(st, 0);
    current = sqlite3_column_int64(st, 1);
    cur_schema = sqlite3_column_int64(st, 2);
  }
  sqlite3_finalize(st);
  if (current != cm->expected_parent || (!table_id && cm->expected_parent)) {
    rc = sl_err_set(err, SL_ECONFLICT,
                    "commit to %s.%s: the table changed concurrently (expected parent snapshot %lld, current is %lld); retry",
                    cm->ns, cm->table, (long long)cm->expected_parent, (long long)current);
    goto out;
  }
  if (!table_id) {
    if ((rc = prep(c, &st, err, "INSERT INTO tables(ns, name, created_ms) VALUES (?, ?, ?)", "ssi", cm->ns, cm->table,
                   now)))
      goto out;
    if (sqlite3_step(st) != SQLITE_DONE) rc = fail(c, err, "create table");
    sqlite3_finalize(st);
    if (rc) goto out;
    table_id = sqlite3_last_insert_rowid(c->db);
  }
  int64_t schema_id = 0, prev_rows = 0, prev_ts = 0, added = 0;
  if ((rc = commit_schema(c, cat, table_id, cur_schema, cm->schema, &schema_id, err))) goto out;
  if (current) {
    if ((rc = prep(c, &st, err, "SELECT total_rows, ts_ms FROM snapshots WHERE snapshot_id = ?", "i", current))) goto out;
    if (sqlite3_step(st) == SQLITE_ROW) {
      prev_rows = sqlite3_column_int64(st, 0);
      prev_ts = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
  }
  /* Snapshot times never go backwards within a table, even if the clock does. */
  if (now < prev_ts) now = prev_ts;
  if ((rc = prep(c, &st, err,
                 "INSERT INTO snapshots(table_id, parent_id, schema_id, ts_ms, operation, summary, total_rows)"
                 " VALUES (?, ?, ?, ?, ?, ?, 0)",
                 "iiiiss", table_id, current, schema_id, now, cm->operation ? cm->operation : "append", cm->summary_json)))
    goto out;
  if ((rc = step_done(c, st, err, "record snapshot"))) goto out;
  int64_t snap = sqlite3_last_insert_rowid(c->db), delta = 0;
  if ((rc = commit_files(c, cm, table_id, snap, &delta, err))) goto out;
  for (size_t i = 0; i < cm->n_add; i++) added += cm->add[i].rows;
  if ((rc = prep(c, &st, err,
                 "INSERT INTO data_files(table_id, path, rows, bytes, stats, partition, added_snapshot)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?)",
                 "")))
    goto out;
  for (size_t i = 0; !rc && i < cm->n_add; i++) {
    const struct sl_data_file *f = &cm->add[i];
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, table_id);
    sqlite3_bind_text(st, 2, f->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, f->rows);
    sqlite3_bind_int64(st, 4, f->bytes);
    if (f->stats_json) sqlite3_bind_text(st, 5, f->stats_json, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 5);
    if (f->partition) sqlite3_bind_text(st, 6, f->partition, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 6);
    sqlite3_bind_int64(st, 7, snap);
    if (sqlite3_step(st) != SQLITE_DONE) rc = fail(c, err, "record data file");
  }
  sqlite3_finalize(st);
  if (rc) goto out;
  /* The snapshot's rows: its data files' less the rows its delete files hide. */
  if ((rc = prep(c, &st, err, "UPDATE snapshots SET total_rows = ? WHERE snapshot_id = ?", "ii",
                 (cm->replace ? 0 : prev_rows) + delta + added, snap)) ||
      (rc = step_done(c, st, err, "count rows")))
    goto out;
  if ((rc = prep(c, &st, err, "UPDATE tables SET current_snapshot = ?, schema_id = ? WHERE table_id = ?", "iii", snap,
                 schema_id, table_id)))
    goto out;
  if (sqlite3_step(st) != SQLITE_DONE) rc = fail(c, err, "advance table");
  sqlite3_finalize(st);
  if (rc) goto out;
  if ((rc = exec(c, "COMMIT", err))) goto out;
  *snapshot_id = snap;
  return 0;
out:
  sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

/* Files (data, then delete files) of the table that no kept snapshot sees: each was
 * removed by a commit, and every snapshot from its adding one to that is expired. */
#define UNSEEN(kind)                                                                                       \
  " FROM " kind " f WHERE f.table_id = ?1 AND f.removed_snapshot IS NOT NULL AND NOT EXISTS"             \
  " (SELECT 1 FROM snapshots s WHERE s.table_id = ?1 AND s.expired_ms IS NULL"                           \
  " AND s.snapshot_id >= f.added_snapshot AND s.snapshot_id < f.removed_snapshot)"

static int sq_expire(struct sl_catalog *cat, int64_t table_id, const int64_t *ids, size_t n_ids, int64_t now_ms, int dry_run,
                     struct sl_data_file **gone, size_t *n_gone, struct sl_err *err) {
  struct cat_sqlite *c = impl(cat);
  static const char *const kinds[2][2] = {
      {"SELECT path, rows, bytes" UNSEEN("data_files"), "DELETE FROM data_files WHERE file_id IN (SELECT file_id" UNSEEN("data_files") ")"},
      {"SELECT path, rows, bytes" UNSEEN("delete_files"), "DELETE FROM delete_files WHERE file_id IN (SELECT file_id" UNSEEN("delete_files") ")"}};
  sqlite3_stmt *st = NULL;
  struct sl_data_file *v = NULL;
  size_t cnt = 0, cap = 0;
  *gone = NULL;
  *n_gone = 0;
  int rc = exec(c, "BEGIN IMMEDIATE", err);
  if (rc) return rc;
  /* The table's current snapshot is never expired, whatever the caller saw. */
  for (size_t i = 0; !rc && i < n_ids; i++)
    if (!(rc = prep(c, &st, err,
                    "UPDATE snapshots SET expired_ms = ?1 WHERE snapshot_id = ?2 AND table_id = ?3 AND expired_ms IS NULL"
                    " AND snapshot_id <> (SELECT current_snapshot FROM tables WHERE table_id = ?3)",
                    "iii", now_ms, ids[i], table_id)))
      rc = step_done(c, st, err, "expire snapshot");
  for (int k = 0; k < 2 && !rc; k++) {
    if ((rc = prep(c, &st, err, kinds[k][0], "i", table_id))) break;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
      if (sl_array_grow(&v, &cap, cnt + 1, sizeof *v)) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        break;
      }
      struct sl_data_file *f = &v[cnt++];
      memset(f, 0, sizeof *f);
      f->path = col_text(st, 0);
      f->rows = sqlite3_column_int64(st, 1);
      f->bytes = sqlite3_column_int64(st, 2);
      if (!f->path) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    sqlite3_finalize(st);
    if (!rc && !(rc = prep(c, &st, err, kinds[k][1], "i", table_id))) rc = step_done(c, st, err, "forget files");
  }
  if (!rc) rc = exec(c, dry_run ? "ROLLBACK" : "COMMIT", err);
  if (rc) {
    if (!sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    sl_data_file_list_free(v, cnt);
    return rc;
  }
  *gone = v;
  *n_gone = cnt;
  return 0;
}
#undef UNSEEN

/* The paths one query returns (its first column), in *out. */
static int path_list(struct cat_sqlite *c, sqlite3_stmt *st, char ***out, size_t *n, struct sl_err *err) {
  int rc = 0, r;
  size_t cnt = 0, cap = 0;
  char **v = NULL;
  while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
    if (sl_array_grow(&v, &cap, cnt + 1, sizeof *v)) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    else if (!(v[cnt++] = col_text(st, 0))) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  if (!rc && r != SQLITE_DONE) rc = fail(c, err, "list files");
  sqlite3_finalize(st);
  if (rc) {
    sl_str_list_free(v, cnt);
    return rc;
  }
  *out = v;
  *n = cnt;
  return 0;
}

static int sq_paths(struct sl_catalog *cat, int64_t table_id, char ***out, size_t *n, struct sl_err *err) {
  struct cat_sqlite *c = impl(cat);
  sqlite3_stmt *st;
  int rc = prep(c, &st, err,
                "SELECT path FROM data_files WHERE table_id = ?1 UNION ALL SELECT path FROM delete_files WHERE table_id = ?1"
                " ORDER BY 1",
                "i", table_id);
  return rc ? rc : path_list(c, st, out, n, err);
}

static int sq_snapshot_files(struct sl_catalog *cat, int64_t table_id, int64_t snapshot_id, char ***added,
                             size_t *n_added, char ***removed, size_t *n_removed, struct sl_err *err) {
  struct cat_sqlite *c = impl(cat);
  sqlite3_stmt *st;
  *added = *removed = NULL;
  *n_added = *n_removed = 0;
  int rc = prep(c, &st, err, "SELECT path FROM data_files WHERE table_id = ? AND added_snapshot = ? ORDER BY 1", "ii",
                table_id, snapshot_id);
  if (!rc) rc = path_list(c, st, added, n_added, err);
  if (!rc && !(rc = prep(c, &st, err, "SELECT path FROM data_files WHERE table_id = ? AND removed_snapshot = ? ORDER BY 1",
                         "ii", table_id, snapshot_id)))
    rc = path_list(c, st, removed, n_removed, err);
  if (rc) {
    sl_str_list_free(*added, *n_added);
    *added = NULL;
    *n_added = 0;
  }
  return rc;
}

const struct sl_catalog_ops sl_catalog_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .ns_create = sq_ns_create,
    .ns_list = sq_ns_list,
    .table_get = sq_table_get,
    .table_list = sq_table_list,
    .table_drop = sq_table_drop,
    .schema_get = sq_schema_get,
    .snapshot_at = sq_snapshot_at,
    .files_at = sq_files_at,
    .deletes_at = sq_deletes_at,
    .commit = sq_commit,
    .expire = sq_expire,
    .paths = sq_paths,
    .snapshot_range = sq_snapshot_range,
    .snapshot_get = sq_snapshot_get,
    .snapshot_files = sq_snapshot_files,
};
