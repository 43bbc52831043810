/* api_ingest.c: POST /api/ingest/{ns}/{table}: the request body is a file (CSV,
 * Parquet or JSON lines). server.c streams it to a file under the project's
 * .sluice/uploads (never held in memory); this handler hands that file to the same
 * ingest as `sluice ingest`, which commits it as one new snapshot of the table (or
 * nothing at all), and the upload file is removed when the request ends. */
#include "server/server_int.h"

#include "cli/project.h"
#include "core/mem.h"
#include "ingest/ingest.h"

#include <string.h>

const char *sl_upload_format(struct sl_req *r) {
  const char *fmt = sl_query_get(&r->q, "format"), *file = sl_query_get(&r->q, "filename");
  enum sl_ingest_format f = SL_FMT_AUTO;
  if (fmt && *fmt) {
    if (sl_ingest_format_parse(fmt, &f)) {
      sl_req_error(r, 400, "format=%.40s is not one of csv, parquet, jsonl", fmt);
      return NULL;
    }
  } else if (file && *file) {
    f = sl_ingest_format_of(file);
  }
  switch (f) {
  case SL_FMT_CSV: return "csv";
  case SL_FMT_PARQUET: return "parquet";
  case SL_FMT_JSONL: return "jsonl";
  default:
    sl_req_error(r, 400, "say what the upload is: ?format=csv|parquet|jsonl (or ?filename= with such an extension)");
    return NULL;
  }
}

void sl_api_ingest(struct sl_req *r) {
  struct sl_server *s = r->srv;
  const char *ns = sl_route_param(&r->m, "ns"), *table = sl_route_param(&r->m, "table");
  const char *mode_s = sl_query_get(&r->q, "mode"), *file = sl_query_get(&r->q, "filename");
  enum sl_ingest_mode mode = SL_INGEST_APPEND;
  if (mode_s && !strcmp(mode_s, "replace")) mode = SL_INGEST_REPLACE;
  else if (mode_s && *mode_s && strcmp(mode_s, "append")) return sl_req_error(r, 400, "mode=%.40s is not append or replace", mode_s);
  if (!sl_catalog_name_valid(ns) || !sl_catalog_name_valid(table))
    return sl_req_error(r, 400, "'%s.%s' is not a table name: names are letters, digits and _, not starting with a digit",
                        ns, table);
  const char *fmt = sl_upload_format(r);
  if (!fmt) return;
  if (r->body_bytes == 0) return sl_req_error(r, 400, "the upload is empty; send the file's bytes as the request body");
  enum sl_ingest_format f = SL_FMT_AUTO;
  sl_ingest_format_parse(fmt, &f);
  struct sl_err err = {0};
  struct sl_session ss;
  if (sl_session_open(s, NULL, 0, &ss, &err)) return sl_req_fail(r, &err);
  struct sl_buf extra;
  sl_buf_init(&extra);
  sl_buf_puts(&extra, "\"source\":");
  char *src = sl_asprintf("upload:%s", file && *file ? file : fmt);
  sl_buf_json_str(&extra, src ? src : "upload");
  sl_free(src);
  struct sl_duck_opts dopts;
  sl_project_duck_opts(s->p, &dopts);
  const char *files[1] = {r->upload_path};
  struct sl_ingest_req req = {.files = files, .n_files = 1, .ns = ns, .table = table, .mode = mode, .format = f,
                              .summary_extra = extra.data};
  struct sl_ingest_result res = {0};
  int rc = sl_ingest_files(ss.cat, s->p->store, &dopts, &s->p->ingest, &req, &res, &err);
  sl_buf_fini(&extra);
  sl_session_close(r->srv, &ss);
  if (rc) {
    /* The upload's temporary name means nothing to the client. */
    return sl_req_fail(r, &err);
  }
  char *qualified = sl_asprintf("%s.%s", ns, table);
  sl_req_json(r, 201,
              json_pack("{s:s, s:I, s:I, s:I, s:I, s:b, s:s}", "table", qualified ? qualified : "", "snapshot_id",
                        (json_int_t)res.snapshot_id, "rows", (json_int_t)res.rows, "bytes_in", (json_int_t)res.bytes_in,
                        "files", (json_int_t)res.files_out, "created", res.created, "mode",
                        mode == SL_INGEST_REPLACE ? "replace" : "append"));
  sl_free(qualified);
}
