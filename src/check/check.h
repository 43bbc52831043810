/* check.h: data quality checks over lake tables (what Great Expectations and dbt tests
 * do). Checks are declared in YAML (any .yml under models/ or checks/ or `checks:` in
 * sluice.yaml), run as SQL against a relation (a lake table, or a build's staged output
 * before it is published), and give a result per check: pass, warn or fail with the
 * failing count, the observed value and a sample of failing rows. */
#ifndef SL_CHECK_CHECK_H
#define SL_CHECK_CHECK_H

#include "catalog/catalog.h"
#include "core/config.h"
#include "ingest/ingest.h"
#include "lake/lake.h"
#include "sql/duck.h"

#include <stddef.h>
#include <stdint.h>

enum sl_check_kind {
  SL_CHECK_NOT_NULL,
  SL_CHECK_UNIQUE,
  SL_CHECK_ACCEPTED_VALUES,
  SL_CHECK_BETWEEN,
  SL_CHECK_REGEX,
  SL_CHECK_RELATIONSHIPS,
  SL_CHECK_SQL,
  /* aggregate checks (no failing rows of their own) */
  SL_CHECK_ROW_COUNT,
  SL_CHECK_FRESHNESS,
  SL_CHECK_SCHEMA,
  SL_CHECK_MEAN,
  SL_CHECK_MEDIAN,
  SL_CHECK_QUANTILE,
  SL_CHECK_NOT_NULL_PROPORTION,
  SL_CHECK_N_KINDS
};

struct sl_check {
  char *table;  /* as declared: "ns.table" or a model's name */
  char *name;   /* "not_null(id)", or the name given */
  enum sl_check_kind kind;
  char **cols;  /* the column(s) checked */
  size_t n_cols;
  char **values; /* accepted_values; schema: "name", "TYPE" pairs */
  size_t n_values;
  char *min, *max; /* bounds as written (numbers, or text such as dates) */
  double quantile;
  char *pattern;
  char *to_table, *to_col;
  char *sql;
  int64_t max_age_ms;
  int error;     /* severity: error (1) or warn (0) */
  double mostly; /* share of rows that must pass, (0, 1] */
  char *file;    /* where it was declared */
  int line;
};

struct sl_checks {
  struct sl_check *v;
  size_t n, cap;
};

/* Adds the checks of one YAML document's `checks:` node (a sequence of table
 * entries) to out; errors name file:line:column. */
int sl_checks_load_node(const struct sl_cfg_doc *doc, const struct sl_cfg_node *checks, struct sl_checks *out,
                        struct sl_err *err);
/* Loads `checks:` of every .yml/.yaml file under dir (recursively, sorted). A missing
 * folder has no checks. */
int sl_checks_load_dir(const char *dir, struct sl_checks *out, struct sl_err *err);
void sl_checks_fini(struct sl_checks *cs);
const char *sl_check_kind_name(enum sl_check_kind k);

enum sl_check_status { SL_CHECK_PASS, SL_CHECK_WARN, SL_CHECK_FAIL, SL_CHECK_ERROR };

struct sl_check_result {
  const struct sl_check *check;
  char *table; /* the table checked, ns.table */
  enum sl_check_status status;
  int64_t failing, total;
  char *observed; /* the measured value, as text (NULL for row checks) */
  char *message;  /* why it failed, or what was seen */
  char *sample;   /* JSON array of up to 5 failing rows, or NULL */
};

struct sl_check_results {
  struct sl_check_result *v;
  size_t n, cap;
};

/* Runs one check against relation `rel` (a name or a table function call) that holds
 * table `table`'s rows. Never fails the call for a failing check: only for a failed
 * query, which becomes status ERROR with the message. */
int sl_check_run(struct sl_duck *d, const struct sl_check *c, const char *table, const char *rel,
                 struct sl_check_results *out, struct sl_err *err);

/* Appends up to `limit` failing rows of each failed row check in [from, n) to
 * quarantine.<ns>_<table> (the table's columns plus _check, _reason, _run_id and
 * _quarantined_at), in one snapshot. */
int sl_check_quarantine(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st,
                        const struct sl_ingest_opts *opts, const char *table, const char *rel,
                        const struct sl_check_results *rs, size_t from, const char *run_id, int64_t limit,
                        int64_t *rows_out, struct sl_err *err);

/* Appends results to audit.check_results in one snapshot (snapshot_id: the table's
 * snapshot checked, 0 for a staged one that was not published). */
int sl_check_record(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st, const struct sl_ingest_opts *opts,
                    const struct sl_check_results *rs, const char *run_id, struct sl_err *err);

/* Appends the result of one SELECT to ns.table in a new snapshot (creating the table),
 * retrying when another writer committed first. */
int sl_check_append(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st, const struct sl_ingest_opts *opts,
                    const char *ns, const char *table, const char *select, struct sl_err *err);

void sl_check_results_fini(struct sl_check_results *rs);
const char *sl_check_status_name(enum sl_check_status s);
/* 1 if some result in [from, n) failed with severity error (or could not run). */
int sl_check_results_blocking(const struct sl_check_results *rs, size_t from);

#endif
