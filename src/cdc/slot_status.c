/* slot_status.c: where a source's replication slot stands: whether a reader is
 * attached, the confirmed position, and the lag in WAL bytes and in seconds. Shared by
 * `sluice status` and the server (GET /api/cdc and the sluice_cdc_* gauges). */
#include "cdc/cdc.h"

#include "cdc/pg.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

void sl_cdc_slot_status_get(const struct sl_cdc_source *s, struct sl_cdc_slot_status *out) {
  memset(out, 0, sizeof *out);
  out->active = -1;
  struct sl_pg *pg = NULL;
  struct sl_err e = {0};
  PGresult *res = NULL;
  const char *params[1] = {s->slot};
  if (sl_pg_connect(s, 0, &pg, &e) ||
      sl_pg_query(pg,
                  "SELECT s.active, s.confirmed_flush_lsn::text,"
                  " pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint,"
                  " (SELECT round(extract(epoch FROM r.flush_lag)::numeric, 3) FROM pg_stat_replication r"
                  "   WHERE r.pid = s.active_pid), s.wal_status"
                  " FROM pg_replication_slots s WHERE s.slot_name = $1",
                  1, params, &res, &e)) {
    out->error = sl_strdup(e.msg);
  } else if (PQntuples(res) == 0) {
    out->reached = 1;
    out->active = 0;
    out->error = sl_strdup("no slot yet: `sluice cdc` creates it");
  } else {
    out->reached = out->exists = 1;
    out->active = PQgetvalue(res, 0, 0)[0] == 't';
    if (!PQgetisnull(res, 0, 1)) out->confirmed_lsn = sl_strdup(PQgetvalue(res, 0, 1));
    if (!PQgetisnull(res, 0, 2)) out->lag_bytes = sl_strdup(PQgetvalue(res, 0, 2));
    if (!PQgetisnull(res, 0, 3)) out->lag_seconds = sl_strdup(PQgetvalue(res, 0, 3));
    out->wal_status = sl_strdup(PQgetvalue(res, 0, 4));
  }
  PQclear(res);
  sl_pg_close(pg);
}

void sl_cdc_slot_status_fini(struct sl_cdc_slot_status *st) {
  sl_free(st->confirmed_lsn);
  sl_free(st->lag_bytes);
  sl_free(st->lag_seconds);
  sl_free(st->wal_status);
  sl_free(st->error);
  memset(st, 0, sizeof *st);
}
