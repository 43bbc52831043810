/* cmd_common.c: helpers shared by commands. */
#include "cli/cmd_common.h"

int sl_cmd_open_project(const char *cmd, const char *dir, struct sl_project **out) {
  struct sl_err err = {0};
  struct sl_project *p = NULL;
  int rc = sl_project_load(dir, &p, &err);
  if (!rc) rc = sl_project_open(p, &err);
  if (rc) {
    sl_project_free(p);
    return sl_cli_fail(cmd, &err);
  }
  *out = p;
  return 0;
}
