/* models.h: loading a project's models and checks for the commands that use them. */
#ifndef SL_CLI_MODELS_H
#define SL_CLI_MODELS_H

#include "cli/cli.h"
#include "cli/project.h"
#include "check/check.h"
#include "transform/transform.h"

/* Loads models (resolved against the lake and sources) and every check: in .yml files
 * under the models and checks folders, and under checks: in sluice.yaml. */
int sl_cli_models_load(struct sl_project *p, struct sl_models *ms, struct sl_checks *cs, struct sl_err *err);

/* The model whose table a check names (a model's name, or its ns.table), or -1. */
int sl_cli_model_of(const struct sl_models *ms, const char *table);

/* Prints check results as a report (table or JSON). */
void sl_cli_print_checks(const struct sl_check_results *rs, enum sl_out_format fmt);

/* The lineage DAG as JSON ({"nodes":[...],"edges":[...]}), as `sluice lineage --format
 * json` prints it and GET /api/lineage answers. */
struct sl_buf;
void sl_cli_lineage_json(const struct sl_models *ms, const struct sl_checks *cs, struct sl_buf *b);

#endif
