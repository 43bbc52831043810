/* vacuum.h: `sluice vacuum`, the lake's upkeep. Expires the snapshots that were
 * replaced longer ago than the retention, deletes the files only they saw, and deletes
 * the files in tables' data folders that no snapshot names (what a killed ingest or
 * build leaves) once they are older than the retention, and never younger than an hour.
 * A table's current snapshot, and every snapshot an incremental model's state reads
 * from (the "inputs" of the tables' current snapshots), are kept. Leftovers of killed
 * loads in the staging folder (.sluice/staging/<uuid>) go by the same age rule. */
#ifndef SL_CATALOG_VACUUM_H
#define SL_CATALOG_VACUUM_H

#include "catalog/catalog.h"
#include "lake/lake.h"

/* Files no snapshot names are left alone while younger than this, whatever the
 * retention: a write in progress has written them and not committed yet. */
#define SL_VACUUM_MIN_ORPHAN_AGE_MS (3600 * 1000LL)

struct sl_vacuum_opts {
  int64_t retention_ms;
  int64_t now_ms;
  int dry_run;               /* report what would go; change nothing */
  const char *const *tables; /* "ns.table" names, or none: every table */
  size_t n_tables;
  const char *staging_dir; /* a folder of loads' temporary files (.sluice/staging), or NULL */
};

struct sl_vacuum_table {
  char *ns, *name;
  int known;                   /* the catalog has the table (0: a folder of files only) */
  int64_t expired, kept;       /* snapshots expired now; snapshots left, expired or not counted */
  int64_t files, bytes;        /* files of expired snapshots deleted, and their bytes */
  int64_t orphans, orphan_bytes; /* files no snapshot names deleted (or, unknown table, found) */
  int64_t young;               /* files no snapshot names, left because they are recent */
};

struct sl_vacuum_result {
  struct sl_vacuum_table *v;
  size_t n;
  int64_t staging, staging_bytes; /* leftovers in staging_dir deleted (or found, dry run) */
  /* Totals over the tables and staging: what was deleted (dry run: would be). */
  int64_t snapshots_expired, files_deleted, bytes_freed;
  int64_t unknown_files; /* files found in folders of tables the catalog does not know */
};

int sl_vacuum(struct sl_catalog *cat, struct sl_store *st, const struct sl_vacuum_opts *o,
              struct sl_vacuum_result *out, struct sl_err *err);
void sl_vacuum_result_fini(struct sl_vacuum_result *r);

/* The snapshots (of any table) that incremental models read from last: their next
 * builds read what changed since them. *ids is a new array. */
int sl_vacuum_incremental_inputs(struct sl_catalog *cat, int64_t **ids, size_t *n, struct sl_err *err);

#endif
