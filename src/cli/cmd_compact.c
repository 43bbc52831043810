/* cmd_compact.c: `sluice compact`: rewrites tables' small and partly hidden files into
 * fewer, whole ones (see ingest/compact.h) and prints what it did per table. */
#include "cli/cmd_common.h"

#include "cli/output.h"
#include "core/config.h"
#include "core/mem.h"
#include "core/progress.h"
#include "ingest/compact.h"

#include <stdio.h>
#include <string.h>

static const char *usage =
    "usage: sluice compact [NS.TABLE ...] [--target-size SIZE] [--dry-run] [--format table|json]\n\n"
    "Rewrites each table's (or the named ones') small files, and the files whose rows\n"
    "incremental merges hid with delete files, into files of the target size: one new\n"
    "snapshot (operation compact) with the same rows, per table. Files are packed per\n"
    "partition (at most 10,000 of a table per run); a lone small file is left as it is.\n"
    "Many appends (change data capture, frequent ingests) and merges leave such files,\n"
    "and each costs readers a file open.\n"
    "Incremental models reading a table stay incremental: only files their last builds\n"
    "saw are rewritten. The files rewritten stay until `sluice vacuum` expires the\n"
    "snapshots that saw them.\n\n"
    "  --target-size SIZE  bytes per file written (default ingest.target_file_size);\n"
    "                      files under half of it count as small\n"
    "  --dry-run           print what would be rewritten; write nothing\n"
    "  --format F          table (default) or json\n\n"
    "Exit status: 0 done, 1 an error (tables compacted before it stay so; a table that\n"
    "changed meanwhile is left as it was: run it again), 2 bad usage or an unknown table.\n";

static void print(const struct sl_compact_result *r, const struct sl_compact_opts *o, enum sl_out_format fmt) {
  const char *names[] = {"table", "files", "rewritten", "deletes", "written", "rows", "bytes_before", "bytes_after",
                         "snapshot", "note"};
  const enum sl_cell_kind kinds[] = {SL_CELL_TEXT, SL_CELL_NUM, SL_CELL_NUM, SL_CELL_NUM, SL_CELL_NUM,
                                     SL_CELL_NUM,  SL_CELL_NUM, SL_CELL_NUM, SL_CELL_NUM, SL_CELL_TEXT};
  struct sl_rows out;
  sl_rows_init(&out, 10, names, kinds);
  for (size_t i = 0; i < r->n; i++) {
    const struct sl_compact_table *t = &r->v[i];
    char q[160], n[8][24];
    snprintf(q, sizeof q, "%s.%s", t->ns, t->name);
    int64_t v[8] = {t->files_before, t->files_rewritten, t->deletes_applied, t->files_written,
                    t->rows,         t->bytes_before,    t->bytes_after,     t->snapshot_id};
    for (int k = 0; k < 8; k++) snprintf(n[k], sizeof n[k], "%lld", (long long)v[k]);
    sl_rows_addv(&out, q, n[0], n[1], n[2], n[3], n[4], n[5], n[6], t->snapshot_id ? n[7] : NULL,
                 t->skipped ? t->skipped : o->dry_run ? "dry run" : NULL);
  }
  int64_t files = r->files_rewritten, tables = r->tables_compacted;
  if (fmt == SL_OUT_JSON) {
    printf("{\"dry_run\":%s,\"target_file_size\":%lld,\"tables_compacted\":%lld,\"files_rewritten\":%lld,\"tables\":",
           o->dry_run ? "true" : "false", (long long)o->target_file_size, (long long)tables, (long long)files);
    sl_rows_print(stdout, &out, SL_OUT_JSON);
    printf("}\n");
  } else {
    if (out.n_rows) sl_rows_print(stdout, &out, SL_OUT_TABLE);
    printf("%s%s%lld file%s of %lld table%s rewritten\n", out.n_rows ? "\n" : "",
           o->dry_run ? "dry run, nothing written; would be: " : "", (long long)files, files == 1 ? "" : "s",
           (long long)tables, tables == 1 ? "" : "s");
  }
  sl_rows_fini(&out);
}

int sl_cmd_compact(int argc, char **argv) {
  enum { O_FORMAT = 1, O_TARGET, O_DRY };
  static const struct option longopts[] = {{"format", required_argument, NULL, O_FORMAT},
                                           {"target-size", required_argument, NULL, O_TARGET},
                                           {"dry-run", no_argument, NULL, O_DRY},
                                           SL_LONGOPT_HELP,
                                           SL_LONGOPT_PROJECT,
                                           {NULL, 0, NULL, 0}};
  enum sl_out_format fmt = SL_OUT_TABLE;
  const char *dir = NULL;
  struct sl_compact_opts o = {0};
  int c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(usage, stdout); return 0;
    case O_FORMAT:
      if (sl_cli_parse_format(optarg, &fmt) || fmt == SL_OUT_CSV)
        return sl_cli_usage_error("compact", "--format must be table or json");
      break;
    case O_TARGET:
      if (sl_cfg_parse_size(optarg, &o.target_file_size) || o.target_file_size < (1 << 20))
        return sl_cli_usage_error("compact", "--target-size '%s' is not a size of at least 1MiB, like 128MB", optarg);
      break;
    case O_DRY: o.dry_run = 1; break;
    case SL_OPT_PROJECT_ID: dir = optarg; break;
    default: return sl_cli_usage_error("compact", "bad option");
    }
  }
  for (int i = optind; i < argc; i++)
    if (!strchr(argv[i], '.')) return sl_cli_usage_error("compact", "'%s' is not a table name like bronze.loan", argv[i]);
  struct sl_project *p = NULL;
  int rc = sl_cmd_open_project("compact", dir, &p);
  if (rc) return rc;
  if (!o.target_file_size) o.target_file_size = p->ingest.target_file_size;
  o.tables = (const char *const *)argv + optind;
  o.n_tables = (size_t)(argc - optind);
  struct sl_duck_opts dopts;
  sl_project_duck_opts(p, &dopts);
  struct sl_duck *d = NULL;
  struct sl_compact_result r = {0};
  struct sl_err err = {0};
  rc = sl_duck_open(NULL, &dopts, &d, &err);
  if (!rc) rc = sl_compact(d, p->cat, p->store, &p->ingest, &o, &r, &err);
  sl_duck_close(d);
  if (rc) {
    int code = sl_cli_fail("compact", &err);
    sl_project_free(p);
    return rc == SL_ENOTFOUND ? 2 : code; /* an unknown table is a usage error */
  }
  print(&r, &o, fmt);
  sl_compact_result_fini(&r);
  sl_project_free(p);
  return 0;
}
