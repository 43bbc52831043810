/* compact.c: rewriting a table's small and partly hidden files (see compact.h). The
 * files to rewrite are chosen per partition: every small one once there are two, and
 * every one with a delete file. They are read through their delete files, cast to the
 * table's schema, written as staged files and committed as one snapshot that removes
 * them. A commit that came first (an append) is built upon while the files read are
 * still live and no delete file came to them; otherwise nothing changes. The rows
 * written must equal the rows read, or nothing is committed. */
#include "ingest/compact.h"

#include "catalog/vacuum.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/strs.h"
#include "sql/sql.h"

#include <jansson.h>
#include <string.h>

/* At most this many files of a table are rewritten by one run (the next run goes on):
 * a day of change data capture leaves tens of thousands. */
#define COMPACT_MAX_FILES 10000

static int cmp_del_data(const void *a, const void *b) {
  return strcmp((*(const struct sl_delete_file *const *)a)->data_path, (*(const struct sl_delete_file *const *)b)->data_path);
}

/* Partition values in order, none first. */
static int cmp_part(const char *a, const char *b) { return !a ? (b ? -1 : 0) : !b ? 1 : strcmp(a, b); }
static int same_part(const char *a, const char *b) { return !cmp_part(a, b); }

/* Files by partition, then path. */
static int cmp_part_path(const void *a, const void *b) {
  const struct sl_data_file *x = *(const struct sl_data_file *const *)a, *y = *(const struct sl_data_file *const *)b;
  int c = cmp_part(x->partition, y->partition);
  return c ? c : strcmp(x->path, y->path);
}

/* Lookups by path in O(log n): the data and delete files at the floor, the current
 * delete files by the data file they are for. */
struct index {
  const char **floor_files, **floor_dels;
  size_t n_floor_files, n_floor_dels;
  const struct sl_delete_file **dels; /* by data_path */
  size_t nd;
};

static int index_make(struct index *ix, const struct sl_data_file *at_floor, size_t n_floor,
                      const struct sl_delete_file *floor_dels, size_t n_floor_dels, const struct sl_delete_file *dels,
                      size_t nd) {
  memset(ix, 0, sizeof *ix);
  ix->floor_files = sl_calloc(n_floor + 1, sizeof *ix->floor_files);
  ix->floor_dels = sl_calloc(n_floor_dels + 1, sizeof *ix->floor_dels);
  ix->dels = sl_calloc(nd + 1, sizeof *ix->dels);
  if (!ix->floor_files || !ix->floor_dels || !ix->dels) return -1;
  for (size_t i = 0; i < n_floor; i++) ix->floor_files[i] = at_floor[i].path;
  for (size_t i = 0; i < n_floor_dels; i++) ix->floor_dels[i] = floor_dels[i].path;
  for (size_t i = 0; i < nd; i++) ix->dels[i] = &dels[i];
  ix->n_floor_files = n_floor, ix->n_floor_dels = n_floor_dels, ix->nd = nd;
  qsort(ix->floor_files, n_floor, sizeof *ix->floor_files, sl_strs_cmp);
  qsort(ix->floor_dels, n_floor_dels, sizeof *ix->floor_dels, sl_strs_cmp);
  qsort(ix->dels, nd, sizeof *ix->dels, cmp_del_data);
  return 0;
}

static void index_fini(struct index *ix) {
  sl_free(ix->floor_files);
  sl_free(ix->floor_dels);
  sl_free(ix->dels);
}

/* The current delete files of data file path: ix->dels[*first .. *first + return). */
static size_t dels_of(const struct index *ix, const char *path, size_t *first) {
  size_t lo = 0, hi = ix->nd;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(ix->dels[mid]->data_path, path) < 0) lo = mid + 1;
    else hi = mid;
  }
  size_t n = 0;
  while (lo + n < ix->nd && !strcmp(ix->dels[lo + n]->data_path, path)) n++;
  *first = lo;
  return n;
}

/* The oldest snapshot of the table that an incremental model last read (the files to
 * rewrite must all be visible there), or the current one. The ids kept are few; a
 * table's history (a changelog's, one snapshot a second) can be long. */
static int64_t floor_of(struct sl_catalog *cat, const struct sl_table_info *t, const int64_t *keep, size_t nk,
                        struct sl_err *err) {
  int64_t fl = t->current_snapshot;
  for (size_t k = 0; k < nk; k++) {
    struct sl_snapshot s;
    if (keep[k] >= fl) continue;
    int rc = sl_catalog_snapshot_get(cat, t->table_id, keep[k], &s, err);
    sl_snapshot_fini(&s);
    if (rc == SL_ENOTFOUND) sl_err_clear(err); /* another table's */
    else if (rc) return -1;
    else fl = keep[k];
  }
  return fl;
}

/* The summary: what was rewritten, and the model state of the snapshot it replaces
 * (a model's next build reads its sql-hash and inputs from the current snapshot). */
static char *summary_of(json_t *prev, const struct sl_compact_table *r, int64_t as_of) {
  json_t *s = json_pack("{s:I, s:I, s:I, s:I, s:I}", "compacted-files", (json_int_t)r->files_rewritten,
                        "applied-deletes", (json_int_t)r->deletes_applied, "written-files", (json_int_t)r->files_written,
                        "rows", (json_int_t)r->rows, "as-of", (json_int_t)as_of);
  static const char *const keep[] = {"model", "materialized", "mode", "sql-hash", "inputs"};
  for (size_t i = 0; s && prev && i < sizeof keep / sizeof *keep; i++) {
    json_t *v = json_object_get(prev, keep[i]);
    if (v) json_object_set(s, keep[i], v);
  }
  char *out = s ? json_dumps(s, JSON_COMPACT) : NULL;
  json_decref(s);
  return out;
}

/* Picks the files to rewrite into pick[] (indexes into files), partition by partition:
 * those every incremental model has seen (with the delete files they have now) that
 * are small or have a delete file; a partition's lone small file is left as it is. */
static size_t choose(const struct sl_data_file *files, size_t nf, const struct index *ix, int64_t small, size_t *pick) {
  const struct sl_data_file **by = sl_calloc(nf + 1, sizeof *by);
  if (!by) return 0;
  for (size_t i = 0; i < nf; i++) by[i] = &files[i];
  qsort(by, nf, sizeof *by, cmp_part_path);
  size_t np = 0;
  for (size_t i = 0; i < nf && np < COMPACT_MAX_FILES;) {
    size_t first = np, n_small = 0, n_del = 0, j = i;
    for (; j < nf && same_part(by[i]->partition, by[j]->partition); j++) {
      size_t d0, nd = dels_of(ix, by[j]->path, &d0);
      int seen = sl_strs_has(ix->floor_files, ix->n_floor_files, by[j]->path);
      for (size_t k = 0; seen && k < nd; k++) seen = sl_strs_has(ix->floor_dels, ix->n_floor_dels, ix->dels[d0 + k]->path);
      if (!seen || (!nd && by[j]->bytes >= small) || np >= COMPACT_MAX_FILES) continue;
      pick[np++] = (size_t)(by[j] - files);
      n_small += !nd;
      n_del += nd > 0;
    }
    if (!n_del && n_small < 2) np = first;
    i = j;
  }
  sl_free(by);
  return np;
}

/* The partition column of a partitioned table (the key of {"col":"value"}), or NULL. */
static char *partition_col(const struct sl_data_file *f) {
  json_t *j = f->partition ? json_loads(f->partition, 0, NULL) : NULL;
  const char *k = NULL;
  json_t *v;
  char *out = NULL;
  json_object_foreach(j, k, v) {
    if (!out) out = sl_strdup(k);
  }
  json_decref(j);
  return out;
}

/* After a conflict: the table's new current snapshot in *parent if the files read are
 * all still live with exactly the delete files they had, else SL_ECONFLICT. */
static int still_same(struct sl_catalog *cat, const struct sl_table_info *t, const char *const *keys, size_t np,
                      const struct sl_delete_file *use, size_t nu, int64_t *parent, struct sl_err *err) {
  struct sl_table_info now = {0};
  struct sl_data_file *files = NULL;
  struct sl_delete_file *dels = NULL;
  size_t nf = 0, nd = 0;
  const char **live = NULL, **ours = sl_calloc(np + 1, sizeof *ours), **had = sl_calloc(nu + 1, sizeof *had);
  int rc = ours && had ? sl_catalog_table_get(cat, t->ns, t->name, &now, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  if (!rc) rc = sl_catalog_files_at(cat, now.table_id, now.current_snapshot, &files, &nf, err);
  if (!rc) rc = sl_catalog_deletes_at(cat, now.table_id, now.current_snapshot, &dels, &nd, err);
  if (!rc && !(live = sl_calloc(nf + 1, sizeof *live))) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  if (!rc) {
    for (size_t i = 0; i < nf; i++) live[i] = files[i].path;
    for (size_t i = 0; i < np; i++) ours[i] = keys[i];
    for (size_t i = 0; i < nu; i++) had[i] = use[i].path;
    qsort(live, nf, sizeof *live, sl_strs_cmp);
    qsort(ours, np, sizeof *ours, sl_strs_cmp);
    qsort(had, nu, sizeof *had, sl_strs_cmp);
  }
  for (size_t i = 0; !rc && i < np; i++)
    if (!sl_strs_has(live, nf, keys[i])) rc = SL_ECONFLICT;
  for (size_t k = 0; !rc && k < nd; k++)
    if (sl_strs_has(ours, np, dels[k].data_path) && !sl_strs_has(had, nu, dels[k].path)) rc = SL_ECONFLICT;
  if (rc == SL_ECONFLICT) sl_err_set(err, SL_ECONFLICT, "changed");
  if (!rc) *parent = now.current_snapshot;
  sl_free(live);
  sl_free(ours);
  sl_free(had);
  sl_data_file_list_free(files, nf);
  sl_delete_file_list_free(dels, nd);
  sl_table_info_fini(&now);
  return rc;
}

static int compact_table(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st,
                         const struct sl_ingest_opts *iopts, const struct sl_compact_opts *o,
                         const struct sl_table_info *t, const int64_t *keep, size_t nk, struct sl_compact_table *r,
                         struct sl_err *err) {
  struct sl_data_file *files = NULL, *at_floor = NULL;
  struct sl_delete_file *dels = NULL, *floor_dels = NULL, *use = NULL;
  size_t nf = 0, n_floor = 0, nd = 0, n_floor_dels = 0, np = 0, nu = 0;
  size_t *pick = NULL;
  const char **keys = NULL;
  char *reader = NULL, *summary = NULL, *pcol = NULL;
  struct sl_schema sch = {0}, present = {0};
  struct sl_ingest_stage stage = {0};
  struct index ix = {0};
  struct sl_buf sel;
  sl_buf_init(&sel);
  json_t *prev = sl_sql_snapshot_summary(cat, t->table_id, t->current_snapshot);
  r->bytes_before = r->bytes_after = t->bytes;
  r->files_before = t->files;
  if (json_object_get(prev, "view-sql") || (o->skip_models && json_object_get(prev, "model"))) {
    r->skipped = json_object_get(prev, "view-sql") ? "a view: no files" : "a model's table: its builds keep it packed";
    json_decref(prev);
    return 0;
  }
  int64_t fl = floor_of(cat, t, keep, nk, err);
  int rc = fl < 0 ? err->code : 0;
  if (!rc) rc = sl_catalog_files_at(cat, t->table_id, t->current_snapshot, &files, &nf, err);
  if (!rc) rc = sl_catalog_deletes_at(cat, t->table_id, t->current_snapshot, &dels, &nd, err);
  if (!rc) rc = sl_catalog_files_at(cat, t->table_id, fl, &at_floor, &n_floor, err);
  if (!rc) rc = sl_catalog_deletes_at(cat, t->table_id, fl, &floor_dels, &n_floor_dels, err);
  if (!rc && (!(pick = sl_calloc(nf ? nf : 1, sizeof *pick)) ||
              index_make(&ix, at_floor, n_floor, floor_dels, n_floor_dels, dels, nd)))
    rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  if (!rc) np = choose(files, nf, &ix, o->target_file_size / 2, pick);
  if (!rc && !np) r->skipped = nf < 2 && !nd ? "already compact" : "no small files to pack, no deleted rows to drop";
  if (rc || !np) goto out;
  keys = sl_calloc(np, sizeof *keys);
  use = sl_calloc(nd ? nd : 1, sizeof *use);
  if (!keys || !use) {
    rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < np; i++) {
    const struct sl_data_file *f = &files[pick[i]];
    keys[i] = f->path;
    r->rows += f->rows;
    r->bytes_after -= f->bytes;
    size_t d0, n = dels_of(&ix, f->path, &d0);
    for (size_t k = 0; k < n; k++) {
      use[nu++] = *ix.dels[d0 + k];
      r->rows -= ix.dels[d0 + k]->rows;
    }
  }
  r->files_rewritten = (int64_t)np;
  r->deletes_applied = (int64_t)nu;
  if (o->dry_run) goto out;
  if (!(reader = sl_sql_files_reader(st, keys, np, use, nu, err))) {
    rc = err->code;
    goto out;
  }
  if ((rc = sl_catalog_schema_get(cat, t->table_id, t->schema_id, &sch, err)) ||
      (rc = sl_sql_describe(d, reader, &present, err)))
    goto out;
  sl_buf_puts(&sel, "SELECT ");
  sl_sql_cast_columns(&sel, &sch, &present);
  sl_buf_printf(&sel, " FROM %s", reader);
  pcol = partition_col(&files[pick[0]]);
  struct sl_ingest_opts wopts = *iopts;
  wopts.target_file_size = o->target_file_size;
  if (!sel.data) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  else rc = sl_ingest_stage_query_by(d, st, &wopts, t->ns, t->name, sel.data, pcol, &stage, err);
  if (rc) goto out;
  if (stage.rows != r->rows) {
    rc = sl_err_set(err, SL_EIO, "wrote %lld rows for the %lld of the files read; nothing was changed",
                    (long long)stage.rows, (long long)r->rows);
    goto out;
  }
  r->files_written = (int64_t)stage.w.n;
  r->bytes_after += stage.bytes;
  stage.operation = "compact";
  if (!(summary = summary_of(prev, r, fl))) {
    rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    goto out;
  }
  int64_t parent = t->current_snapshot;
  for (int64_t attempt = 0;; attempt++) {
    rc = sl_ingest_stage_commit_merge(cat, &stage, t->ns, t->name, parent, keys, np, NULL, 0, summary,
                                      &r->snapshot_id, err);
    if (rc != SL_ECONFLICT || attempt >= iopts->commit_retries) break;
    /* Another write committed first (an append, most often): the same files can still
     * be swapped on top of it while they are live and no delete file came to them. */
    sl_err_clear(err);
    if ((rc = still_same(cat, t, keys, np, use, nu, &parent, err))) break;
  }
  if (rc == SL_ECONFLICT)
    sl_err_set(err, SL_ECONFLICT, "the table changed while it was compacted (its files were rewritten or merged "
               "into); nothing was changed: run sluice compact again");
out:
  if (rc) {
    sl_ingest_stage_discard(st, &stage);
    sl_err_prefix(err, "compact %s.%s: ", t->ns, t->name);
  }
  if (rc || o->dry_run) r->bytes_after = t->bytes;
  sl_ingest_stage_fini(&stage);
  sl_buf_fini(&sel);
  sl_schema_fini(&sch);
  sl_schema_fini(&present);
  sl_free(reader);
  sl_free(summary);
  sl_free(pcol);
  sl_free(keys);
  sl_free(use);
  sl_free(pick);
  index_fini(&ix);
  sl_data_file_list_free(files, nf);
  sl_data_file_list_free(at_floor, n_floor);
  sl_delete_file_list_free(dels, nd);
  sl_delete_file_list_free(floor_dels, n_floor_dels);
  json_decref(prev);
  return rc;
}

int sl_compact(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st, const struct sl_ingest_opts *iopts,
               const struct sl_compact_opts *o, struct sl_compact_result *out, struct sl_err *err) {
  struct sl_table_info *ts = NULL;
  size_t nt = 0, nk = 0;
  int64_t *keep = NULL;
  memset(out, 0, sizeof *out);
  int rc = sl_catalog_table_list(cat, NULL, &ts, &nt, err);
  if (!rc) rc = sl_catalog_names_known(ts, nt, o->tables, o->n_tables, "compact", err);
  if (!rc) rc = sl_vacuum_incremental_inputs(cat, &keep, &nk, err);
  if (!rc && !(out->v = sl_calloc(nt ? nt : 1, sizeof *out->v))) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  for (size_t i = 0; !rc && i < nt; i++) {
    if (!sl_catalog_names_select(o->tables, o->n_tables, ts[i].ns, ts[i].name) || !ts[i].current_snapshot) continue;
    struct sl_compact_table *r = &out->v[out->n++];
    r->ns = sl_strdup(ts[i].ns);
    r->name = sl_strdup(ts[i].name);
    if (!r->ns || !r->name) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    else rc = compact_table(d, cat, st, iopts, o, &ts[i], keep, nk, r, err);
    if (rc == SL_ECONFLICT) { /* the others are still worth doing */
      r->skipped = "changed while it was compacted: nothing changed, run again";
      r->files_rewritten = r->deletes_applied = r->files_written = r->rows = 0;
      sl_err_clear(err);
      rc = 0;
    }
  }
  sl_free(keep);
  sl_table_list_free(ts, nt);
  for (size_t i = 0; i < out->n; i++) {
    out->tables_compacted += out->v[i].files_rewritten > 0;
    out->files_rewritten += out->v[i].files_rewritten;
    out->files_written += out->v[i].files_written;
  }
  if (!o->dry_run) {
    sl_metric_counter_add(rc ? "sluice_compact_failures_total" : "sluice_compact_runs_total", NULL, 1);
    sl_metric_counter_add("sluice_compact_files_rewritten_total", NULL, (double)out->files_rewritten);
    sl_metric_counter_add("sluice_compact_files_written_total", NULL, (double)out->files_written);
  }
  if (rc) sl_compact_result_fini(out);
  return rc;
}

void sl_compact_result_fini(struct sl_compact_result *r) {
  for (size_t i = 0; i < r->n; i++) {
    sl_free(r->v[i].ns);
    sl_free(r->v[i].name);
  }
  sl_free(r->v);
  memset(r, 0, sizeof *r);
}
