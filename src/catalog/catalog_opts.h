/* catalog_opts.h: the catalog's section of sluice.yaml. */
#ifndef SL_CATALOG_OPTS_H
#define SL_CATALOG_OPTS_H

#include "core/config.h"

struct sl_catalog_opts {
  char *url; /* "sqlite:PATH" (relative to the project) */
};
extern const struct sl_cfg_section sl_catalog_section;

#endif
