/* test_core.c: errors, buffers and quoting, paths, atomic writes, time parsing, human
 * durations. */
#include "test.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/progress.h"
#include "core/time.h"

#include <sys/stat.h>

static void test_err(void) {
  struct sl_err err = {0};
  CHECK_EQ_INT(sl_err_set(&err, SL_EIO, "open %s: %s", "a.csv", "gone"), SL_EIO);
  CHECK_STR(err.msg, "open a.csv: gone");
  sl_err_prefix(&err, "ingest %s: ", "bronze.t");
  CHECK_STR(err.msg, "ingest bronze.t: open a.csv: gone");
  CHECK_EQ_INT(sl_err_exit_code(SL_ECONFIG), 2);
  CHECK_EQ_INT(sl_err_exit_code(SL_EIO), 1);
  CHECK_EQ_INT(sl_err_exit_code(0), 0);
  char big[5000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  sl_err_set(&err, SL_EIO, "%s", big);
  CHECK_EQ_INT(strlen(err.msg), SL_ERR_MSG_MAX - 1);
  CHECK(strcmp(err.msg + SL_ERR_MSG_MAX - 4, "...") == 0);
}

static void test_quoting(void) {
  struct sl_buf b;
  sl_buf_init(&b);
  sl_buf_sql_ident(&b, "we\"ird");
  CHECK_STR(b.data, "\"we\"\"ird\"");
  sl_buf_reset(&b);
  sl_buf_sql_str(&b, "it's; DROP TABLE x; --");
  CHECK_STR(b.data, "'it''s; DROP TABLE x; --'");
  sl_buf_reset(&b);
  sl_buf_json_str(&b, "a\"b\\c\nd\x01");
  CHECK_STR(b.data, "\"a\\\"b\\\\c\\nd\\u0001\"");
  sl_buf_reset(&b);
  sl_buf_sql_qname(&b, "silver.we\"ird.t");
  CHECK_STR(b.data, "\"silver\".\"we\"\"ird.t\"");
  /* RFC 4648's test vectors. */
  const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; i++) {
    sl_buf_reset(&b);
    CHECK_EQ_INT(sl_buf_base64(&b, in[i], strlen(in[i])), 0);
    CHECK_STR(b.data ? b.data : "", want[i]);
  }
  sl_buf_reset(&b);
  sl_buf_base64(&b, "\xff\xfe\x00", 3);
  CHECK_STR(b.data, "//4A");
  sl_buf_fini(&b);
  struct sl_buf small;
  sl_buf_init(&small);
  small.max = 8;
  CHECK_EQ_INT(sl_buf_puts(&small, "1234567"), 0);
  CHECK_EQ_INT(sl_buf_puts(&small, "89"), SL_ENOMEM);
  CHECK_STR(small.data, "1234567");
  sl_buf_fini(&small);
}

static void test_paths(void) {
  CHECK(sl_fs_rel_is_safe("bronze/t/data/x.parquet"));
  CHECK(!sl_fs_rel_is_safe("../etc/passwd"));
  CHECK(!sl_fs_rel_is_safe("bronze/../../x"));
  CHECK(!sl_fs_rel_is_safe("/abs"));
  CHECK(!sl_fs_rel_is_safe("a//b"));
  CHECK(!sl_fs_rel_is_safe("a/./b"));
  CHECK(!sl_fs_rel_is_safe("a/b/"));
  CHECK(!sl_fs_rel_is_safe("a\\..\\b"));
  CHECK(!sl_fs_rel_is_safe(""));
  char *a = sl_fs_abs("/x/./y/../z//w/");
  CHECK_STR(a, "/x/z/w");
  sl_free(a);
  a = sl_fs_abs("/..");
  CHECK_STR(a, "/");
  sl_free(a);
  char *j = sl_fs_join("/a/", "/b");
  CHECK_STR(j, "/a/b");
  sl_free(j);
}

static void test_atomic_write(void) {
  struct sl_err err = {0};
  char path[300];
  snprintf(path, sizeof path, "%s/f.txt", sl_test_tmpdir());
  CHECK_EQ_INT(sl_fs_write_atomic(path, "one", 3, &err), 0);
  CHECK_EQ_INT(sl_fs_write_atomic(path, "two!", 4, &err), 0);
  char *s = NULL;
  size_t n = 0;
  CHECK_EQ_INT(sl_fs_read_all(path, 100, &s, &n, &err), 0);
  CHECK_STR(s, "two!");
  sl_free(s);
  CHECK_EQ_INT(sl_fs_write_atomic("/nonexistent-dir/x", "a", 1, &err), SL_EIO);
  CHECK_CONTAINS(err.msg, "/nonexistent-dir/x");
  CHECK_EQ_INT(sl_fs_read_all("/nonexistent-dir/x", 100, &s, &n, &err), SL_ENOTFOUND);
  /* a file larger than the reader's cap is refused, not cut */
  CHECK_EQ_INT(sl_fs_read_all(path, 2, &s, &n, &err), SL_EINVAL);
  CHECK_CONTAINS(err.msg, "larger than");
}

static void test_time(void) {
  int64_t ms;
  CHECK(sl_time_parse("2026-01-31T12:00:00Z", &ms) == 0 && ms == 1769860800000LL);
  CHECK(sl_time_parse("2026-01-31 12:00:00.250", &ms) == 0 && ms == 1769860800250LL);
  CHECK(sl_time_parse("2026-01-31T13:00:00+01:00", &ms) == 0 && ms == 1769860800000LL);
  CHECK(sl_time_parse("2026-01-31", &ms) == 0 && ms == 1769817600000LL);
  CHECK(sl_time_parse("yesterday", &ms) != 0);
  CHECK(sl_time_parse("2026-13-01", &ms) != 0);
  char b[40];
  sl_time_iso8601(1769860800250LL, b, sizeof b);
  CHECK_STR(b, "2026-01-31T12:00:00.250Z");
  char u1[37], u2[37];
  CHECK(sl_uuid_v4(u1) == 0 && sl_uuid_v4(u2) == 0);
  CHECK(strcmp(u1, u2) != 0);
  CHECK_EQ_INT(strlen(u1), 36);
  CHECK(u1[14] == '4');
}

static void test_human_duration(void) {
  static const struct { int64_t secs; const char *want; } cases[] = {
      {91202906, "1055d 14h"}, {86400, "1d"}, {7500, "2h 5m"}, {61, "1m 1s"},
      {42, "42s"},             {0, "0s"},     {-90, "-1m 30s"},
  };
  char b[32];
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    sl_human_duration(cases[i].secs, b, sizeof b);
    CHECK_STR(b, cases[i].want);
  }
}

static void test_parse_duration(void) {
  static const struct { const char *s; int64_t ms; } good[] = {
      {"7d", 604800000}, {"12h", 43200000}, {"15m", 900000}, {"90s", 90000}, {"500ms", 500}, {"1.5", 1500}, {"0", 0},
  };
  static const char *const bad[] = {"", "x", "3x", "-1s", "1 h", " 1h", "nan", "inf", "1e300d", "h"};
  int64_t ms = -1;
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    CHECK_EQ_INT(sl_time_parse_duration(good[i].s, &ms), 0);
    CHECK_EQ_INT(ms, good[i].ms);
  }
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK_EQ_INT(sl_time_parse_duration(bad[i], &ms), -1);
}

int main(void) {
  TEST_RUN(test_err);
  TEST_RUN(test_parse_duration);
  TEST_RUN(test_quoting);
  TEST_RUN(test_paths);
  TEST_RUN(test_atomic_write);
  TEST_RUN(test_time);
  TEST_RUN(test_human_duration);
  return TEST_DONE();
}
