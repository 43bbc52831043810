/* ingest_csv.c: the first line of a CSV file, read before DuckDB's sniffer. DuckDB
 * picks the dialect that makes the most rows consistent, which can take a ragged row
 * for the header; fixing the delimiter and skip=0 from the real first line prevents
 * that, and the header's field names let a strict second reading name the bad line. */
#include "ingest/ingest_int.h"

#include "core/mem.h"

#include <stdio.h>
#include <string.h>

/* Splits one CSV line on delim, honoring double quotes ("" inside quotes is a quote). */
static int split(const char *line, char delim, char ***out, size_t *n) {
  size_t cap = 16, cnt = 0;
  char **f = sl_calloc(cap, sizeof *f);
  struct sl_buf b;
  sl_buf_init(&b);
  int inq = 0;
  const char *p = line;
  for (;; p++) {
    if (!f) goto nomem;
    if (!inq && (*p == delim || *p == '\0')) {
      if (cnt + 1 >= cap) {
        char **nf = sl_realloc(f, cap * 2 * sizeof *f);
        if (!nf) goto nomem;
        f = nf;
        cap *= 2;
      }
      f[cnt++] = sl_buf_take(&b);
      if (!*p) break;
      continue;
    }
    if (*p == '\0') break; /* an unterminated quote: keep what we have */
    if (*p == '"') {
      if (inq && p[1] == '"') {
        sl_buf_putc(&b, '"');
        p++;
      } else {
        inq = !inq;
      }
      continue;
    }
    sl_buf_putc(&b, *p);
  }
  sl_buf_fini(&b);
  *out = f;
  *n = cnt;
  return 0;
nomem:
  sl_buf_fini(&b);
  sl_str_list_free(f, cnt);
  return SL_ENOMEM;
}

int sl_ingest_csv_header(const char *path, char want_delim, struct sl_ingest_csv_head *h, struct sl_err *err) {
  memset(h, 0, sizeof *h);
  size_t len = strlen(path);
  if ((len > 3 && !strcmp(path + len - 3, ".gz")) || (len > 4 && !strcmp(path + len - 4, ".zst")))
    return 0; /* compressed: DuckDB detects everything */
  FILE *f = fopen(path, "rb");
  if (!f) return sl_err_set(err, SL_EIO, "%s: cannot open", path);
  char *line = sl_malloc(1 << 20);
  if (!line) {
    fclose(f);
    return sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  size_t n = fread(line, 1, (1 << 20) - 1, f);
  fclose(f);
  line[n] = '\0';
  if (n >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)) memmove(line, line + 3, n - 2); /* UTF-8 BOM */
  line[strcspn(line, "\r\n")] = '\0';
  if (!line[0]) {
    sl_free(line);
    return sl_err_set(err, SL_EDATA, "%s:1: the first line is empty; a CSV file starts with its header", path);
  }
  char delim = want_delim;
  if (!delim) {
    const char cands[] = {',', '\t', ';', '|'};
    int best = -1;
    delim = ',';
    for (size_t c = 0; c < sizeof cands; c++) {
      int cnt = 0, inq = 0;
      for (const char *p = line; *p; p++) {
        if (*p == '"') inq = !inq;
        else if (!inq && *p == cands[c]) cnt++;
      }
      if (cnt > best) {
        best = cnt;
        delim = cands[c];
      }
    }
  }
  h->delim = delim;
  int rc = split(line, delim, &h->names, &h->n);
  sl_free(line);
  if (rc) return sl_err_set(err, SL_ENOMEM, "out of memory");
  h->known = 1;
  return 0;
}

void sl_ingest_csv_head_fini(struct sl_ingest_csv_head *h) {
  sl_str_list_free(h->names, h->n);
  memset(h, 0, sizeof *h);
}
