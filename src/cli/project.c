/* project.c: finding sluice.yaml, filling every part's options from it, and opening
 * the catalog and lake it names. */
#include "cli/project.h"

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct top_opts {
  char *name;
};

static const struct sl_cfg_section top_section = {
    "",
    (const struct sl_opt[]){
        {"name", SL_OPT_STR, offsetof(struct top_opts, name), "", 0, -1, NULL,
         "The project's name, shown in the UI and in metrics.", 0},
        {NULL, 0, 0, NULL, 0, 0, NULL, NULL, 0},
    },
    "Keys at the top level of sluice.yaml, beside the sections below.",
};

static const struct sl_cfg_section logging_section = {
    "logging",
    (const struct sl_opt[]){
        {"level", SL_OPT_ENUM, offsetof(struct sl_log_opts, level), "warn", 0, -1, "debug|info|warn|error|off",
         "Lowest level written; SLUICE_LOG_LEVEL overrides it.", 0},
        {"format", SL_OPT_ENUM, offsetof(struct sl_log_opts, format), "kv", 0, -1, "kv|json",
         "One line per event as key=value pairs or as JSON (for log shippers).", 0},
        {NULL, 0, 0, NULL, 0, 0, NULL, NULL, 0},
    },
    "Logs go to stderr (or SLUICE_LOG_FILE), one line per event.",
};

const struct sl_cfg_section *const sl_project_sections[] = {
    &top_section, &sl_lake_section, &sl_catalog_section, &sl_sql_section, &sl_ingest_section, &sl_build_section, &logging_section, &sl_log_section, &sl_server_section,
    &sl_cdc_source_section,
};
const size_t sl_project_n_sections = sizeof sl_project_sections / sizeof sl_project_sections[0];

static char *find_root(const char *dir, struct sl_err *err) {
  const char *env = getenv("SLUICE_PROJECT");
  if (dir || (env && *env)) {
    const char *d = dir ? dir : env;
    char *abs = sl_fs_abs(d);
    char *cfg = abs ? sl_fs_join(abs, "sluice.yaml") : NULL;
    int found = cfg && sl_fs_exists(cfg);
    sl_free(cfg);
    if (!found) {
      sl_err_set(err, SL_ECONFIG, "%s has no sluice.yaml; create a project there with `sluice init %s`", d, d);
      sl_free(abs);
      return NULL;
    }
    return abs;
  }
  char *cur = sl_fs_abs(".");
  while (cur) {
    char *cfg = sl_fs_join(cur, "sluice.yaml");
    int found = cfg && sl_fs_exists(cfg);
    sl_free(cfg);
    if (found) return cur;
    if (strcmp(cur, "/") == 0) break;
    char *slash = strrchr(cur, '/');
    if (slash == cur) slash[1] = '\0';
    else *slash = '\0';
  }
  sl_free(cur);
  sl_err_set(err, SL_ECONFIG,
             "no sluice.yaml here or in any parent folder; run `sluice init` to create a project, or pass --project DIR");
  return NULL;
}

static void *section_struct(struct sl_project *p, const struct sl_cfg_section *s, struct top_opts *top) {
  if (s == &top_section) return top;
  if (s == &sl_lake_section) return &p->lake;
  if (s == &sl_catalog_section) return &p->catalog;
  if (s == &sl_sql_section) return &p->sql;
  if (s == &sl_ingest_section) return &p->ingest;
  if (s == &sl_build_section) return &p->build;
  if (s == &sl_server_section) return &p->server;
  if (s == &sl_log_section) return &p->log;
  return &p->logging;
}

static int fill_all(struct sl_project *p, struct sl_err *err) {
  struct top_opts top = {0};
  const struct sl_cfg_node *root = p->doc.root;
  for (size_t i = 0; i < root->n_items; i++) {
    const struct sl_cfg_node *it = root->items[i];
    int known = 0;
    for (size_t s = 1; s + 1 < sl_project_n_sections && !known; s++) known = !strcmp(it->key, sl_project_sections[s]->name);
    if (!strcmp(it->key, "sources") || !strcmp(it->key, "checks")) known = 1;
    if (known) continue;
    const struct sl_opt *o = top_section.opts;
    while (o->name && strcmp(o->name, it->key)) o++;
    if (o->name) continue;
    struct sl_cfg_node pos = *it;
    pos.line = it->key_line;
    pos.col = it->key_col;
    return sl_cfg_err_at(err, SL_ECONFIG, &p->doc, &pos, it->key,
                         "unknown section; known: name, lake, catalog, sql, ingest, build, logging, log, server, sources, checks (see docs/configuration.md)");
  }
  /* Top-level scalars are filled from a synthetic map of just those keys. */
  struct sl_cfg_node topmap = {.kind = SL_CFG_MAP, .line = 1, .col = 1};
  struct sl_cfg_node *items[8];
  for (size_t i = 0; i < root->n_items && topmap.n_items < 8; i++)
    if (!strcmp(root->items[i]->key, "name")) items[topmap.n_items++] = root->items[i];
  topmap.items = items;
  int rc = sl_cfg_fill(&p->doc, &topmap, &top_section, &top, err);
  if (rc) {
    sl_cfg_section_fini(&top_section, &top);
    return rc;
  }
  p->name = top.name;
  for (size_t s = 1; s + 1 < sl_project_n_sections; s++) {
    const struct sl_cfg_section *sec = sl_project_sections[s];
    const struct sl_cfg_node *node = sl_cfg_get(root, sec->name);
    /* log: used to hold the logging options; say where they went. */
    for (size_t i = 0; sec == &sl_log_section && node && node->kind == SL_CFG_MAP && i < node->n_items; i++) {
      const struct sl_cfg_node *it = node->items[i];
      if (strcmp(it->key, "level") && strcmp(it->key, "format")) continue;
      struct sl_cfg_node pos = *it;
      pos.line = it->key_line;
      pos.col = it->key_col;
      char kp[64];
      snprintf(kp, sizeof kp, "log.%s", it->key);
      return sl_cfg_err_at(err, SL_ECONFIG, &p->doc, &pos, kp,
                           "unknown option '%s' in log; logging options moved to logging: (log: is the topics log)",
                           it->key);
    }
    rc = sl_cfg_fill(&p->doc, node, sec, section_struct(p, sec, &top), err);
    if (rc) return rc;
  }
  return sl_cdc_sources_load(&p->doc, sl_cfg_get(root, "sources"), &p->sources, err);
}

static char *resolve(const char *root, const char *path) {
  if (path[0] == '/') return sl_strdup(path);
  char *j = sl_fs_join(root, path);
  char *abs = j ? sl_fs_abs(j) : NULL;
  sl_free(j);
  return abs;
}

int sl_project_load(const char *dir, struct sl_project **out, struct sl_err *err) {
  char *root = find_root(dir, err);
  if (!root) return err->code;
  struct sl_project *p = sl_calloc(1, sizeof *p);
  if (!p) {
    sl_free(root);
    return sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  p->root = root;
  p->config_path = sl_fs_join(root, "sluice.yaml");
  int rc = p->config_path ? sl_cfg_load(p->config_path, &p->doc, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
  if (!rc) rc = fill_all(p, err);
  if (!rc) {
    p->lake_dir = resolve(root, p->lake.path[0] ? p->lake.path : "lake");
    const char *u = p->catalog.url;
    if (!strncmp(u, "sqlite:", 7)) {
      char *path = resolve(root, u + 7);
      p->catalog_url = path ? sl_asprintf("sqlite:%s", path) : NULL;
      sl_free(path);
    } else {
      p->catalog_url = sl_strdup(u);
    }
    if (p->sql.temp_dir && p->sql.temp_dir[0]) {
      char *t = resolve(root, p->sql.temp_dir);
      sl_free(p->sql.temp_dir);
      p->sql.temp_dir = t;
    }
    if (!p->lake_dir || !p->catalog_url || !p->sql.temp_dir) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  if (!rc && !getenv("SLUICE_LOG_LEVEL")) sl_log_set_level((enum sl_log_level)p->logging.level);
  if (!rc && !getenv("SLUICE_LOG_FORMAT")) sl_log_set_format((enum sl_log_format)p->logging.format);
  if (rc) {
    sl_project_free(p);
    return rc;
  }
  *out = p;
  return 0;
}

int sl_project_open(struct sl_project *p, struct sl_err *err) {
  if (p->cat) return 0;
  if (!strncmp(p->catalog_url, "sqlite:", 7)) {
    char *path = sl_strdup(p->catalog_url + 7);
    char *slash = path ? strrchr(path, '/') : NULL;
    if (slash) {
      *slash = '\0';
      int rc = sl_fs_mkdirs(path, err);
      sl_free(path);
      if (rc) return rc;
    } else {
      sl_free(path);
    }
  }
  int rc = sl_catalog_open(p->catalog_url, &p->cat, err);
  if (rc) return rc;
  /* A new (or recreated) catalog starts with the lake's zones. */
  char **ns = NULL;
  size_t n = 0;
  rc = sl_catalog_ns_list(p->cat, &ns, &n, err);
  sl_str_list_free(ns, n);
  const char *zones[] = {"bronze", "silver", "gold"};
  for (int i = 0; !rc && !n && i < 3; i++) rc = sl_catalog_ns_create(p->cat, zones[i], err);
  if (!rc) rc = sl_store_open(p->lake_dir, &p->store, err);
  if (rc) {
    sl_catalog_close(p->cat);
    p->cat = NULL;
  }
  return rc;
}

void sl_project_duck_opts(const struct sl_project *p, struct sl_duck_opts *o) {
  memset(o, 0, sizeof *o);
  o->threads = (int)p->sql.threads;
  o->memory_limit = p->sql.memory_limit;
  o->temp_dir = p->sql.temp_dir && p->sql.temp_dir[0] ? p->sql.temp_dir : NULL;
}

int sl_project_log_open(const struct sl_project *p, struct sl_log **out, struct sl_err *err) {
  const char *u = p->log.url && p->log.url[0] ? p->log.url : ".sluice/log";
  if (!strncmp(u, "kafka://", 8)) return sl_log_open(u, &p->log, out, err);
  char *path = resolve(p->root, !strncmp(u, "file://", 7) ? u + 7 : u);
  if (!path) return sl_err_set(err, SL_ENOMEM, "out of memory");
  int rc = sl_log_open(path, &p->log, out, err);
  sl_free(path);
  return rc;
}

void sl_project_free(struct sl_project *p) {
  if (!p) return;
  if (p->cat) sl_catalog_close(p->cat);
  if (p->store) sl_store_close(p->store);
  sl_cfg_section_fini(&sl_lake_section, &p->lake);
  sl_cfg_section_fini(&sl_catalog_section, &p->catalog);
  sl_cfg_section_fini(&sl_sql_section, &p->sql);
  sl_cfg_section_fini(&sl_ingest_section, &p->ingest);
  sl_cfg_section_fini(&sl_build_section, &p->build);
  sl_cfg_section_fini(&sl_log_section, &p->log);
  sl_cfg_section_fini(&sl_server_section, &p->server);
  sl_cdc_sources_fini(&p->sources);
  sl_cfg_doc_fini(&p->doc);
  sl_free(p->name);
  sl_free(p->root);
  sl_free(p->config_path);
  sl_free(p->lake_dir);
  sl_free(p->catalog_url);
  sl_free(p);
}

char *sl_project_staging_dir(const struct sl_project *p) { return sl_asprintf("%s/.sluice/staging", p->root); }
