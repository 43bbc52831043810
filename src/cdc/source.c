/* source.c: the `sources:` section. Each source is a map filled through the option
 * table below; the password comes from the environment
 * (SLUICE_SOURCES_<NAME>_PASSWORD) or a file, never from sluice.yaml's text in logs. */
#include "cdc/cdc.h"

#include "core/fs.h"
#include "core/mem.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

const struct sl_cfg_section sl_cdc_source_section = {
    "sources.NAME",
    (const struct sl_opt[]){
        {"type", SL_OPT_ENUM, offsetof(struct sl_cdc_source, type), "postgres", 0, -1, "postgres",
         "Kind of source.", 0},
        {"url", SL_OPT_STR, offsetof(struct sl_cdc_source, url), "", 0, -1, NULL,
         "Connection URL, e.g. `postgresql://app@127.0.0.1:5432/appdb` (any libpq URL or key=value string). "
         "Put no password here.",
         0},
        {"password", SL_OPT_STR, offsetof(struct sl_cdc_source, password), "", 0, -1, NULL,
         "Password; set it through the environment variable, not in the file.", 1},
        {"password_file", SL_OPT_STR, offsetof(struct sl_cdc_source, password_file), "", 0, -1, NULL,
         "File holding the password (first line), relative to the project.", 0},
        {"tables", SL_OPT_LIST, offsetof(struct sl_cdc_source, tables), "", 0, -1, NULL,
         "Tables to take, as `schema.table` (schema defaults to public).", 0},
        {"slot", SL_OPT_STR, offsetof(struct sl_cdc_source, slot), "", 0, -1, NULL,
         "Logical replication slot name (default `sluice_<name>`).", 0},
        {"publication", SL_OPT_STR, offsetof(struct sl_cdc_source, publication), "", 0, -1, NULL,
         "Publication name (default `sluice_<name>`).", 0},
        {"snapshot_mode", SL_OPT_ENUM, offsetof(struct sl_cdc_source, snapshot_mode), "initial", 0, -1,
         "initial|never|always|initial_only",
         "As Debezium's: copy the tables first (initial: when the slot is new; always: on every start), never, "
         "or copy and stop (initial_only).",
         0},
        {"chunk_rows", SL_OPT_INT, offsetof(struct sl_cdc_source, chunk_rows), "500000", 1000, 1000000000, NULL,
         "Rows per primary-key chunk when copying a table.", 0},
        {"parallel", SL_OPT_INT, offsetof(struct sl_cdc_source, parallel), "2", 1, 64, NULL,
         "Connections copying chunks at the same time.", 0},
        {"heartbeat_interval_ms", SL_OPT_INT, offsetof(struct sl_cdc_source, heartbeat_ms), "10000", 100, 3600000,
         NULL, "How often an idle stream confirms its position to PostgreSQL (and writes the heartbeat, if any).", 0},
        {"heartbeat_table", SL_OPT_STR, offsetof(struct sl_cdc_source, heartbeat_table), "", 0, -1, NULL,
         "Table (`schema.table`) sluice creates if needed and upserts one row into (key: the slot name) every "
         "heartbeat_interval_ms while the captured tables are idle, so the slot advances on a server whose WAL comes "
         "from other databases. Empty: none.",
         0},
        {"heartbeat_action_query", SL_OPT_STR, offsetof(struct sl_cdc_source, heartbeat_query), "", 0, -1, NULL,
         "Instead of heartbeat_table, a statement run on the source at the same moments (as Debezium's "
         "heartbeat.action.query), e.g. `INSERT INTO hb VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET ts = now()`.",
         0},
        {"decimal_handling", SL_OPT_ENUM, offsetof(struct sl_cdc_source, decimal_handling), "string", 0, -1,
         "string|double|precise",
         "numeric values in Debezium envelopes, as Debezium's decimal.handling.mode: string (\"12.50\", exact, what "
         "JSON consumers read most easily), double (12.5), or precise (Debezium's default: base64 of the unscaled "
         "value's bytes; {\"scale\",\"value\"} for numeric without a declared scale). The lake keeps DECIMAL either way.",
         0},
        {"topic_prefix", SL_OPT_STR, offsetof(struct sl_cdc_source, topic_prefix), "", 0, -1, NULL,
         "Prefix of event topics `<prefix>.<schema>.<table>` (default: the source name).", 0},
        {"table_prefix", SL_OPT_STR, offsetof(struct sl_cdc_source, table_prefix), "", 0, -1, NULL,
         "Prefix of the bronze tables the source fills (default none: bronze.<table>).", 0},
        {"cdc", SL_OPT_BOOL, offsetof(struct sl_cdc_source, cdc), "false", 0, -1, NULL,
         "`sluice up` runs a change-capture reader for this source into bronze (as `sluice cdc NAME`).", 0},
        {NULL, 0, 0, NULL, 0, 0, NULL, NULL, 0},
    },
    "PostgreSQL sources, one map per source name under `sources:`. Environment overrides use the source's "
    "name, e.g. `SLUICE_SOURCES_APP_PASSWORD` for a source named app.",
};

static int set_default(char **field, const char *fmt, const char *name) {
  if (*field && **field) return 0;
  sl_free(*field);
  *field = sl_asprintf(fmt, name);
  return *field ? 0 : SL_ENOMEM;
}

int sl_cdc_sources_load(const struct sl_cfg_doc *doc, const struct sl_cfg_node *node, struct sl_cdc_sources *out,
                        struct sl_err *err) {
  memset(out, 0, sizeof *out);
  if (!node) return 0;
  if (node->kind != SL_CFG_MAP)
    return sl_cfg_err_at(err, SL_ECONFIG, doc, node, "sources", "expected a map of source names");
  out->v = sl_calloc(node->n_items + 1, sizeof *out->v);
  if (!out->v) return sl_err_set(err, SL_ENOMEM, "out of memory");
  for (size_t i = 0; i < node->n_items; i++) {
    const struct sl_cfg_node *it = node->items[i];
    struct sl_cdc_source *s = &out->v[out->n++];
    char secname[128];
    snprintf(secname, sizeof secname, "sources.%s", it->key);
    if (!sl_catalog_name_valid(it->key))
      return sl_cfg_err_at(err, SL_ECONFIG, doc, it, secname, "a source name uses letters, digits and '_'");
    struct sl_cfg_section sec = sl_cdc_source_section;
    sec.name = secname;
    int rc = sl_cfg_fill(doc, it, &sec, s, err);
    s->name = sl_strdup(it->key);
    if (rc) return rc;
    if (!s->url[0]) return sl_cfg_err_at(err, SL_ECONFIG, doc, it, secname, "a PostgreSQL source needs url:");
    if (!s->tables.n)
      return sl_cfg_err_at(err, SL_ECONFIG, doc, it, secname, "list the tables to take under tables:");
    for (size_t k = 0; k < s->tables.n; k++) {
      const char *t = s->tables.v[k], *dot = strchr(t, '.');
      char a[128] = "public", b[128];
      if (dot) snprintf(a, sizeof a, "%.*s", (int)(dot - t), t);
      snprintf(b, sizeof b, "%s", dot ? dot + 1 : t);
      if (!sl_catalog_name_valid(a) || !sl_catalog_name_valid(b) || (dot && strchr(dot + 1, '.')))
        return sl_cfg_err_at(err, SL_ECONFIG, doc, it, secname, "table '%s' is not schema.table with plain names", t);
    }
    if (s->heartbeat_table[0] && s->heartbeat_query[0])
      return sl_cfg_err_at(err, SL_ECONFIG, doc, it, secname,
                           "set heartbeat_table or heartbeat_action_query, not both");
    if (s->heartbeat_table[0]) {
      const char *t = s->heartbeat_table, *dot = strchr(t, '.');
      char a[128] = "public", b[128];
      if (dot) snprintf(a, sizeof a, "%.*s", (int)(dot - t), t);
      snprintf(b, sizeof b, "%s", dot ? dot + 1 : t);
      if (!sl_catalog_name_valid(a) || !sl_catalog_name_valid(b) || (dot && strchr(dot + 1, '.')))
        return sl_cfg_err_at(err, SL_ECONFIG, doc, it, secname, "heartbeat_table '%s' is not schema.table with plain names", t);
    }
    if (!s->password[0] && s->password_file[0]) {
      char *pw = NULL;
      size_t len = 0;
      char *path = s->password_file[0] == '/' ? sl_strdup(s->password_file) : NULL;
      if (!path) {
        char *dir = sl_strdup(doc->file);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (slash) *slash = '\0';
        path = slash ? sl_fs_join(dir, s->password_file) : sl_strdup(s->password_file);
        sl_free(dir);
      }
      rc = path ? sl_fs_read_all(path, 4096, &pw, &len, err) : SL_ENOMEM;
      sl_free(path);
      if (rc) return sl_err_prefix(err, "source %s: password_file: ", s->name);
      pw[strcspn(pw, "\r\n")] = '\0';
      sl_free(s->password);
      s->password = pw;
    }
    if (set_default(&s->slot, "sluice_%s", s->name) || set_default(&s->publication, "sluice_%s", s->name) ||
        set_default(&s->topic_prefix, "%s", s->name))
      return sl_err_set(err, SL_ENOMEM, "out of memory");
  }
  return 0;
}

void sl_cdc_sources_fini(struct sl_cdc_sources *s) {
  for (size_t i = 0; i < s->n; i++) {
    sl_cfg_section_fini(&sl_cdc_source_section, &s->v[i]);
    sl_free(s->v[i].name);
  }
  sl_free(s->v);
  memset(s, 0, sizeof *s);
}

const struct sl_cdc_source *sl_cdc_source_find(const struct sl_cdc_sources *s, const char *name) {
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->v[i].name, name)) return &s->v[i];
  return NULL;
}
