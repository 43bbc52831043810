/* api_ops.c: the operations pages' API: CDC sources and their slots (what `sluice
 * status` shows), check results (audit.check_results), build runs (audit.build_runs),
 * the lineage DAG (as `sluice lineage --format json`), and /metrics. */
#include "server/server_int.h"

#include "cdc/cdc.h"
#include "cli/models.h"
#include "cli/project.h"
#include "core/mem.h"
#include "core/metrics.h"

#include <stdlib.h>
#include <string.h>

void sl_api_cdc(struct sl_req *r) {
  const struct sl_cdc_sources *ss = &r->srv->p->sources;
  json_t *arr = json_array();
  for (size_t i = 0; i < ss->n; i++) {
    const struct sl_cdc_source *s = &ss->v[i];
    struct sl_cdc_slot_status st;
    sl_cdc_slot_status_get(s, &st);
    json_t *tables = json_array();
    for (size_t k = 0; k < s->tables.n; k++) json_array_append_new(tables, json_string(s->tables.v[k]));
    json_t *src = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:o}", "name", s->name, "slot", s->slot, "publication",
                            s->publication, "plugin", "pgoutput", "tables", tables, "reached", st.reached, "active",
                            st.active < 0 ? json_null() : json_boolean(st.active));
    json_object_set_new(src, "confirmed_lsn", st.confirmed_lsn ? json_string(st.confirmed_lsn) : json_null());
    json_object_set_new(src, "lag_bytes", st.lag_bytes ? json_integer(strtoll(st.lag_bytes, NULL, 10)) : json_null());
    json_object_set_new(src, "lag_seconds", st.lag_seconds ? json_real(strtod(st.lag_seconds, NULL)) : json_null());
    json_object_set_new(src, "wal_status", st.wal_status ? json_string(st.wal_status) : json_null());
    json_object_set_new(src, "error", st.error ? json_string(st.error) : json_null());
    json_array_append_new(arr, src);
    sl_cdc_slot_status_fini(&st);
  }
  sl_req_json(r, 200, json_pack("{s:o}", "sources", arr));
}

void sl_cdc_metrics_collect(void *arg) {
  struct sl_server *srv = arg;
  const struct sl_cdc_sources *ss = &srv->p->sources;
  for (size_t i = 0; i < ss->n; i++) {
    struct sl_cdc_slot_status st;
    sl_cdc_slot_status_get(&ss->v[i], &st);
    char esc[200], labels[256];
    sl_metric_label_escape(ss->v[i].name, esc, sizeof esc);
    snprintf(labels, sizeof labels, "source=\"%s\"", esc);
    if (st.lag_bytes) sl_metric_gauge_set("sluice_cdc_lag_bytes", labels, strtod(st.lag_bytes, NULL));
    /* No walsender lag while no reader is attached: the slot is not moving. */
    sl_metric_gauge_set("sluice_cdc_lag_seconds", labels, st.lag_seconds ? strtod(st.lag_seconds, NULL) : 0);
    sl_metric_gauge_set("sluice_cdc_slot_active", labels, st.active > 0);
    sl_cdc_slot_status_fini(&st);
  }
}

/* Runs q in a lake session and answers the rows as objects named by the query's
 * columns (nothing if the audit table does not exist yet: an empty list). */
static json_t *audit_rows(struct sl_req *r, const char *table, const char *q, struct sl_err *err) {
  struct sl_session ss;
  if (sl_session_open(r->srv, NULL, 0, &ss, err)) return NULL;
  struct sl_table_info t = {0};
  int rc = sl_catalog_table_get(ss.cat, "audit", table, &t, err);
  sl_table_info_fini(&t);
  sl_session_close(r->srv, &ss);
  if (rc == SL_ENOTFOUND) {
    sl_err_clear(err);
    return json_array();
  }
  if (rc || sl_session_open(r->srv, NULL, 1, &ss, err)) return NULL;
  struct sl_duck_result res = {0};
  duckdb_type *types = NULL;
  json_t *arr = NULL;
  if (!sl_session_query(r->srv, &ss, q, 0, r->srv->o->query_timeout_ms, &res, &types, err)) {
    arr = json_array();
    int64_t nc = sl_duck_result_cols(&res), nr = sl_duck_result_rows(&res);
    for (int64_t i = 0; i < nr; i++) {
      json_t *o = json_object();
      for (int64_t c = 0; c < nc; c++)
        json_object_set_new(o, sl_duck_result_name(&res, c), sl_json_cell(&res, c, i, types ? types[c] : DUCKDB_TYPE_VARCHAR));
      json_array_append_new(arr, o);
    }
  }
  sl_free(types);
  sl_duck_result_fini(&res);
  ss.reusable = 1;
  sl_session_close(r->srv, &ss);
  return arr;
}

void sl_api_checks(struct sl_req *r) {
  int64_t limit = sl_req_int(r, "limit", 200, 100000);
  if (limit < 0) return;
  char *q = sl_asprintf("SELECT run_id, epoch_ms(checked_at) AS time_ms, table_name AS \"table\", check_name AS \"check\","
                        " kind, columns AS \"column\", severity, status, failing, total, observed, message"
                        " FROM audit.check_results ORDER BY checked_at DESC, table_name, check_name LIMIT %lld",
                        (long long)limit);
  struct sl_err err = {0};
  json_t *rows = q ? audit_rows(r, "check_results", q, &err) : NULL;
  sl_free(q);
  if (!rows) return sl_req_fail(r, &err);
  sl_req_json(r, 200, json_pack("{s:o}", "results", rows));
}

void sl_api_builds(struct sl_req *r) {
  int64_t limit = sl_req_int(r, "limit", 20, 10000);
  if (limit < 0) return;
  char *q = sl_asprintf("WITH runs AS (SELECT run_id, max(finished_at) AS f FROM audit.build_runs GROUP BY run_id"
                        " ORDER BY f DESC LIMIT %lld)"
                        " SELECT b.run_id, epoch_ms(runs.f) AS finished_ms, b.model, split_part(b.\"table\", '.', 1) AS namespace,"
                        " b.how AS materialized, b.rows, round(b.seconds * 1000, 3)::DOUBLE AS ms, b.status,"
                        " b.snapshot_id, b.message"
                        " FROM audit.build_runs b JOIN runs USING (run_id) ORDER BY runs.f DESC, b.run_id, b.model",
                        (long long)limit);
  struct sl_err err = {0};
  json_t *rows = q ? audit_rows(r, "build_runs", q, &err) : NULL;
  sl_free(q);
  if (!rows) return sl_req_fail(r, &err);
  /* Group the model rows into runs, keeping the newest-first order. */
  json_t *runs = json_array(), *run = NULL;
  size_t i;
  json_t *row;
  json_array_foreach(rows, i, row) {
    const char *id = json_string_value(json_object_get(row, "run_id"));
    if (!run || strcmp(json_string_value(json_object_get(run, "run_id")), id ? id : "")) {
      run = json_pack("{s:s, s:n, s:O, s:s, s:[]}", "run_id", id ? id : "", "started_ms", "finished_ms",
                      json_object_get(row, "finished_ms"), "status", "ok", "models");
      json_array_append_new(runs, run);
    }
    const char *st = json_string_value(json_object_get(row, "status"));
    if (st && (!strcmp(st, "failed") || !strcmp(st, "checks failed"))) json_object_set_new(run, "status", json_string("failed"));
    json_object_del(row, "run_id");
    json_object_del(row, "finished_ms");
    json_array_append(json_object_get(run, "models"), row);
  }
  json_decref(rows);
  sl_req_json(r, 200, json_pack("{s:o}", "runs", runs));
}

void sl_api_lineage(struct sl_req *r) {
  struct sl_err err = {0};
  struct sl_models ms = {0};
  struct sl_checks cs = {0};
  /* Model loading reads the catalog through the project's handle: one at a time. */
  static pthread_mutex_t models_mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&models_mu);
  int rc = sl_cli_models_load(r->srv->p, &ms, &cs, &err);
  pthread_mutex_unlock(&models_mu);
  if (rc) return sl_req_fail(r, &err);
  struct sl_buf b;
  sl_buf_init(&b);
  sl_cli_lineage_json(&ms, &cs, &b);
  sl_models_fini(&ms);
  sl_checks_fini(&cs);
  json_t *j = b.data ? json_loads(b.data, 0, NULL) : NULL;
  sl_buf_fini(&b);
  if (!j) return sl_req_error(r, 500, "internal error: the lineage is not valid JSON");
  sl_req_json(r, 200, j);
}

void sl_api_metrics(struct sl_req *r) {
  char *text = sl_metrics_render();
  if (!text) return sl_req_error(r, 500, "out of memory rendering the metrics");
  sl_free(r->out);
  r->out = text;
  r->out_len = strlen(text);
  r->status = 200;
  r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
