/* session.c: what a DuckDB session needs before it reads the lake's views or runs a
 * model: the built-in helper macros and the project's macros/ files. A view model may
 * call them, so they come before the views. */
#include "transform/transform.h"

#include "core/log.h"

/* Scaling helpers the seeds did by hand in Spark and pandas. Window aggregates over the
 * whole result, so they scale by the statistics of the rows the model selects. */
const char sl_transform_macros[] =
    "CREATE OR REPLACE TEMP MACRO log1p(x) AS ln(1 + (x));\n"
    "CREATE OR REPLACE TEMP MACRO min_max_scale(x) AS "
    "((x) - min(x) OVER ()) / NULLIF(max(x) OVER () - min(x) OVER (), 0);\n"
    "CREATE OR REPLACE TEMP MACRO robust_scale(x) AS "
    "((x) - median(x) OVER ()) / NULLIF(quantile_cont(x, 0.75) OVER () - quantile_cont(x, 0.25) OVER (), 0);\n"
    "CREATE OR REPLACE TEMP MACRO z_score(x) AS ((x) - avg(x) OVER ()) / NULLIF(stddev_pop(x) OVER (), 0);\n";

int sl_transform_session(struct sl_duck *d, const struct sl_models *ms, struct sl_err *err) {
  int rc = sl_duck_exec_once(d, sl_transform_macros, err);
  for (size_t i = 0; !rc && ms && i < ms->n_macros; i++)
    if ((rc = sl_duck_exec_once(d, ms->macro_texts[i], err))) sl_err_prefix(err, "%s: ", ms->macro_paths[i]);
  return rc;
}

void sl_transform_session_dir(struct sl_duck *d, const char *root) {
  struct sl_models ms = {0};
  struct sl_err err = {0};
  if (sl_models_load_macros(root, &ms, &err) || sl_transform_session(d, &ms, &err))
    sl_log(SL_LOG_WARN, "sql", "the project's macros are not defined", "error", err.msg, NULL);
  sl_models_fini(&ms);
}
