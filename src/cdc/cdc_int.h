/* cdc_int.h: what the CDC stream's pieces share. */
#ifndef SL_CDC_INT_H
#define SL_CDC_INT_H

#include "cdc/cdc.h"
#include "cdc/pg.h"
#include "cdc/pgoutput.h"

/* Where events go. write() gets complete envelope lines of one transaction (or one
 * snapshot batch); sync() makes everything written durable and is called before an LSN
 * is confirmed to PostgreSQL. */
struct sl_cdc_sink {
  const char *name;
  int (*write)(struct sl_cdc_sink *s, const char *data, size_t len, struct sl_err *err);
  int (*sync)(struct sl_cdc_sink *s, struct sl_err *err);
  void (*close)(struct sl_cdc_sink *s);
  void *impl;
};

/* "jsonl" (stdout) or "jsonl:FILE" (appended to FILE). */
int sl_cdc_sink_open(const char *spec, struct sl_cdc_sink *out, struct sl_err *err);

/* A relation built from a table's description, for snapshot rows. */
int sl_cdc_relation_of(const struct sl_pg_table *t, struct sl_pgo_relation *out);
void sl_cdc_relation_fini(struct sl_pgo_relation *r);

#endif
