/* mem.h: the one allocation wrapper. It counts live bytes and can fail the Nth
 * allocation on purpose (SLUICE_FAIL_ALLOC=N) so tests can exercise out-of-memory paths. */
#ifndef SL_CORE_MEM_H
#define SL_CORE_MEM_H

#include <stddef.h>

void *sl_malloc(size_t n);
void *sl_calloc(size_t count, size_t n);
void *sl_realloc(void *p, size_t n);
char *sl_strdup(const char *s);
char *sl_strndup(const char *s, size_t n);
void sl_free(void *p);
/* Makes room for `need` elements of `elem` bytes in the array *pp of capacity *cap,
 * doubling it (from 8). Returns 0, or -1 with the array unchanged. */
int sl_array_grow(void *pp, size_t *cap, size_t need, size_t elem);
/* printf into a new string; NULL on allocation failure. */
char *sl_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
