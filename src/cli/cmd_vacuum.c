/* cmd_vacuum.c: `sluice vacuum`: expires old snapshots and deletes the files nothing
 * needs any more (see catalog/vacuum.h), table by table, and prints what it freed. */
#include "cli/cmd_common.h"

#include "catalog/vacuum.h"
#include "cli/output.h"
#include "core/mem.h"
#include "core/progress.h"
#include "core/time.h"

#include <stdio.h>
#include <string.h>

static const char *usage =
    "usage: sluice vacuum [NS.TABLE ...] [--retain DURATION] [--dry-run] [--format table|json]\n\n"
    "Frees the lake's space. For each table (or the ones named):\n"
    "  - expires the snapshots that a newer one replaced longer ago than the retention\n"
    "    (--retain, else lake.retention in sluice.yaml, 7d by default) and deletes the\n"
    "    files only they saw; time travel (--as-of) to them is no longer possible;\n"
    "  - deletes the files in the table's data folder that no snapshot names (left by an\n"
    "    ingest or build that was killed) once they are older than the retention, and\n"
    "    never younger than an hour (a write still running has not committed them);\n"
    "  - (without table names) deletes what killed loads left in .sluice/staging, by\n"
    "    the same age rule.\n"
    "A table's current snapshot is always kept, and so is every snapshot an incremental\n"
    "model last read from, so its next build stays incremental. Files in a folder whose\n"
    "table the catalog does not know are counted, never deleted.\n\n"
    "  --retain D     keep replaced snapshots for D: 90s, 15m, 12h, 7d; 0 keeps only the\n"
    "                 current ones (and those incremental models read from)\n"
    "  --dry-run      print what would be deleted; delete nothing\n"
    "  --format F     table (default) or json\n\n"
    "Exit status: 0 done, 1 an error (what was freed before it stays freed), 2 bad usage\n"
    "or an unknown table.\n";

static void print(const struct sl_vacuum_result *r, const struct sl_vacuum_opts *o, enum sl_out_format fmt) {
  const char *names[] = {"table", "in_catalog", "expired", "kept", "files", "bytes", "orphans", "orphan_bytes", "recent"};
  const enum sl_cell_kind kinds[] = {SL_CELL_TEXT, SL_CELL_BOOL, SL_CELL_NUM, SL_CELL_NUM, SL_CELL_NUM,
                                     SL_CELL_NUM,  SL_CELL_NUM,  SL_CELL_NUM, SL_CELL_NUM};
  struct sl_rows out;
  sl_rows_init(&out, 9, names, kinds);
  for (size_t i = 0; i < r->n; i++) {
    const struct sl_vacuum_table *t = &r->v[i];
    char q[160], n[7][24];
    snprintf(q, sizeof q, "%s.%s", t->ns, t->name);
    int64_t v[7] = {t->expired, t->kept, t->files, t->bytes, t->orphans, t->orphan_bytes, t->young};
    for (int k = 0; k < 7; k++) snprintf(n[k], sizeof n[k], "%lld", (long long)v[k]);
    sl_rows_addv(&out, q, t->known ? "true" : "false", n[0], n[1], n[2], n[3], n[4], n[5], n[6]);
  }
  int64_t snaps = r->snapshots_expired, files = r->files_deleted, unknown = r->unknown_files;
  if (fmt == SL_OUT_JSON) {
    printf("{\"dry_run\":%s,\"retention_ms\":%lld,\"snapshots_expired\":%lld,\"files_deleted\":%lld,"
           "\"bytes_freed\":%lld,\"staging_deleted\":%lld,\"tables\":",
           o->dry_run ? "true" : "false", (long long)o->retention_ms, (long long)snaps, (long long)files,
           (long long)r->bytes_freed, (long long)r->staging);
    sl_rows_print(stdout, &out, SL_OUT_JSON);
    printf("}\n");
  } else {
    if (out.n_rows) sl_rows_print(stdout, &out, SL_OUT_TABLE);
    char size[32];
    sl_human_bytes((double)r->bytes_freed, size, sizeof size);
    printf("%s%s%lld snapshot%s expired, %lld file%s deleted, %s freed\n", out.n_rows ? "\n" : "",
           o->dry_run ? "dry run, nothing deleted; would be: " : "", (long long)snaps, snaps == 1 ? "" : "s",
           (long long)files, files == 1 ? "" : "s", size);
    if (r->staging)
      printf("%lld leftover%s of killed loads in .sluice/staging %s\n", (long long)r->staging,
             r->staging == 1 ? "" : "s", o->dry_run ? "would be deleted" : "deleted (counted in the bytes freed)");
    if (unknown)
      printf("%lld file%s left alone in the folders of tables the catalog does not know (in_catalog false); "
             "delete those folders if nothing needs them\n", (long long)unknown, unknown == 1 ? "" : "s");
  }
  sl_rows_fini(&out);
}

int sl_cmd_vacuum(int argc, char **argv) {
  enum { O_FORMAT = 1, O_RETAIN, O_DRY };
  static const struct option longopts[] = {{"format", required_argument, NULL, O_FORMAT},
                                           {"retain", required_argument, NULL, O_RETAIN},
                                           {"dry-run", no_argument, NULL, O_DRY},
                                           SL_LONGOPT_HELP,
                                           SL_LONGOPT_PROJECT,
                                           {NULL, 0, NULL, 0}};
  enum sl_out_format fmt = SL_OUT_TABLE;
  const char *dir = NULL;
  struct sl_vacuum_opts o = {.retention_ms = -1};
  int c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(usage, stdout); return 0;
    case O_FORMAT:
      if (sl_cli_parse_format(optarg, &fmt) || fmt == SL_OUT_CSV)
        return sl_cli_usage_error("vacuum", "--format must be table or json");
      break;
    case O_RETAIN:
      if (sl_time_parse_duration(optarg, &o.retention_ms))
        return sl_cli_usage_error("vacuum", "--retain '%s' is not a duration like 90s, 15m, 12h or 7d", optarg);
      break;
    case O_DRY: o.dry_run = 1; break;
    case SL_OPT_PROJECT_ID: dir = optarg; break;
    default: return sl_cli_usage_error("vacuum", "bad option");
    }
  }
  for (int i = optind; i < argc; i++)
    if (!strchr(argv[i], '.')) return sl_cli_usage_error("vacuum", "'%s' is not a table name like silver.loan", argv[i]);
  struct sl_project *p = NULL;
  int rc = sl_cmd_open_project("vacuum", dir, &p);
  if (rc) return rc;
  if (o.retention_ms < 0) o.retention_ms = p->lake.retention_ms;
  o.now_ms = sl_time_now_ms();
  o.tables = (const char *const *)argv + optind;
  o.n_tables = (size_t)(argc - optind);
  char *staging = sl_project_staging_dir(p);
  o.staging_dir = staging;
  struct sl_vacuum_result r = {0};
  struct sl_err err = {0};
  rc = sl_vacuum(p->cat, p->store, &o, &r, &err);
  sl_free(staging);
  if (rc) {
    int code = sl_cli_fail("vacuum", &err);
    sl_project_free(p);
    return rc == SL_ENOTFOUND ? 2 : code; /* an unknown table is a usage error */
  }
  print(&r, &o, fmt);
  sl_vacuum_result_fini(&r);
  sl_project_free(p);
  return 0;
}
