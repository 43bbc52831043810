/* cmd_sql.c: `sluice sql "QUERY"`: DuckDB over the lake's tables, each visible as
 * namespace.table at its current snapshot or at --as-of. */
#include "cli/cmd_common.h"

#include "cli/output.h"
#include "core/fs.h"
#include "core/mem.h"
#include "transform/transform.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *usage =
    "usage: sluice sql \"QUERY\" [--format table|csv|json] [--as-of SNAPSHOT|TIME]\n"
    "       sluice sql --file FILE.sql ...\n\n"
    "Runs SQL (DuckDB's dialect) over the lake. Every table is queryable as\n"
    "namespace.table, e.g. SELECT count(*) FROM bronze.trips.\n\n"
    "options:\n"
    "  --format table|csv|json   output format (default table)\n"
    "  --as-of SNAPSHOT|TIME     read the lake as it was right after snapshot SNAPSHOT,\n"
    "                            or at TIME (e.g. 2026-01-31T12:00:00Z)\n"
    "  --file FILE               read the query from FILE ('-' for stdin)\n"
    "  --max-rows N              print at most N rows (default 10000; 0 = all)\n"
    "  --project DIR             project folder\n"
    "  -h, --help                this help\n\n"
    "exit codes: 0 ok, 1 the query failed, 2 bad usage or config\n";

static enum sl_cell_kind kind_of(duckdb_type t) {
  switch (t) {
  case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER: case DUCKDB_TYPE_BIGINT:
  case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT: case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT:
  case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_UHUGEINT: case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE:
  case DUCKDB_TYPE_DECIMAL:
    return SL_CELL_NUM;
  case DUCKDB_TYPE_BOOLEAN: return SL_CELL_BOOL;
  default: return SL_CELL_TEXT;
  }
}

int sl_cmd_sql(int argc, char **argv) {
  enum { O_FORMAT = 1, O_ASOF, O_FILE, O_MAX };
  static const struct option longopts[] = {{"format", required_argument, NULL, O_FORMAT},
                                           {"as-of", required_argument, NULL, O_ASOF},
                                           {"file", required_argument, NULL, O_FILE},
                                           {"max-rows", required_argument, NULL, O_MAX},
                                           SL_LONGOPT_HELP,
                                           SL_LONGOPT_PROJECT,
                                           {NULL, 0, NULL, 0}};
  enum sl_out_format fmt = SL_OUT_TABLE;
  const char *dir = NULL, *asof_s = NULL, *file = NULL;
  long long max_rows = 10000;
  int c;
  while ((c = getopt_long(argc, argv, "hf:", longopts, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(usage, stdout); return 0;
    case O_FORMAT:
    case 'f':
      if (sl_cli_parse_format(optarg, &fmt)) return sl_cli_usage_error("sql", "--format must be table, csv or json");
      break;
    case O_ASOF: asof_s = optarg; break;
    case O_FILE: file = optarg; break;
    case O_MAX:
      if (sscanf(optarg, "%lld", &max_rows) != 1 || max_rows < 0)
        return sl_cli_usage_error("sql", "--max-rows takes a number");
      break;
    case SL_OPT_PROJECT_ID: dir = optarg; break;
    default: return sl_cli_usage_error("sql", "bad option");
    }
  }
  struct sl_err err = {0};
  char *query = NULL;
  if (file) {
    if (optind < argc) return sl_cli_usage_error("sql", "give the query as an argument or with --file, not both");
    size_t len;
    if (sl_fs_read_all(strcmp(file, "-") ? file : "/dev/stdin", 64u << 20, &query, &len, &err))
      return sl_cli_fail("sql", &err);
  } else {
    if (optind >= argc) return sl_cli_usage_error("sql", "no query");
    if (optind + 1 < argc) return sl_cli_usage_error("sql", "put the whole query in one quoted argument");
    query = sl_strdup(argv[optind]);
  }
  struct sl_sql_asof asof = {0};
  if (asof_s && sl_sql_asof_parse(asof_s, &asof, &err)) {
    sl_free(query);
    return sl_cli_fail("sql", &err);
  }
  struct sl_project *p = NULL;
  int rc = sl_cmd_open_project("sql", dir, &p);
  if (rc) {
    sl_free(query);
    return rc;
  }
  struct sl_duck_opts dopts;
  sl_project_duck_opts(p, &dopts);
  struct sl_duck *d = NULL;
  struct sl_duck_result res = {0};
  struct sl_rows rows = {0};
  if ((rc = sl_duck_open(NULL, &dopts, &d, &err))) goto fail;
  sl_transform_session_dir(d, p->root);
  if ((rc = sl_sql_attach(d, p->cat, p->store, &asof, &err))) goto fail;
  duckdb_type *types = NULL;
  if ((rc = sl_duck_query_text(d, query, &res, &types, &err))) goto fail;
  int64_t nc = sl_duck_result_cols(&res), nr = sl_duck_result_rows(&res);
  const char **names = sl_calloc((size_t)nc + 1, sizeof *names);
  enum sl_cell_kind *kinds = sl_calloc((size_t)nc + 1, sizeof *kinds);
  if (!names || !kinds) {
    sl_free(names);
    sl_free(kinds);
    rc = sl_err_set(&err, SL_ENOMEM, "out of memory");
    goto fail;
  }
  for (int64_t i = 0; i < nc; i++) {
    names[i] = sl_duck_result_name(&res, i);
    kinds[i] = kind_of(types ? types[i] : DUCKDB_TYPE_VARCHAR);
  }
  sl_free(types);
  sl_rows_init(&rows, (size_t)nc, names, kinds);
  sl_free(names);
  sl_free(kinds);
  int64_t shown = max_rows && nr > max_rows ? max_rows : nr;
  char **cells = sl_calloc((size_t)nc + 1, sizeof *cells);
  for (int64_t r = 0; cells && r < shown; r++) {
    for (int64_t k = 0; k < nc; k++) cells[k] = sl_duck_result_text(&res, k, r);
    sl_rows_add(&rows, cells);
  }
  sl_free(cells);
  sl_rows_print(stdout, &rows, fmt);
  if (shown < nr) fprintf(stderr, "(%lld of %lld rows shown; raise --max-rows to see more)\n", (long long)shown, (long long)nr);
  else if (fmt == SL_OUT_TABLE && isatty(2)) fprintf(stderr, "(%lld row%s)\n", (long long)nr, nr == 1 ? "" : "s");
  rc = 0;
  goto out;
fail:
  rc = sl_cli_fail("sql", &err);
out:
  sl_rows_fini(&rows);
  sl_duck_result_fini(&res);
  sl_duck_close(d);
  sl_project_free(p);
  sl_free(query);
  return rc;
}
