/* build.c: running the selected models in dependency order. Worker threads take any
 * model whose selected upstream models are done; a failed model (or one whose checks
 * failed) makes everything downstream of it skipped, while independent branches go on.
 * At the end the runs and check results are appended to audit.build_runs and
 * audit.check_results. */
#include "transform/build_int.h"

#include "core/metrics.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/progress.h"
#include "core/time.h"
#include "sql/sql.h"

#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

const struct sl_cfg_section sl_build_section = {
    "build",
    (const struct sl_opt[]){
        {"models", SL_OPT_STR, offsetof(struct sl_build_cfg, models), "models", 0, -1, NULL,
         "Folder of the models (`.sql` files, searched recursively) and their checks (`.yml` files, each with a "
         "top-level `checks:` list).", 0},
        {"default_namespace", SL_OPT_STR, offsetof(struct sl_build_cfg, default_namespace), "silver", 0, -1, NULL,
         "Namespace of a model whose config() names none.", 0},
        {"threads", SL_OPT_INT, offsetof(struct sl_build_cfg, threads), "2", 1, 64, NULL,
         "Models built at the same time (independent ones only).", 0},
        {"quarantine_limit", SL_OPT_INT, offsetof(struct sl_build_cfg, quarantine_limit), "1000", 0, 100000000, NULL,
         "Failing rows kept per failed check in quarantine.<ns>_<table>.", 0},
        {"incremental_file_size", SL_OPT_SIZE, offsetof(struct sl_build_cfg, incremental_file_size), "16MB", 1 << 20,
         (int64_t)1 << 40, NULL,
         "Data file size of incremental models. Their files are sorted by unique_key and a merge rewrites only the "
         "files holding changed keys, so smaller files make incremental builds cheaper (and reads a little slower).",
         0},
        {"merge", SL_OPT_ENUM, offsetof(struct sl_build_cfg, merge), "merge-on-read", 0, -1,
         "merge-on-read|copy-on-write",
         "How incremental builds replace changed rows: `merge-on-read` keeps a data file and writes a small position "
         "delete file hiding its changed rows (readers skip them), rewriting the file only once "
         "`rewrite_deleted_percent` of it would be hidden; `copy-on-write` rewrites every file holding a changed key.",
         0},
        {"rewrite_deleted_percent", SL_OPT_INT, offsetof(struct sl_build_cfg, rewrite_deleted_percent), "20", 0, 100,
         NULL,
         "Merge-on-read: a data file is rewritten without its hidden rows once this percentage of them would be "
         "hidden.",
         0},
        {"pack_small_files", SL_OPT_INT, offsetof(struct sl_build_cfg, pack_small_files), "8", 0, 100000, NULL,
         "An incremental merge also rewrites the model's small files (under a quarter of `incremental_file_size`) "
         "into fewer, once there are this many of them; 0 never packs.",
         0},
        {NULL, 0, 0, NULL, 0, 0, NULL, NULL, 0},
    },
    "Models (`sluice build`) and checks (`sluice check`).",
};

const char *sl_build_status_name(enum sl_build_status s) {
  static const char *const n[] = {"built", "fresh", "failed", "checks failed", "skipped"};
  return s <= SL_BUILD_SKIPPED ? n[s] : "?";
}

void sl_build_phase_log(const char *model, const char *phase, int64_t *t) {
  int64_t now = sl_time_mono_ns();
  if (sl_log_enabled(SL_LOG_DEBUG)) {
    /* faults: the process's minor page faults so far (memory touched the first time,
     * which DuckDB's statements pay for in kernel time). */
    char ms[32], faults[32];
    struct rusage ru;
    snprintf(ms, sizeof ms, "%.1f", (double)(now - *t) / 1e6);
    snprintf(faults, sizeof faults, "%ld", getrusage(RUSAGE_SELF, &ru) ? -1L : (long)ru.ru_minflt);
    sl_log(SL_LOG_DEBUG, "build", "phase", "model", model, "phase", phase, "ms", ms, "faults", faults, NULL);
  }
  *t = now;
}

enum { ST_WAIT, ST_RUNNING, ST_DONE };

struct sched {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct sl_models *ms;
  const struct sl_build_opts *o;
  struct sl_build_result *res;
  unsigned char *picked, *state;
  size_t left;
  int64_t *order; /* per model: the position it finished at */
  size_t finished;
  struct sl_progress bar;
  struct sl_duck *spare; /* a finished worker's session, for recording the runs */
};

struct worker {
  struct sched *s;
  struct sl_duck *d; /* opened for its first model, kept for the next ones */
  struct sl_sql_views views; /* the lake's views d holds */
  struct sl_check_results checks;
  int rc;
  struct sl_err err;
};

/* A model may run when every picked upstream model is done. NULL when none can. */
static int next_model(struct sched *s) {
  for (size_t i = 0; i < s->ms->n; i++) {
    if (!s->picked[i] || s->state[i] != ST_WAIT) continue;
    int ready = 1;
    const struct sl_model *m = &s->ms->v[i];
    for (size_t k = 0; k < m->n_up && ready; k++)
      if (s->picked[m->up[k]] && s->state[m->up[k]] != ST_DONE) ready = 0;
    if (ready) return (int)i;
  }
  return -1;
}

static int upstream_failed(struct sched *s, const struct sl_model *m, const char **who) {
  for (size_t k = 0; k < m->n_up; k++) {
    struct sl_build_model_result *u = &s->res->v[m->up[k]];
    if (s->picked[m->up[k]] && (u->status == SL_BUILD_FAILED || u->status == SL_BUILD_CHECKS_FAILED ||
                                u->status == SL_BUILD_SKIPPED)) {
      *who = u->m->name;
      return 1;
    }
  }
  return 0;
}

static int run_one(struct worker *w, int i, struct sl_catalog *cat) {
  struct sched *s = w->s;
  const struct sl_model *m = &s->ms->v[i];
  struct sl_build_model_result *r = &s->res->v[i];
  const char *who = NULL;
  if (upstream_failed(s, m, &who)) {
    r->status = SL_BUILD_SKIPPED;
    r->message = sl_asprintf("upstream model %s did not build", who);
    return 0;
  }
  struct sl_err e = {0};
  int64_t t = sl_time_mono_ns();
  int rc = 0;
  if (!w->d) {
    rc = sl_duck_open(NULL, s->o->dopts, &w->d, &e);
    sl_build_phase_log(m->name, "open", &t);
  }
  /* Macros first (a view model may call them), then the views of tables upstream
   * models changed since are made again. */
  struct sl_bctx x = {s->o, s->ms, cat, w->d, &w->checks, s->res->run_id};
  if (!rc) rc = sl_transform_session(x.d, s->ms, &e);
  sl_build_phase_log(m->name, "macros", &t);
  if (!rc) rc = sl_sql_attach_again(x.d, cat, s->o->st, &w->views, &e);
  sl_build_phase_log(m->name, "views", &t);
  if (!rc) rc = sl_build_model(&x, m, r, &e);
  if (rc) {
    r->status = SL_BUILD_FAILED;
    r->message = sl_strdup(e.msg);
  } else if (r->status == SL_BUILD_CHECKS_FAILED) {
    size_t nf = 0;
    for (size_t k = r->checks_from; k < r->checks_to; k++)
      nf += w->checks.v[k].status == SL_CHECK_FAIL || w->checks.v[k].status == SL_CHECK_ERROR;
    r->message = sl_asprintf("%zu error-level check%s failed; %lld rows quarantined in quarantine.%s_%s; the table "
                             "is unchanged",
                             nf, nf == 1 ? "" : "s", (long long)r->quarantined, m->ns, m->name);
  }
  return 0;
}

static void *worker_main(void *arg) {
  struct worker *w = arg;
  struct sched *s = w->s;
  struct sl_catalog *cat = NULL;
  w->rc = sl_catalog_open(s->o->catalog_url, &cat, &w->err);
  pthread_mutex_lock(&s->mu);
  for (;;) {
    int i = -1;
    while (s->left && (i = next_model(s)) < 0) pthread_cond_wait(&s->cv, &s->mu);
    if (!s->left) break;
    s->state[i] = ST_RUNNING;
    pthread_mutex_unlock(&s->mu);
    if (w->rc) {
      s->res->v[i].status = SL_BUILD_FAILED;
      s->res->v[i].message = sl_strdup(w->err.msg);
    } else if (s->o->cancel && *s->o->cancel) {
      s->res->v[i].status = SL_BUILD_SKIPPED;
      s->res->v[i].message = sl_strdup("interrupted");
    } else {
      /* Results index into this worker's list; fix them up when merging. */
      run_one(w, i, cat);
    }
    pthread_mutex_lock(&s->mu);
    s->state[i] = ST_DONE;
    s->order[i] = (int64_t)s->finished++;
    s->left--;
    sl_progress_update(&s->bar, (int64_t)s->finished, (int64_t)s->finished);
    pthread_cond_broadcast(&s->cv);
  }
  if (!s->spare) s->spare = w->d, w->d = NULL;
  pthread_mutex_unlock(&s->mu);
  sl_duck_close(w->d);
  w->d = NULL;
  sl_sql_views_fini(&w->views);
  sl_catalog_close(cat);
  return NULL;
}

/* d: a session to use (else one is opened), closed here. */
static int record_runs(const struct sl_build_opts *o, struct sl_build_result *res, struct sl_duck *d,
                       struct sl_err *err) {
  struct sl_catalog *cat = NULL;
  int rc = sl_catalog_open(o->catalog_url, &cat, err);
  if (!rc && !d) rc = sl_duck_open(NULL, o->dopts, &d, err);
  if (!rc) rc = sl_check_record(d, cat, o->st, o->iopts, &res->checks, res->run_id, err);
  struct sl_buf q;
  sl_buf_init(&q);
  sl_buf_puts(&q, "SELECT run_id, now()::TIMESTAMP AS finished_at, model, \"table\", status, how, rows::BIGINT AS rows,"
                  " seconds::DOUBLE AS seconds, snapshot_id::BIGINT AS snapshot_id, message FROM (VALUES ");
  size_t n = 0;
  for (size_t i = 0; i < res->n; i++) {
    const struct sl_build_model_result *r = &res->v[i];
    if (!r->m) continue;
    sl_metric_counter_add_label("sluice_build_models_total", "status", sl_build_status_name(r->status), 1);
    if (n++) sl_buf_puts(&q, ", ");
    sl_buf_putc(&q, '(');
    sl_buf_sql_str(&q, res->run_id);
    sl_buf_puts(&q, ", ");
    sl_buf_sql_str(&q, r->m->name);
    sl_buf_puts(&q, ", ");
    char *t = sl_asprintf("%s.%s", r->m->ns, r->m->name);
    sl_buf_sql_str(&q, t ? t : "");
    sl_free(t);
    sl_buf_printf(&q, ", '%s', ", sl_build_status_name(r->status));
    sl_buf_sql_str(&q, r->how ? r->how : "");
    if (r->m->mat == SL_MAT_VIEW) sl_buf_puts(&q, ", NULL::BIGINT"); /* a view's rows are not counted */
    else sl_buf_printf(&q, ", %lld", (long long)r->rows);
    sl_buf_printf(&q, ", %.6f, %lld, ", r->seconds, (long long)r->snapshot_id);
    if (r->message) sl_buf_sql_str(&q, r->message);
    else sl_buf_puts(&q, "NULL::VARCHAR");
    sl_buf_putc(&q, ')');
  }
  sl_buf_puts(&q, ") AS t(run_id, model, \"table\", status, how, rows, seconds, snapshot_id, message)");
  if (!rc && n) rc = sl_check_append(d, cat, o->st, o->iopts, "audit", "build_runs", q.data, err);
  sl_buf_fini(&q);
  sl_duck_close(d);
  sl_catalog_close(cat);
  return rc;
}

int sl_build_run(struct sl_models *ms, const struct sl_build_opts *o, struct sl_build_result *res, struct sl_err *err) {
  memset(res, 0, sizeof *res);
  int64_t t0 = sl_time_mono_ns();
  if (sl_uuid_v4(res->run_id)) return sl_err_set(err, SL_EIO, "cannot read /dev/urandom for a run id");
  struct sched s = {.ms = ms, .o = o, .res = res};
  s.picked = sl_calloc(ms->n + 1, 1);
  s.state = sl_calloc(ms->n + 1, 1);
  s.order = sl_calloc(ms->n + 1, sizeof *s.order);
  res->v = sl_calloc(ms->n + 1, sizeof *res->v);
  if (!s.picked || !s.state || !s.order || !res->v) {
    sl_free(s.picked);
    sl_free(s.state);
    sl_free(s.order);
    return sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  int rc = sl_models_select(ms, o->select, o->n_select, s.picked, err);
  for (size_t i = 0; i < ms->n; i++) {
    res->v[i].m = s.picked[i] ? &ms->v[i] : NULL;
    s.left += s.picked[i];
  }
  res->n = ms->n;
  int nth = o->threads > 0 ? o->threads : 2;
  struct worker *ws = sl_calloc((size_t)nth, sizeof *ws);
  pthread_t *th = sl_calloc((size_t)nth, sizeof *th);
  if (!rc && (!ws || !th)) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  if (!rc) {
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    sl_progress_begin_count(&s.bar, "build", (int64_t)s.left, "models");
    if (!o->progress) s.bar.enabled = 0;
    int started = 0;
    for (int i = 0; i < nth; i++) {
      ws[i].s = &s;
      if (!pthread_create(&th[i], NULL, worker_main, &ws[i])) started++;
      else ws[i].s = NULL;
    }
    if (!started) worker_main(&ws[0]), ws[0].s = NULL;
    for (int i = 0; i < nth; i++)
      if (ws[i].s) pthread_join(th[i], NULL);
    sl_progress_end(&s.bar, (int64_t)s.finished, (int64_t)s.finished);
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.cv);
    /* Merge each worker's check results, in model order. */
    for (size_t i = 0; i < ms->n && !rc; i++) {
      struct sl_build_model_result *r = &res->v[i];
      if (!r->m || r->checks_to == r->checks_from) {
        r->checks_from = r->checks_to = res->checks.n;
        continue;
      }
      for (int k = 0; k < nth && !rc; k++) {
        struct sl_check_results *wc = &ws[k].checks;
        if (r->checks_to > wc->n || wc->v[r->checks_from].table == NULL) continue;
        char *want = sl_asprintf("%s.%s", r->m->ns, r->m->name);
        int mine = want && !strcmp(wc->v[r->checks_from].table, want);
        sl_free(want);
        if (!mine) continue;
        size_t from = res->checks.n;
        for (size_t j = r->checks_from; j < r->checks_to; j++) {
          if (sl_array_grow(&res->checks.v, &res->checks.cap, res->checks.n + 1, sizeof *res->checks.v)) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            break;
          }
          res->checks.v[res->checks.n++] = wc->v[j];
          memset(&wc->v[j], 0, sizeof wc->v[j]);
        }
        r->checks_to = res->checks.n;
        r->checks_from = from;
        break;
      }
    }
  }
  for (int k = 0; ws && k < nth; k++) sl_check_results_fini(&ws[k].checks);
  sl_free(ws);
  sl_free(th);
  sl_free(s.picked);
  sl_free(s.state);
  sl_free(s.order);
  res->seconds = (double)(sl_time_mono_ns() - t0) / 1e9;
  if (rc) {
    sl_duck_close(s.spare);
    return rc;
  }
  if ((rc = record_runs(o, res, s.spare, err))) sl_err_prefix(err, "recording the build in audit.build_runs: ");
  for (size_t i = 0; !rc && i < res->n; i++)
    if (res->v[i].m && res->v[i].status != SL_BUILD_OK && res->v[i].status != SL_BUILD_FRESH)
      rc = sl_err_set(err, SL_EDATA, "build failed");
  sl_metric_counter_add("sluice_builds_total", rc ? "outcome=\"failed\"" : "outcome=\"ok\"", 1);
  return rc;
}

void sl_build_result_fini(struct sl_build_result *r) {
  for (size_t i = 0; i < r->n; i++) {
    sl_free(r->v[i].how);
    sl_free(r->v[i].message);
  }
  sl_free(r->v);
  sl_check_results_fini(&r->checks);
  memset(r, 0, sizeof *r);
}
