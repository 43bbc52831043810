/* cdc.h: PostgreSQL sources: batch load of tables into bronze, and change data
 * capture over logical replication (pgoutput) into Debezium-compatible events.
 * Sources are declared under `sources:` in sluice.yaml, one map per source name. */
#ifndef SL_CDC_CDC_H
#define SL_CDC_CDC_H

#include "catalog/catalog.h"
#include "core/config.h"
#include "ingest/ingest.h"
#include "lake/lake.h"
#include "sql/duck.h"

#include <stdint.h>

struct sl_cdc_source {
  char *name;          /* the key under sources: */
  int type;            /* 0: postgres */
  char *url;           /* postgresql://user@host:port/db (no password here) */
  char *password;      /* secret: from SLUICE_SOURCES_<NAME>_PASSWORD or password_file */
  char *password_file;
  struct sl_strlist tables; /* schema.table, or table (schema public) */
  char *slot, *publication;
  int snapshot_mode;   /* enum sl_cdc_snapshot_mode */
  int64_t chunk_rows;  /* rows per primary-key chunk of a batch load */
  int64_t parallel;    /* connections copying chunks at once */
  int64_t heartbeat_ms;
  char *topic_prefix;  /* Debezium topic prefix (topic.prefix) */
  char *table_prefix;  /* prefix of bronze table names */
};

enum sl_cdc_snapshot_mode { SL_SNAP_INITIAL, SL_SNAP_NEVER, SL_SNAP_ALWAYS, SL_SNAP_INITIAL_ONLY };

extern const struct sl_cfg_section sl_cdc_source_section;

struct sl_cdc_sources {
  struct sl_cdc_source *v;
  size_t n;
};

/* Fills sources from the `sources:` node of sluice.yaml (may be NULL). */
int sl_cdc_sources_load(const struct sl_cfg_doc *doc, const struct sl_cfg_node *node, struct sl_cdc_sources *out,
                        struct sl_err *err);
void sl_cdc_sources_fini(struct sl_cdc_sources *s);
const struct sl_cdc_source *sl_cdc_source_find(const struct sl_cdc_sources *s, const char *name);

struct sl_cdc_load_req {
  const struct sl_cdc_source *src;
  const char *table;   /* one schema.table, or NULL for all of the source's tables */
  const char *where;   /* a SQL condition for a partial load, or NULL */
  const char *staging; /* folder for temporary files */
  enum sl_ingest_mode mode;
  int progress;
  volatile int *cancel;
};

struct sl_cdc_load_table {
  char *pg_table;   /* schema.table */
  char *lake_table; /* ns.table */
  struct sl_ingest_result res;
};

/* Copies the source's tables (each in primary-key chunks, `parallel` at a time, all in
 * one exported snapshot) into bronze, one lake snapshot per table. */
int sl_cdc_load(struct sl_catalog *cat, struct sl_store *st, const struct sl_duck_opts *dopts,
                const struct sl_ingest_opts *iopts, const struct sl_cdc_load_req *req,
                struct sl_cdc_load_table **out, size_t *n_out, struct sl_err *err);
void sl_cdc_load_tables_free(struct sl_cdc_load_table *t, size_t n);

#endif
