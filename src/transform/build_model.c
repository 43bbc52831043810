/* build_model.c: building one model, write-audit-publish. The output is staged as
 * Parquet files no snapshot references, the model's checks run on the staged files,
 * and only when no error-level check fails is it committed as the table's new
 * snapshot; otherwise failing rows go to quarantine and the table stays as it was.
 * The snapshot summary records the model, a hash of its SQL and each input's snapshot,
 * which makes rebuilding an unchanged model a no-op and tells incremental builds
 * where their inputs' changes start. */
#include "transform/build_int.h"

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "sql/sql.h"

#include <jansson.h>
#include <string.h>

static uint64_t fnv1a(uint64_t h, const char *s) {
  for (; s && *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return h;
}


/* The snapshot that stands for an input: the table's, or for a <t>_current view the
 * one of its changelog <t>_changes. */
static int input_table(struct sl_catalog *cat, const char *qualified, struct sl_table_info *ti, int *is_current,
                       struct sl_err *err) {
  char *ns = NULL, *t = NULL;
  int rc = sl_catalog_name_split(qualified, &ns, &t, err);
  *is_current = 0;
  if (!rc) rc = sl_catalog_table_get(cat, ns, t, ti, err);
  size_t len = t ? strlen(t) : 0;
  if (rc == SL_ENOTFOUND && len > 8 && !strcmp(t + len - 8, "_current")) {
    char *ch = sl_asprintf("%.*s_changes", (int)(len - 8), t);
    sl_err_clear(err);
    rc = ch ? sl_catalog_table_get(cat, ns, ch, ti, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
    *is_current = 1;
    sl_free(ch);
  }
  sl_free(ns);
  sl_free(t);
  return rc;
}

static int run_checks(struct sl_bctx *x, const struct sl_model *m, const char *qualified, const char *rel,
                      struct sl_check_results *out, struct sl_err *err) {
  for (size_t i = 0; i < x->o->checks->n; i++) {
    const struct sl_check *c = &x->o->checks->v[i];
    if (strcmp(c->table, m->name) && strcmp(c->table, qualified)) continue;
    int rc = sl_check_run(x->d, c, qualified, rel, out, err);
    if (rc) return rc;
  }
  return 0;
}

/* Deltas of incremental inputs: relation text per dep, and the keys deleted. */
struct delta {
  char **rel;
  struct sl_buf deleted; /* a UNION of key SELECTs, or empty: keys deleted, or recomputed from whole groups */
  int full;              /* a change no delta can express: build in full */
  char *why_full;
  int keyless;           /* a changed input is read as its new rows only (it lacks the key) */
  int keyed;             /* a changed input is read as every row of its changed keys */
  size_t changed_i;      /* ... the index of that input */
  int64_t keys;          /* changed keys of the keyed inputs; -1: some other input changed */
};

static int key_list(struct sl_buf *b, const struct sl_model *m, const char *qual) {
  for (size_t k = 0; k < m->n_key; k++) {
    if (k) sl_buf_puts(b, ", ");
    if (qual) sl_buf_printf(b, "%s.", qual);
    sl_buf_sql_ident(b, m->key[k]);
  }
  return 0;
}

/* A join condition on the unique key: "l.k1 <op> r.k1 AND l.k2 <op> r.k2 ...". */
static void key_on(struct sl_buf *b, const struct sl_model *m, const char *l, const char *op, const char *r) {
  for (size_t k = 0; k < m->n_key; k++) {
    sl_buf_printf(b, "%s%s.", k ? " AND " : "", l);
    sl_buf_sql_ident(b, m->key[k]);
    sl_buf_printf(b, " %s %s.", op, r);
    sl_buf_sql_ident(b, m->key[k]);
  }
}

void sl_build_key_semi(struct sl_buf *b, const struct sl_model *m, const char *cols, const char *rel, const char *keys) {
  for (int nulls = 0; nulls < 2; nulls++) {
    sl_buf_printf(b, "%sSELECT %s FROM %s AS _sl_i SEMI JOIN %s AS _sl_c ON ", nulls ? " UNION ALL " : "", cols, rel, keys);
    key_on(b, m, "_sl_i", nulls ? "IS NOT DISTINCT FROM" : "=", "_sl_c");
    for (size_t q = 0; nulls && q < m->n_key; q++) {
      sl_buf_printf(b, "%s_sl_i.", q ? " OR " : " WHERE ");
      sl_buf_sql_ident(b, m->key[q]);
      sl_buf_puts(b, " IS NULL");
    }
  }
}

/* 1 if the input table has every column of the model's unique key. */
static int has_key(struct sl_bctx *x, const struct sl_model *m, const char *qt) {
  struct sl_buf r;
  sl_buf_init(&r);
  sl_buf_sql_qname(&r, qt);
  struct sl_schema s = {0};
  struct sl_err e;
  int all = r.data && !sl_sql_describe(x->d, r.data, &s, &e);
  for (size_t k = 0; all && k < m->n_key; k++) all = sl_schema_col(&s, m->key[k]) != NULL;
  sl_schema_fini(&s);
  sl_buf_fini(&r);
  return all;
}

/* The newest event_time of the target and its type, from the catalog's per-file
 * statistics (exact for these types: every file records its max), so that finding the
 * lookback bound reads no data. 0 with *hi NULL when some file has no such statistic.
 * A value that does not cast is left out: a lower bound only re-reads more rows. */
static int event_time_max_from_stats(struct sl_bctx *x, const struct sl_model *m, const struct sl_table_info *target,
                                     char **hi, char **type, struct sl_err *err) {
  struct sl_schema s = {0};
  struct sl_data_file *files = NULL;
  size_t nf = 0;
  struct sl_buf q;
  sl_buf_init(&q);
  *hi = *type = NULL;
  int rc = sl_catalog_schema_get(x->cat, target->table_id, target->schema_id, &s, err);
  if (!rc) rc = sl_catalog_files_at(x->cat, target->table_id, target->current_snapshot, &files, &nf, err);
  const struct sl_column *ec = rc ? NULL : sl_schema_col(&s, m->event_time);
  const char *t = ec ? ec->type : NULL;
  int ok = !rc && t && sl_build_prunable_type(t) && nf;
  size_t nv = 0;
  if (ok) sl_buf_printf(&q, "SELECT CAST(max(TRY_CAST(v AS %s)) AS VARCHAR) FROM (VALUES ", t);
  for (size_t i = 0; ok && i < nf; i++) {
    json_t *st = files[i].stats_json ? json_loads(files[i].stats_json, 0, NULL) : NULL;
    json_t *c = json_object_get(st, m->event_time);
    const char *mx = json_string_value(json_object_get(c, "max"));
    json_t *nulls = json_object_get(c, "nulls");
    if (mx) {
      sl_buf_puts(&q, nv++ ? ", (" : "(");
      sl_buf_sql_str(&q, mx);
      sl_buf_putc(&q, ')');
    } else if (!(json_is_integer(nulls) && json_integer_value(nulls) == files[i].rows)) {
      ok = 0; /* no max, and not because the file's values are all NULL */
    }
    json_decref(st);
  }
  sl_buf_puts(&q, ") AS f(v)");
  if (ok && nv) {
    struct sl_duck_result r;
    if (!(rc = sl_duck_query(x->d, q.data, &r, err))) {
      *hi = sl_duck_result_rows(&r) ? sl_duck_result_text(&r, 0, 0) : NULL;
      *type = *hi ? sl_strdup(t) : NULL;
      sl_duck_result_fini(&r);
    }
  }
  sl_data_file_list_free(files, nf);
  sl_schema_fini(&s);
  sl_buf_fini(&q);
  return rc;
}

/* hi, type: the lookback bound, found once (looked) for all inputs. */
struct bound {
  char *hi, *type;
  int looked;
};

/* Late rows: r (the changed input's rows) gets also every input row within the
 * lookback of the newest output row. The bound is computed first and written as a
 * constant, so the input's files and row groups outside it are skipped by their
 * statistics; the rows are the ones the input had at `since` (the added ones are in r
 * already), or for a changelog's current view all of it. */
static int add_lookback(struct sl_bctx *x, const struct sl_model *m, const struct sl_table_info *target,
                        const char *this_rel, const char *qt, const struct sl_table_info *ti, int64_t since, int is_cur,
                        int keyed, struct bound *bd, struct sl_buf *r, struct sl_err *err) {
  int rc = 0;
  /* The bound, once per build: from the catalog's statistics, else by a scan. */
  if (!bd->looked && (rc = event_time_max_from_stats(x, m, target, &bd->hi, &bd->type, err))) return rc;
  if (!bd->looked && !bd->hi) {
    struct sl_buf mq;
    sl_buf_init(&mq);
    sl_buf_puts(&mq, "SELECT CAST(max(");
    sl_buf_sql_ident(&mq, m->event_time);
    sl_buf_puts(&mq, ") AS VARCHAR), typeof(max(");
    sl_buf_sql_ident(&mq, m->event_time);
    sl_buf_printf(&mq, ")) FROM %s", this_rel);
    struct sl_duck_result res;
    rc = sl_duck_query(x->d, mq.data, &res, err);
    sl_buf_fini(&mq);
    if (rc) return sl_err_prefix(err, "%s: event_time %s: ", m->path, m->event_time);
    bd->hi = sl_duck_result_rows(&res) ? sl_duck_result_text(&res, 0, 0) : NULL;
    bd->type = sl_duck_result_rows(&res) ? sl_duck_result_text(&res, 1, 0) : NULL;
    sl_duck_result_fini(&res);
  }
  bd->looked = 1;
  const char *hi = bd->hi, *type = bd->type;
  int type_ok = type && *type;
  for (const char *c = type; type_ok && *c; c++)
    type_ok = (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == ' ' || *c == '(' || *c == ')' || *c == ',';
  if (!hi || !type_ok) return 0;
  char *had = NULL;
  if (!is_cur && (rc = sl_sql_table_select(x->d, x->cat, x->o->st, ti, since, &had, err))) return rc;
  struct sl_buf w;
  sl_buf_init(&w);
  /* A current row both changed and late would come twice: DISTINCT, unless only keys
   * are kept. */
  sl_buf_printf(&w, "(SELECT %s* FROM (SELECT * FROM %s UNION ALL BY NAME SELECT * FROM ", had || keyed ? "" : "DISTINCT ",
                r->data);
  if (had) sl_buf_printf(&w, "(%s)", had);
  else sl_buf_sql_qname(&w, qt);
  sl_buf_puts(&w, " WHERE ");
  sl_buf_sql_ident(&w, m->event_time);
  sl_buf_puts(&w, " >= CAST(");
  sl_buf_sql_str(&w, hi);
  sl_buf_printf(&w, " AS %s) - to_milliseconds(%lld)))", type, (long long)m->lookback_ms);
  sl_free(had);
  if (!w.data) {
    sl_buf_fini(&w);
    return sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  sl_buf_fini(r);
  *r = w;
  return 0;
}

static int plan_delta_inputs(struct sl_bctx *x, const struct sl_model *m, json_t *inputs,
                             const struct sl_table_info *target, const char *this_rel, struct delta *dl,
                             struct bound *bd, struct sl_err *err) {
  for (size_t i = 0; i < m->n_deps; i++) {
    const char *qt = m->deps[i].table;
    struct sl_table_info ti = {0};
    int is_cur = 0, rc = input_table(x->cat, qt, &ti, &is_cur, err);
    if (rc) return rc;
    json_t *rec = json_object_get(inputs, qt);
    int64_t since = json_is_integer(rec) ? json_integer_value(rec) : 0;
    struct sl_buf r;
    sl_buf_init(&r);
    if (!since) {
      dl->full = 1;
      dl->why_full = sl_asprintf("input %s is new", qt);
    } else if (since == ti.current_snapshot) {
      /* An unchanged input is read whole: the changed one's rows may join any of it. */
      sl_buf_sql_qname(&r, qt);
      sl_table_info_fini(&ti);
      dl->rel[i] = sl_buf_take(&r);
      sl_buf_fini(&r);
      continue;
    } else {
      char *added = NULL;
      int64_t removed = 0;
      rc = sl_sql_table_delta_select(x->d, x->cat, x->o->st, &ti, ti.current_snapshot, since, &added, &removed, err);
      if (rc == SL_ENOTFOUND) {
        /* The snapshot the last build read is gone (expired): nothing tells what changed since. */
        dl->full = 1;
        dl->why_full = sl_asprintf("input %s: the snapshot the last build read is gone (%s)", qt, err->msg);
        sl_err_clear(err);
        sl_table_info_fini(&ti);
        sl_buf_fini(&r);
        return 0;
      }
      if (rc) {
        sl_table_info_fini(&ti);
        sl_buf_fini(&r);
        return rc;
      }
      int64_t truncated = 0;
      if (is_cur) {
        /* A truncate forgets every key before it, which no set of changed keys shows. */
        char *tq = sl_asprintf("SELECT count(*) FROM (%s) WHERE _op = 't'", added);
        if (tq && sl_duck_query_int(x->d, tq, &truncated, err)) truncated = 1;
        sl_err_clear(err);
        sl_free(tq);
      }
      if (is_cur && !m->n_key) {
        dl->full = 1;
        dl->why_full = sl_asprintf("input %s changed and the model has no unique_key to apply its deletes by", qt);
      } else if (is_cur && !has_key(x, m, qt)) {
        /* Its deleted rows cannot be told apart by the model's key. */
        dl->full = 1;
        dl->why_full = sl_asprintf("input %s changed and lacks a column of the unique key", qt);
      } else if (removed && !is_cur) {
        dl->full = 1;
        dl->why_full = sl_asprintf("input %s rewrote %lld files", qt, (long long)removed);
      } else if (truncated) {
        dl->full = 1;
        dl->why_full = sl_asprintf("input %s was truncated", qt);
      } else if (is_cur) {
        /* Changed keys of the changelog: their current rows, and the deleted ones. */
        struct sl_buf k;
        sl_buf_init(&k);
        key_list(&k, m, NULL);
        sl_buf_printf(&r, "(SELECT * FROM ");
        sl_buf_sql_qname(&r, qt);
        sl_buf_printf(&r, " WHERE (%s) IN (SELECT (%s) FROM (%s)))", k.data, k.data, added);
        /* Every changed key is recomputed: deleted ones, and those whose new row the
         * model's filter drops, leave the table. */
        sl_buf_printf(&dl->deleted, "%s(SELECT DISTINCT %s FROM (%s))", dl->deleted.len ? " UNION " : "", k.data, added);
        sl_buf_fini(&k);
      } else {
        sl_buf_printf(&r, "(%s)", added);
      }
      sl_free(added);
    }
    /* An input holding the model's key is read below as whole groups of the changed
     * keys: of the rows found here only their keys matter. */
    int keyed = !dl->full && !is_cur && r.data && m->n_key && has_key(x, m, qt);
    if (!dl->full && !is_cur && r.data && !keyed) dl->keyless = 1, dl->changed_i = i;
    if (!dl->full && r.data && (keyed || is_cur)) dl->keyed = 1, dl->changed_i = i;
    if (!keyed && r.data) dl->keys = -1;
    if (!dl->full && m->lookback_ms && r.data &&
        (rc = add_lookback(x, m, target, this_rel, qt, &ti, since, is_cur, keyed, bd, &r, err))) {
      sl_buf_fini(&r);
      sl_table_info_fini(&ti);
      return rc;
    }
    if (keyed) {
      /* An input holding the model's key: every row of each changed key, so a model
       * that aggregates per key sees whole groups, not just the new rows. The keys are
       * kept in a temporary table; joined on equality, DuckDB pushes their range into
       * the input's scan (rows with a NULL key part are joined apart). */
      struct sl_buf w, k, ck, in;
      sl_buf_init(&w);
      sl_buf_init(&k);
      sl_buf_init(&ck);
      sl_buf_init(&in);
      key_list(&k, m, NULL);
      sl_buf_printf(&ck, "_sl_ck_%zu", i);
      sl_buf_sql_qname(&in, qt);
      struct sl_buf mk;
      sl_buf_init(&mk);
      sl_buf_printf(&mk, "CREATE OR REPLACE TEMP TABLE %s AS SELECT DISTINCT %s FROM %s", ck.data, k.data, r.data);
      rc = sl_duck_exec(x->d, mk.data, err);
      sl_buf_reset(&mk);
      sl_buf_printf(&mk, "SELECT count(*) FROM %s", ck.data);
      int64_t nk = 0;
      if (!rc && !(rc = sl_duck_query_int(x->d, mk.data, &nk, err)) && dl->keys >= 0) dl->keys += nk;
      if (!rc) {
        sl_buf_putc(&w, '(');
        sl_build_key_semi(&w, m, "_sl_i.*", in.data, ck.data);
        sl_buf_putc(&w, ')');
        /* Those keys are recomputed: whatever the model now gives for them (maybe no
         * row, when its filter drops the new version) replaces what the table had. The
         * join stays inside the model's query, so DuckDB reads only the columns the
         * model uses, and their rows go straight from the scan to the model. */
        sl_buf_printf(&dl->deleted, "%s(SELECT * FROM %s)", dl->deleted.len ? " UNION " : "", ck.data);
      }
      sl_buf_fini(&mk);
      sl_buf_fini(&r);
      sl_buf_fini(&k);
      sl_buf_fini(&ck);
      sl_buf_fini(&in);
      r = w;
      if (rc) {
        sl_buf_fini(&r);
        sl_table_info_fini(&ti);
        return rc;
      }
    }
    sl_table_info_fini(&ti);
    dl->rel[i] = sl_buf_take(&r);
    sl_buf_fini(&r);
    if (dl->full) break;
  }
  return 0;
}

static int plan_delta(struct sl_bctx *x, const struct sl_model *m, json_t *inputs, const struct sl_table_info *target,
                      const char *this_rel, struct delta *dl, struct sl_err *err) {
  /* Changes of two inputs interact (new rows of one meet new rows of the other), which
   * a delta of each cannot show: then the model is built in full. */
  const char *changed[2] = {NULL, NULL};
  size_t n_changed = 0;
  for (size_t i = 0; i < m->n_deps; i++) {
    struct sl_table_info ti = {0};
    int is_cur = 0, rc = input_table(x->cat, m->deps[i].table, &ti, &is_cur, err);
    if (rc) return rc;
    json_t *rec = json_object_get(inputs, m->deps[i].table);
    if (!json_is_integer(rec) || json_integer_value(rec) != ti.current_snapshot) {
      if (n_changed < 2) changed[n_changed] = m->deps[i].table;
      n_changed++;
    }
    sl_table_info_fini(&ti);
  }
  if (n_changed > 1) {
    dl->full = 1;
    dl->why_full = strcmp(changed[0], changed[1])
                       ? sl_asprintf("inputs %s and %s both changed", changed[0], changed[1])
                       : sl_asprintf("the model reads input %s twice (its new rows may meet its old ones)", changed[0]);
    return 0;
  }
  struct bound bd = {0};
  int rc = plan_delta_inputs(x, m, inputs, target, this_rel, dl, &bd, err);
  sl_free(bd.hi);
  sl_free(bd.type);
  return rc;
}

static char *inputs_json(struct sl_bctx *x, const struct sl_model *m) {
  struct sl_buf b;
  sl_buf_init(&b);
  sl_buf_putc(&b, '{');
  for (size_t i = 0; i < m->n_deps; i++) {
    struct sl_table_info ti = {0};
    struct sl_err e;
    int cur, again = 0;
    for (size_t j = 0; j < i && !again; j++) again = !strcmp(m->deps[j].table, m->deps[i].table);
    if (again || input_table(x->cat, m->deps[i].table, &ti, &cur, &e)) continue;
    if (b.len > 1) sl_buf_putc(&b, ',');
    sl_buf_json_str(&b, m->deps[i].table);
    sl_buf_printf(&b, ":%lld", (long long)ti.current_snapshot);
    sl_table_info_fini(&ti);
  }
  sl_buf_putc(&b, '}');
  return sl_buf_take(&b);
}

/* Fails naming the config option (unique_key, event_time, partition) whose column
 * the model's output lacks, listing the columns it has. */
static int config_cols(const struct sl_model *m, const struct sl_schema *out, struct sl_err *err) {
  const char *opt = NULL, *col = NULL;
  for (size_t i = 0; i < m->n_key && !opt; i++)
    if (!sl_schema_col(out, m->key[i])) opt = "unique_key", col = m->key[i];
  if (!opt && m->event_time && !sl_schema_col(out, m->event_time)) opt = "event_time", col = m->event_time;
  if (!opt && m->partition && !sl_schema_col(out, m->partition)) opt = "partition", col = m->partition;
  if (!opt) return 0;
  struct sl_buf b;
  sl_buf_init(&b);
  for (size_t i = 0; i < out->n_cols && i < 20; i++) sl_buf_printf(&b, "%s%s", i ? ", " : "", out->cols[i].name);
  if (out->n_cols > 20) sl_buf_puts(&b, ", ...");
  int rc = sl_err_set(err, SL_EINVAL, "%s: %s '%s' is not a column of the model's output; its columns: %s", m->path,
                      opt, col, b.data ? b.data : "");
  sl_buf_fini(&b);
  return rc;
}

/* After the model's SQL failed: a config option naming a missing column is the clearer
 * reason (DuckDB's is about an ORDER BY the user did not write). */
static void config_cols_explain(struct sl_bctx *x, const struct sl_model *m, const char *sql, struct sl_err *err) {
  char *from = sl_asprintf("(\n%s\n)", sql);
  struct sl_schema s = {0};
  struct sl_err e = {0};
  if (from && !sl_sql_describe(x->d, from, &s, &e) && config_cols(m, &s, &e)) *err = e;
  sl_schema_fini(&s);
  sl_free(from);
}

/* A model writes only the table it made: not a table ingested, captured or made by
 * another model under the same name (its first snapshot says who made it; the
 * current one, prev, when this model made that, as it does on every build). */
static int check_owner(struct sl_bctx *x, const struct sl_model *m, const struct sl_table_info *t, json_t *prev,
                       struct sl_err *err) {
  const char *last = json_string_value(json_object_get(prev, "model"));
  if (last && !strcmp(last, m->name)) return 0;
  struct sl_snapshot fs;
  int rc = sl_catalog_snapshot_get(x->cat, t->table_id, 0, &fs, err); /* the table's first */
  if (rc == SL_ENOTFOUND) {
    sl_err_clear(err);
    rc = 0;
  }
  if (rc) return rc;
  int64_t first = fs.snapshot_id;
  json_t *sum = fs.summary_json ? json_loads(fs.summary_json, 0, NULL) : NULL;
  sl_snapshot_fini(&fs);
  const char *by = json_string_value(json_object_get(sum, "model"));
  if (!first || (by && !strcmp(by, m->name))) rc = 0;
  else if (by)
    rc = sl_err_set(err, SL_EEXIST, "%s: table %s.%s was made by model '%s'; rename this model or give it another "
                    "namespace", m->path, m->ns, m->name, by);
  else
    rc = sl_err_set(err, SL_EEXIST, "%s: table %s.%s exists and was not made by a model (it was loaded into the "
                    "lake); rename this model or give it another namespace", m->path, m->ns, m->name);
  json_decref(sum);
  return rc;
}

int sl_build_model(struct sl_bctx *x, const struct sl_model *m, struct sl_build_model_result *res,
                   struct sl_err *err) {
  int64_t t0 = sl_time_mono_ns(), tp = t0;
  char *qualified = sl_asprintf("%s.%s", m->ns, m->name);
  struct sl_buf this_rel, sel;
  sl_buf_init(&this_rel);
  sl_buf_init(&sel);
  struct sl_table_info target = {0};
  struct sl_ingest_stage stage = {0}, delta = {0};
  struct delta dl = {0};
  struct sl_merge mg = {0};
  sl_buf_init(&dl.deleted);
  char *sql = NULL, *inputs = NULL, *summary = NULL, *reader = NULL;
  json_t *prev = NULL;
  int have_target = 0, rc = 0;
  if (!qualified) return sl_err_set(err, SL_ENOMEM, "out of memory");
  sl_buf_sql_qname(&this_rel, qualified);
  rc = sl_catalog_table_get(x->cat, m->ns, m->name, &target, err);
  if (rc == SL_ENOTFOUND) {
    sl_err_clear(err);
    rc = 0;
  } else if (!rc) {
    have_target = target.current_snapshot != 0;
  }
  if (rc) goto out;
  if ((rc = sl_catalog_ns_create(x->cat, m->ns, err)) == SL_EEXIST) rc = 0;
  if (rc) goto out;
  sl_err_clear(err);

  uint64_t h = fnv1a(fnv1a(14695981039346656037ull, m->text), x->ms->macros);
  h = fnv1a(h, m->mat == SL_MAT_VIEW ? "view" : m->mat == SL_MAT_TABLE ? "table" : "incremental");
  /* Changed checks mean a new audit: they are part of what a build is. */
  for (size_t i = 0; i < x->o->checks->n; i++) {
    const struct sl_check *c = &x->o->checks->v[i];
    if (strcmp(c->table, m->name) && strcmp(c->table, qualified)) continue;
    char num[64];
    snprintf(num, sizeof num, "|%d|%d|%.17g|%.17g|%lld|", (int)c->kind, c->error, c->mostly, c->quantile,
             (long long)c->max_age_ms);
    h = fnv1a(fnv1a(fnv1a(fnv1a(fnv1a(h, num), c->name), c->min), c->max), c->sql);
    h = fnv1a(fnv1a(fnv1a(h, c->pattern), c->to_table), c->to_col);
    for (size_t k = 0; k < c->n_cols; k++) h = fnv1a(h, c->cols[k]);
    for (size_t k = 0; k < c->n_values; k++) h = fnv1a(fnv1a(h, "|"), c->values[k]);
  }
  char hash[17];
  snprintf(hash, sizeof hash, "%016llx", (unsigned long long)h);
  inputs = inputs_json(x, m);
  prev = have_target ? sl_sql_snapshot_summary(x->cat, target.table_id, target.current_snapshot) : NULL;
  if (have_target && (rc = check_owner(x, m, &target, prev, err))) goto out;
  const char *prev_hash = json_string_value(json_object_get(prev, "sql-hash"));
  json_t *prev_inputs = json_object_get(prev, "inputs");
  int same_sql = prev_hash && !strcmp(prev_hash, hash);
  json_t *now_inputs = inputs ? json_loads(inputs, 0, NULL) : NULL;
  int fresh = same_sql && prev_inputs && now_inputs && json_equal(prev_inputs, now_inputs);
  json_decref(now_inputs);
  if (fresh && !x->o->full_refresh) {
    res->status = SL_BUILD_FRESH;
    res->rows = target.rows;
    res->snapshot_id = target.current_snapshot;
    res->how = sl_strdup("up to date: its SQL and inputs are unchanged");
    goto out;
  }

  dl.rel = sl_calloc(m->n_deps + 1, sizeof *dl.rel);
  if (!dl.rel) {
    rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    goto out;
  }
  int incremental = m->mat == SL_MAT_INCREMENTAL && have_target && same_sql && prev_inputs && !x->o->full_refresh;
  sl_build_phase_log(m->name, "state", &tp);
  if (incremental && (rc = plan_delta(x, m, prev_inputs, &target, this_rel.data, &dl, err))) goto out;
  /* Whether reading only the changed input's changed rows (or keys) gives the rows the
   * model would give from all of it: DuckDB's plan of the model tells. */
  if (incremental && !dl.full && (dl.keyless || dl.keyed)) {
    rc = (dl.keyless ? sl_build_probe_row_wise : sl_build_probe_key_local)(x, m, dl.rel, dl.changed_i, this_rel.data,
                                                                         &dl.why_full, err);
    if (rc) goto out;
    dl.full = dl.why_full != NULL;
  }
  if (incremental) sl_build_phase_log(m->name, "changed keys", &tp);
  if (incremental && dl.full) incremental = 0;
  for (size_t i = 0; i < m->n_deps; i++) {
    if (incremental) continue;
    sl_free(dl.rel[i]);
    struct sl_buf r;
    sl_buf_init(&r);
    sl_buf_sql_qname(&r, m->deps[i].table);
    dl.rel[i] = sl_buf_take(&r);
  }
  struct sl_render rd = {x->ms, m, dl.rel, have_target ? this_rel.data : NULL, x->d};
  if ((rc = sl_model_render(&rd, &sql, err))) goto out;

  if (m->mat == SL_MAT_VIEW) {
    /* A view: checked by running the checks on it, published as a snapshot without
     * files whose summary holds the SQL. */
    char *from = sl_asprintf("(\n%s\n)", sql);
    struct sl_schema s = {0};
    rc = from ? sl_sql_describe(x->d, from, &s, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
    if (rc) {
      sl_err_prefix(err, "%s: ", m->path);
      sl_free(from);
      goto out;
    }
    res->checks_from = x->checks->n;
    rc = run_checks(x, m, qualified, from, x->checks, err);
    res->checks_to = x->checks->n;
    if (!rc && sl_check_results_blocking(x->checks, res->checks_from)) {
      res->status = SL_BUILD_CHECKS_FAILED;
      rc = sl_check_quarantine(x->d, x->cat, x->o->st, x->o->iopts, qualified, from, x->checks, res->checks_from,
                               x->run_id, x->o->quarantine_limit, &res->quarantined, err);
    } else if (!rc) {
      struct sl_buf sb;
      sl_buf_init(&sb);
      sl_buf_printf(&sb, "{\"model\":");
      sl_buf_json_str(&sb, m->name);
      sl_buf_printf(&sb, ",\"materialized\":\"view\",\"sql-hash\":\"%s\",\"inputs\":%s,\"view-sql\":", hash, inputs);
      sl_buf_json_str(&sb, sql);
      sl_buf_putc(&sb, '}');
      struct sl_commit c = {m->ns, m->name, target.current_snapshot, target.current_snapshot ? "replace" : "create",
                            sb.data, &s, NULL, 0, 1, NULL, 0, NULL, 0};
      rc = sl_catalog_commit(x->cat, &c, &res->snapshot_id, err);
      sl_buf_fini(&sb);
      res->how = sl_strdup("view");
    }
    sl_schema_fini(&s);
    sl_free(from);
    goto out;
  }

  int64_t changed = 0;
  /* Incremental models are written sorted by their key, in smaller files, so that a
   * merge finds the changed keys in few files and rewrites only those. */
  struct sl_ingest_opts wopts = *x->o->iopts;
  struct sl_buf order;
  sl_buf_init(&order);
  if (m->mat == SL_MAT_INCREMENTAL && m->n_key) {
    if (x->o->incremental_file_size) wopts.target_file_size = x->o->incremental_file_size;
    sl_buf_puts(&order, " ORDER BY ");
    key_list(&order, m, NULL);
  }
  if (incremental) {
    /* The model's rows of the changed keys are written first: in the common case
     * those files are the snapshot's only new data. Sorted by key, unless they fit in
     * one row group (a row per key at most), where the order changes no statistics. */
    int one_group = dl.keys >= 0 && dl.keys <= wopts.row_group_size;
    if (dl.keyed) {
      /* Only the changed keys' rows: the model's rows of other keys (e.g. an unchanged
       * input's rows left-joined to none of the changed ones) were read without their
       * input rows and stay as the table has them. */
      sl_buf_printf(&sel, "SELECT _sl_m.* FROM (\n%s\n) AS _sl_m SEMI JOIN (%s) AS _sl_c ON ", sql, dl.deleted.data);
      key_on(&sel, m, "_sl_m", "IS NOT DISTINCT FROM", "_sl_c");
      sl_buf_puts(&sel, order.data && !one_group ? order.data : "");
    } else {
      sl_buf_printf(&sel, "SELECT * FROM (\n%s\n)%s", sql, order.data && !one_group ? order.data : "");
    }
    if ((rc = sl_ingest_stage_query_by(x->d, x->o->st, &wopts, m->ns, m->name, sel.data, m->partition, &delta, err))) {
      sl_err_prefix(err, "%s: ", m->path);
      config_cols_explain(x, m, sql, err);
      sl_buf_fini(&order);
      goto out;
    }
    if ((rc = config_cols(m, &delta.schema, err))) {
      sl_buf_fini(&order);
      goto out;
    }
    changed = delta.rows;
    sl_build_phase_log(m->name, "delta", &tp);
    sl_buf_reset(&sel);
    if (m->n_key) {
      /* _sl_delta: those rows as the model gives them; _sl_keys: the keys they replace
       * (theirs, and the changed keys the model now drops). */
      char *dr = sl_ingest_stage_typed_reader(&delta);
      struct sl_buf k, on;
      sl_buf_init(&k);
      sl_buf_init(&on);
      key_list(&k, m, NULL);
      key_on(&on, m, "_sl_t", "IS NOT DISTINCT FROM", "_sl_k");
      sl_buf_printf(&sel, "CREATE OR REPLACE TEMP VIEW _sl_delta AS SELECT * FROM %s", dr ? dr : "");
      rc = dr ? sl_duck_exec(x->d, sel.data, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
      sl_free(dr);
      sl_buf_reset(&sel);
      if (dl.keyed) {
        /* The rows written are of changed keys only: those keys (each once already), as
         * the table types them. */
        sl_buf_puts(&sel, "CREATE OR REPLACE TEMP TABLE _sl_keys AS SELECT ");
        for (size_t q = 0; q < m->n_key; q++) {
          const struct sl_column *kc = sl_schema_col(&delta.schema, m->key[q]);
          const char *type = kc ? kc->type : NULL;
          sl_buf_printf(&sel, "%sCAST(", q ? ", " : "");
          sl_buf_sql_ident(&sel, m->key[q]);
          /* Types come from DuckDB's description of the model's output, not from users. */
          sl_buf_printf(&sel, " AS %s) AS ", type ? type : "VARCHAR");
          sl_buf_sql_ident(&sel, m->key[q]);
        }
        sl_buf_printf(&sel, " FROM (%s)", dl.deleted.data);
      } else {
        sl_buf_printf(&sel, "CREATE OR REPLACE TEMP TABLE _sl_keys AS SELECT DISTINCT %s FROM _sl_delta%s%s", k.data,
                      dl.deleted.len ? " UNION " : "", dl.deleted.len ? dl.deleted.data : "");
      }
      if (!rc && !(rc = sl_duck_exec(x->d, sel.data, err)))
        rc = sl_merge_plan(x, m, &target, &delta.schema, &mg, err);
      sl_build_phase_log(m->name, "merge plan", &tp);
      /* Rewritten files (or, when the columns changed, the whole table) are written
       * again with the changed rows, and those replace the files written above. */
      sl_buf_reset(&sel);
      if (!rc && mg.ok && mg.rewrite)
        sl_buf_printf(&sel, "SELECT * FROM (%s UNION ALL BY NAME SELECT * FROM _sl_delta)%s", mg.rewrite,
                      order.data ? order.data : "");
      else if (!rc && !mg.ok)
        sl_buf_printf(&sel, "SELECT * FROM (SELECT _sl_t.* FROM %s AS _sl_t ANTI JOIN _sl_keys AS _sl_k ON %s"
                            " UNION ALL BY NAME SELECT * FROM _sl_delta)%s",
                      this_rel.data, on.data, order.data ? order.data : "");
      sl_buf_fini(&k);
      sl_buf_fini(&on);
    }
    /* Nothing to write again (no file rewritten, or no unique_key: the rows are
     * appended): the changed rows' files are the snapshot's new ones. */
    if (!rc && !sel.len) {
      stage = delta;
      memset(&delta, 0, sizeof delta);
    } else if (!rc && (rc = sl_ingest_stage_query_by(x->d, x->o->st, &wopts, m->ns, m->name, sel.data, m->partition,
                                                     &stage, err))) {
      sl_err_prefix(err, "%s: ", m->path);
    }
    sl_buf_fini(&order);
    if (rc) goto out;
  } else {
    sl_buf_printf(&sel, "SELECT * FROM (\n%s\n)%s", sql, order.data ? order.data : "");
    sl_buf_fini(&order);
    if ((rc = sl_ingest_stage_query_by(x->d, x->o->st, &wopts, m->ns, m->name, sel.data, m->partition, &stage, err))) {
      sl_err_prefix(err, "%s: ", m->path);
      config_cols_explain(x, m, sql, err);
      goto out;
    }
    if ((rc = config_cols(m, &stage.schema, err))) goto out;
  }
  sl_build_phase_log(m->name, "write", &tp);
  res->rows = stage.rows;
  if (incremental && mg.ok) {
    /* The new table: the files that stay, their delete files, and the staged ones. */
    res->rows = target.rows - mg.hidden_rows - mg.rewritten_rows + stage.rows;
    if (!(reader = sl_merge_reader(x, &mg, &stage, err))) rc = err->code;
  } else if (incremental && !m->n_key) {
    char *sr = sl_ingest_stage_reader(&stage);
    res->rows = target.rows + stage.rows;
    reader = sr ? sl_asprintf("(SELECT * FROM %s UNION ALL BY NAME SELECT * FROM %s)", this_rel.data, sr) : NULL;
    sl_free(sr);
  } else {
    reader = sl_ingest_stage_reader(&stage);
  }
  if (rc) goto out;
  res->checks_from = x->checks->n;
  rc = reader ? run_checks(x, m, qualified, reader, x->checks, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  res->checks_to = x->checks->n;
  sl_build_phase_log(m->name, "checks", &tp);
  if (rc) goto out;
  if (sl_check_results_blocking(x->checks, res->checks_from)) {
    res->status = SL_BUILD_CHECKS_FAILED;
    rc = sl_check_quarantine(x->d, x->cat, x->o->st, x->o->iopts, qualified, reader, x->checks, res->checks_from,
                             x->run_id, x->o->quarantine_limit, &res->quarantined, err);
    goto out;
  }
  if (incremental && mg.ok)
    res->how = sl_asprintf("incremental: %lld changed rows merged; of %zu files %zu rewritten (%lld rows), %zu with "
                           "delete files (%lld rows hidden)",
                           (long long)changed, mg.n_files, mg.n_rewritten, (long long)mg.rewritten_rows,
                           mg.n_add_dels, (long long)mg.hidden_rows);
  else if (incremental && !m->n_key)
    res->how = sl_asprintf("incremental: %lld rows appended", (long long)changed);
  else if (incremental)
    res->how = sl_asprintf("incremental: %lld changed rows merged, the whole table rewritten", (long long)changed);
  else
    res->how = sl_asprintf("full%s%s", dl.why_full ? ": " : "", dl.why_full ? dl.why_full : "");
  summary = sl_asprintf("{\"model\":\"%s\",\"materialized\":\"%s\",\"mode\":\"%s\",\"sql-hash\":\"%s\",\"inputs\":%s,"
                        "\"added-rows\":%lld,\"changed-rows\":%lld,\"run\":\"%s\"}",
                        m->name, m->mat == SL_MAT_TABLE ? "table" : "incremental",
                        incremental ? "incremental" : "full", hash, inputs, (long long)stage.rows,
                        (long long)(incremental ? changed : stage.rows), x->run_id);
  if (!summary)
    rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  else if (incremental && mg.ok) {
    rc = sl_ingest_stage_commit_merge(x->cat, &stage, m->ns, m->name, target.current_snapshot,
                                      (const char *const *)mg.remove, mg.n_remove, mg.add_dels, mg.n_add_dels, summary,
                                      &res->snapshot_id, err);
    if (!rc) sl_merge_committed(&mg);
  } else {
    /* A new table, or (appending) the new rows on top of the current ones. */
    rc = sl_ingest_stage_commit(x->cat, &stage, m->ns, m->name, target.current_snapshot,
                                !(incremental && !m->n_key), summary, &res->snapshot_id, err);
  }
  sl_build_phase_log(m->name, "commit", &tp);
  if (rc == SL_ECONFLICT) {
    /* The catalog's message ends in "retry"; said once, with what to run. */
    char why[SL_ERR_MSG_MAX];
    snprintf(why, sizeof why, "%s", err->msg);
    char *retry = strstr(why, "; retry");
    if (retry) *retry = '\0';
    sl_err_set(err, SL_ECONFLICT, "%s: another writer changed %s during this build (%s); nothing was published: run "
               "`sluice build --select %s` again", m->path, qualified, why, m->name);
  }
out:
  if (!rc && res->status == SL_BUILD_OK && !res->how) res->how = sl_strdup("");
  sl_ingest_stage_discard(x->o->st, &stage);
  sl_ingest_stage_fini(&stage);
  sl_ingest_stage_discard(x->o->st, &delta);
  sl_ingest_stage_fini(&delta);
  for (size_t i = 0; dl.rel && i < m->n_deps; i++) sl_free(dl.rel[i]);
  sl_free(dl.rel);
  sl_free(dl.why_full);
  sl_buf_fini(&dl.deleted);
  sl_merge_fini(x->o->st, &mg);
  json_decref(prev);
  sl_table_info_fini(&target);
  sl_buf_fini(&this_rel);
  sl_buf_fini(&sel);
  sl_free(sql);
  sl_free(inputs);
  sl_free(summary);
  sl_free(reader);
  sl_free(qualified);
  res->seconds = (double)(sl_time_mono_ns() - t0) / 1e9;
  return rc;
}
