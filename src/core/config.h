/* config.h: sluice.yaml loading. libyaml parses the file into a tree of nodes that
 * remember their line and column; each part describes its options in a table
 * (struct sl_opt: name, type, default, range, doc) and sl_cfg_fill fills the part's
 * struct from its section, so every error names file:line:column and the key.
 * Environment variables SLUICE_<SECTION>_<NAME> override file values (for secrets).
 * docs/configuration.md is generated from the same tables (`sluice config --reference`). */
#ifndef SL_CORE_CONFIG_H
#define SL_CORE_CONFIG_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

enum sl_cfg_kind { SL_CFG_SCALAR, SL_CFG_MAP, SL_CFG_SEQ };

struct sl_cfg_node {
  enum sl_cfg_kind kind;
  char *key;   /* key in the parent map, or NULL */
  char *value; /* scalars only */
  int line, col; /* 1-based position of the value */
  int key_line, key_col;
  struct sl_cfg_node **items;
  size_t n_items;
};

struct sl_cfg_doc {
  char *file;
  struct sl_cfg_node *root; /* a map; an empty file gives an empty map */
};

/* Parses YAML text; `file` names it in errors. Limits: 4 MiB, 100,000 nodes, depth 64. */
int sl_cfg_parse(const char *file, const char *text, size_t len, struct sl_cfg_doc *doc,
                 struct sl_err *err);
int sl_cfg_load(const char *path, struct sl_cfg_doc *doc, struct sl_err *err);
void sl_cfg_doc_fini(struct sl_cfg_doc *doc);
const struct sl_cfg_node *sl_cfg_get(const struct sl_cfg_node *map, const char *key);

enum sl_opt_type { SL_OPT_STR, SL_OPT_INT, SL_OPT_BOOL, SL_OPT_SIZE, SL_OPT_ENUM, SL_OPT_LIST, SL_OPT_DURATION };

/* A LIST option: a YAML sequence of strings, or one comma-separated string. */
struct sl_strlist {
  char **v;
  size_t n;
};

/* One option of a section. STR fields are char* (owned by the struct, freed by
 * sl_cfg_section_fini); INT, SIZE and DURATION (milliseconds) are int64_t; BOOL and ENUM are int (ENUM: index
 * into the '|'-separated choices); LIST is struct sl_strlist. */
struct sl_opt {
  const char *name;
  enum sl_opt_type type;
  size_t offset;
  const char *def; /* default as text, or NULL */
  int64_t min, max; /* INT/SIZE range; min > max means unbounded */
  const char *choices; /* ENUM: "kv|json" */
  const char *doc;
  int secret; /* never printed or logged */
};

struct sl_cfg_section {
  const char *name; /* key in sluice.yaml; "" for top-level scalars */
  const struct sl_opt *opts;
  const char *doc;
};

/* Sets defaults, then values from the section's map (node may be NULL), then the
 * environment. Unknown keys are errors naming the closest known one. */
int sl_cfg_fill(const struct sl_cfg_doc *doc, const struct sl_cfg_node *node,
                const struct sl_cfg_section *sec, void *out, struct sl_err *err);
void sl_cfg_section_fini(const struct sl_cfg_section *sec, void *out);
/* Parses "64MB", "1GiB", "4096" into bytes. */
int sl_cfg_parse_size(const char *s, int64_t *out);
/* Writes the Markdown reference of the given sections to a new string. */
char *sl_cfg_reference_md(const struct sl_cfg_section *const *secs, size_t n);
/* Error at a node: "sluice.yaml:3:5: key 'lake.path': <what>". */
int sl_cfg_err_at(struct sl_err *err, int code, const struct sl_cfg_doc *doc,
                  const struct sl_cfg_node *node, const char *keypath, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif
