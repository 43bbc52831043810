/* datagen.h: deterministic generators for the reference data sets (loans, diabetes,
 * trips). The output depends only on (dataset, rows, seed, format): same inputs, same
 * bytes. Rows are written as CSV or JSON lines straight into a large buffer with
 * hand-rolled number formatting (tens of millions of rows); Parquet is CSV converted by
 * DuckDB with the columns' declared types. */
#ifndef SL_GEN_DATAGEN_H
#define SL_GEN_DATAGEN_H

#include "core/err.h"

#include <stdint.h>
#include <stdio.h>

enum sl_gen_format { SL_GEN_CSV, SL_GEN_JSONL, SL_GEN_PARQUET };

/* xoshiro256** seeded through splitmix64. */
struct sl_gen_rng {
  uint64_t s[4];
  int have_spare;
  double spare;
};

void sl_gen_rng_seed(struct sl_gen_rng *r, uint64_t seed);
uint64_t sl_gen_u64(struct sl_gen_rng *r);
double sl_gen_unit(struct sl_gen_rng *r); /* [0,1) */
double sl_gen_normal(struct sl_gen_rng *r, double mean, double sd);
int64_t sl_gen_range(struct sl_gen_rng *r, int64_t lo, int64_t hi); /* [lo,hi] */
/* Index drawn from cumulative weights cum[0..n-1] (cum[n-1] is the total). */
int sl_gen_pick(struct sl_gen_rng *r, const double *cum, int n);

/* A row writer: CSV or JSON lines into a buffered file descriptor. */
struct sl_gen_col {
  const char *name;
  const char *sql_type; /* for the Parquet conversion */
};

struct sl_gen_out {
  int fd;
  enum sl_gen_format fmt;
  const struct sl_gen_col *cols;
  int n_cols, col;
  char *buf;
  size_t len, cap;
  int64_t written;
  int failed;
  int err_no;
};

int sl_gen_out_open(struct sl_gen_out *o, int fd, enum sl_gen_format fmt, const struct sl_gen_col *cols, int n_cols);
void sl_gen_int(struct sl_gen_out *o, int64_t v);
/* v / 10^dec printed with exactly dec decimals (v is already scaled). */
void sl_gen_fixed(struct sl_gen_out *o, int64_t v, int dec);
void sl_gen_str(struct sl_gen_out *o, const char *s);
/* "YYYY-MM-DD HH:MM:SS" from seconds since the epoch (UTC). */
void sl_gen_ts(struct sl_gen_out *o, int64_t epoch_s);
void sl_gen_row_end(struct sl_gen_out *o);
int sl_gen_out_flush(struct sl_gen_out *o);
void sl_gen_out_fini(struct sl_gen_out *o);

struct sl_gen_dataset {
  const char *name;
  const char *doc;
  const struct sl_gen_col *cols;
  int n_cols;
  /* Writes rows [0, n) to o. */
  void (*rows)(struct sl_gen_out *o, int64_t n, uint64_t seed, int (*tick)(void *, int64_t), void *tick_arg);
};

extern const struct sl_gen_dataset sl_gen_loans, sl_gen_diabetes, sl_gen_trips;
const struct sl_gen_dataset *sl_gen_find(const char *name);

/* Writes the data set to path atomically (temp file, fsync, rename). */
int sl_gen_write(const struct sl_gen_dataset *ds, int64_t rows, uint64_t seed, enum sl_gen_format fmt, const char *path,
                 int progress, struct sl_err *err);

#endif
