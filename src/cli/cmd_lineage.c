/* cmd_lineage.c: `sluice lineage`: the DAG of sources, models and checks, as text,
 * JSON (nodes and edges) or Graphviz dot. */
#include "cli/cmd_common.h"

#include "cli/models.h"
#include "core/buf.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

static const char *usage =
    "usage: sluice lineage [--format text|json|dot]\n\n"
    "Shows where each model reads from (lake tables and other models), what it writes,\n"
    "and how many checks guard each table. `--format dot | dot -Tsvg` draws it.\n";

static int is_model_table(const struct sl_models *ms, const char *t) {
  for (size_t i = 0; i < ms->n; i++) {
    size_t nl = strlen(ms->v[i].ns);
    if (!strncmp(t, ms->v[i].ns, nl) && t[nl] == '.' && !strcmp(t + nl + 1, ms->v[i].name)) return 1;
  }
  return 0;
}

/* 1 if dep k of m reads the same table as an earlier dep. */
static int dup_dep(const struct sl_model *m, size_t k) {
  for (size_t j = 0; j < k; j++)
    if (!strcmp(m->deps[j].table, m->deps[k].table)) return 1;
  return 0;
}

static size_t checks_on(const struct sl_checks *cs, const char *t) {
  size_t n = 0;
  for (size_t i = 0; i < cs->n; i++) n += !strcmp(cs->v[i].table, t);
  return n;
}

/* The table a relationships check reads (its to:, already ns.table); NULL for other
 * checks, for checks of a table on itself or on a table the checked model refs, and
 * for repeats of an earlier check's pair (one edge each). */
static const char *check_up(const struct sl_models *ms, const struct sl_checks *cs, size_t i) {
  const struct sl_check *c = &cs->v[i];
  const char *t = c->to_table;
  int skip = !t || !strcmp(t, c->table);
  /* A model that refs the table already comes after it: no second edge. */
  int down = skip ? -1 : sl_cli_model_of(ms, c->table);
  for (size_t k = 0; !skip && down >= 0 && k < ms->v[down].n_deps; k++)
    skip = ms->v[down].deps[k].table && !strcmp(ms->v[down].deps[k].table, t);
  for (size_t j = 0; j < i && !skip; j++)
    skip = cs->v[j].to_table && !strcmp(cs->v[j].table, c->table) && !strcmp(cs->v[j].to_table, t);
  return skip ? NULL : t;
}

void sl_cli_lineage_json(const struct sl_models *ms, const struct sl_checks *cs, struct sl_buf *b) {
  sl_buf_puts(b, "{\"nodes\":[");
  int first = 1;
  /* Sources: tables read that no model writes. */
  for (size_t i = 0; i < ms->n; i++)
    for (size_t k = 0; k < ms->v[i].n_deps; k++) {
      const char *t = ms->v[i].deps[k].table;
      if (is_model_table(ms, t)) continue;
      int dup = 0;
      for (size_t j = 0; j <= i && !dup; j++)
        for (size_t q = 0; q < (j == i ? k : ms->v[j].n_deps) && !dup; q++) dup = !strcmp(ms->v[j].deps[q].table, t);
      if (dup) continue;
      sl_buf_printf(b, "%s{\"id\":", first ? "" : ",");
      sl_buf_json_str(b, t);
      sl_buf_printf(b, ",\"kind\":\"source\",\"checks\":%zu}", checks_on(cs, t));
      first = 0;
    }
  for (size_t i = 0; i < ms->n; i++) {
    const struct sl_model *m = &ms->v[i];
    char *t = sl_asprintf("%s.%s", m->ns, m->name);
    sl_buf_printf(b, "%s{\"id\":", first ? "" : ",");
    sl_buf_json_str(b, t ? t : "");
    sl_buf_puts(b, ",\"kind\":\"model\",\"model\":");
    sl_buf_json_str(b, m->name);
    sl_buf_puts(b, ",\"path\":");
    sl_buf_json_str(b, m->path);
    sl_buf_printf(b, ",\"materialized\":\"%s\",\"checks\":%zu}",
                  m->mat == SL_MAT_VIEW ? "view" : m->mat == SL_MAT_TABLE ? "table" : "incremental",
                  t ? checks_on(cs, t) : 0);
    sl_free(t);
    first = 0;
  }
  sl_buf_puts(b, "],\"edges\":[");
  first = 1;
  for (size_t i = 0; i < ms->n; i++)
    for (size_t k = 0; k < ms->v[i].n_deps; k++) {
      if (dup_dep(&ms->v[i], k)) continue;
      sl_buf_printf(b, "%s{\"from\":", first ? "" : ",");
      sl_buf_json_str(b, ms->v[i].deps[k].table);
      sl_buf_printf(b, ",\"to\":\"%s.%s\",\"kind\":\"ref\"}", ms->v[i].ns, ms->v[i].name);
      first = 0;
    }
  /* A relationships check reads its target: the checked table comes after it. */
  for (size_t i = 0; i < cs->n; i++) {
    const char *u = check_up(ms, cs, i);
    if (!u) continue;
    sl_buf_printf(b, "%s{\"from\":", first ? "" : ",");
    sl_buf_json_str(b, u);
    sl_buf_puts(b, ",\"to\":");
    sl_buf_json_str(b, cs->v[i].table);
    sl_buf_puts(b, ",\"kind\":\"check\",\"check\":");
    sl_buf_json_str(b, cs->v[i].name);
    sl_buf_putc(b, '}');
    first = 0;
  }
  sl_buf_puts(b, "]}");
}

int sl_cmd_lineage(int argc, char **argv) {
  enum { O_FORMAT = 1 };
  static const struct option longopts[] = {{"format", required_argument, NULL, O_FORMAT}, SL_LONGOPT_HELP,
                                           SL_LONGOPT_PROJECT, {NULL, 0, NULL, 0}};
  const char *dir = NULL, *fmt = "text";
  int c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(usage, stdout); return 0;
    case O_FORMAT:
      if (strcmp(optarg, "text") && strcmp(optarg, "json") && strcmp(optarg, "dot"))
        return sl_cli_usage_error("lineage", "--format must be text, json or dot");
      fmt = optarg;
      break;
    case SL_OPT_PROJECT_ID: dir = optarg; break;
    default: return sl_cli_usage_error("lineage", "bad option");
    }
  }
  struct sl_project *p = NULL;
  int rc = sl_cmd_open_project("lineage", dir, &p);
  if (rc) return rc;
  struct sl_err err = {0};
  struct sl_models ms = {0};
  struct sl_checks cs = {0};
  if (sl_cli_models_load(p, &ms, &cs, &err)) {
    rc = sl_cli_fail("lineage", &err);
    sl_project_free(p);
    return rc;
  }
  struct sl_buf b;
  sl_buf_init(&b);
  if (!strcmp(fmt, "json")) {
    sl_cli_lineage_json(&ms, &cs, &b);
    sl_buf_putc(&b, '\n');
  } else if (!strcmp(fmt, "dot")) {
    sl_buf_puts(&b, "digraph lineage {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n");
    for (size_t i = 0; i < ms.n; i++) {
      const struct sl_model *m = &ms.v[i];
      char *t = sl_asprintf("%s.%s", m->ns, m->name);
      size_t nc = t ? checks_on(&cs, t) : 0;
      sl_buf_printf(&b, "  \"%s\" [label=\"%s\\n%s%s%zu checks\"];\n", t ? t : "", t ? t : "",
                    m->mat == SL_MAT_VIEW ? "view" : m->mat == SL_MAT_TABLE ? "table" : "incremental", ", ", nc);
      for (size_t k = 0; k < m->n_deps; k++) {
        if (dup_dep(m, k)) continue;
        if (!is_model_table(&ms, m->deps[k].table))
          sl_buf_printf(&b, "  \"%s\" [shape=cylinder];\n", m->deps[k].table);
        sl_buf_printf(&b, "  \"%s\" -> \"%s\";\n", m->deps[k].table, t ? t : "");
      }
      sl_free(t);
    }
    for (size_t i = 0; i < cs.n; i++) {
      const char *u = check_up(&ms, &cs, i);
      if (u) sl_buf_printf(&b, "  \"%s\" -> \"%s\" [style=dashed, label=\"check\"];\n", u, cs.v[i].table);
    }
    sl_buf_puts(&b, "}\n");
  } else {
    for (size_t i = 0; i < ms.n; i++) {
      const struct sl_model *m = &ms.v[i];
      char *t = sl_asprintf("%s.%s", m->ns, m->name);
      sl_buf_printf(&b, "%s  (%s, %s, %zu checks)\n", t ? t : "",
                    m->mat == SL_MAT_VIEW ? "view" : m->mat == SL_MAT_TABLE ? "table" : "incremental", m->path,
                    t ? checks_on(&cs, t) : 0);
      for (size_t k = 0; k < m->n_deps; k++)
        if (!dup_dep(m, k))
          sl_buf_printf(&b, "  <- %s%s\n", m->deps[k].table, is_model_table(&ms, m->deps[k].table) ? "" : " (source)");
      for (size_t j = 0; t && j < cs.n; j++) {
        const char *u = strcmp(cs.v[j].table, t) ? NULL : check_up(&ms, &cs, j);
        if (u) sl_buf_printf(&b, "  <- %s (read by check %s)\n", u, cs.v[j].name);
      }
      sl_free(t);
    }
  }
  fputs(b.data ? b.data : "", stdout);
  sl_buf_fini(&b);
  sl_models_fini(&ms);
  sl_checks_fini(&cs);
  sl_project_free(p);
  return 0;
}
