/* ingest_stats.c: per-file column statistics (min, max, null count) read back from
 * the Parquet footers DuckDB wrote, for the catalog (and later for file pruning and
 * Iceberg manifests). Min and max are aggregated over row groups in the column's own
 * type, so 10 sorts after 9. Nested columns get only what their leaves tell. */
#include "ingest/ingest_int.h"

#include "core/mem.h"

#include <string.h>

static int is_plain_type(const char *t) {
  return !strchr(t, '[') && strncmp(t, "STRUCT", 6) && strncmp(t, "MAP", 3) && strncmp(t, "UNION", 5);
}

int sl_ingest_file_stats(struct sl_duck *d, const struct sl_schema *s, char *const *urls, size_t n,
                         char **stats, struct sl_err *err) {
  struct sl_buf q, js;
  sl_buf_init(&q);
  sl_buf_init(&js);
  for (size_t i = 0; i < n; i++) stats[i] = NULL;
  sl_buf_puts(&q, "SELECT file_name, path_in_schema, sum(stats_null_count)::BIGINT");
  const char *agg[2] = {"min", "max"};
  for (int a = 0; a < 2; a++) {
    sl_buf_puts(&q, ", CASE path_in_schema");
    int any = 0;
    for (size_t c = 0; c < s->n_cols; c++) {
      if (!is_plain_type(s->cols[c].type)) continue;
      any = 1;
      sl_buf_puts(&q, " WHEN ");
      sl_buf_sql_str(&q, s->cols[c].name);
      sl_buf_printf(&q, " THEN %s(TRY_CAST(stats_%s_value AS %s))::VARCHAR", agg[a], agg[a], s->cols[c].type);
    }
    sl_buf_puts(&q, any ? " END" : " WHEN NULL THEN NULL END");
  }
  sl_buf_puts(&q, " FROM parquet_metadata([");
  for (size_t i = 0; i < n; i++) {
    if (i) sl_buf_putc(&q, ',');
    sl_buf_sql_str(&q, urls[i]);
  }
  if (sl_buf_puts(&q, "]) GROUP BY file_name, path_in_schema ORDER BY file_name, min(column_id)"))
    return sl_err_set(err, SL_ENOMEM, "out of memory");
  struct sl_duck_result res;
  int rc = sl_duck_query(d, q.data, &res, err);
  sl_buf_fini(&q);
  if (rc) return sl_err_prefix(err, "read statistics of written files: ");
  int64_t rows = sl_duck_result_rows(&res);
  for (size_t i = 0; !rc && i < n; i++) {
    sl_buf_reset(&js);
    sl_buf_putc(&js, '{');
    int first = 1;
    for (int64_t r = 0; r < rows; r++) {
      char *fname = sl_duck_result_text(&res, 0, r);
      int mine = fname && !strcmp(fname, urls[i]);
      sl_free(fname);
      if (!mine) continue;
      char *col = sl_duck_result_text(&res, 1, r), *nulls = sl_duck_result_text(&res, 2, r);
      char *mn = sl_duck_result_text(&res, 3, r), *mx = sl_duck_result_text(&res, 4, r);
      if (!first) sl_buf_putc(&js, ',');
      first = 0;
      sl_buf_json_str(&js, col ? col : "");
      sl_buf_printf(&js, ":{\"nulls\":%s", nulls ? nulls : "null");
      if (mn) {
        sl_buf_puts(&js, ",\"min\":");
        sl_buf_json_str(&js, mn);
      }
      if (mx) {
        sl_buf_puts(&js, ",\"max\":");
        sl_buf_json_str(&js, mx);
      }
      sl_buf_putc(&js, '}');
      sl_free(col);
      sl_free(nulls);
      sl_free(mn);
      sl_free(mx);
    }
    if (sl_buf_putc(&js, '}')) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    else stats[i] = sl_buf_take(&js);
  }
  sl_duck_result_fini(&res);
  sl_buf_fini(&js);
  if (rc)
    for (size_t i = 0; i < n; i++) {
      sl_free(stats[i]);
      stats[i] = NULL;
    }
  return rc;
}
