/* strs.c: sorted arrays of strings (see strs.h). */
#include "core/strs.h"

#include <stdlib.h>
#include <string.h>

int sl_strs_cmp(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

int sl_strs_has(const char *const *v, size_t n, const char *s) {
  return n && bsearch(&s, v, n, sizeof *v, sl_strs_cmp) != NULL;
}
