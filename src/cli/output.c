/* output.c: table, CSV and JSON printing of text rows. Column widths count UTF-8
 * characters, not bytes, so non-ASCII text stays aligned. */
#include "cli/output.h"

#include "core/buf.h"
#include "core/mem.h"

#include <stdarg.h>
#include <string.h>

int sl_rows_init(struct sl_rows *r, size_t n_cols, const char *const *names, const enum sl_cell_kind *kinds) {
  memset(r, 0, sizeof *r);
  r->n_cols = n_cols;
  r->names = sl_calloc(n_cols + 1, sizeof *r->names);
  r->kinds = sl_calloc(n_cols + 1, sizeof *r->kinds);
  if (!r->names || !r->kinds) return -1;
  for (size_t i = 0; i < n_cols; i++) {
    r->names[i] = sl_strdup(names[i]);
    r->kinds[i] = kinds ? kinds[i] : SL_CELL_TEXT;
  }
  return 0;
}

int sl_rows_add(struct sl_rows *r, char **cells) {
  if (r->n_rows == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 64;
    char **c = sl_realloc(r->cells, cap * r->n_cols * sizeof *c + 1);
    if (!c) return -1;
    r->cells = c;
    r->cap = cap;
  }
  memcpy(r->cells + r->n_rows * r->n_cols, cells, r->n_cols * sizeof *cells);
  r->n_rows++;
  return 0;
}

int sl_rows_addv(struct sl_rows *r, ...) {
  char *cells[64];
  va_list ap;
  va_start(ap, r);
  for (size_t i = 0; i < r->n_cols && i < 64; i++) {
    const char *s = va_arg(ap, const char *);
    cells[i] = s ? sl_strdup(s) : NULL;
  }
  va_end(ap);
  return sl_rows_add(r, cells);
}

void sl_rows_fini(struct sl_rows *r) {
  for (size_t i = 0; i < r->n_rows * r->n_cols; i++) sl_free(r->cells[i]);
  for (size_t i = 0; r->names && i < r->n_cols; i++) sl_free(r->names[i]);
  sl_free(r->cells);
  sl_free(r->names);
  sl_free(r->kinds);
  memset(r, 0, sizeof *r);
}

static size_t utf8_width(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xC0) != 0x80) n++;
  return n;
}

static void print_csv_cell(FILE *f, const char *s) {
  if (!s) return;
  if (!strpbrk(s, ",\"\n\r")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

void sl_rows_print(FILE *f, const struct sl_rows *r, enum sl_out_format fmt) {
  const size_t nc = r->n_cols;
  if (fmt == SL_OUT_CSV) {
    for (size_t c = 0; c < nc; c++) {
      if (c) fputc(',', f);
      print_csv_cell(f, r->names[c]);
    }
    fputc('\n', f);
    for (size_t i = 0; i < r->n_rows; i++) {
      for (size_t c = 0; c < nc; c++) {
        if (c) fputc(',', f);
        print_csv_cell(f, r->cells[i * nc + c]);
      }
      fputc('\n', f);
    }
    return;
  }
  if (fmt == SL_OUT_JSON) {
    struct sl_buf b;
    sl_buf_init(&b);
    fputc('[', f);
    for (size_t i = 0; i < r->n_rows; i++) {
      sl_buf_reset(&b);
      sl_buf_puts(&b, i ? ",\n{" : "\n{");
      for (size_t c = 0; c < nc; c++) {
        const char *v = r->cells[i * nc + c];
        if (c) sl_buf_putc(&b, ',');
        sl_buf_json_str(&b, r->names[c]);
        sl_buf_putc(&b, ':');
        if (!v) sl_buf_puts(&b, "null");
        else if (r->kinds[c] == SL_CELL_NUM && *v && strcmp(v, "nan") && strcmp(v, "inf") && strcmp(v, "-inf"))
          sl_buf_puts(&b, v);
        else if (r->kinds[c] == SL_CELL_BOOL || r->kinds[c] == SL_CELL_JSON) sl_buf_puts(&b, v);
        else sl_buf_json_str(&b, v);
      }
      sl_buf_putc(&b, '}');
      if (b.data) fwrite(b.data, 1, b.len, f);
    }
    fputs(r->n_rows ? "\n]\n" : "]\n", f);
    sl_buf_fini(&b);
    return;
  }
  size_t *w = sl_calloc(nc + 1, sizeof *w);
  if (!w) return;
  for (size_t c = 0; c < nc; c++) w[c] = utf8_width(r->names[c]);
  for (size_t i = 0; i < r->n_rows; i++)
    for (size_t c = 0; c < nc; c++) {
      const char *v = r->cells[i * nc + c];
      size_t l = utf8_width(v ? v : "NULL");
      if (l > w[c]) w[c] = l;
    }
  for (size_t c = 0; c < nc; c++)
    fprintf(f, "%s%s%*s", c ? "  " : "", r->names[c], c + 1 < nc ? (int)(w[c] - utf8_width(r->names[c])) : 0, "");
  fputc('\n', f);
  for (size_t c = 0; c < nc; c++) {
    fputs(c ? "  " : "", f);
    for (size_t k = 0; k < w[c]; k++) fputc('-', f);
  }
  fputc('\n', f);
  for (size_t i = 0; i < r->n_rows; i++) {
    for (size_t c = 0; c < nc; c++) {
      const char *v = r->cells[i * nc + c];
      if (!v) v = "NULL";
      int pad = (int)(w[c] - utf8_width(v));
      if (c) fputs("  ", f);
      if (r->kinds[c] == SL_CELL_NUM) fprintf(f, "%*s%s", pad, "", v);
      else fprintf(f, "%s%*s", v, c + 1 < nc ? pad : 0, "");
    }
    fputc('\n', f);
  }
  sl_free(w);
}

char *sl_cell_first_line(const char *msg) {
  if (!msg) return NULL;
  size_t n = strcspn(msg, "\n");
  return msg[n] ? sl_asprintf("%.*s ... (more below)", (int)n, msg) : sl_strdup(msg);
}
