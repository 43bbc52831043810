/* event.h: change events as Debezium envelopes. A row's values arrive in PostgreSQL's
 * text form (from pgoutput or from a snapshot query) and are rendered the way
 * Debezium's PostgreSQL connector does by default: integers and floats as numbers,
 * booleans, dates as days since the epoch, timestamps as microseconds, timestamptz as
 * ISO-8601 UTC text, bytea as base64, arrays as JSON arrays, numeric as a JSON number
 * with PostgreSQL's exact digits, unchanged TOAST values as Debezium's placeholder. */
#ifndef SL_CDC_EVENT_H
#define SL_CDC_EVENT_H

#include "cdc/pgoutput.h"
#include "core/buf.h"

#include <stdint.h>

#define SL_CDC_TOAST_PLACEHOLDER "__debezium_unavailable_value"
#define SL_CDC_VERSION "2.7.0.sluice"

struct sl_cdc_event_src {
  const char *name;     /* topic prefix (Debezium's topic.prefix / server name) */
  const char *db;
  const char *snapshot; /* "false", "true", "first", "last" */
  int64_t ts_ms;        /* commit time */
  int64_t tx_id;        /* -1: null */
  uint64_t lsn;         /* 0: null */
  uint64_t commit_lsn;  /* the transaction's commit record (0 for snapshot rows) */
};

/* Appends the JSON value of one column (kind 'n', 'u' or 't'). */
int sl_cdc_value_json(struct sl_buf *b, uint32_t type_oid, const struct sl_pgo_value *v);
/* Appends a row as a JSON object of the relation's columns. */
int sl_cdc_row_json(struct sl_buf *b, const struct sl_pgo_relation *rel, const struct sl_pgo_tuple *t);
/* Appends the key: the relation's key columns of t as a JSON object. */
int sl_cdc_key_json(struct sl_buf *b, const struct sl_pgo_relation *rel, const struct sl_pgo_tuple *t);
/* Appends one envelope: {"before","after","source","op","ts_ms","transaction"}. */
int sl_cdc_envelope(struct sl_buf *b, const struct sl_cdc_event_src *src, const struct sl_pgo_relation *rel, char op,
                    const struct sl_pgo_tuple *before, const struct sl_pgo_tuple *after, int64_t now_ms);
/* PostgreSQL's "X/Y" text form of an LSN, and back. */
void sl_cdc_lsn_text(uint64_t lsn, char out[32]);
int sl_cdc_lsn_parse(const char *s, uint64_t *lsn);

#endif
