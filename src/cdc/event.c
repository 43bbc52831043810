/* event.c: PostgreSQL text values to Debezium JSON, and the envelope around them. */
#include "cdc/event.h"

#include "core/mem.h"
#include "core/time.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_OID = 26, OID_FLOAT4 = 700,
  OID_FLOAT8 = 701, OID_DATE = 1082, OID_TIME = 1083, OID_TIMESTAMP = 1114, OID_TIMESTAMPTZ = 1184,
  OID_NUMERIC = 1700
};

/* Element type of the array types sluice renders as JSON arrays (0: not an array). */
static uint32_t array_elem(uint32_t oid) {
  switch (oid) {
  case 1000: return OID_BOOL;
  case 1005: return OID_INT2;
  case 1007: return OID_INT4;
  case 1016: return OID_INT8;
  case 1021: return OID_FLOAT4;
  case 1022: return OID_FLOAT8;
  case 1231: return OID_NUMERIC;
  case 1182: return OID_DATE;
  case 1009: case 1015: case 1014: case 2951: case 199: case 3807: return 25; /* text-like */
  default: return 0;
  }
}

static int days_from_civil(int y, int m, int d, int64_t *out) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  *out = era * 146097 + doe - 719468;
  return 0;
}

/* "2024-01-31" -> days; "13:14:15.5" -> us; both strict, -1 when not that form
 * (infinity, BC dates ...: rendered as strings instead). */
static int parse_date(const char *s, size_t n, int64_t *days) {
  int y, m, d, used = 0;
  char tmp[32];
  if (n >= sizeof tmp) return -1;
  memcpy(tmp, s, n);
  tmp[n] = 0;
  if (sscanf(tmp, "%d-%d-%d%n", &y, &m, &d, &used) != 3 || used != (int)n) return -1;
  return days_from_civil(y, m, d, days);
}

static int parse_time_us(const char *s, size_t n, int64_t *us, size_t *used_out) {
  int h, mi, sec, used = 0;
  char tmp[40];
  if (n >= sizeof tmp) return -1;
  memcpy(tmp, s, n);
  tmp[n] = 0;
  if (sscanf(tmp, "%2d:%2d:%2d%n", &h, &mi, &sec, &used) != 3) return -1;
  int64_t frac = 0, scale = 100000;
  if (tmp[used] == '.') {
    used++;
    while (isdigit((unsigned char)tmp[used])) {
      if (scale) frac += (tmp[used] - '0') * scale;
      scale /= 10;
      used++;
    }
  }
  *us = ((int64_t)h * 3600 + mi * 60 + sec) * 1000000 + frac;
  *used_out = (size_t)used;
  return 0;
}

/* "2024-01-01 10:00:00.25[+02[:30]]" -> us since the epoch (UTC when an offset is given). */
static int parse_ts(const char *s, size_t n, int with_tz, int64_t *us) {
  const char *sp = memchr(s, ' ', n);
  if (!sp) return -1;
  int64_t days, t;
  size_t used;
  if (parse_date(s, (size_t)(sp - s), &days) || parse_time_us(sp + 1, n - (size_t)(sp + 1 - s), &t, &used)) return -1;
  const char *rest = sp + 1 + used;
  size_t rn = n - (size_t)(rest - s);
  int64_t off = 0;
  if (rn) {
    if (!with_tz || (rest[0] != '+' && rest[0] != '-')) return -1;
    int oh = 0, om = 0, os = 0;
    char tmp[16];
    if (rn >= sizeof tmp) return -1;
    memcpy(tmp, rest + 1, rn - 1);
    tmp[rn - 1] = 0;
    if (sscanf(tmp, "%d:%d:%d", &oh, &om, &os) < 1) return -1;
    off = (rest[0] == '-' ? -1 : 1) * ((int64_t)oh * 3600 + om * 60 + os);
  }
  *us = days * 86400000000LL + t - off * 1000000;
  return 0;
}

static int put_str_n(struct sl_buf *b, const char *s, size_t n) {
  char *tmp = sl_strndup(s, n);
  if (!tmp) return SL_ENOMEM;
  int rc = sl_buf_json_str(b, tmp);
  sl_free(tmp);
  return rc;
}

static int is_json_number(const char *s, size_t n) {
  size_t i = 0;
  if (i < n && s[i] == '-') i++;
  if (i >= n || !isdigit((unsigned char)s[i])) return 0;
  if (s[i] == '0' && i + 1 < n && isdigit((unsigned char)s[i + 1])) return 0;
  while (i < n && isdigit((unsigned char)s[i])) i++;
  if (i < n && s[i] == '.') {
    i++;
    if (i >= n || !isdigit((unsigned char)s[i])) return 0;
    while (i < n && isdigit((unsigned char)s[i])) i++;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    if (i >= n || !isdigit((unsigned char)s[i])) return 0;
    while (i < n && isdigit((unsigned char)s[i])) i++;
  }
  return i == n;
}

static int base64_of_hex(struct sl_buf *b, const char *s, size_t n) {
  if (n < 2 || s[0] != '\\' || s[1] != 'x' || (n - 2) % 2) return put_str_n(b, s, n);
  size_t nb = (n - 2) / 2;
  unsigned char *raw = sl_malloc(nb + 1);
  if (!raw) return SL_ENOMEM;
  for (size_t i = 0; i < nb; i++) {
    char hx[3] = {s[2 + 2 * i], s[3 + 2 * i], 0};
    raw[i] = (unsigned char)strtoul(hx, NULL, 16);
  }
  sl_buf_putc(b, '"');
  sl_buf_base64(b, raw, nb);
  sl_free(raw);
  return sl_buf_putc(b, '"');
}

static int scalar_json(struct sl_buf *b, uint32_t oid, const char *s, size_t n, int dec, int fixed);

/* PostgreSQL's array literal {a,"b c",NULL,{nested}} to a JSON array. */
static int array_json(struct sl_buf *b, uint32_t elem, const char *s, size_t n, int dec, int fixed) {
  if (n < 2 || s[0] != '{' || s[n - 1] != '}') return put_str_n(b, s, n);
  sl_buf_putc(b, '[');
  size_t i = 1, count = 0;
  struct sl_buf item;
  sl_buf_init(&item);
  while (i < n - 1) {
    if (count) {
      if (s[i] != ',') break;
      i++;
      sl_buf_putc(b, ',');
    }
    count++;
    if (s[i] == '{') { /* a nested array: find its end */
      size_t depth = 0, j = i;
      int inq = 0;
      for (; j < n - 1; j++) {
        if (s[j] == '"' && s[j - 1] != '\\') inq = !inq;
        if (inq) continue;
        if (s[j] == '{') depth++;
        if (s[j] == '}' && --depth == 0) break;
      }
      array_json(b, elem, s + i, j - i + 1, dec, fixed);
      i = j + 1;
      continue;
    }
    sl_buf_reset(&item);
    int quoted = s[i] == '"';
    if (quoted) {
      i++;
      while (i < n - 1 && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < n - 1) i++;
        sl_buf_putc(&item, s[i++]);
      }
      i++;
    } else {
      while (i < n - 1 && s[i] != ',') sl_buf_putc(&item, s[i++]);
    }
    const char *v = item.data ? item.data : "";
    if (!quoted && !strcmp(v, "NULL")) sl_buf_puts(b, "null");
    else scalar_json(b, elem, v, strlen(v), dec, fixed);
  }
  sl_buf_fini(&item);
  return sl_buf_putc(b, ']');
}

/* numeric under decimal_handling: "12.50", 12.5, or Kafka Connect's Decimal (base64
 * of the unscaled value as big-endian two's complement, as Java's BigInteger
 * toByteArray) and, without a declared scale, Debezium's {"scale","value"}. */
static int numeric_json(struct sl_buf *b, const char *s, size_t n, int dec, int fixed) {
  if (!is_json_number(s, n)) return put_str_n(b, s, n); /* NaN, Infinity */
  if (dec == SL_DEC_STRING) return put_str_n(b, s, n);
  if (dec == SL_DEC_DOUBLE) {
    char tmp[64], out[40];
    if (n >= sizeof tmp) return put_str_n(b, s, n);
    memcpy(tmp, s, n);
    tmp[n] = 0;
    double d = strtod(tmp, NULL);
    for (int prec = 15; prec <= 17; prec++) { /* the shortest text that reads back the same double */
      snprintf(out, sizeof out, "%.*g", prec, d);
      if (strtod(out, NULL) == d) break;
    }
    if (!is_json_number(out, strlen(out))) return put_str_n(b, out, strlen(out)); /* out of double's range */
    return sl_buf_puts(b, out);
  }
  int neg = s[0] == '-', scale = 0, frac = 0;
  /* Magnitude as little-endian bytes, from the digits (the decimal point dropped). */
  size_t cap = n / 2 + 2, len = 0;
  unsigned char *m = sl_calloc(cap, 1);
  if (!m) return SL_ENOMEM;
  for (size_t i = neg; i < n; i++) {
    if (s[i] == '.') {
      frac = 1;
      continue;
    }
    unsigned carry = (unsigned)(s[i] - '0');
    scale += frac;
    for (size_t k = 0; k < len; k++) {
      unsigned v = m[k] * 10u + carry;
      m[k] = (unsigned char)(v & 0xff);
      carry = v >> 8;
    }
    if (carry) m[len++] = (unsigned char)carry;
  }
  /* Big-endian two's complement, shortest form. */
  unsigned char *be = sl_calloc(len + 2, 1);
  if (!be) {
    sl_free(m);
    return SL_ENOMEM;
  }
  size_t bl = 0;
  if (!neg || !len) {
    if (!len || m[len - 1] & 0x80) be[bl++] = 0;
    for (size_t k = len; k-- > 0;) be[bl++] = m[k];
  } else {
    unsigned carry = 1;
    for (size_t k = 0; k < len; k++) { /* ~m + 1, little-endian */
      unsigned v = (unsigned char)~m[k] + carry;
      m[k] = (unsigned char)(v & 0xff);
      carry = v >> 8;
    }
    if (!(m[len - 1] & 0x80)) be[bl++] = 0xff;
    for (size_t k = len; k-- > 0;) be[bl++] = m[k];
  }
  sl_free(m);
  if (!fixed) sl_buf_printf(b, "{\"scale\":%d,\"value\":", scale);
  sl_buf_putc(b, '"');
  sl_buf_base64(b, be, bl);
  sl_free(be);
  sl_buf_putc(b, '"');
  return fixed ? 0 : sl_buf_putc(b, '}');
}

static int scalar_json(struct sl_buf *b, uint32_t oid, const char *s, size_t n, int dec, int fixed) {
  int64_t v;
  switch (oid) {
  case OID_BOOL: return sl_buf_puts(b, n && s[0] == 't' ? "true" : "false");
  case OID_NUMERIC: return numeric_json(b, s, n, dec, fixed);
  case OID_INT2: case OID_INT4: case OID_INT8: case OID_OID:
  case OID_FLOAT4: case OID_FLOAT8:
    if (is_json_number(s, n)) return sl_buf_append(b, s, n);
    return put_str_n(b, s, n); /* NaN, Infinity */
  case OID_DATE:
    if (!parse_date(s, n, &v)) return sl_buf_printf(b, "%" PRId64, v);
    return put_str_n(b, s, n);
  case OID_TIME: {
    size_t used;
    if (!parse_time_us(s, n, &v, &used) && used == n) return sl_buf_printf(b, "%" PRId64, v);
    return put_str_n(b, s, n);
  }
  case OID_TIMESTAMP:
    if (!parse_ts(s, n, 0, &v)) return sl_buf_printf(b, "%" PRId64, v);
    return put_str_n(b, s, n);
  case OID_TIMESTAMPTZ:
    if (!parse_ts(s, n, 1, &v)) {
      int64_t secs = v / 1000000 - (v % 1000000 < 0), us = v - secs * 1000000;
      char iso[48];
      sl_time_iso8601(secs * 1000, iso, sizeof iso); /* "...T..:..:...000Z" */
      iso[19] = 0;
      if (us) return sl_buf_printf(b, "\"%s.%06" PRId64 "Z\"", iso, us);
      return sl_buf_printf(b, "\"%sZ\"", iso);
    }
    return put_str_n(b, s, n);
  case OID_BYTEA: return base64_of_hex(b, s, n);
  default: {
    uint32_t e = array_elem(oid);
    if (e) return array_json(b, e, s, n, dec, fixed);
    return put_str_n(b, s, n);
  }
  }
}

static int value_json(struct sl_buf *b, uint32_t oid, int32_t typmod, const struct sl_pgo_value *v, int dec) {
  if (v->kind == 'n') return sl_buf_puts(b, "null");
  if (v->kind == 'u') return sl_buf_json_str(b, SL_CDC_TOAST_PLACEHOLDER);
  return scalar_json(b, oid, v->data ? v->data : "", v->len, dec, typmod >= 4);
}

int sl_cdc_value_json(struct sl_buf *b, uint32_t oid, const struct sl_pgo_value *v) {
  return value_json(b, oid, -1, v, SL_DEC_STRING);
}

int sl_cdc_value_json_mode(struct sl_buf *b, const struct sl_pgo_column *col, const struct sl_pgo_value *v, int decimal) {
  return value_json(b, col->type_oid, col->typmod, v, decimal);
}

int sl_cdc_row_json(struct sl_buf *b, const struct sl_pgo_relation *rel, const struct sl_pgo_tuple *t) {
  return sl_cdc_row_json_mode(b, rel, t, SL_DEC_STRING);
}

int sl_cdc_key_json(struct sl_buf *b, const struct sl_pgo_relation *rel, const struct sl_pgo_tuple *t) {
  return sl_cdc_key_json_mode(b, rel, t, SL_DEC_STRING);
}

int sl_cdc_row_json_mode(struct sl_buf *b, const struct sl_pgo_relation *rel, const struct sl_pgo_tuple *t, int decimal) {
  sl_buf_putc(b, '{');
  for (uint16_t i = 0; i < rel->n_cols && i < t->n; i++) {
    if (i) sl_buf_putc(b, ',');
    sl_buf_json_str(b, rel->cols[i].name);
    sl_buf_putc(b, ':');
    sl_cdc_value_json_mode(b, &rel->cols[i], &t->v[i], decimal);
  }
  return sl_buf_putc(b, '}');
}

int sl_cdc_key_json_mode(struct sl_buf *b, const struct sl_pgo_relation *rel, const struct sl_pgo_tuple *t, int decimal) {
  sl_buf_putc(b, '{');
  int first = 1;
  for (uint16_t i = 0; i < rel->n_cols && i < t->n; i++) {
    if (!rel->cols[i].key) continue;
    if (!first) sl_buf_putc(b, ',');
    first = 0;
    sl_buf_json_str(b, rel->cols[i].name);
    sl_buf_putc(b, ':');
    sl_cdc_value_json_mode(b, &rel->cols[i], &t->v[i], decimal);
  }
  return sl_buf_putc(b, '}');
}

int sl_cdc_envelope(struct sl_buf *b, const struct sl_cdc_event_src *src, const struct sl_pgo_relation *rel, char op,
                    const struct sl_pgo_tuple *before, const struct sl_pgo_tuple *after, int64_t now_ms) {
  sl_buf_puts(b, "{\"before\":");
  if (before) sl_cdc_row_json_mode(b, rel, before, src->decimal);
  else sl_buf_puts(b, "null");
  sl_buf_puts(b, ",\"after\":");
  if (after) sl_cdc_row_json_mode(b, rel, after, src->decimal);
  else sl_buf_puts(b, "null");
  sl_buf_puts(b, ",\"source\":{\"version\":\"" SL_CDC_VERSION "\",\"connector\":\"postgresql\",\"name\":");
  sl_buf_json_str(b, src->name);
  sl_buf_printf(b, ",\"ts_ms\":%" PRId64 ",\"snapshot\":", src->ts_ms);
  sl_buf_json_str(b, src->snapshot);
  sl_buf_puts(b, ",\"db\":");
  sl_buf_json_str(b, src->db);
  /* Debezium's sequence: a JSON string holding ["<last commit lsn>","<lsn>"]. */
  sl_buf_puts(b, ",\"sequence\":\"[");
  if (src->last_commit_lsn) sl_buf_printf(b, "\\\"%" PRIu64 "\\\"", src->last_commit_lsn);
  else sl_buf_puts(b, "null");
  if (src->lsn) sl_buf_printf(b, ",\\\"%" PRIu64 "\\\"]\"", src->lsn);
  else sl_buf_puts(b, ",null]\"");
  sl_buf_puts(b, ",\"schema\":");
  sl_buf_json_str(b, rel->schema);
  sl_buf_puts(b, ",\"table\":");
  sl_buf_json_str(b, rel->name);
  if (src->tx_id >= 0) sl_buf_printf(b, ",\"txId\":%" PRId64, src->tx_id);
  else sl_buf_puts(b, ",\"txId\":null");
  if (src->lsn) sl_buf_printf(b, ",\"lsn\":%" PRIu64, src->lsn);
  else sl_buf_puts(b, ",\"lsn\":null");
  sl_buf_printf(b, ",\"xmin\":null},\"op\":\"%c\",\"ts_ms\":%" PRId64 ",\"transaction\":null}", op, now_ms);
  return b->data ? 0 : SL_ENOMEM;
}

void sl_cdc_lsn_text(uint64_t lsn, char out[32]) {
  snprintf(out, 32, "%X/%X", (unsigned)(lsn >> 32), (unsigned)(lsn & 0xffffffffu));
}

int sl_cdc_lsn_parse(const char *s, uint64_t *lsn) {
  unsigned hi, lo;
  int used = 0;
  if (sscanf(s, "%X/%X%n", &hi, &lo, &used) != 2 || s[used]) return -1;
  *lsn = (uint64_t)hi << 32 | lo;
  return 0;
}
