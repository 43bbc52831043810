/* project.h: a sluice project: the folder holding sluice.yaml, its parsed options, and
 * (once opened) its catalog and lake. Commands find it like git finds a repository:
 * --project DIR, else SLUICE_PROJECT, else the current folder or its nearest parent
 * with a sluice.yaml. */
#ifndef SL_CLI_PROJECT_H
#define SL_CLI_PROJECT_H

#include "catalog/catalog.h"
#include "cdc/cdc.h"
#include "catalog/catalog_opts.h"
#include "core/config.h"
#include "ingest/ingest.h"
#include "lake/lake.h"
#include "log/log.h"
#include "sql/sql.h"
#include "server/server.h"
#include "transform/transform.h"

struct sl_log_opts {
  int level;  /* enum sl_log_level */
  int format; /* enum sl_log_format */
};

struct sl_project {
  char *root;        /* absolute */
  char *config_path; /* root/sluice.yaml */
  struct sl_cfg_doc doc;
  char *name;
  struct sl_lake_opts lake;
  struct sl_catalog_opts catalog;
  struct sl_sql_opts sql;
  struct sl_ingest_opts ingest;
  struct sl_build_cfg build;
  struct sl_log_opts logging;
  struct sl_log_cfg log; /* topics */
  struct sl_server_opts server;
  struct sl_cdc_sources sources;
  char *lake_dir;    /* absolute */
  char *catalog_url; /* with an absolute path */
  struct sl_catalog *cat; /* after sl_project_open */
  struct sl_store *store;
};

/* The sections of sluice.yaml, for the reference and `config show`; the last one
 * (sources.NAME) repeats per source and is filled by sl_cdc_sources_load. */
extern const struct sl_cfg_section *const sl_project_sections[];
extern const size_t sl_project_n_sections;

/* Finds and loads the project. dir may be NULL (search from the current folder). */
int sl_project_load(const char *dir, struct sl_project **out, struct sl_err *err);
/* Opens the catalog and the lake store. */
int sl_project_open(struct sl_project *p, struct sl_err *err);
void sl_project_free(struct sl_project *p);
/* DuckDB options from the project's sql section. */
void sl_project_duck_opts(const struct sl_project *p, struct sl_duck_opts *o);
/* The folder of loads' temporary files, <root>/.sluice/staging (new string). */
char *sl_project_staging_dir(const struct sl_project *p);
/* Opens the project's topics log (log.url resolved against the project folder). */
int sl_project_log_open(const struct sl_project *p, struct sl_log **out, struct sl_err *err);

#endif
