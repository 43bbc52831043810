/* ingest_error.c: DuckDB's reader errors are long (a sniffer report follows the
 * cause). Users need the file, the line, the column and the cause, then what to do. */
#include "ingest/ingest_int.h"

#include "core/buf.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

/* Copies the rest of the line after `key` in msg into out. */
static int after(const char *msg, const char *key, char *out, size_t cap) {
  const char *p = strstr(msg, key);
  if (!p) return 0;
  p += strlen(key);
  while (*p == ' ') p++;
  size_t n = strcspn(p, "\n");
  if (n >= cap) n = cap - 1;
  memcpy(out, p, n);
  out[n] = '\0';
  return n > 0;
}

void sl_ingest_condense_error(struct sl_err *err, const char *const *files, size_t n_files) {
  char line[64] = "", orig[512] = "", cause[512] = "", file[1024] = "";
  const char *m = err->msg;
  int have_line = after(m, "Error on Line:", line, sizeof line) || after(m, "on line ", line, sizeof line);
  after(m, "Original Line:", orig, sizeof orig);
  if (!after(m, "  file = ", file, sizeof file) && n_files == 1) snprintf(file, sizeof file, "%s", files[0]);
  /* The cause: the first line after "Original Line" that is not blank, else line one. */
  const char *p = strstr(m, "Original Line:");
  if (p && (p = strchr(p, '\n'))) {
    while (*p == '\n') p++;
    size_t n = strcspn(p, "\n");
    if (n >= sizeof cause) n = sizeof cause - 1;
    memcpy(cause, p, n);
    cause[n] = '\0';
  }
  if (!cause[0]) {
    size_t n = strcspn(m, "\n");
    if (n >= sizeof cause) n = sizeof cause - 1;
    memcpy(cause, m, n);
    cause[n] = '\0';
  }
  if (!have_line && !file[0]) return; /* not a reader error we understand: keep it whole */
  char hint[160] = "fix the file";
  if (strstr(m, "Could not convert") || strstr(m, "converting column"))
    snprintf(hint, sizeof hint, "fix the value, or pass --schema to read the column as another type");
  else if (strstr(m, "Expected Number of Columns") || strstr(m, "columns"))
    snprintf(hint, sizeof hint, "fix the row so it has as many fields as the header");
  struct sl_buf b;
  sl_buf_init(&b);
  sl_buf_printf(&b, "%s", file[0] ? file : "input");
  if (have_line) sl_buf_printf(&b, ":%s", line);
  sl_buf_printf(&b, ": %s", cause);
  if (orig[0]) sl_buf_printf(&b, " (the line reads: %s)", orig);
  sl_buf_printf(&b, "; %s", hint);
  if (b.data) sl_err_set(err, SL_EDATA, "%s", b.data);
  sl_buf_fini(&b);
}
