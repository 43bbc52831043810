/* stream.c: the CDC loop over PostgreSQL's streaming replication protocol.
 *
 * NOTES
 * Start: a new slot is created with an exported snapshot; the tables are read inside
 * that snapshot (op "r") before START_REPLICATION, so the copy and the stream meet at
 * the slot's consistent point with no gap and no overlap. An existing slot resumes
 * from its confirmed_flush_lsn.
 * Durability (as pg_recvlogical): events of a transaction are written to the sink at
 * its Commit, the sink is synced, and only then is the commit's end LSN reported as
 * flushed. Between transactions a keepalive's WAL position is confirmed too, so a slot
 * whose tables are quiet does not hold WAL back; the optional heartbeat writes to the
 * source's database while they are quiet.
 * Idle: when libpq's buffer and the socket hold nothing more, the sink is asked to make
 * what it holds durable at once, so a quiet stream is not held back by batching.
 * Failure: a dropped connection is retried with backoff (1 s doubling to 30 s);
 * configuration problems (wal_level, privileges, an invalidated or dropped slot, a
 * table without a key) stop with a message that says what to do. */
#include "cdc/cdc_int.h"
#include "cdc/event.h"

#include "core/metrics.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#define PG_EPOCH_US 946684800000000LL /* 2000-01-01 in microseconds since 1970 */

struct run {
  const struct sl_cdc_run_opts *o;
  struct sl_cdc_run_stats *st;
  struct sl_pg *conn, *repl;
  struct sl_cdc_sink sink;
  struct sl_pgo_decoder dec;
  int in_tx;
  uint32_t xid;
  int64_t commit_ms;
  uint64_t received, flushed;
  uint64_t last_end_lsn; /* end of the last transaction handed to the sink */
  uint64_t commit_lsn;   /* the open transaction's commit record */
  int64_t last_status_ns, last_activity_ns, last_heartbeat_ns;
  int done;
};

int sl_cdc_relation_of(const struct sl_pg_table *t, struct sl_pgo_relation *r) {
  memset(r, 0, sizeof *r);
  r->schema = sl_strdup(t->schema);
  r->name = sl_strdup(t->name);
  r->replident = t->replica_identity;
  r->n_cols = (uint16_t)t->n_cols;
  r->cols = sl_calloc(t->n_cols + 1, sizeof *r->cols);
  if (!r->schema || !r->name || !r->cols) return SL_ENOMEM;
  for (size_t i = 0; i < t->n_cols; i++) {
    r->cols[i].name = sl_strdup(t->cols[i].name);
    r->cols[i].type_oid = t->cols[i].type_oid;
    r->cols[i].typmod = t->cols[i].typmod;
    r->cols[i].key = t->cols[i].pk > 0;
    if (!r->cols[i].name) return SL_ENOMEM;
  }
  return 0;
}

void sl_cdc_relation_fini(struct sl_pgo_relation *r) {
  for (uint16_t i = 0; r->cols && i < r->n_cols; i++) sl_free(r->cols[i].name);
  sl_free(r->cols);
  sl_free(r->schema);
  sl_free(r->name);
  memset(r, 0, sizeof *r);
}

static const char *db_name(struct run *r) { return PQdb(r->conn->conn) ? PQdb(r->conn->conn) : ""; }

/* Checks the server and the tables, and creates or extends the publication. */
static int prepare_source(struct run *r, struct sl_err *err) {
  const struct sl_cdc_source *src = r->o->src;
  PGresult *res = NULL;
  int rc = sl_pg_query(r->conn, "SHOW wal_level", 0, NULL, &res, err);
  if (rc) return rc;
  if (strcmp(PQgetvalue(res, 0, 0), "logical")) {
    rc = sl_err_set(err, SL_ECONFIG,
                    "%s: wal_level is %s; change data capture needs wal_level = logical in postgresql.conf "
                    "(then restart PostgreSQL)",
                    r->conn->label, PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
  }
  PQclear(res);
  if ((rc = sl_pg_query(r->conn, "SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user", 0,
                        NULL, &res, err)))
    return rc;
  int can = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
  PQclear(res);
  if (!can)
    return sl_err_set(err, SL_ECONFIG,
                      "%s: the user lacks the REPLICATION privilege; run ALTER ROLE <user> REPLICATION as a superuser",
                      r->conn->label);
  struct sl_buf list;
  sl_buf_init(&list);
  for (size_t i = 0; i < src->tables.n; i++) {
    char *schema = NULL, *table = NULL;
    struct sl_pg_table t;
    sl_pg_split_name(src->tables.v[i], &schema, &table);
    rc = sl_pg_table_describe(r->conn, schema, table, &t, err);
    if (!rc) {
      int has_pk = 0;
      for (size_t k = 0; k < t.n_cols; k++) has_pk |= t.cols[k].pk > 0;
      if (!has_pk && t.replica_identity != 'f' && t.replica_identity != 'i')
        rc = sl_err_set(err, SL_ECONFIG,
                        "%s: table %s.%s has no primary key and no replica identity, so its updates and deletes cannot "
                        "be captured; add a primary key or run ALTER TABLE %s.%s REPLICA IDENTITY FULL",
                        r->conn->label, schema, table, schema, table);
      char *q = sl_pg_qualified(r->conn, schema, table);
      if (list.len) sl_buf_puts(&list, ", ");
      sl_buf_puts(&list, q ? q : "");
      sl_free(q);
      sl_pg_table_fini(&t);
    }
    sl_free(schema);
    sl_free(table);
    if (rc) {
      sl_buf_fini(&list);
      return rc;
    }
  }
  const char *pub[1] = {src->publication};
  if ((rc = sl_pg_query(r->conn, "SELECT 1 FROM pg_publication WHERE pubname = $1", 1, pub, &res, err))) goto out;
  int exists = PQntuples(res) == 1;
  PQclear(res);
  char *pubid = sl_pg_ident(r->conn, src->publication);
  char *sql = sl_asprintf(exists ? "ALTER PUBLICATION %s SET TABLE %s" : "CREATE PUBLICATION %s FOR TABLE %s", pubid,
                          list.data);
  rc = sql ? sl_pg_exec(r->conn, sql, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  if (rc && strstr(err->msg, "must be owner"))
    sl_err_set(err, SL_ECONFIG, "%s: cannot create publication %s: the user must own the tables (or create the "
                                "publication as their owner: CREATE PUBLICATION %s FOR TABLE %s)",
               r->conn->label, src->publication, src->publication, list.data);
  sl_free(sql);
  sl_free(pubid);
out:
  sl_buf_fini(&list);
  return rc;
}

static int send_status(struct run *r, int force, struct sl_err *err) {
  int64_t now = sl_time_mono_ns();
  if (!force && now - r->last_status_ns < r->o->src->heartbeat_ms * 1000000LL) return 0;
  unsigned char m[34];
  uint64_t v[4] = {r->flushed, r->flushed, r->flushed,
                   (uint64_t)(sl_time_now_ms() * 1000 - PG_EPOCH_US)};
  m[0] = 'r';
  for (int k = 0; k < 4; k++)
    for (int i = 0; i < 8; i++) m[1 + k * 8 + i] = (unsigned char)(v[k] >> (56 - 8 * i));
  m[33] = 0;
  if (PQputCopyData(r->repl->conn, (const char *)m, sizeof m) != 1 || PQflush(r->repl->conn))
    return sl_err_set(err, SL_EIO, "%s: cannot send the stream position: %s", r->repl->label,
                      PQerrorMessage(r->repl->conn));
  r->last_status_ns = now;
  return 0;
}

static int emit(struct run *r, const struct sl_cdc_event_src *es, const struct sl_pgo_relation *rel, char op,
                const struct sl_pgo_tuple *before, const struct sl_pgo_tuple *after, struct sl_err *err) {
  r->st->events++;
  sl_metric_counter_add_label("sluice_cdc_events_total", "source", r->o->src->name, 1);
  return r->sink.event(&r->sink, es, rel, op, before, after, err);
}

/* A transaction's end (lsn) or a snapshot batch's (0): whatever the sink made durable
 * may be confirmed. */
static int flush_tx(struct run *r, uint64_t lsn, int force, struct sl_err *err) {
  uint64_t durable = r->flushed;
  int rc = r->sink.boundary(&r->sink, lsn, force, &durable, err);
  if (rc) return rc;
  if (durable > r->flushed) r->flushed = durable;
  r->st->flushed_lsn = r->flushed;
  return 0;
}

/* Reads every table inside the snapshot `snapshot` (or a fresh one if NULL) as "r" events. */
static int take_snapshot(struct run *r, const char *snapshot, uint64_t lsn, struct sl_err *err) {
  const struct sl_cdc_source *src = r->o->src;
  int rc = sl_pg_exec(r->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
  if (!rc && snapshot) {
    char *lit = PQescapeLiteral(r->conn->conn, snapshot, strlen(snapshot));
    char *sql = lit ? sl_asprintf("SET TRANSACTION SNAPSHOT %s", lit) : NULL;
    PQfreemem(lit);
    rc = sql ? sl_pg_exec(r->conn, sql, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
    sl_free(sql);
  }
  struct sl_pgo_tuple tup = {0};
  for (size_t i = 0; !rc && i < src->tables.n; i++) {
    char *schema = NULL, *table = NULL;
    struct sl_pg_table t = {0};
    struct sl_pgo_relation rel = {0};
    sl_pg_split_name(src->tables.v[i], &schema, &table);
    rc = sl_pg_table_describe(r->conn, schema, table, &t, err);
    if (!rc && sl_cdc_relation_of(&t, &rel)) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    char *q = rc ? NULL : sl_pg_qualified(r->conn, schema, table);
    char *sql = q ? sl_asprintf("DECLARE sl_snap NO SCROLL CURSOR FOR SELECT * FROM %s", q) : NULL;
    if (!rc) rc = sql ? sl_pg_exec(r->conn, sql, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
    struct sl_cdc_event_src es = {.name = src->topic_prefix, .db = db_name(r), .snapshot = "true",
                                  .ts_ms = sl_time_now_ms(), .tx_id = -1, .lsn = lsn, .decimal = src->decimal_handling};
    for (int more = 1; !rc && more;) {
      PGresult *res = NULL;
      if ((rc = sl_pg_query(r->conn, "FETCH 10000 FROM sl_snap", 0, NULL, &res, err))) break;
      int n = PQntuples(res), nc = PQnfields(res);
      more = n > 0;
      if (sl_array_grow(&tup.v, &tup.cap, (size_t)nc + 1, sizeof *tup.v)) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      tup.n = (uint16_t)nc;
      for (int row = 0; !rc && row < n; row++) {
        for (int c = 0; c < nc; c++) {
          tup.v[c].kind = PQgetisnull(res, row, c) ? 'n' : 't';
          tup.v[c].data = PQgetvalue(res, row, c);
          tup.v[c].len = (uint32_t)PQgetlength(res, row, c);
        }
        rc = emit(r, &es, &rel, 'r', NULL, &tup, err);
        r->st->snapshot_rows++;
      }
      PQclear(res);
      /* Batches go to the sink as they come, so a large table does not sit in memory. */
      if (!rc) rc = flush_tx(r, 0, 0, err);
      if (r->o->stop && *r->o->stop) rc = sl_err_set(err, SL_EINTR, "interrupted during the snapshot");
    }
    if (!rc) rc = sl_pg_exec(r->conn, "CLOSE sl_snap", err);
    sl_free(sql);
    sl_free(q);
    sl_cdc_relation_fini(&rel);
    sl_pg_table_fini(&t);
    sl_free(schema);
    sl_free(table);
  }
  sl_free(tup.v);
  if (!rc) rc = sl_pg_exec(r->conn, "COMMIT", err);
  else sl_pg_exec(r->conn, "ROLLBACK", &(struct sl_err){0});
  return rc;
}

/* The marker that a slot's initial snapshot reached the sink whole. */
static char *marker_path(struct run *r) {
  return r->o->state_dir ? sl_asprintf("%s/cdc-%s-%s.snapshot", r->o->state_dir, r->o->src->name, r->o->src->slot) : NULL;
}

static int snapshot_then_mark(struct run *r, const char *snapshot, struct sl_err *err) {
  int rc = take_snapshot(r, snapshot, r->flushed, err);
  /* Everything copied is durable, at the slot's consistent point, before the mark. */
  if (!rc) rc = flush_tx(r, r->flushed, 1, err);
  char *m = rc ? NULL : marker_path(r);
  if (m) rc = sl_fs_write_atomic(m, r->o->src->slot, strlen(r->o->src->slot), err);
  sl_free(m);
  return rc;
}

static int on_message(struct run *r, const uint8_t *p, size_t n, uint64_t wal_start, struct sl_err *err) {
  struct sl_pgo_msg m;
  int rc = sl_pgo_decode(&r->dec, p, n, &m, err);
  if (rc) {
    char l[32];
    sl_cdc_lsn_text(wal_start, l);
    return sl_err_prefix(err, "%s: at LSN %s: ", r->repl->label, l);
  }
  struct sl_cdc_event_src es = {.name = r->o->src->topic_prefix, .db = db_name(r), .snapshot = "false",
                                .ts_ms = r->commit_ms, .tx_id = r->xid, .lsn = wal_start, .commit_lsn = r->commit_lsn,
                                .last_commit_lsn = r->last_end_lsn, .decimal = r->o->src->decimal_handling};
  switch (m.type) {
  case 'B':
    r->in_tx = 1;
    r->xid = m.xid;
    r->commit_lsn = m.lsn;
    r->commit_ms = (m.ts_us + PG_EPOCH_US) / 1000;
    break;
  case 'C':
    r->in_tx = 0;
    r->st->transactions++;
    r->last_end_lsn = m.end_lsn;
    rc = flush_tx(r, m.end_lsn, 0, err);
    if (!rc) rc = send_status(r, 1, err);
    if (r->o->max_events && r->st->events >= r->o->max_events) r->done = 1;
    break;
  case 'R':
    if (m.rel_changed) {
      char l[32];
      sl_cdc_lsn_text(wal_start, l);
      char ncols[16];
      snprintf(ncols, sizeof ncols, "%u", m.rel->n_cols);
      sl_log(SL_LOG_INFO, "cdc", "table columns changed", "table", m.rel->name, "columns", ncols, "lsn", l, NULL);
    }
    break;
  case 'I': rc = emit(r, &es, m.rel, 'c', NULL, m.new_tuple, err); break;
  case 'U': rc = emit(r, &es, m.rel, 'u', m.old_tuple, m.new_tuple, err); break;
  case 'D': rc = emit(r, &es, m.rel, 'd', m.old_tuple, NULL, err); break;
  case 'T':
    for (uint32_t i = 0; !rc && i < m.n_relids; i++) {
      const struct sl_pgo_relation *rel = sl_pgo_relation(&r->dec, m.relids[i]);
      if (rel) rc = emit(r, &es, rel, 't', NULL, NULL, err);
    }
    break;
  default: break; /* Origin, Type, Message: nothing to emit */
  }
  return rc;
}

static uint64_t be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}

/* The heartbeat: while the captured tables are idle, every heartbeat_interval_ms a
 * write in the source's database (heartbeat_table or heartbeat_action_query) gives the
 * slot something of its own database to confirm, so its position moves even where
 * all other WAL comes from other databases. */
static int heartbeat(struct run *r, struct sl_err *err) {
  const struct sl_cdc_source *src = r->o->src;
  if (!src->heartbeat_table[0] && !src->heartbeat_query[0]) return 0;
  int64_t now = sl_time_mono_ns(), every = src->heartbeat_ms * 1000000LL;
  if (now - r->last_activity_ns < every || now - r->last_heartbeat_ns < every) return 0;
  r->last_heartbeat_ns = now;
  int rc;
  if (src->heartbeat_query[0]) {
    rc = sl_pg_exec(r->conn, src->heartbeat_query, err);
    if (rc && rc != SL_EIO) sl_err_prefix(err, "heartbeat_action_query of source %s failed (fix or remove it): ", src->name);
    return rc;
  }
  char *schema = NULL, *table = NULL;
  sl_pg_split_name(src->heartbeat_table, &schema, &table);
  char *q = schema && table ? sl_pg_qualified(r->conn, schema, table) : NULL;
  char *sql = q ? sl_asprintf("INSERT INTO %s (slot, ts) VALUES ($1, now()) ON CONFLICT (slot) DO UPDATE SET ts = excluded.ts", q) : NULL;
  PGresult *res = NULL;
  const char *p[1] = {src->slot};
  rc = sql ? sl_pg_query(r->conn, sql, 1, p, &res, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  PQclear(res);
  if (rc && rc != SL_EIO)
    sl_err_prefix(err, "heartbeat_table %s of source %s: the heartbeat write failed (grant INSERT and UPDATE on it, or "
                  "remove heartbeat_table): ", src->heartbeat_table, src->name);
  sl_free(sql);
  sl_free(q);
  sl_free(schema);
  sl_free(table);
  return rc;
}

/* Creates the heartbeat table if it is missing. */
static int heartbeat_prepare(struct run *r, struct sl_err *err) {
  const struct sl_cdc_source *src = r->o->src;
  if (!src->heartbeat_table[0]) return 0;
  char *schema = NULL, *table = NULL;
  sl_pg_split_name(src->heartbeat_table, &schema, &table);
  char *q = schema && table ? sl_pg_qualified(r->conn, schema, table) : NULL;
  char *sql = q ? sl_asprintf("CREATE TABLE IF NOT EXISTS %s (slot text PRIMARY KEY, ts timestamptz NOT NULL)", q) : NULL;
  int rc = sql ? sl_pg_exec(r->conn, sql, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  if (rc && rc != SL_EIO)
    sl_err_prefix(err, "heartbeat_table %s of source %s: cannot create it (create it as "
                  "(slot text PRIMARY KEY, ts timestamptz) and grant INSERT, UPDATE, or remove heartbeat_table): ",
                  src->heartbeat_table, src->name);
  sl_free(sql);
  sl_free(q);
  sl_free(schema);
  sl_free(table);
  return rc;
}

/* One connection's life: slot, optional snapshot, stream until stopped or broken. */
static int session(struct run *r, int first, struct sl_err *err) {
  const struct sl_cdc_source *src = r->o->src;
  int rc = sl_pg_connect(src, 0, &r->conn, err);
  if (!rc && first) rc = prepare_source(r, err);
  if (!rc && first) rc = heartbeat_prepare(r, err);
  if (rc) return rc;
  int mode = src->snapshot_mode;
  if (mode == SL_SNAP_INITIAL_ONLY) {
    rc = take_snapshot(r, NULL, 0, err);
    r->done = 1;
    return rc;
  }
  const char *sp[1] = {src->slot};
  PGresult *res = NULL;
  if ((rc = sl_pg_query(r->conn, "SELECT confirmed_flush_lsn::text, wal_status, plugin FROM pg_replication_slots WHERE slot_name = $1", 1, sp, &res, err)))
    return rc;
  int exists = PQntuples(res) == 1;
  char *m = marker_path(r);
  int marked = m && sl_fs_exists(m);
  sl_free(m);
  if (exists && (!strcmp(PQgetvalue(res, 0, 1), "lost") || PQgetisnull(res, 0, 0))) {
    if (first && mode == SL_SNAP_ALWAYS) {
      /* Asked for a new snapshot: the invalidated slot makes way for a new one. */
      PGresult *d = NULL;
      rc = sl_pg_query(r->conn, "SELECT pg_drop_replication_slot($1)", 1, sp, &d, err);
      PQclear(d);
      exists = 0;
      sl_log(SL_LOG_WARN, "cdc", "the replication slot was invalidated; dropped it, taking a new snapshot", "source",
             src->name, "slot", src->slot, NULL);
    } else {
      rc = sl_err_set(err, SL_ECONFIG,
                      "%s: replication slot %s was invalidated by PostgreSQL (wal_status lost: the WAL it still needed "
                      "was removed, e.g. past max_slot_wal_keep_size), so the changes since it was last read are gone. "
                      "Take a new snapshot: sluice cdc %s --snapshot always (drops the slot, creates a new one and "
                      "copies the tables again); raise max_slot_wal_keep_size so it does not happen again",
                      r->conn->label, src->slot, src->name);
    }
  } else if (exists && strcmp(PQgetvalue(res, 0, 2), "pgoutput")) {
    rc = sl_err_set(err, SL_ECONFIG, "%s: slot %s uses plugin %s, not pgoutput; drop it or name another slot",
                    r->conn->label, src->slot, PQgetvalue(res, 0, 2));
  } else if (exists) {
    sl_cdc_lsn_parse(PQgetvalue(res, 0, 0), &r->flushed);
    if (first && (mode == SL_SNAP_INITIAL || mode == SL_SNAP_ALWAYS) && !marked) {
      /* The slot was made but its snapshot never completed (the process was killed):
       * start over with a new slot and a new snapshot. */
      PGresult *d = NULL;
      rc = sl_pg_query(r->conn, "SELECT pg_drop_replication_slot($1)", 1, sp, &d, err);
      PQclear(d);
      exists = 0;
      r->flushed = 0;
      sl_log(SL_LOG_WARN, "cdc", "the last initial snapshot did not complete; taking it again", "slot", src->slot, NULL);
    }
  } else if (!first) {
    rc = sl_err_set(err, SL_ECONFIG,
                    "%s: replication slot %s disappeared while sluice was reconnecting (it was dropped), so the "
                    "changes since it was last read are gone. Take a new snapshot: sluice cdc %s --snapshot always "
                    "(creates a new slot and copies the tables again)",
                    r->conn->label, src->slot, src->name);
  } else if (marked && mode != SL_SNAP_ALWAYS) {
    rc = sl_err_set(err, SL_ECONFIG,
                    "%s: replication slot %s no longer exists (it was dropped while sluice was stopped), so the changes "
                    "since it was last read are gone. Take a new snapshot: sluice cdc %s --snapshot always (creates a "
                    "new slot and copies the tables again)",
                    r->conn->label, src->slot, src->name);
  }
  PQclear(res);
  if (rc) return rc;
  if ((rc = sl_pg_connect(src, 1, &r->repl, err))) return rc;
  if (!exists) {
    char *slot = sl_pg_ident(r->repl, src->slot);
    char *sql = slot ? sl_asprintf("CREATE_REPLICATION_SLOT %s LOGICAL pgoutput EXPORT_SNAPSHOT", slot) : NULL;
    rc = sql ? sl_pg_query(r->repl, sql, 0, NULL, &res, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
    sl_free(sql);
    sl_free(slot);
    if (rc) return rc;
    sl_cdc_lsn_parse(PQgetvalue(res, 0, 1), &r->flushed);
    char *snapshot = sl_strdup(PQgetvalue(res, 0, 2));
    PQclear(res);
    sl_log(SL_LOG_INFO, "cdc", "created replication slot", "slot", src->slot, NULL);
    if (mode == SL_SNAP_INITIAL || mode == SL_SNAP_ALWAYS) {
      rc = snapshot_then_mark(r, snapshot, err);
    } else { /* never: the slot is ours from here on */
      char *mk = marker_path(r);
      if (mk) rc = sl_fs_write_atomic(mk, src->slot, strlen(src->slot), err);
      sl_free(mk);
    }
    sl_free(snapshot);
  } else if (first && mode == SL_SNAP_ALWAYS) {
    rc = snapshot_then_mark(r, NULL, err);
  }
  if (rc) return rc;
  char start[32];
  sl_cdc_lsn_text(r->flushed, start);
  char *slot = sl_pg_ident(r->repl, src->slot);
  char *publit = PQescapeLiteral(r->repl->conn, src->publication, strlen(src->publication));
  char *sql = slot && publit ? sl_asprintf("START_REPLICATION SLOT %s LOGICAL %s (proto_version '1', publication_names %s, messages 'true')",
                                           slot, start, publit) : NULL;
  PQfreemem(publit);
  sl_free(slot);
  PGresult *sr = sql ? PQexec(r->repl->conn, sql) : NULL;
  sl_free(sql);
  if (PQresultStatus(sr) != PGRES_COPY_BOTH) {
    rc = sl_err_set(err, SL_EIO, "%s: START_REPLICATION failed: %s", r->repl->label,
                    sr ? PQresultErrorMessage(sr) : PQerrorMessage(r->repl->conn));
    PQclear(sr);
    return rc;
  }
  PQclear(sr);
  r->received = r->flushed;
  if (!r->last_end_lsn) r->last_end_lsn = r->flushed;
  r->last_activity_ns = r->last_heartbeat_ns = sl_time_mono_ns();
  int polled = 0;
  while (!rc && !r->done && !(r->o->stop && *r->o->stop)) {
    char *buf = NULL;
    int n = PQgetCopyData(r->repl->conn, &buf, 1);
    if (n == 0 && !polled) {
      /* libpq's buffer is empty: read what the socket already holds before calling
       * the stream idle. */
      polled = 1;
      if (!PQconsumeInput(r->repl->conn)) {
        rc = sl_err_set(err, SL_EIO, "%s: connection lost: %s", r->repl->label, PQerrorMessage(r->repl->conn));
        break;
      }
      continue;
    }
    polled = 0;
    if (n == 0) {
      /* Idle: nothing more has arrived, so what the sink holds is committed now (a busy
       * stream commits in batches instead); then the heartbeat and the position. */
      if (!r->in_tx) rc = flush_tx(r, r->last_end_lsn, r->sink.pending(&r->sink), err);
      if (!rc && !r->in_tx) rc = heartbeat(r, err);
      if (!rc) rc = send_status(r, 0, err);
      if (rc) break;
      if (r->o->idle_exit_ms && !r->in_tx &&
          sl_time_mono_ns() - r->last_activity_ns > r->o->idle_exit_ms * 1000000LL) {
        r->done = 1;
        break;
      }
      int sock = PQsocket(r->repl->conn);
      fd_set fds;
      FD_ZERO(&fds);
      FD_SET(sock, &fds);
      struct timeval tv = {0, 100000};
      if (select(sock + 1, &fds, NULL, NULL, &tv) < 0 && errno != EINTR) {
        rc = sl_err_set(err, SL_EIO, "%s: select: %s", r->repl->label, strerror(errno));
        break;
      }
      if (!PQconsumeInput(r->repl->conn)) {
        rc = sl_err_set(err, SL_EIO, "%s: connection lost: %s", r->repl->label, PQerrorMessage(r->repl->conn));
        break;
      }
      continue;
    }
    if (n == -1) {
      PGresult *end = PQgetResult(r->repl->conn);
      rc = sl_err_set(err, SL_EIO, "%s: the server ended the stream: %s", r->repl->label,
                      end ? PQresultErrorMessage(end) : "no reason given");
      PQclear(end);
      break;
    }
    if (n == -2) {
      rc = sl_err_set(err, SL_EIO, "%s: connection lost: %s", r->repl->label, PQerrorMessage(r->repl->conn));
      break;
    }
    const uint8_t *p = (const uint8_t *)buf;
    if (p[0] == 'w' && n >= 25) {
      uint64_t start_lsn = be64(p + 1);
      rc = on_message(r, p + 25, (size_t)n - 25, start_lsn, err);
      if (start_lsn > r->received) r->received = start_lsn;
      r->last_activity_ns = sl_time_mono_ns();
    } else if (p[0] == 'k' && n >= 18) {
      uint64_t wal_end = be64(p + 1);
      /* Nothing of ours is pending between transactions: the slot may move up to the
       * server's WAL end, so quiet tables do not hold WAL back. */
      if (!r->in_tx && !r->sink.pending(&r->sink) && wal_end > r->flushed) r->flushed = wal_end;
      r->st->flushed_lsn = r->flushed;
      rc = send_status(r, p[17], err);
    } else {
      rc = sl_err_set(err, SL_EDATA, "%s: unknown replication message '%c' (%d bytes)", r->repl->label, p[0], n);
    }
    PQfreemem(buf);
  }
  if (!rc && !r->in_tx) rc = flush_tx(r, r->last_end_lsn, 1, err); /* a clean stop commits what is held */
  if (!rc) {
    struct sl_err e2 = {0};
    send_status(r, 1, &e2);
    PQputCopyEnd(r->repl->conn, NULL);
  }
  return rc;
}

static void session_end(struct run *r) {
  sl_pg_close(r->repl);
  sl_pg_close(r->conn);
  r->repl = r->conn = NULL;
  r->in_tx = 0;
  sl_pgo_fini(&r->dec);
  sl_pgo_init(&r->dec);
}

int sl_cdc_run(const struct sl_cdc_run_opts *o, struct sl_cdc_run_stats *st, struct sl_err *err) {
  memset(st, 0, sizeof *st);
  struct run r = {.o = o, .st = st};
  sl_pgo_init(&r.dec);
  const char *to = o->to ? o->to : "jsonl";
  int rc = !strcmp(to, "table")    ? (o->lake ? sl_cdc_sink_table_open(o->src, o->lake, &r.sink, err)
                                              : sl_err_set(err, SL_EINVAL, "--to table needs a project's lake"))
           : !strcmp(to, "topics") ? (o->lake ? sl_cdc_sink_topic_open(o->src, o->lake, o->log, &r.sink, err)
                                              : sl_err_set(err, SL_EINVAL, "--to topics needs a project"))
                                   : sl_cdc_sink_jsonl_open(to, &r.sink, err);
  if (rc) return rc;
  int64_t backoff_ms = 1000;
  for (int first = 1;; first = 0) {
    rc = session(&r, first, err);
    session_end(&r);
    if (!rc || r.done || (o->stop && *o->stop)) break;
    if (rc != SL_EIO) break; /* configuration and data problems do not heal by retrying */
    if (first && !st->events && strstr(err->msg, "cannot connect")) break;
    st->reconnects++;
    char ms[32];
    snprintf(ms, sizeof ms, "%lld", (long long)backoff_ms);
    sl_log(SL_LOG_WARN, "cdc", "connection lost, reconnecting", "source", o->src->name, "error", err->msg, "in_ms", ms,
           NULL);
    for (int64_t waited = 0; waited < backoff_ms && !(o->stop && *o->stop); waited += 100) {
      struct timespec ts = {0, 100 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
    if (o->stop && *o->stop) {
      rc = 0;
      break;
    }
    backoff_ms = backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2;
    sl_err_clear(err);
  }
  if (o->stop && *o->stop && rc == SL_EINTR) rc = 0;
  r.sink.close(&r.sink);
  sl_pgo_fini(&r.dec);
  return rc;
}
