/* log_int.h: what the embedded log's pieces share: the record frame, segments and
 * their sparse index, partitions, topics and consumer-group files.
 *
 * On disk (see docs/internals/log.md):
 *   <root>/<topic>/topic.json                      partitions and retention
 *   <root>/<topic>/<partition>/<base>.log          framed records, base = first offset
 *   <root>/<topic>/<partition>/<base>.index        16-byte entries every N bytes
 *   <root>/<topic>/<partition>/.lock               flock'ed by the one writer process
 *   <root>/<topic>/groups/<group>.json             a group's committed offsets
 *   <root>/<topic>/groups/<group>.<partition>.lock flock'ed by the consumer reading it */
#ifndef SL_LOG_INT_H
#define SL_LOG_INT_H

#include "core/buf.h"
#include "log/log.h"

#include <pthread.h>
#include <stdint.h>

/* Frame: u32 len (bytes after it), u32 crc32c (of the body), body:
 * i64 offset, i64 ts_ms, i32 key_len (-1: no key), key, u32 value_len, value,
 * u16 n_headers, per header u16 name_len, name, u32 value_len, value. Little-endian. */
#define SL_LOG_FRAME_HEAD 8u
#define SL_LOG_BODY_MIN 26u
#define SL_LOG_FRAME_MAX (64u << 20) /* largest len a reader accepts */
#define SL_LOG_INDEX_ENTRY 16u

uint32_t sl_log_crc32c(uint32_t crc, const void *data, size_t len);
/* The same value by tables only (for tests of the instruction paths). */
uint32_t sl_log_crc32c_portable(uint32_t crc, const void *data, size_t len);
/* out[i] = CRC-32C of data[i] (from 0), n buffers, three at a time interleaved. */
void sl_log_crc32c_many(const uint8_t *const *data, const size_t *len, uint32_t *out, size_t n);

/* Encoded size of a message's frame, or 0 if it is too large. */
size_t sl_log_frame_size(const struct sl_log_msg *m);
/* The same, inline for records without headers (the produce path). */
static inline size_t sl_log_frame_size_fast(const struct sl_log_msg *m) {
  if (m->n_headers) return sl_log_frame_size(m);
  uint64_t n = SL_LOG_FRAME_HEAD + SL_LOG_BODY_MIN + (m->key ? m->key_len : 0) + (uint64_t)m->value_len;
  if (n - 4 > SL_LOG_FRAME_MAX || (m->key && m->key_len > INT32_MAX)) return 0;
  return (size_t)n;
}
/* Appends m's frame with the given offset and timestamp to b. */
int sl_log_frame_encode(struct sl_buf *b, const struct sl_log_msg *m, int64_t offset, int64_t ts_ms);
/* Appends n frames (sizes[i] from sl_log_frame_size) with offsets from `offset` on; a
 * message's ts_ms <= 0 gets ts_now. Room for all of them is made at once; the CRCs are
 * computed three frames at a time. */
int sl_log_frames_encode(struct sl_buf *b, const struct sl_log_msg *msgs, const size_t *sizes, size_t n,
                         int64_t offset, int64_t ts_now);
/* Length of the longest prefix of p made of whole frames whose length and CRC check
 * (layout not checked); a reader may skip the CRC for frames inside it. */
size_t sl_log_frames_verified(const uint8_t *p, size_t avail);

/* Result of looking at bytes that should start a frame. */
enum { SL_FRAME_OK = 0, SL_FRAME_SHORT = 1, SL_FRAME_BAD = 2 };
/* Checks the frame at p (avail bytes): SHORT if it is cut, BAD if its length, CRC or
 * layout is wrong; OK sets *frame_len (whole frame), *offset and *ts. */
int sl_log_frame_check(const uint8_t *p, size_t avail, size_t *frame_len, int64_t *offset, int64_t *ts);
/* The same; crc 0 skips the CRC (the caller verified it, sl_log_frames_verified) and
 * the layout (the caller decodes the frame, which walks it). */
int sl_log_frame_check_crc(const uint8_t *p, size_t avail, int crc, size_t *frame_len, int64_t *offset,
                           int64_t *ts);
/* Decodes a checked frame into rec (pointers into p); headers go to *hdrs (grown). */
int sl_log_frame_decode(const uint8_t *p, size_t frame_len, struct sl_log_record *rec, struct sl_log_header **hdrs,
                        size_t *hdr_cap);

struct sl_log_idx {
  uint32_t rel;    /* offset - base */
  uint32_t pos;    /* byte position in the segment */
  int64_t max_ts;  /* largest timestamp of the records before pos (INT64_MIN if none) */
};

struct sl_log_seg {
  int64_t base;     /* first offset */
  int64_t end;      /* next offset after its last visible record */
  int64_t size;     /* visible bytes */
  int64_t max_ts;   /* largest timestamp in it (INT64_MIN if empty) */
  struct sl_log_idx *idx;
  size_t n_idx, cap_idx;
  int64_t idx_last_pos; /* position of the last index entry (-1: none) */
  int64_t idx_max_ts;   /* running max timestamp, for the next entry */
};

/* Scans a segment file's frames from pos (expected offset `offset`) to its end,
 * adding index entries. A frame that fails its check ends the scan when no valid
 * frame for the next offset follows it (a torn tail: *torn = 1, *torn_pos its
 * position); otherwise it is skipped (a corrupt record in the middle, logged; a read
 * of it fails) and an index entry is placed at the next frame. */
int sl_log_seg_scan(int fd, const char *path, struct sl_log_seg *s, int64_t pos, int64_t offset, int64_t interval,
                    int *torn, int64_t *torn_pos, struct sl_err *err);
/* Adds an index entry for a frame at pos if the interval since the last one passed. */
int sl_log_seg_note(struct sl_log_seg *s, int64_t pos, int64_t offset, int64_t ts, int64_t interval);
/* Loads <base>.index (entries pointing past size are dropped); 0 or an error. */
int sl_log_seg_index_load(const char *path, struct sl_log_seg *s);
/* The position to start reading for `offset` (from the index), and its offset. */
void sl_log_seg_lookup(const struct sl_log_seg *s, int64_t offset, int64_t *pos, int64_t *at);
/* The position to start scanning for the first record with ts >= ts_ms. */
void sl_log_seg_lookup_time(const struct sl_log_seg *s, int64_t ts_ms, int64_t *pos, int64_t *at);
/* Looks for a valid frame with offset want in [from, to); its position or -1. */
int64_t sl_log_seg_resync(int fd, int64_t from, int64_t to, int64_t want);
void sl_log_seg_fini(struct sl_log_seg *s);
char *sl_log_seg_path(const char *dir, int64_t base, const char *ext);

struct sl_log_part {
  pthread_mutex_t mu;
  pthread_cond_t cv;   /* durable end moved, or a write finished */
  char *topic;
  int32_t id;
  char *dir;
  struct sl_log *log;
  struct sl_log_seg *segs; /* oldest first; the last is the active one */
  size_t n_segs, cap_segs;
  int loaded;
  int64_t torn_pos;    /* after a load: where the active segment's torn tail starts, or -1 */
  /* Writer state (this process holds <dir>/.lock). */
  int lock_fd;
  int fd;              /* active segment, for writing */
  int idx_fd;          /* active segment's index, appended */
  int64_t next_offset; /* next offset to hand out */
  struct sl_buf pending; /* frames queued, not yet handed to the writer thread */
  /* The writer thread (started with the writer role, stopped by fini). The holder
   * of `busy` (that thread, or a flush leading) owns the active segment's files and
   * w_pos/w_end/w_max_ts/wnote; it takes p->mu only to publish, roll and undo.
   * Producers hand over `pending` every 1 MB through `ready`; a flush hands over
   * the rest and raises sync_want. */
  pthread_t wr_thread;
  int wr_running;       /* started and not yet joined */
  pthread_mutex_t wq_mu; /* ready, free_bufs, sync_want, wr_stop, busy (taken after mu) */
  pthread_cond_t wr_cv; /* wakes the writer: a buffer ready, a flush waiting, stop */
#define SL_LOG_READY_MAX 16
  struct sl_buf ready[SL_LOG_READY_MAX]; /* handed over, oldest first */
  size_t n_ready;
  struct sl_buf free_bufs[4]; /* written buffers kept for reuse (their pages stay) */
  size_t n_free;
  int64_t sync_want;    /* flushes wait until the durable end reaches this */
  int wr_stop;          /* fini: write and sync what is queued, then end */
  int busy;             /* the writer's token: held by the writer thread or a leading flush */
  struct sl_err wr_err; /* why the last failed write or fsync failed (under mu) */
  struct sl_log_seg wnote; /* index entries written, not yet in the active segment's list */
  /* Written to the active segment, not yet fsynced (published by the next sync). */
  int64_t w_pos, w_end, w_max_ts;
  uint64_t fail_gen;   /* bumped whenever queued records are dropped after a failure */
  int64_t last_sync_ns;
  int64_t last_retention_ns;
  int64_t retention_ms, retention_bytes;
};

/* Failed batches in this process, for producers that touched too many partitions to
 * track each one. */
extern uint64_t sl_log_fail_total;

int sl_log_part_init(struct sl_log_part *p, struct sl_log *log, const char *root, const char *topic, int32_t id,
                     int64_t retention_ms, int64_t retention_bytes);
void sl_log_part_fini(struct sl_log_part *p);
/* Loads (or refreshes, for a partition another process writes) the segment list. */
int sl_log_part_load(struct sl_log_part *p, struct sl_err *err);
/* Becomes the partition's writer (locking it against other processes); recovers the
 * tail. Called with p->mu held. */
int sl_log_part_writer(struct sl_log_part *p, struct sl_err *err);
/* Queues messages (p->mu held by the caller); offsets filled now. */
int sl_log_part_queue(struct sl_log_part *p, const struct sl_log_msg *msgs, size_t n, int64_t *offsets,
                      struct sl_err *err);
/* Makes everything queued before the call durable (group commit). */
int sl_log_part_flush(struct sl_log_part *p, struct sl_err *err);
/* The same in two steps, so one caller's flush of many partitions syncs them all at
 * once: begin asks the writer for a sync of everything queued (fills *target and
 * *gen); with lead, when the writer thread is idle, the caller writes and syncs
 * itself instead (no thread hops: for a flush of one partition). Wait returns when
 * it is durable, or fails if a write failed meanwhile. */
void sl_log_part_flush_begin(struct sl_log_part *p, int lead, int64_t *target, uint64_t *gen);
int sl_log_part_flush_wait(struct sl_log_part *p, int64_t target, uint64_t gen, struct sl_err *err);
/* Start and end offsets and bytes on disk. */
void sl_log_part_info(struct sl_log_part *p, struct sl_log_partition_info *out);
/* Applies retention now (writer only). */
int sl_log_part_retain(struct sl_log_part *p, struct sl_err *err);
int64_t sl_log_part_offset_for_time(struct sl_log_part *p, int64_t ts_ms, struct sl_err *err);

/* A consumer-group's committed offsets for one topic. */
int sl_log_group_load(const char *topic_dir, const char *group, int32_t n_parts, int64_t *committed,
                      struct sl_err *err);
int sl_log_group_store(const char *topic_dir, const char *topic, const char *group, int32_t n_parts,
                       const int64_t *committed, struct sl_err *err);
/* Groups with a file under topic_dir/groups (new strings). */
int sl_log_group_list(const char *topic_dir, char ***names, size_t *n, struct sl_err *err);
/* Tries to take a partition for a group member: an fd holding the lock, or -1. */
int sl_log_group_claim(const char *topic_dir, const char *group, int32_t part);
int sl_log_group_name_check(const char *group, struct sl_err *err);
/* Joins a group as a member: an fd holding a member slot (its number in *slot), or -1. */
int sl_log_group_join(const char *topic_dir, const char *group, int *slot);
/* Live members of a group (slots held), counting ours. */
int sl_log_group_members(const char *topic_dir, const char *group, int slot);

#endif
