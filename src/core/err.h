/* err.h: the one error type of sluice. A fallible call returns 0 or a negative SL_E*
 * code and fills a caller-owned struct sl_err with a message that names the input and
 * says what to do. Foreign errors are translated once, where the library is called. */
#ifndef SL_CORE_ERR_H
#define SL_CORE_ERR_H

#include <stddef.h>

enum {
  SL_OK = 0,
  SL_EINVAL = -1,    /* bad argument or input (user error) */
  SL_EIO = -2,       /* file system or network I/O */
  SL_ENOMEM = -3,
  SL_ENOTFOUND = -4, /* table, namespace, file, snapshot ... does not exist */
  SL_EEXIST = -5,
  SL_ECONFLICT = -6, /* optimistic commit lost against a concurrent writer */
  SL_ECONFIG = -7,   /* sluice.yaml or command-line usage */
  SL_ESCHEMA = -8,   /* incoming data does not match a table's schema */
  SL_EDATA = -9,     /* malformed input data */
  SL_ESQL = -10,     /* query failed in the SQL engine */
  SL_EINTR = -11,    /* interrupted by a signal */
  SL_EINTERNAL = -12
};

#define SL_ERR_MSG_MAX 2048

struct sl_err {
  int code;
  char msg[SL_ERR_MSG_MAX];
};

/* Sets err (if non-NULL) and returns code, so `return sl_err_set(...)` reads well. */
int sl_err_set(struct sl_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes the existing message with more context ("ingest loans.csv: " + msg). */
int sl_err_prefix(struct sl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_err_clear(struct sl_err *err);
const char *sl_err_name(int code);
/* Process exit code for an error: 2 for usage/config, 1 for failed work. */
int sl_err_exit_code(int code);

#endif
