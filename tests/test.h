/* test.h: a tiny test harness for sluice's C tests. Each test file has a main that
 * calls TEST_RUN(fn) for each test; a failed CHECK prints file:line and the expression
 * and marks the test failed without stopping the others. */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sl_test_failed, sl_test_cur_failed, sl_test_count;

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);             \
      sl_test_cur_failed = 1;                                                        \
    }                                                                                \
  } while (0)

#define CHECK_EQ_INT(a, b)                                                           \
  do {                                                                               \
    long long _a = (long long)(a), _b = (long long)(b);                              \
    if (_a != _b) {                                                                  \
      fprintf(stderr, "  FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, \
              #a, #b, _a, _b);                                                       \
      sl_test_cur_failed = 1;                                                        \
    }                                                                                \
  } while (0)

#define CHECK_STR(a, b)                                                                    \
  do {                                                                                     \
    const char *_a = (a), *_b = (b);                                                       \
    if (!_a || !_b || strcmp(_a, _b)) {                                                    \
      fprintf(stderr, "  FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n", __FILE__, __LINE__, #a, \
              #b, _a ? _a : "(null)", _b ? _b : "(null)");                                 \
      sl_test_cur_failed = 1;                                                              \
    }                                                                                      \
  } while (0)

#define CHECK_CONTAINS(hay, needle)                                                          \
  do {                                                                                       \
    const char *_h = (hay), *_n = (needle);                                                  \
    if (!_h || !strstr(_h, _n)) {                                                            \
      fprintf(stderr, "  FAIL %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
              _h ? _h : "(null)", _n);                                                       \
      sl_test_cur_failed = 1;                                                                \
    }                                                                                        \
  } while (0)

#define TEST_RUN(fn)                                                        \
  do {                                                                      \
    sl_test_cur_failed = 0;                                                 \
    sl_test_count++;                                                        \
    fn();                                                                   \
    fprintf(stderr, "%s %s\n", sl_test_cur_failed ? "FAIL" : "ok  ", #fn); \
    sl_test_failed += sl_test_cur_failed;                                   \
  } while (0)

#define TEST_DONE()                                                                 \
  (fprintf(stderr, "%d tests, %d failed\n", sl_test_count, sl_test_failed), \
   sl_test_failed ? 1 : 0)

/* A fresh temporary folder for one test file (removed by the OS's tmp cleaning). */
static inline const char *sl_test_tmpdir(void) {
  static char dir[256];
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "/tmp/sluice-test-XXXXXX");
    if (!mkdtemp(dir)) {
      perror("mkdtemp");
      exit(1);
    }
  }
  return dir;
}

#endif
