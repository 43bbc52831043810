/* assets.c: serving the embedded web UI. GET / is ui/index.html; /ui/<path> is that
 * file; any other path that is not the API's is the client's own routing and gets
 * index.html too, except paths naming a missing file (with an extension), which get
 * 404. Paths were checked by the router already ('..', '.', encoded '/' refused), and
 * only names in the embedded table can be served, so nothing outside ui/ can leak. */
#include "server/assets.h"

#include "server/server_int.h"

#include "core/mem.h"

#include <string.h>

static const char not_built[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>sluice</title></head><body>"
    "<h1>sluice</h1><p>The web UI is not built into this binary (the ui/ folder was empty when it was built). "
    "The JSON API is at <a href=\"/api/health\">/api/health</a> (see docs/api.md) and the metrics at "
    "<a href=\"/metrics\">/metrics</a>.</p></body></html>\n";

const struct sl_asset *sl_asset_find(const char *path) {
  for (size_t i = 0; i < sl_ui_n_assets; i++)
    if (!strcmp(sl_ui_assets[i].path, path)) return &sl_ui_assets[i];
  return NULL;
}

void sl_assets_serve(struct sl_req *r, const char *if_none_match) {
  char **segs = NULL;
  size_t n = 0;
  struct sl_err err = {0};
  if (sl_route_segments(r->path, &segs, &n, &err)) return sl_req_error(r, 400, "bad path: %s", err.msg);
  /* The file asked for, relative to ui/. */
  struct sl_buf rel;
  sl_buf_init(&rel);
  size_t from = n && !strcmp(segs[0], "ui") ? 1 : 0;
  for (size_t i = from; i < n; i++) {
    if (i > from) sl_buf_putc(&rel, '/');
    sl_buf_puts(&rel, segs[i]);
  }
  const char *last = n ? segs[n - 1] : "";
  int names_file = strchr(last, '.') != NULL;
  const struct sl_asset *a = rel.len ? sl_asset_find(rel.data) : NULL;
  sl_buf_fini(&rel);
  sl_route_segments_free(segs, n);
  if (!a && names_file) return sl_req_error(r, 404, "no file %s in the web UI", r->path);
  int is_index = !a;
  if (!a) a = sl_asset_find("index.html");
  if (!a) {
    r->status = 200;
    r->static_data = not_built;
    r->static_len = sizeof not_built - 1;
    r->content_type = "text/html; charset=utf-8";
    r->cache = "no-cache";
    return;
  }
  is_index |= !strcmp(a->path, "index.html");
  r->etag = a->etag;
  /* index.html is revalidated on every load so a new binary's UI shows at once; the
   * other files are addressed from it and cached for an hour. */
  r->cache = is_index ? "no-cache" : "public, max-age=3600";
  r->content_type = a->content_type;
  if (if_none_match && strstr(if_none_match, a->etag)) {
    r->status = 304;
    r->static_data = "";
    r->static_len = 0;
    return;
  }
  r->status = 200;
  r->static_data = a->data;
  r->static_len = a->len;
}
