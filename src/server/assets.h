/* assets.h: the web UI's files, embedded in the binary at build time by
 * src/server/embed_ui.cmake (every file under ui/ except tests/ and node_modules/):
 * no file is read at run time, so the UI works offline and nothing outside it can be
 * served. */
#ifndef SL_SERVER_ASSETS_H
#define SL_SERVER_ASSETS_H

#include <stddef.h>

struct sl_asset {
  const char *path;         /* relative to ui/, e.g. "index.html", "js/app.js" */
  const unsigned char *data;
  size_t len;
  const char *content_type;
  const char *etag;         /* quoted, from the content's SHA-256 */
};

extern const struct sl_asset sl_ui_assets[];
extern const size_t sl_ui_n_assets;

const struct sl_asset *sl_asset_find(const char *path);

#endif
