/* cdc.h: PostgreSQL sources: batch load of tables into bronze, and change data
 * capture over logical replication (pgoutput) into Debezium-compatible events.
 * Sources are declared under `sources:` in sluice.yaml, one map per source name. */
#ifndef SL_CDC_CDC_H
#define SL_CDC_CDC_H

#include "catalog/catalog.h"
#include "core/config.h"
#include "ingest/ingest.h"
#include "lake/lake.h"
#include "log/log.h"
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
  char *heartbeat_table; /* schema.table sluice upserts into when the captured tables are idle */
  char *heartbeat_query; /* or a statement of the user's (Debezium's heartbeat.action.query) */
  int decimal_handling;  /* enum sl_cdc_decimal (cdc/event.h): numeric values in envelopes */
  char *topic_prefix;  /* Debezium topic prefix (topic.prefix) */
  char *table_prefix;  /* prefix of bronze table names */
  int cdc;             /* `sluice up` runs a reader for it */
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

/* The lake a table sink writes to. */
struct sl_cdc_lake {
  struct sl_catalog *cat;
  struct sl_store *store;
  const struct sl_duck_opts *dopts;
  const struct sl_ingest_opts *iopts;
  const char *staging;   /* folder for batch files */
  int64_t batch_events;  /* while the stream is busy, commit after this many events ... */
  int64_t batch_ms;      /* ... or this long after the first pending one; idle: at once */
};

struct sl_cdc_run_opts {
  const struct sl_cdc_source *src;
  const char *to;        /* sink: "table" (the lake), "topics", "jsonl" (stdout) or "jsonl:FILE" */
  const struct sl_cdc_lake *lake; /* for "table" (and the batch sizes of "topics") */
  struct sl_log *log;    /* for "topics" */
  const char *state_dir; /* where the marker of a completed initial snapshot is kept */
  int64_t max_events;    /* stop after this many events, at a transaction's end; 0: no limit */
  int64_t idle_exit_ms;  /* stop once caught up and idle this long; 0: run until stopped */
  volatile int *stop;    /* set from a signal handler to stop cleanly */
};

struct sl_cdc_run_stats {
  int64_t events, snapshot_rows, transactions, reconnects;
  uint64_t flushed_lsn; /* the last LSN confirmed to PostgreSQL */
};

/* Captures the source's tables: creates or reuses the publication and the slot, takes
 * the initial snapshot the snapshot mode asks for (events op "r", consistent with the
 * slot), then streams changes. An LSN is confirmed to PostgreSQL only after the sink
 * made everything up to it durable. Reconnects with backoff when the connection drops;
 * stops with an error that says what to do when it cannot go on. */
int sl_cdc_run(const struct sl_cdc_run_opts *o, struct sl_cdc_run_stats *st, struct sl_err *err);

/* Where a source's replication slot stands (values as PostgreSQL prints them; NULL
 * when unknown). error says why the rest is missing (cannot connect, no slot yet). */
struct sl_cdc_slot_status {
  int reached;  /* connected and queried */
  int exists;   /* the slot exists */
  int active;   /* a reader is attached: 1, 0, or -1 unknown */
  char *confirmed_lsn, *lag_bytes, *lag_seconds, *wal_status, *error;
};
void sl_cdc_slot_status_get(const struct sl_cdc_source *s, struct sl_cdc_slot_status *out);
void sl_cdc_slot_status_fini(struct sl_cdc_slot_status *st);

#endif
