/* fuzz_config.c: libFuzzer target for the sluice.yaml loader: parse arbitrary bytes,
 * fill every section of a project from them, and check the error is well formed. */
#include "cli/project.h"
#include "core/config.h"
#include "core/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct sl_cfg_doc doc;
  struct sl_err err = {0};
  if (sl_cfg_parse("fuzz.yaml", (const char *)data, size, &doc, &err) != 0) {
    if (strncmp(err.msg, "fuzz.yaml", 9) != 0 && err.code != SL_ENOMEM) abort();
    return 0;
  }
  /* The last section (sources.NAME) repeats per source: it is filled below. */
  for (size_t s = 1; s + 1 < sl_project_n_sections; s++) {
    const struct sl_cfg_section *sec = sl_project_sections[s];
    union {
      struct sl_lake_opts lake;
      struct sl_catalog_opts cat;
      struct sl_sql_opts sql;
      struct sl_ingest_opts ingest;
      struct sl_log_opts log;
      struct sl_build_cfg build;
      struct sl_server_opts server;
      struct sl_log_cfg topics;
    } u;
    memset(&u, 0, sizeof u);
    if (sl_cfg_fill(&doc, sl_cfg_get(doc.root, sec->name), sec, &u, &err) != 0 && strncmp(err.msg, "fuzz.yaml", 9) &&
        strncmp(err.msg, "environment", 11))
      abort();
    sl_cfg_section_fini(sec, &u);
  }
  struct sl_cdc_sources srcs;
  if (sl_cdc_sources_load(&doc, sl_cfg_get(doc.root, "sources"), &srcs, &err) != 0 && strncmp(err.msg, "fuzz.yaml", 9) &&
      strncmp(err.msg, "environment", 11) && strncmp(err.msg, "source ", 7))
    abort();
  sl_cdc_sources_fini(&srcs);
  sl_cfg_doc_fini(&doc);
  return 0;
}
