/* build_merge.c: merging an incremental model's changed rows into its table. The
 * changed keys (temp table _sl_keys) are looked up in the table's data files; a file
 * holding few of them keeps its data and gets a position delete file hiding those rows
 * (merge-on-read), a file where too many rows would be hidden is rewritten without them
 * (copy-on-write), and so are the small files once there are enough of them to be worth
 * packing. The new rows (_sl_delta) and the rewritten files' surviving rows are then
 * written by the caller as the snapshot's new data files. */
#include "transform/build_int.h"

#include "core/buf.h"
#include "core/mem.h"
#include "core/time.h"
#include "sql/sql.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

void sl_merge_fini(struct sl_store *st, struct sl_merge *mg) {
  sl_ingest_stage_discard(st, &mg->dels_stage);
  sl_ingest_stage_fini(&mg->dels_stage);
  sl_str_list_free(mg->remove, mg->n_remove);
  sl_str_list_free(mg->keep, mg->n_keep);
  sl_delete_file_list_free(mg->keep_dels, mg->n_keep_dels);
  for (size_t i = 0; i < mg->n_add_dels; i++) sl_free(mg->add_dels[i].data_path);
  sl_free(mg->add_dels);
  sl_free(mg->rewrite);
  memset(mg, 0, sizeof *mg);
}

void sl_merge_committed(struct sl_merge *mg) {
  mg->dels_stage.committed = 1;
}

/* 1 if a key of this type has exact, ordered min/max statistics to prune files by. */
int sl_build_prunable_type(const char *t) {
  static const char *const ok[] = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                                   "UINTEGER", "UBIGINT", "DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", NULL};
  for (int i = 0; ok[i]; i++)
    if (!strcmp(t, ok[i])) return 1;
  return 0;
}

/* Clears cand[i] for files whose partition value no changed key has, when the
 * partition column is part of the key. */
static int prune_by_partition(struct sl_bctx *x, const struct sl_model *m, const struct sl_data_file *files, size_t nf,
                              unsigned char *cand, struct sl_err *err) {
  int part_in_key = 0;
  for (size_t k = 0; m->partition && k < m->n_key; k++) part_in_key |= !strcmp(m->key[k], m->partition);
  if (!part_in_key || !nf) return 0;
  struct sl_buf q;
  sl_buf_init(&q);
  sl_buf_puts(&q, "SELECT DISTINCT CAST(");
  sl_buf_sql_ident(&q, m->partition);
  sl_buf_puts(&q, " AS VARCHAR) FROM _sl_keys");
  struct sl_duck_result r;
  int rc = sl_duck_query(x->d, q.data, &r, err);
  sl_buf_fini(&q);
  if (rc) return rc;
  int64_t nv = sl_duck_result_rows(&r);
  char **vals = sl_calloc((size_t)nv + 1, sizeof *vals);
  int has_null = 0;
  for (int64_t k = 0; vals && k < nv; k++) has_null |= !(vals[k] = sl_duck_result_text(&r, 0, k));
  sl_duck_result_fini(&r);
  for (size_t i = 0; vals && !has_null && i < nf; i++) {
    json_t *pj = files[i].partition ? json_loads(files[i].partition, 0, NULL) : NULL;
    const char *v = json_string_value(json_object_get(pj, m->partition));
    int found = !v; /* no recorded value: keep it */
    for (int64_t k = 0; v && k < nv && !found; k++) found = !strcmp(vals[k], v);
    if (!found) cand[i] = 0;
    json_decref(pj);
  }
  for (int64_t k = 0; vals && k < nv; k++) sl_free(vals[k]);
  sl_free(vals);
  return vals ? 0 : sl_err_set(err, SL_ENOMEM, "out of memory");
}

/* Clears cand[i] for files whose [min, max] of a single-column key, in the catalog's
 * statistics, holds no changed key. */
static int prune_by_stats(struct sl_bctx *x, const struct sl_model *m, const struct sl_schema *keys,
                          const struct sl_data_file *files, size_t nf, unsigned char *cand, struct sl_err *err) {
  if (m->n_key != 1 || keys->n_cols != 1 || !sl_build_prunable_type(keys->cols[0].type) || !nf) return 0;
  size_t nv = 0;
  struct sl_buf q;
  sl_buf_init(&q);
  sl_buf_puts(&q, "SELECT f.i FROM (VALUES ");
  for (size_t i = 0; i < nf; i++) {
    json_t *st = files[i].stats_json ? json_loads(files[i].stats_json, 0, NULL) : NULL;
    json_t *c = json_object_get(st, m->key[0]);
    const char *lo = json_string_value(json_object_get(c, "min")), *hi = json_string_value(json_object_get(c, "max"));
    if (lo && hi && cand[i]) {
      sl_buf_printf(&q, "%s(%zu, ", nv++ ? ", " : "", i);
      sl_buf_sql_str(&q, lo);
      sl_buf_puts(&q, ", ");
      sl_buf_sql_str(&q, hi);
      sl_buf_putc(&q, ')');
      cand[i] = 0; /* a candidate only if a key falls in its range */
    }
    json_decref(st);
  }
  /* Each file's smallest changed key at or above its min (an as-of join sorts the keys
   * once), kept when it is not above its max. */
  sl_buf_puts(&q, ") AS f(i, lo, hi) ASOF JOIN _sl_keys AS k ON k.");
  sl_buf_sql_ident(&q, m->key[0]);
  sl_buf_printf(&q, " >= CAST(f.lo AS %s) WHERE k.", keys->cols[0].type);
  sl_buf_sql_ident(&q, m->key[0]);
  sl_buf_printf(&q, " <= CAST(f.hi AS %s)", keys->cols[0].type);
  struct sl_duck_result r;
  int rc = 0;
  if (nv && !(rc = sl_duck_query(x->d, q.data, &r, err))) {
    for (int64_t k = 0; k < sl_duck_result_rows(&r); k++) {
      int64_t i = duckdb_value_int64(&r.r, 0, (idx_t)k);
      if (i >= 0 && (size_t)i < nf) cand[i] = 1;
    }
    sl_duck_result_fini(&r);
  }
  sl_buf_fini(&q);
  return rc;
}

/* _sl_hits(fi, pos): the rows of candidate files holding a changed key (rows already
 * hidden by a delete file included), fi being the file's index in urls; and hits[i]
 * their count per file. */
static int find_hits(struct sl_bctx *x, const struct sl_model *mo, char **urls, size_t nf, const unsigned char *cand,
                     int64_t *hits, struct sl_err *err) {
  struct sl_buf q, m, rel;
  sl_buf_init(&q);
  sl_buf_init(&m);
  sl_buf_init(&rel);
  sl_buf_puts(&rel, "read_parquet([");
  size_t nc = 0;
  for (size_t i = 0; i < nf; i++)
    if (cand[i]) {
      if (nc++) sl_buf_putc(&rel, ',');
      sl_buf_sql_str(&rel, urls[i]);
      sl_buf_puts(&m, nc > 1 ? ", (" : "(");
      sl_buf_sql_str(&m, urls[i]);
      sl_buf_printf(&m, ", %zu)", i);
    }
  sl_buf_puts(&rel, "], filename='_sl_f', file_row_number=true, union_by_name=true)");
  sl_buf_puts(&q, "CREATE OR REPLACE TEMP TABLE _sl_hits AS SELECT _sl_m.i AS fi, _sl_h.pos FROM (");
  sl_build_key_semi(&q, mo, "_sl_f, file_row_number AS pos", rel.data, "_sl_keys");
  sl_buf_printf(&q, ") AS _sl_h JOIN (VALUES %s) AS _sl_m(u, i) ON _sl_h._sl_f = _sl_m.u", m.data ? m.data : "");
  int rc = nc ? sl_duck_exec(x->d, q.data, err)
              : sl_duck_exec(x->d, "CREATE OR REPLACE TEMP TABLE _sl_hits AS SELECT 0::BIGINT AS fi, 0::BIGINT AS pos "
                                   "WHERE false", err);
  sl_buf_fini(&q);
  sl_buf_fini(&m);
  sl_buf_fini(&rel);
  struct sl_duck_result r;
  if (!rc && !(rc = sl_duck_query(x->d, "SELECT fi, count(*) FROM _sl_hits GROUP BY fi", &r, err))) {
    for (int64_t k = 0; k < sl_duck_result_rows(&r); k++) {
      int64_t i = duckdb_value_int64(&r.r, 0, (idx_t)k);
      if (i >= 0 && (size_t)i < nf) hits[i] = duckdb_value_int64(&r.r, 1, (idx_t)k);
    }
    sl_duck_result_fini(&r);
  }
  return rc;
}

/* _sl_gone(fi, pos): for the files marked in sel, every row to leave out: the hits and
 * what their delete files already hide. */
static int gather_gone(struct sl_bctx *x, size_t nf, const unsigned char *sel, const struct sl_delete_file *dels,
                       const size_t *of, size_t nd, struct sl_err *err) {
  struct sl_buf q;
  sl_buf_init(&q);
  /* A row is a hit once; DISTINCT only when delete files may name it again. */
  int again = 0;
  for (size_t j = 0; j < nd && !again; j++) again = of[j] < nf && sel[of[j]];
  sl_buf_printf(&q, "CREATE OR REPLACE TEMP TABLE _sl_gone AS SELECT %sfi, pos FROM (SELECT fi, pos FROM _sl_hits "
                    "WHERE fi IN (-1", again ? "DISTINCT " : "");
  for (size_t i = 0; i < nf; i++)
    if (sel[i]) sl_buf_printf(&q, ",%zu", i);
  sl_buf_putc(&q, ')');
  int rc = 0;
  for (size_t j = 0; j < nd && !rc; j++) {
    if (of[j] >= nf || !sel[of[j]]) continue;
    char *url = sl_store_url(x->o->st, dels[j].path);
    if (!url) {
      rc = sl_err_set(err, SL_EINVAL, "delete file key '%s' is not inside the lake", dels[j].path);
      break;
    }
    sl_buf_printf(&q, " UNION ALL SELECT %zu, pos FROM read_parquet(", of[j]);
    sl_buf_sql_str(&q, url);
    sl_buf_putc(&q, ')');
    sl_free(url);
  }
  sl_buf_putc(&q, ')');
  if (!rc) rc = q.data ? sl_duck_exec(x->d, q.data, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  sl_buf_fini(&q);
  return rc;
}

/* Stages the delete files of the files marked in sel and not in cow, each holding
 * every position _sl_gone has for its data file. */
static int stage_delete_files(struct sl_bctx *x, const struct sl_model *m, char **urls, const struct sl_data_file *files,
                              size_t nf, const unsigned char *sel, const unsigned char *cow, const int64_t *hidden,
                              struct sl_merge *mg, struct sl_err *err) {
  char **q = sl_calloc(nf + 1, sizeof *q);
  size_t *of = sl_calloc(nf + 1, sizeof *of), n = 0;
  int rc = q && of ? 0 : sl_err_set(err, SL_ENOMEM, "out of memory");
  for (size_t i = 0; !rc && i < nf; i++) {
    if (!sel[i] || cow[i]) continue;
    struct sl_buf b;
    sl_buf_init(&b);
    sl_buf_puts(&b, "SELECT CAST(");
    sl_buf_sql_str(&b, files[i].path);
    sl_buf_printf(&b, " AS VARCHAR) AS file_path, CAST(pos AS BIGINT) AS pos FROM _sl_gone WHERE fi = %zu ORDER BY pos", i);
    of[n] = i;
    if (!(q[n++] = sl_buf_take(&b))) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  if (!rc && n) rc = sl_ingest_stage_each(x->d, x->o->st, m->ns, m->name, (const char *const *)q, n, &mg->dels_stage, err);
  for (size_t k = 0; !rc && k < n; k++) {
    struct sl_delete_file *d = &mg->add_dels[mg->n_add_dels++];
    d->path = mg->dels_stage.w.keys[k]; /* owned by the stage */
    d->data_path = sl_strdup(files[of[k]].path);
    d->rows = mg->dels_stage.w.rows[k];
    d->bytes = mg->dels_stage.w.bytes[k];
    mg->hidden_rows += d->rows - hidden[of[k]]; /* less what the replaced file hid */
    if (!d->data_path) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  for (size_t k = 0; q && k < n; k++) sl_free(q[k]);
  sl_free(q);
  sl_free(of);
  return rc;
}

/* 1 if a and b have the same columns in the same order, whatever their types. */
static int same_names(const struct sl_schema *a, const struct sl_schema *b) {
  if (a->n_cols != b->n_cols) return 0;
  for (size_t i = 0; i < a->n_cols; i++)
    if (strcmp(a->cols[i].name, b->cols[i].name)) return 0;
  return 1;
}

/* SELECT of sql's columns cast to the table's types (new string). */
static char *cast_select(const struct sl_schema *want, const char *sql) {
  struct sl_buf b;
  sl_buf_init(&b);
  sl_buf_puts(&b, "SELECT ");
  sl_sql_cast_columns(&b, want, NULL);
  sl_buf_printf(&b, " FROM (%s)", sql);
  return sl_buf_take(&b);
}

/* The SELECT of the rewritten files' rows that stay (those _sl_gone does not name). */
static char *rewrite_select(char **urls, size_t nf, const unsigned char *cow) {
  struct sl_buf b;
  sl_buf_init(&b);
  size_t k = 0;
  for (size_t i = 0; i < nf; i++) {
    if (!cow[i]) continue;
    sl_buf_puts(&b, k++ ? " UNION ALL BY NAME " : "");
    sl_buf_puts(&b, "SELECT _sl_t.* EXCLUDE (file_row_number) FROM read_parquet(");
    sl_buf_sql_str(&b, urls[i]);
    sl_buf_printf(&b, ", file_row_number=true) AS _sl_t ANTI JOIN (SELECT pos FROM _sl_gone WHERE fi = %zu) AS _sl_d"
                      " ON _sl_t.file_row_number = _sl_d.pos", i);
  }
  return sl_buf_take(&b);
}

int sl_merge_plan(struct sl_bctx *x, const struct sl_model *m, const struct sl_table_info *target,
                  const struct sl_schema *have, struct sl_merge *mg, struct sl_err *err) {
  struct sl_schema want = {0}, keys = {0};
  struct sl_data_file *files = NULL;
  struct sl_delete_file *dels = NULL;
  size_t nf = 0, nd = 0;
  char **urls = NULL;
  unsigned char *cand = NULL, *cow = NULL, *sel = NULL;
  int64_t *hits = NULL, *hidden = NULL, tp = sl_time_mono_ns();
  size_t *of = NULL; /* of[j]: the index of delete file j's data file (nf: none) */
  memset(mg, 0, sizeof *mg);
  int rc = sl_catalog_schema_get(x->cat, target->table_id, target->schema_id, &want, err);
  if (!rc) rc = sl_sql_describe(x->d, "_sl_keys", &keys, err);
  if (!rc) rc = sl_catalog_files_at(x->cat, target->table_id, target->current_snapshot, &files, &nf, err);
  if (!rc) rc = sl_catalog_deletes_at(x->cat, target->table_id, target->current_snapshot, &dels, &nd, err);
  if (rc || !sl_schema_same(&want, have)) goto out;
  /* Rows are found by DuckDB's file_row_number and filename columns: a table with a
   * column of either name is merged by rewriting it whole. */
  for (size_t c = 0; c < want.n_cols; c++)
    if (!strcasecmp(want.cols[c].name, "file_row_number") || !strcasecmp(want.cols[c].name, "_sl_f")) goto out;
  mg->n_files = nf;
  urls = sl_calloc(nf + 1, sizeof *urls);
  cand = sl_calloc(nf + 1, 1);
  cow = sl_calloc(nf + 1, 1);
  sel = sl_calloc(nf + 1, 1);
  hits = sl_calloc(nf + 1, sizeof *hits);
  hidden = sl_calloc(nf + 1, sizeof *hidden);
  mg->remove = sl_calloc(nf + nd + 1, sizeof *mg->remove);
  mg->keep = sl_calloc(nf + 1, sizeof *mg->keep);
  mg->keep_dels = sl_calloc(nd + 1, sizeof *mg->keep_dels);
  mg->add_dels = sl_calloc(nf + 1, sizeof *mg->add_dels);
  of = sl_calloc(nd + 1, sizeof *of);
  if (!urls || !cand || !cow || !sel || !hits || !hidden || !of || !mg->remove || !mg->keep || !mg->keep_dels ||
      !mg->add_dels) {
    rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < nf; i++) {
    if (!(urls[i] = sl_store_url(x->o->st, files[i].path))) {
      rc = sl_err_set(err, SL_EINVAL, "%s.%s: data file key '%s' is not inside the lake", m->ns, m->name, files[i].path);
      goto out;
    }
    cand[i] = 1;
  }
  for (size_t j = 0; j < nd; j++) {
    for (of[j] = 0; of[j] < nf && strcmp(dels[j].data_path, files[of[j]].path); of[j]++) continue;
    if (of[j] < nf) hidden[of[j]] += dels[j].rows;
  }
  if ((rc = prune_by_partition(x, m, files, nf, cand, err)) || (rc = prune_by_stats(x, m, &keys, files, nf, cand, err)) ||
      (rc = find_hits(x, m, urls, nf, cand, hits, err)))
    goto out;
  sl_build_phase_log(m->name, "key lookup", &tp);

  /* Which files are rewritten: every touched one in copy-on-write mode; else those
   * whose hidden rows would pass the limit, and the small files once there are
   * enough of them in one partition (files of different partition values cannot be
   * packed into one: a partitioned table's files would all be rewritten each time). */
  int64_t small = x->o->incremental_file_size / 4;
  for (size_t i = 0; i < nf; i++) {
    int64_t would_hide = hidden[i] + hits[i]; /* at most: some hits may be hidden already */
    int pack = 0;
    if (x->o->pack_small_files && !x->o->copy_on_write && files[i].bytes < small) {
      size_t n_small = 0;
      for (size_t j = 0; j < nf; j++)
        n_small += files[j].bytes < small && !strcmp(files[j].partition ? files[j].partition : "",
                                                     files[i].partition ? files[i].partition : "");
      pack = n_small >= (size_t)x->o->pack_small_files;
    }
    sel[i] = hits[i] > 0;
    cow[i] = x->o->copy_on_write ? hits[i] > 0
                                 : (hits[i] > 0 && would_hide * 100 > files[i].rows * x->o->rewrite_deleted_percent) || pack;
    sel[i] |= cow[i];
  }
  if ((rc = gather_gone(x, nf, sel, dels, of, nd, err))) goto out;

  /* Delete files: one per touched file that is kept, replacing the ones it had. */
  if ((rc = stage_delete_files(x, m, urls, files, nf, sel, cow, hidden, mg, err))) goto out;
  sl_build_phase_log(m->name, "delete files", &tp);
  for (size_t j = 0; j < nd && !rc; j++) {
    size_t i = of[j];
    if (i < nf && cow[i]) continue; /* retired with its rewritten data file */
    if (i < nf && sel[i]) {
      /* Replaced by the new delete file of its data file. */
      if (!(mg->remove[mg->n_remove++] = sl_strdup(dels[j].path))) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      continue;
    }
    mg->keep_dels[mg->n_keep_dels++] = dels[j];
    memset(&dels[j], 0, sizeof dels[j]);
  }
  for (size_t i = 0; i < nf && !rc; i++) {
    if (!cow[i]) {
      if (!(mg->keep[mg->n_keep++] = sl_strdup(files[i].path))) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      continue;
    }
    if (!(mg->remove[mg->n_remove++] = sl_strdup(files[i].path))) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    mg->n_rewritten++;
    mg->rewritten_rows += files[i].rows - hidden[i];
  }
  if (!rc && mg->n_rewritten) {
    /* The rewritten files must read back with the table's columns, in the table's
     * types: a type Parquet stores as another (HUGEINT as DOUBLE) is cast back. */
    struct sl_schema t = {0};
    char *from = sl_asprintf("(%s)", (mg->rewrite = rewrite_select(urls, nf, cow)) ? mg->rewrite : "");
    mg->ok = from && mg->rewrite && !sl_sql_describe(x->d, from, &t, err) && same_names(&want, &t);
    if (mg->ok && !sl_schema_same(&want, &t)) {
      char *cast = cast_select(&want, mg->rewrite);
      sl_free(mg->rewrite);
      mg->rewrite = cast;
      sl_free(from);
      sl_schema_fini(&t);
      from = cast ? sl_asprintf("(%s)", cast) : NULL;
      mg->ok = from && !sl_sql_describe(x->d, from, &t, err) && sl_schema_same(&want, &t);
    }
    sl_err_clear(err);
    sl_schema_fini(&t);
    sl_free(from);
  } else if (!rc) {
    mg->ok = 1;
  }
out:
  for (size_t i = 0; urls && i < nf; i++) sl_free(urls[i]);
  sl_free(urls);
  sl_free(cand);
  sl_free(cow);
  sl_free(sel);
  sl_free(hits);
  sl_free(hidden);
  sl_free(of);
  sl_data_file_list_free(files, nf);
  sl_delete_file_list_free(dels, nd);
  sl_schema_fini(&want);
  sl_schema_fini(&keys);
  return rc;
}

char *sl_merge_reader(struct sl_bctx *x, const struct sl_merge *mg, const struct sl_ingest_stage *stage,
                      struct sl_err *err) {
  size_t n = mg->n_keep + stage->w.n, nd = mg->n_keep_dels + mg->n_add_dels;
  const char **keys = sl_calloc(n + 1, sizeof *keys);
  struct sl_delete_file *d = sl_calloc(nd + 1, sizeof *d);
  char *r = NULL;
  if (!keys || !d) {
    sl_err_set(err, SL_ENOMEM, "out of memory");
  } else if (!n) {
    r = sl_ingest_stage_reader(stage);
  } else {
    for (size_t i = 0; i < mg->n_keep; i++) keys[i] = mg->keep[i];
    for (size_t i = 0; i < stage->w.n; i++) keys[mg->n_keep + i] = stage->w.keys[i];
    for (size_t i = 0; i < mg->n_keep_dels; i++) d[i] = mg->keep_dels[i];
    for (size_t i = 0; i < mg->n_add_dels; i++) d[mg->n_keep_dels + i] = mg->add_dels[i];
    r = sl_sql_files_reader(x->o->st, keys, n, d, nd, err);
  }
  sl_free(keys);
  sl_free(d);
  return r;
}
