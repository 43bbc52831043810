/* cmd_status.c: `sluice status`: the lake in numbers and, per PostgreSQL source, its
 * replication slot: active or not, confirmed position, lag in bytes (WAL written since
 * the confirmed position) and in seconds (the walsender's flush lag, while active). */
#include "cli/cmd_common.h"

#include "cli/output.h"
#include "core/buf.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

static const char *usage =
    "usage: sluice status [--format table|json]\n\n"
    "Shows the lake (tables, rows, bytes) and, for each source in sluice.yaml, its\n"
    "replication slot: whether a reader is attached, the confirmed position, and the\n"
    "lag in bytes and seconds. A source that cannot be reached is shown with the error.\n";

int sl_cmd_status(int argc, char **argv) {
  enum { O_FORMAT = 1 };
  static const struct option longopts[] = {{"format", required_argument, NULL, O_FORMAT}, SL_LONGOPT_HELP,
                                           SL_LONGOPT_PROJECT, {NULL, 0, NULL, 0}};
  enum sl_out_format fmt = SL_OUT_TABLE;
  const char *dir = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(usage, stdout); return 0;
    case O_FORMAT:
      if (sl_cli_parse_format(optarg, &fmt) || fmt == SL_OUT_CSV) return sl_cli_usage_error("status", "--format must be table or json");
      break;
    case SL_OPT_PROJECT_ID: dir = optarg; break;
    default: return sl_cli_usage_error("status", "bad option");
    }
  }
  struct sl_project *p = NULL;
  int rc = sl_cmd_open_project("status", dir, &p);
  if (rc) return rc;
  struct sl_err err = {0};
  struct sl_table_info *ts = NULL;
  size_t nt = 0;
  int64_t rows = 0, bytes = 0, files = 0;
  if (sl_catalog_table_list(p->cat, NULL, &ts, &nt, &err)) {
    sl_project_free(p);
    return sl_cli_fail("status", &err);
  }
  for (size_t i = 0; i < nt; i++) rows += ts[i].rows, bytes += ts[i].bytes, files += ts[i].files;
  sl_table_list_free(ts, nt);
  const char *names[] = {"source", "slot", "active", "confirmed_lsn", "lag_bytes", "lag_seconds", "wal_status", "error"};
  const enum sl_cell_kind kinds[] = {SL_CELL_TEXT, SL_CELL_TEXT, SL_CELL_BOOL, SL_CELL_TEXT,
                                     SL_CELL_NUM,  SL_CELL_NUM,  SL_CELL_TEXT, SL_CELL_TEXT};
  struct sl_rows out;
  sl_rows_init(&out, 8, names, kinds);
  for (size_t i = 0; i < p->sources.n; i++) {
    const struct sl_cdc_source *s = &p->sources.v[i];
    struct sl_cdc_slot_status st;
    sl_cdc_slot_status_get(s, &st);
    sl_rows_addv(&out, s->name, s->slot, st.active < 0 ? NULL : st.active ? "true" : "false", st.confirmed_lsn,
                 st.lag_bytes, st.lag_seconds, st.wal_status, st.error);
    sl_cdc_slot_status_fini(&st);
  }
  if (fmt == SL_OUT_JSON) {
    struct sl_buf name;
    sl_buf_init(&name);
    sl_buf_json_str(&name, p->name ? p->name : "");
    printf("{\"project\":%s,\"lake\":{\"tables\":%zu,\"rows\":%lld,\"files\":%lld,\"bytes\":%lld},\"sources\":",
           name.data ? name.data : "\"\"", nt, (long long)rows, (long long)files, (long long)bytes);
    sl_buf_fini(&name);
    sl_rows_print(stdout, &out, SL_OUT_JSON);
    printf("}\n");
  } else {
    printf("project %s: %zu tables, %lld rows, %lld files, %lld bytes in the lake\n", p->name, nt, (long long)rows,
           (long long)files, (long long)bytes);
    if (p->sources.n) {
      printf("\n");
      sl_rows_print(stdout, &out, SL_OUT_TABLE);
    }
  }
  sl_rows_fini(&out);
  sl_project_free(p);
  return 0;
}
