/* cmd_common.c: helpers shared by commands. */
#include "cli/cmd_common.h"

#include "core/mem.h"

#include <string.h>

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

void sl_cmd_select_add(const char *arg, char ***v, size_t *n) {
  char *copy = sl_strdup(arg), *save = NULL;
  for (char *t = copy ? strtok_r(copy, " ", &save) : NULL; t; t = strtok_r(NULL, " ", &save)) {
    char **nv = sl_realloc(*v, (*n + 1) * sizeof **v);
    if (!nv) break;
    *v = nv;
    (*v)[(*n)++] = sl_strdup(t);
  }
  sl_free(copy);
}
