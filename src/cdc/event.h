/* event.h: change events as Debezium envelopes. A row's values arrive in PostgreSQL's
 * text form (from pgoutput or from a snapshot query) and are rendered the way
 * Debezium's PostgreSQL connector does by default: integers and floats as numbers,
 * booleans, dates as days since the epoch, timestamps as microseconds, timestamptz as
 * ISO-8601 UTC text, bytea as base64, arrays as JSON arrays, numeric as the source's
 * decimal_handling says (string by default), unchanged TOAST values as Debezium's
 * placeholder. source.sequence is Debezium's ["<last commit lsn>","<lsn>"] as a JSON
 * string; source.xmin and the transaction block are null, as Debezium's defaults. */
#ifndef SL_CDC_EVENT_H
#define SL_CDC_EVENT_H

#include "cdc/pgoutput.h"
#include "core/buf.h"

#include <stdint.h>

#define SL_CDC_TOAST_PLACEHOLDER "__debezium_unavailable_value"
#define SL_CDC_VERSION "2.7.0.sluice"

/* As Debezium's decimal.handling.mode: "12.50" (string), 12.5 (double), or the
 * unscaled value's two's-complement bytes in base64 (precise; {"scale","value"} for a
 * numeric without a declared scale). */
enum sl_cdc_decimal { SL_DEC_STRING, SL_DEC_DOUBLE, SL_DEC_PRECISE };

struct sl_cdc_event_src {
  const char *name;     /* topic prefix (Debezium's topic.prefix / server name) */
  const char *db;
  const char *snapshot; /* "false", "true", "first", "last" */
  int64_t ts_ms;        /* commit time */
  int64_t tx_id;        /* -1: null */
  uint64_t lsn;         /* 0: null */
  uint64_t commit_lsn;  /* the transaction's commit record (0 for snapshot rows) */
  uint64_t last_commit_lsn; /* end of the last transaction before this one (0: null) */
  int decimal;          /* enum sl_cdc_decimal */
};

/* Appends the JSON value of one column (kind 'n', 'u' or 't'); numeric as a string. */
int sl_cdc_value_json(struct sl_buf *b, uint32_t type_oid, const struct sl_pgo_value *v);
/* Appends a row as a JSON object of the relation's columns. */
int sl_cdc_row_json(struct sl_buf *b, const struct sl_pgo_relation *rel, const struct sl_pgo_tuple *t);
/* Appends the key: the relation's key columns of t as a JSON object. */
int sl_cdc_key_json(struct sl_buf *b, const struct sl_pgo_relation *rel, const struct sl_pgo_tuple *t);
/* The same with numeric rendered as decimal (enum sl_cdc_decimal, the source's
 * decimal_handling) says; the column's typmod tells a declared scale from none. */
int sl_cdc_value_json_mode(struct sl_buf *b, const struct sl_pgo_column *col, const struct sl_pgo_value *v, int decimal);
int sl_cdc_row_json_mode(struct sl_buf *b, const struct sl_pgo_relation *rel, const struct sl_pgo_tuple *t, int decimal);
int sl_cdc_key_json_mode(struct sl_buf *b, const struct sl_pgo_relation *rel, const struct sl_pgo_tuple *t, int decimal);
/* Appends one envelope: {"before","after","source","op","ts_ms","transaction"}. */
int sl_cdc_envelope(struct sl_buf *b, const struct sl_cdc_event_src *src, const struct sl_pgo_relation *rel, char op,
                    const struct sl_pgo_tuple *before, const struct sl_pgo_tuple *after, int64_t now_ms);
/* PostgreSQL's "X/Y" text form of an LSN, and back. */
void sl_cdc_lsn_text(uint64_t lsn, char out[32]);
int sl_cdc_lsn_parse(const char *s, uint64_t *lsn);

#endif
