/* compact.h: `sluice compact`: rewrites a table's small files, and files that position
 * delete files hide rows of, into files of the target size, as one snapshot (operation
 * "compact") with the same rows. Many appends (change data capture commits every
 * second, the audit tables one file per build) and incremental merges leave such files;
 * reading them costs a file open each, and an anti-join for the deletes.
 *
 * Incremental models reading the table stay incremental: only files (and delete files)
 * that every such model's last build already saw are rewritten, and the snapshot's
 * summary says so ("as-of": the snapshot they were all visible at), so a delta since
 * any later snapshot reads the rewritten files as unchanged (sql/lakeview.c). */
#ifndef SL_INGEST_COMPACT_H
#define SL_INGEST_COMPACT_H

#include "ingest/ingest.h"

struct sl_compact_opts {
  int64_t target_file_size; /* bytes per written file; files under half of it are small */
  int dry_run;              /* say what would be rewritten; write nothing */
  const char *const *tables; /* "ns.table" names, or none: every table */
  size_t n_tables;
  int skip_models; /* leave models' tables alone (their merges pack and rewrite files; a
                      compaction committing first would make a running build fail) */
};

struct sl_compact_table {
  char *ns, *name;
  int64_t files_before, files_rewritten, deletes_applied, files_written;
  int64_t rows, bytes_before, bytes_after; /* rows rewritten; the table's bytes before and after */
  int64_t snapshot_id; /* the compaction's snapshot, or 0 */
  const char *skipped; /* why nothing was rewritten (static text), or NULL */
};

struct sl_compact_result {
  struct sl_compact_table *v;
  size_t n;
  int64_t tables_compacted, files_rewritten, files_written; /* totals (dry run: would be) */
};

int sl_compact(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st, const struct sl_ingest_opts *iopts,
               const struct sl_compact_opts *o, struct sl_compact_result *out, struct sl_err *err);
void sl_compact_result_fini(struct sl_compact_result *r);

#endif
