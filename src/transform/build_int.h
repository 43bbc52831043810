/* build_int.h: what the build's files share: a worker's context. */
#ifndef SL_TRANSFORM_BUILD_INT_H
#define SL_TRANSFORM_BUILD_INT_H

#include "core/buf.h"
#include "transform/transform.h"

struct sl_bctx {
  const struct sl_build_opts *o;
  const struct sl_models *ms;
  struct sl_catalog *cat;       /* the worker's own connection */
  struct sl_duck *d;            /* opened per model, with the lake attached */
  struct sl_check_results *checks; /* the worker's results, merged at the end */
  const char *run_id;
};

/* Logs (at debug level) the milliseconds since *t of one phase of a model's build,
 * and sets *t to now. */
void sl_build_phase_log(const char *model, const char *phase, int64_t *t);

/* 1 if a key of this type has exact, ordered min/max statistics to prune files by. */
int sl_build_prunable_type(const char *t);

/* An incremental model's merge into its table's current snapshot (build_merge.c). */
struct sl_merge {
  int ok;         /* 0: rewrite the table whole (the changed rows' columns differ from the
                     table's, or it has a column named file_row_number or _sl_f) */
  size_t n_files; /* the table's data files */
  char **remove;  /* keys of the data files rewritten and the delete files replaced */
  size_t n_remove;
  char **keep; /* keys of the data files that stay */
  size_t n_keep;
  struct sl_delete_file *keep_dels; /* delete files that stay */
  size_t n_keep_dels;
  struct sl_delete_file *add_dels; /* new delete files (paths owned by stages) */
  size_t n_add_dels;
  struct sl_ingest_stage dels_stage; /* the staged delete files */
  char *rewrite; /* SELECT of the rewritten files' rows that stay, or NULL */
  size_t n_rewritten;
  int64_t rewritten_rows, hidden_rows;
};

/* Plans and stages the merge of _sl_delta (the changed keys' new rows) for the keys in
 * _sl_keys. */
int sl_merge_plan(struct sl_bctx *x, const struct sl_model *m, const struct sl_table_info *target,
                  const struct sl_schema *have, struct sl_merge *mg, struct sl_err *err);
/* Appends "SELECT cols FROM rel AS _sl_i SEMI JOIN keys AS _sl_c ..." on the model's
 * unique key: an equality join (DuckDB pushes the keys' range into rel's scan), and
 * apart the rows with a NULL key part, joined by IS NOT DISTINCT FROM (their scan is
 * skipped by the files' null counts when there are none). */
void sl_build_key_semi(struct sl_buf *b, const struct sl_model *m, const char *cols, const char *rel, const char *keys);
/* A relation reading the table as the merge leaves it, with stage's new data files. */
char *sl_merge_reader(struct sl_bctx *x, const struct sl_merge *mg, const struct sl_ingest_stage *stage,
                      struct sl_err *err);
/* After the commit: the staged delete files are the table's now. */
void sl_merge_committed(struct sl_merge *mg);
/* Frees the merge, removing its staged delete files unless committed. */
void sl_merge_fini(struct sl_store *st, struct sl_merge *mg);

/* Whether the model may read its changed input i (rels[i] its relation) as part of it
 * (build_probe.c): row_wise, as its new rows only (an input without the unique key);
 * key_local, as every row of its changed keys. When not, *why gets the reason to build
 * in full. */
int sl_build_probe_row_wise(struct sl_bctx *x, const struct sl_model *m, char **rels, size_t i, const char *this_rel,
                            char **why, struct sl_err *err);
int sl_build_probe_key_local(struct sl_bctx *x, const struct sl_model *m, char **rels, size_t i, const char *this_rel,
                             char **why, struct sl_err *err);

int sl_build_model(struct sl_bctx *x, const struct sl_model *m, struct sl_build_model_result *res,
                   struct sl_err *err);

#endif
