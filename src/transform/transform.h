/* transform.h: models (what dbt does). A model is models/<path>/<name>.sql: a SELECT
 * with {{ ref('model') }}, {{ source('ns_or_source', 'table') }} and a config call
 * {{ config(materialized='table'|'view'|'incremental', namespace='silver', unique_key='id',
 * partition='col', tags=['x'], event_time='ts', lookback='2d') }}. The refs make a DAG;
 * `sluice build` runs it in order, independent models in parallel, each output staged,
 * audited by its checks and only then published as one snapshot. */
#ifndef SL_TRANSFORM_TRANSFORM_H
#define SL_TRANSFORM_TRANSFORM_H

#include "catalog/catalog.h"
#include "check/check.h"
#include "ingest/ingest.h"
#include "lake/lake.h"
#include "sql/duck.h"

#include <stddef.h>
#include <stdint.h>

enum sl_mat { SL_MAT_TABLE, SL_MAT_VIEW, SL_MAT_INCREMENTAL };

/* A template expression: a string, number, name, list or call (name(args, k=v)). */
enum sl_tx_kind { SL_TX_STR, SL_TX_NUM, SL_TX_NAME, SL_TX_LIST, SL_TX_CALL };
struct sl_tx {
  enum sl_tx_kind kind;
  char *s;             /* the text, or the called name */
  char *key;           /* for keyword arguments */
  struct sl_tx **args; /* list items or call arguments */
  size_t n;
};

/* One {{ ... }} in a model's text. */
struct sl_tpl_part {
  size_t start, end; /* byte range of the whole {{ ... }} */
  int line;
  struct sl_tx *expr;
};

struct sl_model_dep {
  char *model;     /* ref('model'), or NULL */
  char *table;     /* the lake table it reads: ns.table */
  int line;
};

struct sl_model {
  char *name, *path; /* path relative to the project */
  char *text;        /* the file */
  struct sl_tpl_part *parts;
  size_t n_parts;
  enum sl_mat mat;
  char *ns;
  char **key;
  size_t n_key;
  char *partition, *event_time;
  int64_t lookback_ms;
  char **tags;
  size_t n_tags;
  struct sl_model_dep *deps;
  size_t n_deps;
  size_t *up; /* indices of the models it refs */
  size_t n_up;
};

struct sl_models {
  struct sl_model *v;
  size_t n;
  char *macros; /* the .sql files of the project's macros folder, one after the other */
  char **macro_paths, **macro_texts; /* each file: "macros/x.sql" and its text */
  size_t n_macros;
};

/* Reads the macros/ folder of the project at root into out's macro fields. */
int sl_models_load_macros(const char *root, struct sl_models *out, struct sl_err *err);

/* Resolves source(a, b) to a lake table "ns.table" (new string); NULL with err set if
 * there is none. */
typedef char *(*sl_source_fn)(void *ctx, const char *a, const char *b, struct sl_err *err);

/* Loads every .sql file under the models folder (and the macros folder beside it), parses configs
 * and refs; errors name file:line. */
int sl_models_load(const char *root, const char *models_dir, const char *default_ns, struct sl_models *out,
                   struct sl_err *err);
/* Resolves refs and sources into deps, and orders the DAG: unknown refs and cycles
 * are errors naming file:line. */
int sl_models_resolve(struct sl_models *ms, sl_source_fn source, void *ctx, struct sl_err *err);
/* Reports a cycle in the models' upstream edges (refs, and those sl_models_add_up added)
 * naming the file. */
int sl_models_check_cycles(const struct sl_models *ms, struct sl_err *err);
/* Makes model up an upstream of model i (for a check of i that reads up); -1 when out
 * of memory. */
int sl_models_add_up(struct sl_models *ms, size_t i, size_t up);
void sl_models_fini(struct sl_models *ms);
int sl_models_find(const struct sl_models *ms, const char *name);

/* Marks the models a selector list picks: name, +name (and its ancestors), name+ (and
 * its descendants), tag:x, path prefix. No selectors: all. */
int sl_models_select(const struct sl_models *ms, char *const *sel, size_t n, unsigned char *picked,
                     struct sl_err *err);

/* Parses one expression (the inside of {{ }}); for the fuzz target and the loader. */
int sl_tx_parse(const char *s, size_t n, struct sl_tx **out, const char **why);
void sl_tx_free(struct sl_tx *x);
/* Finds the {{ }} parts of a model's text. */
int sl_tpl_scan(const char *file, const char *text, struct sl_tpl_part **parts, size_t *n, struct sl_err *err);
void sl_tpl_parts_free(struct sl_tpl_part *p, size_t n);

/* How a build renders refs: the relation each dep is read through. */
struct sl_render {
  const struct sl_models *ms;
  const struct sl_model *m;
  char **dep_rel;  /* per dep of m: the relation text to put in its place */
  const char *this_rel; /* the model's own table; NULL: it has none yet */
  struct sl_duck *d; /* for helpers that look at data (one_hot) */
};
int sl_model_render(const struct sl_render *r, char **out, struct sl_err *err);

/* The final SQL of a model (`sluice compile`, new string): each ref() and source() read
 * through the Parquet files of the table's current snapshot (a view's SQL for a view,
 * the name for a table without files of its own, such as a CDC <t>_current view), or
 * with by_name through the quoted "namespace"."table". Needs the helper macros only to
 * run it, not to render it. */
int sl_model_compile(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st, const struct sl_models *ms,
                     const struct sl_model *m, int by_name, char **sql, struct sl_err *err);
/* The relation (new string, "(SELECT ... FROM read_parquet([...]))") reading a lake
 * table's current snapshot; *out NULL when the table has no files of its own. */
int sl_model_input_sql(struct sl_duck *d, struct sl_catalog *cat, struct sl_store *st, const char *qualified,
                       char **out, struct sl_err *err);
/* Fills order[0..ms->n) with model indices, each after the models it refs. */
int sl_models_order(const struct sl_models *ms, size_t *order);

/* Built-in helper macros (min_max_scale, robust_scale, log1p, ...). */
extern const char sl_transform_macros[];

/* Defines the helper macros and the project's macros (each file once per session, so
 * `CREATE MACRO` files work in reused sessions) in d: before the lake's views, since a
 * view model may call them. Errors name the macro file. */
int sl_transform_session(struct sl_duck *d, const struct sl_models *ms, struct sl_err *err);
/* The same for a session without the models loaded: the macros/ folder of the project
 * at root. A broken macro file is only a warning here (the lake stays queryable). */
void sl_transform_session_dir(struct sl_duck *d, const char *root);

/* The build: section of sluice.yaml. */
struct sl_build_cfg {
  char *models;            /* folder of the models, relative to the project */
  char *default_namespace; /* where a model without namespace= goes */
  int64_t threads;
  int64_t quarantine_limit;
  int64_t incremental_file_size;
  int merge;                       /* 0 merge-on-read, 1 copy-on-write */
  int64_t rewrite_deleted_percent; /* a file is rewritten once this share of its rows would be hidden */
  int64_t pack_small_files;        /* small files are packed together once this many exist; 0: never */
};
extern const struct sl_cfg_section sl_build_section;

struct sl_build_opts {
  const char *catalog_url;
  struct sl_store *st;
  const struct sl_duck_opts *dopts;
  const struct sl_ingest_opts *iopts;
  const struct sl_checks *checks;
  char *const *select;
  size_t n_select;
  int full_refresh;
  int threads;
  int64_t quarantine_limit;
  int64_t incremental_file_size; /* bytes per data file of incremental models; 0: the ingest's */
  int copy_on_write;              /* merges rewrite every touched file instead of writing delete files */
  int64_t rewrite_deleted_percent; /* merge-on-read: rewrite a file once this % of its rows would be hidden */
  int64_t pack_small_files;        /* pack files under a quarter of incremental_file_size once this many; 0: never */
  int progress;
  volatile int *cancel;
};

enum sl_build_status { SL_BUILD_OK, SL_BUILD_FRESH, SL_BUILD_FAILED, SL_BUILD_CHECKS_FAILED, SL_BUILD_SKIPPED };

struct sl_build_model_result {
  const struct sl_model *m;
  enum sl_build_status status;
  int64_t rows, snapshot_id, quarantined;
  double seconds;
  char *how;     /* "full", "incremental: 120 changed rows", ... */
  char *message; /* why it failed or was skipped */
  size_t checks_from, checks_to; /* its results in sl_build_result.checks */
};

struct sl_build_result {
  char run_id[37];
  struct sl_build_model_result *v;
  size_t n;
  struct sl_check_results checks;
  double seconds;
};

/* Builds the selected models. Returns 0 when every selected model is built or fresh;
 * SL_EDATA when a model failed or its checks did (res tells which). */
int sl_build_run(struct sl_models *ms, const struct sl_build_opts *o, struct sl_build_result *res, struct sl_err *err);
void sl_build_result_fini(struct sl_build_result *r);
const char *sl_build_status_name(enum sl_build_status s);

#endif
