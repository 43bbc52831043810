/* strs.h: sorted arrays of strings: the comparator qsort and bsearch take for an array
 * of char pointers, and a lookup in such an array sorted by it. */
#ifndef SL_CORE_STRS_H
#define SL_CORE_STRS_H

#include <stddef.h>

/* strcmp of the strings a and b point to (each a char * in the array). */
int sl_strs_cmp(const void *a, const void *b);
/* 1 if s is among v[0..n), sorted with sl_strs_cmp. */
int sl_strs_has(const char *const *v, size_t n, const char *s);

#endif
