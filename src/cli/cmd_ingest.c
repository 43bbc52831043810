/* cmd_ingest.c: `sluice ingest FILE... --into NS.TABLE`. SIGINT/SIGTERM stop the
 * ingest cleanly (the table stays as it was); a second signal exits at once. */
#include "cli/cmd_common.h"

#include "core/mem.h"
#include "core/progress.h"

#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *usage =
    "usage: sluice ingest FILE|GLOB... --into NS.TABLE [options]\n"
    "       sluice ingest --source NAME [--table SCHEMA.TABLE] [--where SQL]\n\n"
    "Loads CSV, Parquet or JSON-lines files into a lake table as one new snapshot.\n"
    "The schema is inferred from the files (or given with --schema) and checked\n"
    "against the table's. Nothing becomes visible unless the whole ingest succeeds.\n\n"
    "options:\n"
    "  --into NS.TABLE        target table, e.g. bronze.trips (created if missing)\n"
    "  --mode append|replace  add to the table (default) or replace its contents\n"
    "  --format csv|parquet|jsonl  input format (default: from the file extension)\n"
    "  --evolve               add columns the files have and the table lacks\n"
    "  --schema 'COL TYPE, ...'  read CSV/JSON columns with these types\n"
    "  --delim C              CSV delimiter (default: detected)\n"
    "  --no-header            CSV files have no header row\n"
    "  --format-out table|json  summary format (default table)\n"
    "  --source NAME          copy the tables of a PostgreSQL source (sources: in sluice.yaml)\n"
    "                         into bronze.<table>, consistently (one snapshot), in\n"
    "                         primary-key chunks; replaces each table unless --where is given\n"
    "  --table SCHEMA.TABLE   only this table of the source\n"
    "  --where SQL            only the rows matching this condition (appended to the table)\n"
    "  --project DIR          project folder (default: found from the current folder)\n"
    "  -h, --help             this help\n\n"
    "exit codes: 0 committed, 1 failed (table unchanged), 2 bad usage or config\n";

static volatile sig_atomic_t g_signals;
static volatile int g_cancel;

static void on_signal(int sig) {
  (void)sig;
  g_cancel = 1;
  if (++g_signals > 1) _exit(130);
}

static void install_handlers(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

/* `ingest --source`: a consistent copy of a PostgreSQL source's tables into bronze. */
static int ingest_source(const char *dir, const char *name, const char *only, const char *where, int mode,
                         enum sl_out_format outfmt) {
  struct sl_project *p = NULL;
  int rc = sl_cmd_open_project("ingest", dir, &p);
  if (rc) return rc;
  struct sl_err err = {0};
  const struct sl_cdc_source *src = sl_cdc_source_find(&p->sources, name);
  if (!src) {
    sl_project_free(p);
    return sl_cli_usage_error("ingest", "no source '%s' under sources: in %s", name, "sluice.yaml");
  }
  install_handlers();
  char *staging = sl_project_staging_dir(p);
  struct sl_cdc_load_req req = {.src = src, .table = only, .where = where, .staging = staging,
                                .mode = mode >= 0 ? (enum sl_ingest_mode)mode : where ? SL_INGEST_APPEND : SL_INGEST_REPLACE,
                                .progress = 1, .cancel = &g_cancel};
  struct sl_duck_opts dopts;
  sl_project_duck_opts(p, &dopts);
  struct sl_cdc_load_table *tabs = NULL;
  size_t n = 0;
  int lrc = sl_cdc_load(p->cat, p->store, &dopts, &p->ingest, &req, &tabs, &n, &err);
  if (lrc) rc = lrc == SL_EINTR ? 130 : sl_cli_fail("ingest", &err);
  if (lrc == SL_EINTR) fprintf(stderr, "sluice ingest: interrupted; the tables are unchanged\n");
  for (size_t i = 0; !lrc && i < n; i++) {
    if (outfmt == SL_OUT_JSON)
      printf("{\"source_table\":\"%s\",\"table\":\"%s\",\"snapshot\":%lld,\"rows\":%lld,\"seconds\":%.3f}\n",
             tabs[i].pg_table, tabs[i].lake_table, (long long)tabs[i].res.snapshot_id, (long long)tabs[i].res.rows,
             tabs[i].res.seconds);
    else
      printf("%s -> %s: %lld rows, snapshot %lld\n", tabs[i].pg_table, tabs[i].lake_table,
             (long long)tabs[i].res.rows, (long long)tabs[i].res.snapshot_id);
  }
  sl_cdc_load_tables_free(tabs, n);
  sl_free(staging);
  sl_project_free(p);
  return rc;
}

int sl_cmd_ingest(int argc, char **argv) {
  enum { O_INTO = 1, O_MODE, O_FORMAT, O_EVOLVE, O_SCHEMA, O_DELIM, O_NOHEADER, O_OUT, O_SOURCE, O_TABLE, O_WHERE };
  static const struct option longopts[] = {
      {"into", required_argument, NULL, O_INTO},       {"mode", required_argument, NULL, O_MODE},
      {"format", required_argument, NULL, O_FORMAT},   {"evolve", no_argument, NULL, O_EVOLVE},
      {"schema", required_argument, NULL, O_SCHEMA},   {"delim", required_argument, NULL, O_DELIM},
      {"no-header", no_argument, NULL, O_NOHEADER},    {"format-out", required_argument, NULL, O_OUT},
      {"source", required_argument, NULL, O_SOURCE},   {"table", required_argument, NULL, O_TABLE},
      {"where", required_argument, NULL, O_WHERE},
      SL_LONGOPT_HELP,                                 SL_LONGOPT_PROJECT,
      {NULL, 0, NULL, 0}};
  struct sl_ingest_req req = {.mode = SL_INGEST_APPEND, .format = SL_FMT_AUTO};
  const char *into = NULL, *dir = NULL, *source = NULL, *only = NULL, *where = NULL;
  int mode_set = 0;
  enum sl_out_format outfmt = SL_OUT_TABLE;
  int c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(usage, stdout); return 0;
    case O_INTO: into = optarg; break;
    case O_MODE:
      if (!strcmp(optarg, "append")) req.mode = SL_INGEST_APPEND;
      else if (!strcmp(optarg, "replace")) req.mode = SL_INGEST_REPLACE;
      else return sl_cli_usage_error("ingest", "--mode must be append or replace, not '%s'", optarg);
      mode_set = 1;
      break;
    case O_SOURCE: source = optarg; break;
    case O_TABLE: only = optarg; break;
    case O_WHERE: where = optarg; break;
    case O_FORMAT:
      if (sl_ingest_format_parse(optarg, &req.format))
        return sl_cli_usage_error("ingest", "--format must be csv, parquet or jsonl, not '%s'", optarg);
      break;
    case O_EVOLVE: req.evolve = 1; break;
    case O_SCHEMA: req.schema = optarg; break;
    case O_DELIM:
      if (strlen(optarg) != 1 && strcmp(optarg, "\\t"))
        return sl_cli_usage_error("ingest", "--delim takes one character");
      req.delim = strcmp(optarg, "\\t") ? optarg[0] : '\t';
      break;
    case O_NOHEADER: req.no_header = 1; break;
    case O_OUT:
      if (sl_cli_parse_format(optarg, &outfmt) || outfmt == SL_OUT_CSV)
        return sl_cli_usage_error("ingest", "--format-out must be table or json");
      break;
    case SL_OPT_PROJECT_ID: dir = optarg; break;
    default: return sl_cli_usage_error("ingest", "bad option");
    }
  }
  if (source) {
    if (into || optind < argc) return sl_cli_usage_error("ingest", "--source takes no files and no --into");
    return ingest_source(dir, source, only, where, mode_set ? (int)req.mode : -1, outfmt);
  }
  if (only || where) return sl_cli_usage_error("ingest", "--table and --where go with --source");
  if (!into) return sl_cli_usage_error("ingest", "--into NS.TABLE is required");
  if (optind >= argc) return sl_cli_usage_error("ingest", "no input files");
  struct sl_err err = {0};
  char *ns = NULL, *table = NULL;
  if (sl_catalog_name_split(into, &ns, &table, &err)) {
    sl_err_prefix(&err, "--into: ");
    err.code = SL_EINVAL;
    return sl_cli_fail("ingest", &err);
  }
  /* Expand globs ourselves too, so quoted patterns work (and scripts need no shell). */
  glob_t g;
  memset(&g, 0, sizeof g);
  int flags = GLOB_NOCHECK;
  for (int i = optind; i < argc; i++) {
    glob(argv[i], flags, NULL, &g);
    flags |= GLOB_APPEND;
  }
  req.files = (const char *const *)g.gl_pathv;
  req.n_files = g.gl_pathc;
  req.ns = ns;
  req.table = table;
  req.progress = 1;
  req.cancel = &g_cancel;

  struct sl_project *p = NULL;
  int rc = sl_cmd_open_project("ingest", dir, &p);
  if (rc) goto out;
  install_handlers();
  struct sl_duck_opts dopts;
  sl_project_duck_opts(p, &dopts);
  struct sl_ingest_result res;
  int irc = sl_ingest_files(p->cat, p->store, &dopts, &p->ingest, &req, &res, &err);
  if (irc) {
    rc = irc == SL_EINTR ? 130 : sl_cli_fail("ingest", &err);
    if (irc == SL_EINTR) fprintf(stderr, "sluice ingest: %s\n", err.msg);
    goto out;
  }
  char in_s[32], out_s[32];
  sl_human_bytes((double)res.bytes_in, in_s, sizeof in_s);
  sl_human_bytes((double)res.bytes_out, out_s, sizeof out_s);
  if (outfmt == SL_OUT_JSON)
    printf("{\"table\":\"%s.%s\",\"snapshot\":%lld,\"rows\":%lld,\"files\":%zu,\"bytes_in\":%lld,\"bytes_out\":%lld,"
           "\"seconds\":%.3f,\"created\":%s}\n",
           ns, table, (long long)res.snapshot_id, (long long)res.rows, res.files_out, (long long)res.bytes_in,
           (long long)res.bytes_out, res.seconds, res.created ? "true" : "false");
  else
    printf("%s %s.%s: %lld rows from %zu file%s (%s) into %zu Parquet file%s (%s) in %.2fs, snapshot %lld\n",
           res.created ? "created" : req.mode == SL_INGEST_REPLACE ? "replaced" : "appended", ns, table,
           (long long)res.rows, req.n_files, req.n_files == 1 ? "" : "s", in_s, res.files_out,
           res.files_out == 1 ? "" : "s", out_s, res.seconds, (long long)res.snapshot_id);
out:
  sl_project_free(p);
  globfree(&g);
  sl_free(ns);
  sl_free(table);
  return rc;
}
