/* cmd_tables.c: the catalog browsing commands `sluice tables`, `sluice describe` and
 * `sluice snapshots`. */
#include "cli/cmd_common.h"

#include "cli/output.h"
#include "core/mem.h"
#include "core/buf.h"
#include "core/progress.h"
#include "core/time.h"
#include "sql/sql.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *tables_usage =
    "usage: sluice tables [NAMESPACE] [--format table|csv|json]\n\n"
    "Lists the lake's tables with their kind (table, or view: a model materialized as one,\n"
    "whose rows are not counted), current snapshot, rows, files and size.\n";
static const char *describe_usage =
    "usage: sluice describe NS.TABLE [--format table|json] [--files]\n\n"
    "Shows a table's columns (name, type, field id), its size and current snapshot;\n"
    "--files also lists its data files with row counts and column statistics, and the position delete\n"
    "files that hide rows of them (written by incremental merges).\n";
static const char *snapshots_usage =
    "usage: sluice snapshots NS.TABLE [--format table|csv|json]\n\n"
    "Lists a table's snapshots, oldest first: id, parent, time, operation, rows, schema,\n"
    "when `sluice vacuum` expired it (its files are gone; empty while it is kept) and\n"
    "summary. Any id that has not expired can be given to `sluice sql --as-of`.\n";

/* Parses the options shared by the three commands. Returns -1 to continue, else an
 * exit code. */
static int parse(const char *cmd, const char *usage, int argc, char **argv, enum sl_out_format *fmt,
                 const char **dir, int *files, const char **arg) {
  enum { O_FORMAT = 1, O_FILES };
  static const struct option longopts[] = {{"format", required_argument, NULL, O_FORMAT},
                                           {"files", no_argument, NULL, O_FILES},
                                           SL_LONGOPT_HELP,
                                           SL_LONGOPT_PROJECT,
                                           {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(usage, stdout); return 0;
    case O_FORMAT:
      if (sl_cli_parse_format(optarg, fmt)) return sl_cli_usage_error(cmd, "--format must be table, csv or json");
      break;
    case O_FILES:
      if (!files) return sl_cli_usage_error(cmd, "--files applies to describe only");
      *files = 1;
      break;
    case SL_OPT_PROJECT_ID: *dir = optarg; break;
    default: return sl_cli_usage_error(cmd, "bad option");
    }
  }
  *arg = optind < argc ? argv[optind++] : NULL;
  if (optind < argc) return sl_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  return -1;
}

static char *i64(int64_t v) { return sl_asprintf("%lld", (long long)v); }

static char *when(int64_t ms) {
  char b[40];
  sl_time_iso8601(ms, b, sizeof b);
  return sl_strdup(b);
}

int sl_cmd_tables(int argc, char **argv) {
  enum sl_out_format fmt = SL_OUT_TABLE;
  const char *dir = NULL, *ns = NULL;
  int rc = parse("tables", tables_usage, argc, argv, &fmt, &dir, NULL, &ns);
  if (rc >= 0) return rc;
  struct sl_project *p = NULL;
  if ((rc = sl_cmd_open_project("tables", dir, &p))) return rc;
  struct sl_err err = {0};
  struct sl_table_info *ts = NULL;
  size_t n = 0;
  if (sl_catalog_table_list(p->cat, ns, &ts, &n, &err)) {
    sl_project_free(p);
    return sl_cli_fail("tables", &err);
  }
  const char *names[] = {"table", "kind", "snapshot", "rows", "files", "bytes", "size", "created"};
  const enum sl_cell_kind kinds[] = {SL_CELL_TEXT, SL_CELL_TEXT, SL_CELL_NUM,  SL_CELL_NUM,
                                     SL_CELL_NUM,  SL_CELL_NUM,  SL_CELL_TEXT, SL_CELL_TEXT};
  struct sl_rows rows;
  sl_rows_init(&rows, 8, names, kinds);
  for (size_t i = 0; i < n; i++) {
    char size[32];
    sl_human_bytes((double)ts[i].bytes, size, sizeof size);
    /* A view (a model materialized as one) has no files: its rows are not counted. */
    json_t *sum = sl_sql_snapshot_summary(p->cat, ts[i].table_id, ts[i].current_snapshot);
    int view = json_object_get(sum, "view-sql") != NULL;
    json_decref(sum);
    char *cells[] = {sl_asprintf("%s.%s", ts[i].ns, ts[i].name), sl_strdup(view ? "view" : "table"),
                     i64(ts[i].current_snapshot),                view ? NULL : i64(ts[i].rows),
                     view ? NULL : i64(ts[i].files),             view ? NULL : i64(ts[i].bytes),
                     view ? NULL : sl_strdup(size),              when(ts[i].created_ms)};
    sl_rows_add(&rows, cells);
  }
  sl_rows_print(stdout, &rows, fmt);
  if (!n && fmt == SL_OUT_TABLE) fprintf(stderr, "(no tables yet: load one with `sluice ingest FILE --into bronze.NAME`)\n");
  sl_rows_fini(&rows);
  sl_table_list_free(ts, n);
  sl_project_free(p);
  return 0;
}

static int open_table(const char *cmd, const char *dir, const char *qualified, struct sl_project **p,
                      struct sl_table_info *ti) {
  if (!qualified) return sl_cli_usage_error(cmd, "name a table: NS.TABLE");
  struct sl_err err = {0};
  char *ns = NULL, *name = NULL;
  if (sl_catalog_name_split(qualified, &ns, &name, &err)) {
    err.code = SL_EINVAL;
    return sl_cli_fail(cmd, &err);
  }
  int rc = sl_cmd_open_project(cmd, dir, p);
  if (!rc && sl_catalog_table_get((*p)->cat, ns, name, ti, &err)) rc = sl_cli_fail(cmd, &err);
  sl_free(ns);
  sl_free(name);
  return rc;
}

int sl_cmd_describe(int argc, char **argv) {
  enum sl_out_format fmt = SL_OUT_TABLE;
  const char *dir = NULL, *qn = NULL;
  int files = 0;
  int rc = parse("describe", describe_usage, argc, argv, &fmt, &dir, &files, &qn);
  if (rc >= 0) return rc;
  struct sl_project *p = NULL;
  struct sl_table_info ti = {0};
  if ((rc = open_table("describe", dir, qn, &p, &ti))) {
    sl_project_free(p);
    return rc;
  }
  struct sl_err err = {0};
  struct sl_schema s = {0};
  struct sl_data_file *df = NULL;
  struct sl_delete_file *dd = NULL;
  size_t nf = 0, nd = 0;
  if (sl_catalog_schema_get(p->cat, ti.table_id, ti.schema_id, &s, &err) ||
      (files && sl_catalog_files_at(p->cat, ti.table_id, ti.current_snapshot, &df, &nf, &err)) ||
      (files && sl_catalog_deletes_at(p->cat, ti.table_id, ti.current_snapshot, &dd, &nd, &err))) {
    rc = sl_cli_fail("describe", &err);
    goto out;
  }
  if (fmt == SL_OUT_JSON) {
    struct sl_buf b;
    sl_buf_init(&b);
    sl_buf_puts(&b, "{\"table\":");
    char *q = sl_asprintf("%s.%s", ti.ns, ti.name);
    sl_buf_json_str(&b, q ? q : "");
    sl_free(q);
    sl_buf_printf(&b, ",\"snapshot\":%lld,\"schema_id\":%lld,\"rows\":%lld,\"files\":%lld,\"bytes\":%lld,\"columns\":[",
                  (long long)ti.current_snapshot, (long long)ti.schema_id, (long long)ti.rows, (long long)ti.files,
                  (long long)ti.bytes);
    for (size_t i = 0; i < s.n_cols; i++) {
      sl_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
      sl_buf_json_str(&b, s.cols[i].name);
      sl_buf_puts(&b, ",\"type\":");
      sl_buf_json_str(&b, s.cols[i].type);
      sl_buf_printf(&b, ",\"field_id\":%d}", s.cols[i].field_id);
    }
    sl_buf_puts(&b, "]");
    if (files) {
      sl_buf_puts(&b, ",\"data_files\":[");
      for (size_t i = 0; i < nf; i++) {
        sl_buf_puts(&b, i ? ",{\"path\":" : "{\"path\":");
        sl_buf_json_str(&b, df[i].path);
        sl_buf_printf(&b, ",\"rows\":%lld,\"bytes\":%lld,\"stats\":%s,\"partition\":%s}", (long long)df[i].rows,
                      (long long)df[i].bytes, df[i].stats_json ? df[i].stats_json : "null",
                      df[i].partition ? df[i].partition : "null");
      }
      sl_buf_puts(&b, "],\"delete_files\":[");
      for (size_t i = 0; i < nd; i++) {
        sl_buf_puts(&b, i ? ",{\"path\":" : "{\"path\":");
        sl_buf_json_str(&b, dd[i].path);
        sl_buf_puts(&b, ",\"data_path\":");
        sl_buf_json_str(&b, dd[i].data_path);
        sl_buf_printf(&b, ",\"rows\":%lld,\"bytes\":%lld}", (long long)dd[i].rows, (long long)dd[i].bytes);
      }
      sl_buf_puts(&b, "]");
    }
    sl_buf_puts(&b, "}\n");
    if (b.data) fputs(b.data, stdout);
    sl_buf_fini(&b);
    goto out;
  }
  char size[32];
  sl_human_bytes((double)ti.bytes, size, sizeof size);
  printf("%s.%s  snapshot %lld  %lld rows  %lld files  %s\n\n", ti.ns, ti.name, (long long)ti.current_snapshot,
         (long long)ti.rows, (long long)ti.files, size);
  const char *names[] = {"column", "type", "field_id"};
  const enum sl_cell_kind kinds[] = {SL_CELL_TEXT, SL_CELL_TEXT, SL_CELL_NUM};
  struct sl_rows rows;
  sl_rows_init(&rows, 3, names, kinds);
  for (size_t i = 0; i < s.n_cols; i++) {
    char *cells[] = {sl_strdup(s.cols[i].name), sl_strdup(s.cols[i].type), i64(s.cols[i].field_id)};
    sl_rows_add(&rows, cells);
  }
  sl_rows_print(stdout, &rows, fmt);
  sl_rows_fini(&rows);
  if (files) {
    const char *fn[] = {"file", "rows", "bytes", "stats"};
    const enum sl_cell_kind fk[] = {SL_CELL_TEXT, SL_CELL_NUM, SL_CELL_NUM, SL_CELL_TEXT};
    sl_rows_init(&rows, 4, fn, fk);
    for (size_t i = 0; i < nf; i++) {
      char *cells[] = {sl_strdup(df[i].path), i64(df[i].rows), i64(df[i].bytes),
                       sl_strdup(df[i].stats_json ? df[i].stats_json : "")};
      sl_rows_add(&rows, cells);
    }
    printf("\n");
    sl_rows_print(stdout, &rows, fmt);
    sl_rows_fini(&rows);
    if (nd) {
      /* Position delete files: rows of a data file that the snapshot no longer has. */
      const char *dn[] = {"delete file", "hides rows of", "rows", "bytes"};
      const enum sl_cell_kind dk[] = {SL_CELL_TEXT, SL_CELL_TEXT, SL_CELL_NUM, SL_CELL_NUM};
      sl_rows_init(&rows, 4, dn, dk);
      for (size_t i = 0; i < nd; i++) {
        char *cells[] = {sl_strdup(dd[i].path), sl_strdup(dd[i].data_path), i64(dd[i].rows), i64(dd[i].bytes)};
        sl_rows_add(&rows, cells);
      }
      printf("\n");
      sl_rows_print(stdout, &rows, fmt);
      sl_rows_fini(&rows);
    }
  }
out:
  sl_delete_file_list_free(dd, nd);
  sl_data_file_list_free(df, nf);
  sl_schema_fini(&s);
  sl_table_info_fini(&ti);
  sl_project_free(p);
  return rc;
}

int sl_cmd_snapshots(int argc, char **argv) {
  enum sl_out_format fmt = SL_OUT_TABLE;
  const char *dir = NULL, *qn = NULL;
  int rc = parse("snapshots", snapshots_usage, argc, argv, &fmt, &dir, NULL, &qn);
  if (rc >= 0) return rc;
  struct sl_project *p = NULL;
  struct sl_table_info ti = {0};
  if ((rc = open_table("snapshots", dir, qn, &p, &ti))) {
    sl_project_free(p);
    return rc;
  }
  struct sl_err err = {0};
  struct sl_snapshot *ss = NULL;
  size_t n = 0;
  if (sl_catalog_snapshot_list(p->cat, ti.table_id, &ss, &n, &err)) {
    rc = sl_cli_fail("snapshots", &err);
  } else {
    const char *names[] = {"snapshot", "parent", "time", "operation", "rows", "schema_id", "expired", "summary"};
    const enum sl_cell_kind kinds[] = {SL_CELL_NUM,  SL_CELL_NUM, SL_CELL_TEXT, SL_CELL_TEXT,
                                       SL_CELL_NUM,  SL_CELL_NUM, SL_CELL_TEXT,
                                       fmt == SL_OUT_JSON ? SL_CELL_JSON : SL_CELL_TEXT};
    struct sl_rows rows;
    sl_rows_init(&rows, 8, names, kinds);
    for (size_t i = 0; i < n; i++) {
      char *cells[] = {i64(ss[i].snapshot_id), ss[i].parent_id ? i64(ss[i].parent_id) : NULL, when(ss[i].ts_ms),
                       sl_strdup(ss[i].operation), i64(ss[i].rows), i64(ss[i].schema_id),
                       ss[i].expired_ms ? when(ss[i].expired_ms) : NULL,
                       sl_strdup(ss[i].summary_json ? ss[i].summary_json : (fmt == SL_OUT_JSON ? "null" : ""))};
      sl_rows_add(&rows, cells);
    }
    sl_rows_print(stdout, &rows, fmt);
    sl_rows_fini(&rows);
  }
  sl_snapshot_list_free(ss, n);
  sl_table_info_fini(&ti);
  sl_project_free(p);
  return rc;
}
