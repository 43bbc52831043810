/* fuzz_segment.c: libFuzzer target for the embedded log's segment reader. The input
 * is the content of a partition's only segment file. Every frame check and decode is
 * run over it; then the log is opened on it, read from the beginning (a corrupt
 * record must be an error, never a crash or a wrong length), a writer recovers it
 * (cutting a torn tail) and appends one record, which must read back at its offset. */
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "log/log.h"
#include "log/log_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void frames(const uint8_t *data, size_t size) {
  struct sl_log_header *h = NULL;
  size_t cap = 0;
  for (size_t at = 0; at < size;) {
    size_t fl;
    int64_t o, ts;
    if (sl_log_frame_check(data + at, size - at, &fl, &o, &ts) != SL_FRAME_OK) {
      at++;
      continue;
    }
    struct sl_log_record r;
    if (sl_log_frame_decode(data + at, fl, &r, &h, &cap) == 0) {
      volatile size_t sum = r.key_len + r.value_len;
      for (size_t i = 0; i < r.n_headers; i++) sum += strlen(r.headers[i].name) + r.headers[i].len;
      (void)sum;
    }
    at += fl;
  }
  sl_free(h);
}

/* Plain writes: the fuzzer needs no fsync. */
static int put(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = n ? fwrite(p, 1, n, f) : 0;
  return fclose(f) || w != n ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char root[64];
  sl_log_set_level(SL_LOG_OFF);
  if (!root[0]) {
    snprintf(root, sizeof root, "/tmp/fuzz-segment-XXXXXX");
    if (!mkdtemp(root)) return 0;
  }
  frames(data, size);
  struct sl_err err = {0};
  char *dir = sl_asprintf("%s/t", root);
  sl_fs_remove_tree(dir, &err);
  char *pdir = sl_asprintf("%s/t/0", root);
  char *seg = sl_asprintf("%s/t/0/%020d.log", root, 0);
  char *conf = sl_asprintf("%s/t/topic.json", root);
  const char *tj = "{\"partitions\":1,\"retention_ms\":-1,\"retention_bytes\":-1}";
  if (sl_fs_mkdirs(pdir, &err) || put(conf, tj, strlen(tj)) || put(seg, data, size)) abort();
  struct sl_log_cfg cfg = {0};
  sl_cfg_fill(NULL, NULL, &sl_log_section, &cfg, &err);
  cfg.durability = SL_LOG_FSYNC_NONE;
  cfg.index_interval_bytes = 64;
  struct sl_log *log = NULL;
  if (sl_log_open(root, &cfg, &log, &err)) abort();
  const char *topics[1] = {"t"};
  struct sl_log_consumer_conf cc = {.topics = topics, .n_topics = 1};
  struct sl_log_consumer *c = NULL;
  if (sl_log_consumer_open(log, &cc, &c, &err)) abort();
  for (int i = 0; i < 100000; i++) {
    struct sl_log_record r;
    int rc = sl_log_consumer_poll(c, 0, &r, &err);
    if (rc <= 0) break;
    if (r.value_len > size || r.key_len > size) abort();
  }
  sl_log_consumer_close(c);
  /* Recovery and an append: the new record reads back at its offset. */
  struct sl_log_msg m = {.partition = 0, .key = "k", .key_len = 1, .value = "appended", .value_len = 8};
  int64_t off = -1;
  if (sl_log_produce(log, "t", &m, 1, &off, &err) == 0 && sl_log_flush(log, 1000, &err) == 0) {
    if (sl_log_consumer_open(log, &cc, &c, &err) || sl_log_consumer_seek(c, "t", 0, off, &err)) abort();
    struct sl_log_record r;
    if (sl_log_consumer_poll(c, 0, &r, &err) != 1 || r.offset != off || r.value_len != 8 ||
        memcmp(r.value, "appended", 8))
      abort();
    sl_log_consumer_close(c);
  }
  sl_log_close(log);
  sl_cfg_section_fini(&sl_log_section, &cfg);
  sl_free(dir);
  sl_free(pdir);
  sl_free(seg);
  sl_free(conf);
  return 0;
}
