/* cdc_int.h: what the CDC stream's pieces share. */
#ifndef SL_CDC_INT_H
#define SL_CDC_INT_H

#include "cdc/cdc.h"
#include "cdc/pg.h"
#include "cdc/pgoutput.h"

/* Where events go. event() gets each change of the open transaction (or of a snapshot
 * batch); boundary() is called at each transaction's end (end_lsn) and when idle
 * (end_lsn 0): the sink may make what it holds durable, and sets *durable to the LSN
 * up to which everything it was given is durable. Only that LSN is ever confirmed to
 * PostgreSQL. force asks the sink to make everything durable now. */
struct sl_cdc_event_src;
struct sl_cdc_sink {
  const char *name;
  int (*event)(struct sl_cdc_sink *s, const struct sl_cdc_event_src *es, const struct sl_pgo_relation *rel, char op,
               const struct sl_pgo_tuple *before, const struct sl_pgo_tuple *after, struct sl_err *err);
  int (*boundary)(struct sl_cdc_sink *s, uint64_t end_lsn, int force, uint64_t *durable, struct sl_err *err);
  int (*pending)(struct sl_cdc_sink *s); /* 1 if it holds events not yet durable */
  void (*close)(struct sl_cdc_sink *s);
  void *impl;
};

/* "jsonl" (stdout) or "jsonl:FILE" (appended to FILE). */
int sl_cdc_sink_jsonl_open(const char *spec, struct sl_cdc_sink *out, struct sl_err *err);
/* The lake: bronze.<table>_changes per table, committed in batches. */
int sl_cdc_sink_table_open(const struct sl_cdc_source *src, const struct sl_cdc_lake *lake, struct sl_cdc_sink *out,
                           struct sl_err *err);

/* Topics <topic_prefix>.<schema>.<table> of the log, keyed by primary key; batches
 * as the lake's batch_events/batch_ms say. */
int sl_cdc_sink_topic_open(const struct sl_cdc_source *src, const struct sl_cdc_lake *lake, struct sl_log *log,
                           struct sl_cdc_sink *out, struct sl_err *err);

/* A relation built from a table's description, for snapshot rows. */
int sl_cdc_relation_of(const struct sl_pg_table *t, struct sl_pgo_relation *out);
void sl_cdc_relation_fini(struct sl_pgo_relation *r);

#endif
