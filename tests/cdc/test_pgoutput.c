/* test_pgoutput.c: the pgoutput decoder on hand-built messages (every message type,
 * TOAST, key and full old rows, relation changes), truncated and hostile input, and
 * the Debezium rendering of values. SL_WRITE_CORPUS=DIR also writes the messages as
 * the fuzz corpus. */
#include "test.h"

#include "cdc/event.h"
#include "cdc/pgoutput.h"
#include "core/buf.h"
#include "core/mem.h"

#include <stdint.h>

struct msg {
  uint8_t b[4096];
  size_t n;
};

static void p8(struct msg *m, uint8_t v) { m->b[m->n++] = v; }
static void p16(struct msg *m, uint16_t v) { p8(m, (uint8_t)(v >> 8)), p8(m, (uint8_t)v); }
static void p32(struct msg *m, uint32_t v) { p16(m, (uint16_t)(v >> 16)), p16(m, (uint16_t)v); }
static void p64(struct msg *m, uint64_t v) { p32(m, (uint32_t)(v >> 32)), p32(m, (uint32_t)v); }
static void pstr(struct msg *m, const char *s) {
  size_t l = strlen(s) + 1;
  memcpy(m->b + m->n, s, l);
  m->n += l;
}
static void ptext(struct msg *m, const char *s) {
  p8(m, 't');
  p32(m, (uint32_t)strlen(s));
  memcpy(m->b + m->n, s, strlen(s));
  m->n += strlen(s);
}

static struct msg relation_msg(int extra_col) {
  struct msg m = {.n = 0};
  p8(&m, 'R'), p32(&m, 16384), pstr(&m, "public"), pstr(&m, "loan"), p8(&m, 'd');
  p16(&m, (uint16_t)(extra_col ? 4 : 3));
  p8(&m, 1), pstr(&m, "id"), p32(&m, 23), p32(&m, 0xffffffff);
  p8(&m, 0), pstr(&m, "note"), p32(&m, 25), p32(&m, 0xffffffff);
  p8(&m, 0), pstr(&m, "day"), p32(&m, 1082), p32(&m, 0xffffffff);
  if (extra_col) p8(&m, 0), pstr(&m, "score"), p32(&m, 1700), p32(&m, 0xffffffff);
  return m;
}

static void corpus(const char *name, const struct msg *m) {
  const char *dir = getenv("SL_WRITE_CORPUS");
  if (!dir) return;
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) return;
  /* the fuzz target's framing: 2-byte length, then the message */
  uint8_t len[2] = {(uint8_t)(m->n >> 8), (uint8_t)m->n};
  fwrite(len, 1, 2, f);
  fwrite(m->b, 1, m->n, f);
  fclose(f);
}

static void test_transaction(void) {
  struct sl_pgo_decoder d;
  sl_pgo_init(&d);
  struct sl_pgo_msg out;
  struct sl_err err = {0};
  struct msg b = {.n = 0};
  p8(&b, 'B'), p64(&b, 0x1000A0), p64(&b, 1000000), p32(&b, 777);
  CHECK_EQ_INT(sl_pgo_decode(&d, b.b, b.n, &out, &err), 0);
  CHECK(out.type == 'B' && out.lsn == 0x1000A0 && out.xid == 777 && out.ts_us == 1000000);
  corpus("begin", &b);

  struct msg r = relation_msg(0);
  CHECK_EQ_INT(sl_pgo_decode(&d, r.b, r.n, &out, &err), 0);
  CHECK(out.rel && out.rel->n_cols == 3 && !out.rel_changed);
  CHECK_STR(out.rel->schema, "public");
  CHECK_STR(out.rel->cols[2].name, "day");
  CHECK(out.rel->cols[0].key && !out.rel->cols[1].key);
  corpus("relation", &r);

  struct msg i = {.n = 0};
  p8(&i, 'I'), p32(&i, 16384), p8(&i, 'N'), p16(&i, 3), ptext(&i, "42"), p8(&i, 'n'), ptext(&i, "2024-02-29");
  CHECK_EQ_INT(sl_pgo_decode(&d, i.b, i.n, &out, &err), 0);
  CHECK(out.type == 'I' && out.new_tuple && out.new_tuple->n == 3);
  struct sl_buf js;
  sl_buf_init(&js);
  sl_cdc_row_json(&js, out.rel, out.new_tuple);
  CHECK_STR(js.data, "{\"id\":42,\"note\":null,\"day\":19782}");
  sl_buf_reset(&js);
  sl_cdc_key_json(&js, out.rel, out.new_tuple);
  CHECK_STR(js.data, "{\"id\":42}");
  corpus("insert", &i);

  /* an update whose TOASTed text did not change, with the old key */
  struct msg u = {.n = 0};
  p8(&u, 'U'), p32(&u, 16384), p8(&u, 'K'), p16(&u, 3), ptext(&u, "41"), p8(&u, 'n'), p8(&u, 'n');
  p8(&u, 'N'), p16(&u, 3), ptext(&u, "42"), p8(&u, 'u'), ptext(&u, "2024-01-01");
  CHECK_EQ_INT(sl_pgo_decode(&d, u.b, u.n, &out, &err), 0);
  CHECK(out.type == 'U' && out.old_kind == 'K' && out.old_tuple && out.new_tuple);
  sl_buf_reset(&js);
  sl_cdc_row_json(&js, out.rel, out.new_tuple);
  CHECK_STR(js.data, "{\"id\":42,\"note\":\"__debezium_unavailable_value\",\"day\":19723}");
  corpus("update", &u);

  struct msg del = {.n = 0};
  p8(&del, 'D'), p32(&del, 16384), p8(&del, 'O'), p16(&del, 3), ptext(&del, "42"), ptext(&del, "x"), p8(&del, 'n');
  CHECK_EQ_INT(sl_pgo_decode(&d, del.b, del.n, &out, &err), 0);
  CHECK(out.type == 'D' && out.old_kind == 'O' && !out.new_tuple);
  corpus("delete", &del);

  struct msg t = {.n = 0};
  p8(&t, 'T'), p32(&t, 2), p8(&t, 1), p32(&t, 16384), p32(&t, 99);
  CHECK_EQ_INT(sl_pgo_decode(&d, t.b, t.n, &out, &err), 0);
  CHECK(out.type == 'T' && out.n_relids == 2 && out.relids[1] == 99 && out.truncate_flags == 1);
  corpus("truncate", &t);

  struct msg mm = {.n = 0};
  p8(&mm, 'M'), p8(&mm, 1), p64(&mm, 5), pstr(&mm, "app"), p32(&mm, 3), memcpy(mm.b + mm.n, "hey", 3), mm.n += 3;
  CHECK_EQ_INT(sl_pgo_decode(&d, mm.b, mm.n, &out, &err), 0);
  CHECK(out.type == 'M' && out.transactional && out.content_len == 3 && !memcmp(out.content, "hey", 3));
  CHECK_STR(out.name, "app");
  corpus("message", &mm);

  struct msg o = {.n = 0};
  p8(&o, 'O'), p64(&o, 9), pstr(&o, "upstream");
  CHECK_EQ_INT(sl_pgo_decode(&d, o.b, o.n, &out, &err), 0);
  CHECK_STR(out.name, "upstream");

  struct msg y = {.n = 0};
  p8(&y, 'Y'), p32(&y, 70000), pstr(&y, "public"), pstr(&y, "mood");
  CHECK_EQ_INT(sl_pgo_decode(&d, y.b, y.n, &out, &err), 0);
  CHECK(out.type_oid == 70000);
  CHECK_STR(out.name, "mood");

  struct msg c = {.n = 0};
  p8(&c, 'C'), p8(&c, 0), p64(&c, 0x1000A0), p64(&c, 0x1000F0), p64(&c, 1000000);
  CHECK_EQ_INT(sl_pgo_decode(&d, c.b, c.n, &out, &err), 0);
  CHECK(out.type == 'C' && out.end_lsn == 0x1000F0);
  corpus("commit", &c);

  /* a column added upstream: the relation is re-sent with 4 columns */
  struct msg r2 = relation_msg(1);
  CHECK_EQ_INT(sl_pgo_decode(&d, r2.b, r2.n, &out, &err), 0);
  CHECK(out.rel_changed && out.rel->n_cols == 4);
  sl_buf_fini(&js);
  sl_pgo_fini(&d);
}

static void test_bad_input(void) {
  struct sl_pgo_decoder d;
  sl_pgo_init(&d);
  struct sl_pgo_msg out;
  struct sl_err err = {0};
  struct msg r = relation_msg(0);
  /* every truncation of a valid relation message is refused, never over-read */
  for (size_t n = 0; n < r.n; n++) {
    CHECK_EQ_INT(sl_pgo_decode(&d, r.b, n, &out, &err), SL_EDATA);
  }
  CHECK_CONTAINS(err.msg, "pgoutput message 'R'");
  struct msg i = {.n = 0};
  p8(&i, 'I'), p32(&i, 5), p8(&i, 'N'), p16(&i, 1), ptext(&i, "1");
  CHECK_EQ_INT(sl_pgo_decode(&d, i.b, i.n, &out, &err), SL_EDATA);
  CHECK_CONTAINS(err.msg, "never described");
  sl_pgo_decode(&d, r.b, r.n, &out, &err);
  struct msg w = {.n = 0};
  p8(&w, 'I'), p32(&w, 16384), p8(&w, 'N'), p16(&w, 2), ptext(&w, "1"), ptext(&w, "x");
  CHECK_EQ_INT(sl_pgo_decode(&d, w.b, w.n, &out, &err), SL_EDATA);
  CHECK_CONTAINS(err.msg, "another number of columns");
  struct msg huge = {.n = 0};
  p8(&huge, 'I'), p32(&huge, 16384), p8(&huge, 'N'), p16(&huge, 65535);
  CHECK_EQ_INT(sl_pgo_decode(&d, huge.b, huge.n, &out, &err), SL_EDATA);
  struct msg len = {.n = 0};
  p8(&len, 'I'), p32(&len, 16384), p8(&len, 'N'), p16(&len, 3), p8(&len, 't'), p32(&len, 0x7fffffff);
  CHECK_EQ_INT(sl_pgo_decode(&d, len.b, len.n, &out, &err), SL_EDATA);
  struct msg tr = {.n = 0};
  p8(&tr, 'T'), p32(&tr, 0x40000000), p8(&tr, 0);
  CHECK_EQ_INT(sl_pgo_decode(&d, tr.b, tr.n, &out, &err), SL_EDATA);
  struct msg x = {.n = 0};
  p8(&x, 'Z');
  CHECK_EQ_INT(sl_pgo_decode(&d, x.b, x.n, &out, &err), SL_EDATA);
  CHECK_CONTAINS(err.msg, "unknown message type");
  struct msg extra = {.n = 0};
  p8(&extra, 'O'), p64(&extra, 1), pstr(&extra, "o"), p8(&extra, 0);
  CHECK_EQ_INT(sl_pgo_decode(&d, extra.b, extra.n, &out, &err), SL_EDATA);
  CHECK_CONTAINS(err.msg, "left over");
  sl_pgo_fini(&d);
}

static void value(uint32_t oid, const char *text, const char *want) {
  struct sl_buf b;
  sl_buf_init(&b);
  struct sl_pgo_value v = {.kind = 't', .len = (uint32_t)strlen(text), .data = text};
  sl_cdc_value_json(&b, oid, &v);
  CHECK_STR(b.data, want);
  sl_buf_fini(&b);
}

/* numeric under each decimal_handling; typmod -1: no declared scale. */
static void dec(int32_t typmod, int mode, const char *text, const char *want) {
  struct sl_buf b;
  sl_buf_init(&b);
  struct sl_pgo_column col = {.name = "n", .type_oid = 1700, .typmod = typmod};
  struct sl_pgo_value v = {.kind = 't', .len = (uint32_t)strlen(text), .data = text};
  sl_cdc_value_json_mode(&b, &col, &v, mode);
  CHECK_STR(b.data, want);
  sl_buf_fini(&b);
}

static void test_decimals(void) {
  int32_t n10_2 = (10 << 16 | 2) + 4;
  dec(n10_2, SL_DEC_STRING, "12.50", "\"12.50\"");
  dec(-1, SL_DEC_STRING, "-0.000001", "\"-0.000001\"");
  dec(n10_2, SL_DEC_DOUBLE, "12.50", "12.5");
  dec(-1, SL_DEC_DOUBLE, "0.1", "0.1");
  dec(-1, SL_DEC_DOUBLE, "-3", "-3");
  dec(-1, SL_DEC_DOUBLE, "12345678901234567890.5", "1.2345678901234567e+19");
  /* precise: Kafka Connect's Decimal, base64 of the unscaled value as Java's
   * BigInteger.toByteArray (big-endian two's complement, shortest) */
  dec(n10_2, SL_DEC_PRECISE, "12.34", "\"BNI=\"");
  dec(n10_2, SL_DEC_PRECISE, "-12.34", "\"+y4=\"");
  dec(n10_2, SL_DEC_PRECISE, "0.00", "\"AA==\"");
  dec(n10_2, SL_DEC_PRECISE, "1.28", "\"AIA=\"");
  dec(n10_2, SL_DEC_PRECISE, "-1.28", "\"gA==\"");
  dec(n10_2, SL_DEC_PRECISE, "-1.29", "\"/38=\"");
  dec((38 << 16 | 0) + 4, SL_DEC_PRECISE, "1000000000000000000000000000007", "\"DJ8snNBGdO3qQAAABw==\"");
  /* no declared scale: Debezium's VariableScaleDecimal */
  dec(-1, SL_DEC_PRECISE, "12.345", "{\"scale\":3,\"value\":\"MDk=\"}");
  dec(-1, SL_DEC_PRECISE, "-128", "{\"scale\":0,\"value\":\"gA==\"}");
  for (int m = SL_DEC_STRING; m <= SL_DEC_PRECISE; m++) dec(-1, m, "NaN", "\"NaN\"");
  /* arrays of numeric follow the mode */
  struct sl_buf b;
  sl_buf_init(&b);
  struct sl_pgo_column col = {.name = "a", .type_oid = 1231, .typmod = -1};
  struct sl_pgo_value v = {.kind = 't', .len = 10, .data = "{1.5,NULL}"};
  sl_cdc_value_json_mode(&b, &col, &v, SL_DEC_STRING);
  CHECK_STR(b.data, "[\"1.5\",null]");
  sl_buf_reset(&b);
  sl_cdc_value_json_mode(&b, &col, &v, SL_DEC_DOUBLE);
  CHECK_STR(b.data, "[1.5,null]");
  sl_buf_fini(&b);
}

static void test_values(void) {
  value(16, "t", "true");
  value(16, "f", "false");
  value(20, "-9223372036854775808", "-9223372036854775808");
  value(701, "1.5e+300", "1.5e+300");
  value(701, "NaN", "\"NaN\"");
  value(1700, "12345678901234567890.123456789", "\"12345678901234567890.123456789\"");
  value(1082, "1970-01-02", "1");
  value(1082, "1969-12-31", "-1");
  value(1082, "infinity", "\"infinity\"");
  value(1083, "13:14:15.5", "47655500000");
  value(1114, "2024-01-01 10:00:00", "1704103200000000");
  value(1114, "2024-01-01 10:00:00.123456", "1704103200123456");
  value(1184, "2024-01-01 10:00:00+02", "\"2024-01-01T08:00:00Z\"");
  value(1184, "2024-01-01 10:00:00.5-01:30", "\"2024-01-01T11:30:00.500000Z\"");
  value(17, "\\x0102ff", "\"AQL/\"");
  value(17, "\\x", "\"\"");
  value(1007, "{1,2,NULL,-3}", "[1,2,null,-3]");
  value(1009, "{a,\"b c\",\"q\\\"t\",NULL}", "[\"a\",\"b c\",\"q\\\"t\",null]");
  value(1007, "{{1,2},{3,4}}", "[[1,2],[3,4]]");
  value(2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
  value(3802, "{\"k\": [1, 2]}", "\"{\\\"k\\\": [1, 2]}\"");
  char l[32];
  sl_cdc_lsn_text(0x16B374D848ULL, l);
  CHECK_STR(l, "16/B374D848");
  uint64_t v;
  CHECK(sl_cdc_lsn_parse("16/B374D848", &v) == 0 && v == 0x16B374D848ULL);
  CHECK(sl_cdc_lsn_parse("16/xyz", &v) != 0);
}

int main(void) {
  TEST_RUN(test_transaction);
  TEST_RUN(test_bad_input);
  TEST_RUN(test_values);
  TEST_RUN(test_decimals);
  return TEST_DONE();
}
