/* cmd_common.h: what several commands share: the --project option, loading and
 * opening the project, and reporting errors. */
#ifndef SL_CLI_CMD_COMMON_H
#define SL_CLI_CMD_COMMON_H

#include "cli/cli.h"
#include "cli/project.h"

#include <getopt.h>

#define SL_OPT_PROJECT_ID 1000
#define SL_LONGOPT_PROJECT {"project", required_argument, NULL, SL_OPT_PROJECT_ID}
#define SL_LONGOPT_HELP {"help", no_argument, NULL, 'h'}

/* Loads and opens the project at dir (or found from the cwd); prints the error and
 * returns its exit code on failure, 0 on success. */
int sl_cmd_open_project(const char *cmd, const char *dir, struct sl_project **out);

/* Appends the names of a --select argument (separated by spaces or commas) to
 * (*v)[0..*n); the caller frees each and the array. */
void sl_cmd_select_add(const char *arg, char ***v, size_t *n);

#endif
