/* catalog_opts.c: the catalog's options table. */
#include "catalog/catalog_opts.h"

#include <stddef.h>

const struct sl_cfg_section sl_catalog_section = {
    "catalog",
    (const struct sl_opt[]){
        {"url", SL_OPT_STR, offsetof(struct sl_catalog_opts, url), "sqlite:.sluice/catalog.db", 0, -1, NULL,
         "Catalog of tables and snapshots: `sqlite:PATH` (a file, relative to the project).", 0},
        {NULL, 0, 0, NULL, 0, 0, NULL, NULL, 0},
    },
    "The catalog: namespaces, tables, schema versions, snapshots and data files.",
};
