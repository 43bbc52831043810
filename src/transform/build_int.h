/* build_int.h: what the build's files share: a worker's context. */
#ifndef SL_TRANSFORM_BUILD_INT_H
#define SL_TRANSFORM_BUILD_INT_H

#include "transform/transform.h"

struct sl_bctx {
  const struct sl_build_opts *o;
  const struct sl_models *ms;
  struct sl_catalog *cat;       /* the worker's own connection */
  struct sl_duck *d;            /* opened per model, with the lake attached */
  struct sl_check_results *checks; /* the worker's results, merged at the end */
  const char *run_id;
};

/* Logs (at debug level) the milliseconds since *t of one phase of a model's build,
 * and sets *t to now. */
void sl_build_phase_log(const char *model, const char *phase, int64_t *t);

int sl_build_model(struct sl_bctx *x, const struct sl_model *m, struct sl_build_model_result *res,
                   struct sl_err *err);

#endif
