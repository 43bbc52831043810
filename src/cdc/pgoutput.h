/* pgoutput.h: a decoder for PostgreSQL's built-in logical replication output plugin
 * (pgoutput, protocol version 1): Begin, Commit, Origin, Relation, Type, Insert,
 * Update, Delete, Truncate and Message. The decoder keeps the relations (tables) it has
 * been told about; a DML message refers to one. Values stay in pgoutput's text form and
 * point into the message buffer, valid until the next call. Malformed input returns
 * SL_EDATA naming what was wrong and the offset; it never reads past the buffer. */
#ifndef SL_CDC_PGOUTPUT_H
#define SL_CDC_PGOUTPUT_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

struct sl_pgo_column {
  char *name;
  uint32_t type_oid;
  int32_t typmod;
  int key; /* part of the replica identity */
};

struct sl_pgo_relation {
  uint32_t relid;
  char *schema, *name;
  char replident; /* 'd' default, 'n' nothing, 'f' full, 'i' index */
  uint16_t n_cols;
  struct sl_pgo_column *cols;
};

/* kind: 'n' null, 'u' unchanged TOAST value (not sent), 't' text, 'b' binary */
struct sl_pgo_value {
  char kind;
  uint32_t len;
  const char *data;
};

struct sl_pgo_tuple {
  uint16_t n;
  struct sl_pgo_value *v;
  size_t cap;
};

struct sl_pgo_msg {
  char type; /* 'B','C','O','R','Y','I','U','D','T','M' */
  uint64_t lsn;        /* Begin: final LSN; Commit: commit LSN; Origin, Message: LSN */
  uint64_t end_lsn;    /* Commit */
  int64_t ts_us;       /* Begin/Commit: commit time, microseconds since 2000-01-01 */
  uint32_t xid;        /* Begin */
  const struct sl_pgo_relation *rel; /* R, I, U, D */
  int rel_changed;     /* R: the relation existed with other columns */
  char old_kind;       /* U, D: 'K' key columns, 'O' whole old row, 0 none */
  struct sl_pgo_tuple *old_tuple, *new_tuple;
  uint32_t n_relids;   /* T */
  const uint32_t *relids;
  int truncate_flags;  /* T: 1 cascade, 2 restart identity */
  const char *name;    /* O: origin name; M: prefix; Y: type name */
  const char *type_schema; /* Y */
  uint32_t type_oid;   /* Y */
  int transactional;   /* M */
  const char *content; /* M */
  uint32_t content_len;
};

struct sl_pgo_decoder {
  struct sl_pgo_relation *rels;
  size_t n_rels, cap_rels;
  struct sl_pgo_tuple old_t, new_t;
  uint32_t *relids;
  size_t cap_relids;
  char *strs[3]; /* strings of the last message (origin, prefix, type names) */
};

void sl_pgo_init(struct sl_pgo_decoder *d);
void sl_pgo_fini(struct sl_pgo_decoder *d);
int sl_pgo_decode(struct sl_pgo_decoder *d, const uint8_t *buf, size_t len, struct sl_pgo_msg *out, struct sl_err *err);
const struct sl_pgo_relation *sl_pgo_relation(const struct sl_pgo_decoder *d, uint32_t relid);

#endif
