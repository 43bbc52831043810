/* datagen_write.c: writing a data set to a file. The file appears under its name only
 * when complete (temp file, fsync, rename, folder fsync); Parquet goes through a
 * temporary CSV that DuckDB converts single-threaded, so the bytes are repeatable. */
#include "gen/datagen.h"

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/progress.h"
#include "sql/duck.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

const struct sl_gen_dataset *sl_gen_find(const char *name) {
  const struct sl_gen_dataset *all[] = {&sl_gen_loans, &sl_gen_diabetes, &sl_gen_trips};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (!strcmp(all[i]->name, name)) return all[i];
  return NULL;
}

volatile sig_atomic_t sl_gen_cancel;

struct tick_ctx {
  struct sl_progress bar;
  struct sl_gen_out *out;
};

static int tick(void *arg, int64_t rows) {
  struct tick_ctx *t = arg;
  sl_progress_update(&t->bar, t->out->written + (int64_t)t->out->len, rows);
  return sl_gen_cancel || t->out->failed;
}

static int write_rows(const struct sl_gen_dataset *ds, int64_t rows, uint64_t seed, enum sl_gen_format fmt,
                      const char *tmp, const char *label, int progress, struct sl_err *err) {
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return sl_err_set(err, SL_EIO, "create %s: %s", tmp, strerror(errno));
  struct sl_gen_out o;
  if (sl_gen_out_open(&o, fd, fmt, ds->cols, ds->n_cols)) {
    close(fd);
    return sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  struct tick_ctx t = {.out = &o};
  sl_progress_begin(&t.bar, label, 0);
  if (!progress) t.bar.enabled = 0;
  ds->rows(&o, rows, seed, tick, &t);
  int rc = 0;
  if (sl_gen_out_flush(&o) || fsync(fd))
    rc = sl_err_set(err, SL_EIO, "write %s: %s (is the disk full?)", tmp, strerror(o.err_no ? o.err_no : errno));
  else if (sl_gen_cancel)
    rc = sl_err_set(err, SL_EINTR, "interrupted; nothing was written");
  sl_progress_end(&t.bar, o.written, rows);
  sl_gen_out_fini(&o);
  if (close(fd) && !rc) rc = sl_err_set(err, SL_EIO, "close %s: %s", tmp, strerror(errno));
  return rc;
}

static int to_parquet(const struct sl_gen_dataset *ds, const char *csv, const char *out, struct sl_err *err) {
  struct sl_duck_opts o = {.threads = 1};
  struct sl_duck *d = NULL;
  int rc = sl_duck_open(NULL, &o, &d, err);
  if (rc) return rc;
  struct sl_buf q;
  sl_buf_init(&q);
  sl_buf_puts(&q, "COPY (SELECT * FROM read_csv(");
  sl_buf_sql_str(&q, csv);
  sl_buf_puts(&q, ", header=true, auto_detect=false, delim=',', quote='\"', columns={");
  for (int i = 0; i < ds->n_cols; i++) {
    if (i) sl_buf_puts(&q, ", ");
    sl_buf_sql_str(&q, ds->cols[i].name);
    sl_buf_puts(&q, ": ");
    sl_buf_sql_str(&q, ds->cols[i].sql_type);
  }
  sl_buf_puts(&q, "})) TO ");
  sl_buf_sql_str(&q, out);
  if (sl_buf_puts(&q, " (FORMAT parquet, COMPRESSION zstd)")) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  else rc = sl_duck_exec(d, q.data, err);
  sl_buf_fini(&q);
  sl_duck_close(d);
  return rc;
}

int sl_gen_write(const struct sl_gen_dataset *ds, int64_t rows, uint64_t seed, enum sl_gen_format fmt, const char *path,
                 int progress, struct sl_err *err) {
  char *tmp = sl_asprintf("%s.tmp.%ld", path, (long)getpid());
  char *csv = sl_asprintf("%s.csv.tmp.%ld", path, (long)getpid());
  char *label = sl_asprintf("gen %s", ds->name);
  char *abs = sl_fs_abs(path);
  int rc = 0;
  if (!tmp || !csv || !label || !abs) {
    rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    goto out;
  }
  if (fmt == SL_GEN_PARQUET) {
    rc = write_rows(ds, rows, seed, SL_GEN_CSV, csv, label, progress, err);
    if (!rc) rc = to_parquet(ds, csv, tmp, err);
    unlink(csv);
    if (!rc) {
      int fd = open(tmp, O_RDONLY | O_CLOEXEC);
      if (fd < 0 || fsync(fd)) rc = sl_err_set(err, SL_EIO, "fsync %s: %s", tmp, strerror(errno));
      if (fd >= 0) close(fd);
    }
  } else {
    rc = write_rows(ds, rows, seed, fmt, tmp, label, progress, err);
  }
  if (!rc && rename(tmp, path)) rc = sl_err_set(err, SL_EIO, "rename %s to %s: %s", tmp, path, strerror(errno));
  if (!rc) {
    char *slash = strrchr(abs, '/');
    *slash = '\0';
    rc = sl_fs_fsync_dir(slash == abs ? "/" : abs, err);
  }
  if (rc) unlink(tmp);
out:
  sl_free(tmp);
  sl_free(csv);
  sl_free(label);
  sl_free(abs);
  return rc;
}
