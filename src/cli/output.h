/* output.h: printing rows as an aligned table, CSV or JSON (an array of objects).
 * Cells are text; a column marked numeric is printed unquoted in JSON and
 * right-aligned in tables. NULL cells print as empty (CSV), null (JSON) or NULL. */
#ifndef SL_CLI_OUTPUT_H
#define SL_CLI_OUTPUT_H

#include "cli/cli.h"

#include <stddef.h>
#include <stdio.h>

enum sl_cell_kind { SL_CELL_TEXT, SL_CELL_NUM, SL_CELL_BOOL, SL_CELL_JSON };

struct sl_rows {
  size_t n_cols, n_rows, cap;
  char **names;
  enum sl_cell_kind *kinds;
  char **cells; /* n_rows * n_cols, row-major; NULL is SQL NULL */
};

int sl_rows_init(struct sl_rows *r, size_t n_cols, const char *const *names, const enum sl_cell_kind *kinds);
/* Adds a row; takes the strings (each may be NULL). */
int sl_rows_add(struct sl_rows *r, char **cells);
/* Adds a row of printf'ed cells: fmt per cell is given as alternating values. */
int sl_rows_addv(struct sl_rows *r, ...);
void sl_rows_fini(struct sl_rows *r);
void sl_rows_print(FILE *f, const struct sl_rows *r, enum sl_out_format fmt);
/* The first line of a message for a table's cell (new string): "... (more below)" marks a
 * message of several lines, which the command prints whole after the table. */
char *sl_cell_first_line(const char *msg);

#endif
