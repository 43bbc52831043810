/* fuzz_model.c: libFuzzer target for what users write beside their SQL: the {{ }}
 * expressions of a model file, and the checks: YAML. Errors must be well formed
 * (naming the file) and nothing may crash or leak. */
#include "check/check.h"
#include "core/config.h"
#include "core/mem.h"
#include "transform/transform.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = sl_malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  struct sl_err err = {0};
  struct sl_tpl_part *parts = NULL;
  size_t n = 0;
  if (sl_tpl_scan("m.sql", text, &parts, &n, &err) == 0) sl_tpl_parts_free(parts, n);
  else if (strncmp(err.msg, "m.sql:", 6) && err.code != SL_ENOMEM) abort();
  sl_free(text);

  struct sl_cfg_doc doc;
  if (sl_cfg_parse("c.yml", (const char *)data, size, &doc, &err) != 0) return 0;
  struct sl_checks cs = {0};
  if (sl_checks_load_node(&doc, sl_cfg_get(doc.root, "checks"), &cs, &err) != 0 && strncmp(err.msg, "c.yml", 5) &&
      err.code != SL_ENOMEM)
    abort();
  sl_checks_fini(&cs);
  sl_cfg_doc_fini(&doc);
  return 0;
}
