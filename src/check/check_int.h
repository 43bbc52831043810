/* check_int.h: pieces of the checks shared between their files. */
#ifndef SL_CHECK_INT_H
#define SL_CHECK_INT_H

#include "check/check.h"

/* The failing rows of a row check, as a query over rel (new string), or NULL when a
 * name in the check cannot be used. */
char *sl_check_failing_sql(const struct sl_check *c, const char *rel);

/* Checks c's arguments against the relation rel (holding table's rows) before its
 * query runs: every column it names is in rel, accepted values and between bounds are
 * values of the column's type (min not above max), and a relationships target has the
 * field. SL_ECONFIG with a message naming the check, the table, the column and the
 * value otherwise; a failed DESCRIBE gives its own error. */
int sl_check_args(struct sl_duck *d, const struct sl_check *c, const char *table, const char *rel,
                  struct sl_err *err);

#endif
