/* api_lake.c: the lake browser's API: health, tables, one table's schema and size,
 * its snapshots, and a paged preview of its rows at any snapshot (time travel). Every
 * answer comes from the catalog and DuckDB at the time of the request. */
#include "server/server_int.h"

#include "cli/project.h"
#include "core/mem.h"
#include "core/time.h"

#include <string.h>

void sl_api_health(struct sl_req *r) {
  struct sl_server *s = r->srv;
  sl_req_json(r, 200,
              json_pack("{s:s, s:s, s:s, s:I, s:b}", "status", "ok", "version", SL_VERSION, "project",
                        s->p->name ? s->p->name : "", "uptime_s", (json_int_t)((sl_time_now_ms() - s->start_ms) / 1000),
                        "auth", s->token != NULL));
}

/* The current snapshot's record of t in *snap (zeroed when it has none). */
static int current_snapshot(struct sl_catalog *cat, const struct sl_table_info *t, struct sl_snapshot *snap,
                            struct sl_err *err) {
  memset(snap, 0, sizeof *snap);
  return t->current_snapshot ? sl_catalog_snapshot_get(cat, t->table_id, t->current_snapshot, snap, err) : 0;
}

static const char *kind_of(const struct sl_snapshot *snap) {
  return snap->summary_json && strstr(snap->summary_json, "\"view-sql\"") ? "view" : "table";
}

static json_t *table_json(struct sl_catalog *cat, const struct sl_table_info *t, struct sl_err *err) {
  struct sl_snapshot cur;
  if (current_snapshot(cat, t, &cur, err)) return NULL;
  /* A view has no files: its rows are not counted (null, not 0). */
  int view = !strcmp(kind_of(&cur), "view");
  json_t *j = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:I, s:I, s:s}", "namespace", t->ns, "name", t->name,
                        "snapshot_id", (json_int_t)t->current_snapshot, "rows", view ? json_null() : json_integer(t->rows),
                        "bytes", view ? json_null() : json_integer(t->bytes), "files",
                        view ? json_null() : json_integer(t->files), "created_ms", (json_int_t)t->created_ms,
                        "updated_ms", (json_int_t)(cur.snapshot_id ? cur.ts_ms : t->created_ms), "kind", kind_of(&cur));
  sl_snapshot_fini(&cur);
  return j;
}

void sl_api_tables(struct sl_req *r) {
  struct sl_err err = {0};
  struct sl_session ss;
  if (sl_session_open(r->srv, NULL, 0, &ss, &err)) return sl_req_fail(r, &err);
  struct sl_table_info *ts = NULL;
  size_t nt = 0;
  const char *ns = sl_query_get(&r->q, "namespace");
  if (sl_catalog_table_list(ss.cat, ns && *ns ? ns : NULL, &ts, &nt, &err)) {
    sl_session_close(r->srv, &ss);
    return sl_req_fail(r, &err);
  }
  json_t *arr = json_array();
  for (size_t i = 0; i < nt; i++) {
    json_t *t = table_json(ss.cat, &ts[i], &err);
    if (!t) break;
    json_array_append_new(arr, t);
  }
  char **nss = NULL;
  size_t nn = 0;
  json_t *jns = json_array();
  if (!err.code && !sl_catalog_ns_list(ss.cat, &nss, &nn, &err))
    for (size_t i = 0; i < nn; i++) json_array_append_new(jns, json_string(nss[i]));
  sl_str_list_free(nss, nn);
  sl_table_list_free(ts, nt);
  sl_session_close(r->srv, &ss);
  if (err.code) {
    json_decref(arr);
    json_decref(jns);
    return sl_req_fail(r, &err);
  }
  sl_req_json(r, 200, json_pack("{s:o, s:o}", "tables", arr, "namespaces", jns));
}

/* Looks up {ns}/{table}; answers 404 (and returns -1) if it does not exist. */
static int get_table(struct sl_req *r, struct sl_catalog *cat, struct sl_table_info *t) {
  struct sl_err err = {0};
  const char *ns = sl_route_param(&r->m, "ns"), *name = sl_route_param(&r->m, "table");
  if (!sl_catalog_name_valid(ns) || !sl_catalog_name_valid(name)) {
    sl_req_error(r, 400, "'%s.%s' is not a table name: names are letters, digits and _, not starting with a digit", ns,
                 name);
    return -1;
  }
  if (sl_catalog_table_get(cat, ns, name, t, &err)) {
    if (err.code == SL_ENOTFOUND) sl_req_error(r, 404, "no table %s.%s; GET /api/tables lists them", ns, name);
    else sl_req_fail(r, &err);
    return -1;
  }
  return 0;
}

/* Opens a session (as sl_session_open) and finds the route's table in it.
 * -1: the request has its answer and the session is closed. */
static int open_table(struct sl_req *r, const struct sl_sql_asof *asof, int with_duck, struct sl_session *ss,
                      struct sl_table_info *t) {
  struct sl_err err = {0};
  if (sl_session_open(r->srv, asof, with_duck, ss, &err)) {
    sl_req_fail(r, &err);
    return -1;
  }
  if (get_table(r, ss->cat, t)) {
    sl_session_close(r->srv, ss);
    return -1;
  }
  return 0;
}

void sl_api_table(struct sl_req *r) {
  struct sl_err err = {0};
  struct sl_session ss;
  struct sl_table_info t = {0};
  if (open_table(r, NULL, 0, &ss, &t)) return;
  json_t *j = table_json(ss.cat, &t, &err);
  struct sl_schema sch = {0};
  if (j && t.schema_id && sl_catalog_schema_get(ss.cat, t.table_id, t.schema_id, &sch, &err)) {
    json_decref(j);
    j = NULL;
  }
  if (j) {
    json_t *cols = json_array();
    for (size_t i = 0; i < sch.n_cols; i++)
      json_array_append_new(cols, json_pack("{s:i, s:s, s:s, s:b}", "id", sch.cols[i].field_id, "name", sch.cols[i].name,
                                            "type", sch.cols[i].type, "nullable", sch.cols[i].nullable));
    json_object_set_new(j, "columns", cols);
    json_object_set_new(j, "schema_id", json_integer(t.schema_id));
  }
  sl_schema_fini(&sch);
  sl_table_info_fini(&t);
  sl_session_close(r->srv, &ss);
  if (!j) return sl_req_fail(r, &err);
  sl_req_json(r, 200, j);
}

void sl_api_snapshots(struct sl_req *r) {
  struct sl_err err = {0};
  struct sl_session ss;
  struct sl_table_info t = {0};
  if (open_table(r, NULL, 0, &ss, &t)) return;
  struct sl_snapshot *list = NULL;
  size_t n = 0;
  int rc = sl_catalog_snapshot_list(ss.cat, t.table_id, &list, &n, &err);
  json_t *arr = json_array();
  /* The catalog lists oldest first; the API newest first. */
  for (size_t k = n; !rc && k-- > 0;) {
    const struct sl_snapshot *sn = &list[k];
    json_t *sum = sn->summary_json ? json_loads(sn->summary_json, 0, NULL) : NULL;
    json_array_append_new(arr, json_pack("{s:I, s:o, s:I, s:s, s:I, s:I, s:o, s:o}", "id", (json_int_t)sn->snapshot_id,
                                         "parent", sn->parent_id ? json_integer(sn->parent_id) : json_null(), "time_ms",
                                         (json_int_t)sn->ts_ms, "operation", sn->operation ? sn->operation : "",
                                         "rows", (json_int_t)sn->rows, "schema_id", (json_int_t)sn->schema_id,
                                         "expired_ms", sn->expired_ms ? json_integer(sn->expired_ms) : json_null(),
                                         "summary", sum ? sum : json_object()));
  }
  sl_snapshot_list_free(list, n);
  sl_table_info_fini(&t);
  sl_session_close(r->srv, &ss);
  if (rc) {
    json_decref(arr);
    return sl_req_fail(r, &err);
  }
  sl_req_json(r, 200, json_pack("{s:o}", "snapshots", arr));
}

void sl_api_preview(struct sl_req *r) {
  struct sl_server *s = r->srv;
  int64_t limit = sl_req_int(r, "limit", 50, s->o->query_row_limit);
  if (limit < 0) return;
  int64_t offset = sl_req_int(r, "offset", 0, INT64_MAX / 2);
  if (offset < 0) return;
  struct sl_err err = {0};
  struct sl_sql_asof asof = {0};
  const char *as_of = sl_query_get(&r->q, "as_of");
  if (as_of && *as_of && sl_sql_asof_parse(as_of, &asof, &err)) {
    sl_req_error(r, 400, "as_of: %s", err.msg);
    return;
  }
  struct sl_session ss;
  struct sl_table_info t = {0};
  if (open_table(r, &asof, 1, &ss, &t)) return;
  /* The snapshot read: the table's last one at or before the as-of point. */
  int64_t snap = t.current_snapshot;
  if (asof.snapshot_id || asof.ts_ms) {
    struct sl_snapshot *list = NULL;
    size_t n = 0;
    snap = 0;
    if (!sl_catalog_snapshot_list(ss.cat, t.table_id, &list, &n, &err))
      for (size_t i = 0; i < n; i++)
        if (asof.snapshot_id ? list[i].snapshot_id <= asof.snapshot_id : list[i].ts_ms <= asof.ts_ms)
          snap = list[i].snapshot_id;
    sl_snapshot_list_free(list, n);
  }
  if (!snap) {
    sl_req_error(r, 404, "table %s.%s has no data as of %s; GET its /snapshots for the ones it has", t.ns, t.name,
                 as_of && *as_of ? as_of : "now");
    sl_table_info_fini(&t);
    sl_session_close(r->srv, &ss);
    return;
  }
  struct sl_buf rel, q;
  sl_buf_init(&rel);
  sl_buf_init(&q);
  sl_buf_sql_ident(&rel, t.ns);
  sl_buf_putc(&rel, '.');
  sl_buf_sql_ident(&rel, t.name);
  sl_buf_printf(&q, "SELECT * FROM %s LIMIT %lld OFFSET %lld", rel.data, (long long)limit, (long long)offset);
  struct sl_duck_result res = {0};
  duckdb_type *types = NULL;
  int64_t total = 0;
  char *count_q = sl_asprintf("SELECT count(*) FROM %s", rel.data);
  int rc = count_q ? sl_duck_query_int(ss.d, count_q, &total, &err) : sl_err_set(&err, SL_ENOMEM, "out of memory");
  sl_free(count_q);
  if (!rc) rc = sl_session_query(s, &ss, q.data, 0, s->o->query_timeout_ms, &res, &types, &err);
  if (rc) {
    sl_req_fail(r, &err);
  } else {
    int64_t nr = sl_duck_result_rows(&res);
    json_t *cols, *rows;
    sl_json_result(&res, types, nr, &cols, &rows);
    char *qualified = sl_asprintf("%s.%s", t.ns, t.name);
    sl_req_json(r, 200,
                json_pack("{s:s, s:I, s:o, s:o, s:I, s:I, s:I}", "table", qualified ? qualified : "", "snapshot_id", (json_int_t)snap,
                          "columns", cols, "rows", rows, "total", (json_int_t)total, "offset", (json_int_t)offset,
                          "limit", (json_int_t)limit));
    sl_free(qualified);
  }
  sl_free(types);
  sl_duck_result_fini(&res);
  sl_buf_fini(&rel);
  sl_buf_fini(&q);
  sl_table_info_fini(&t);
  ss.reusable = 1; /* only our own SELECTs ran */
  sl_session_close(r->srv, &ss);
}
