/* test_config.c: sluice.yaml loading: values, defaults, environment overrides, and
 * every error naming file:line:column and the key. */
#include "test.h"

#include "cli/project.h"
#include "core/config.h"
#include "core/fs.h"
#include "core/mem.h"

#include <stddef.h>

struct demo_opts {
  char *path;
  int64_t threads;
  int64_t size;
  int on;
  int mode;
};

static const struct sl_cfg_section demo = {
    "demo",
    (const struct sl_opt[]){
        {"path", SL_OPT_STR, offsetof(struct demo_opts, path), "lake", 0, -1, NULL, "a path", 0},
        {"threads", SL_OPT_INT, offsetof(struct demo_opts, threads), "0", 0, 64, NULL, "threads", 0},
        {"size", SL_OPT_SIZE, offsetof(struct demo_opts, size), "1MB", 0, -1, NULL, "size", 0},
        {"on", SL_OPT_BOOL, offsetof(struct demo_opts, on), "false", 0, -1, NULL, "flag", 0},
        {"mode", SL_OPT_ENUM, offsetof(struct demo_opts, mode), "kv", 0, -1, "kv|json", "mode", 0},
        {NULL, 0, 0, NULL, 0, 0, NULL, NULL, 0},
    },
    "demo section",
};

static int fill_text(const char *text, struct demo_opts *o, struct sl_err *err) {
  struct sl_cfg_doc doc;
  memset(o, 0, sizeof *o);
  int rc = sl_cfg_parse("sluice.yaml", text, strlen(text), &doc, err);
  if (rc) return rc;
  rc = sl_cfg_fill(&doc, sl_cfg_get(doc.root, "demo"), &demo, o, err);
  sl_cfg_doc_fini(&doc);
  return rc;
}

static void test_values_and_defaults(void) {
  struct demo_opts o;
  struct sl_err err = {0};
  CHECK_EQ_INT(fill_text("demo:\n  threads: 4\n  size: 64MiB\n  on: yes\n  mode: json\n", &o, &err), 0);
  CHECK_STR(o.path, "lake");
  CHECK_EQ_INT(o.threads, 4);
  CHECK_EQ_INT(o.size, 64 << 20);
  CHECK_EQ_INT(o.on, 1);
  CHECK_EQ_INT(o.mode, 1);
  sl_cfg_section_fini(&demo, &o);
  CHECK_EQ_INT(fill_text("", &o, &err), 0);
  CHECK_EQ_INT(o.size, 1000000);
  sl_cfg_section_fini(&demo, &o);
}

static void test_errors_have_positions(void) {
  struct demo_opts o;
  struct sl_err err = {0};
  CHECK_EQ_INT(fill_text("demo:\n  thredas: 4\n", &o, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "sluice.yaml:2:3");
  CHECK_CONTAINS(err.msg, "demo.thredas");
  CHECK_CONTAINS(err.msg, "did you mean 'threads'");
  sl_cfg_section_fini(&demo, &o);

  CHECK_EQ_INT(fill_text("demo:\n  threads: many\n", &o, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "sluice.yaml:2:12");
  CHECK_CONTAINS(err.msg, "'many' is not an integer from 0 to 64");
  sl_cfg_section_fini(&demo, &o);

  CHECK_EQ_INT(fill_text("demo:\n  threads: 65\n", &o, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "from 0 to 64");
  sl_cfg_section_fini(&demo, &o);

  CHECK_EQ_INT(fill_text("demo:\n  mode: xml\n", &o, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "one of kv|json");
  sl_cfg_section_fini(&demo, &o);

  CHECK_EQ_INT(fill_text("demo:\n  path: [a, b]\n", &o, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "found a list");
  sl_cfg_section_fini(&demo, &o);

  CHECK_EQ_INT(fill_text("demo: 3\n", &o, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "sluice.yaml:1:7");
  sl_cfg_section_fini(&demo, &o);

  CHECK_EQ_INT(fill_text("demo:\n  path: a\n  path: b\n", &o, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "sluice.yaml:3:3");
  CHECK_CONTAINS(err.msg, "appears twice");

  CHECK_EQ_INT(fill_text("demo:\n  path: 'unterminated\n", &o, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "sluice.yaml:");
  CHECK_CONTAINS(err.msg, "YAML syntax error");

  CHECK_EQ_INT(fill_text("demo: &a\n  path: x\nother: *a\n", &o, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "aliases");

  CHECK_EQ_INT(fill_text("- a\n- b\n", &o, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "top level must be a map");

  CHECK_EQ_INT(fill_text("a: 1\n---\nb: 2\n", &o, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "only one YAML document");
}

static void test_env_override(void) {
  struct demo_opts o;
  struct sl_err err = {0};
  setenv("SLUICE_DEMO_PATH", "/data/lake", 1);
  setenv("SLUICE_DEMO_THREADS", "8", 1);
  CHECK_EQ_INT(fill_text("demo:\n  path: x\n", &o, &err), 0);
  CHECK_STR(o.path, "/data/lake");
  CHECK_EQ_INT(o.threads, 8);
  sl_cfg_section_fini(&demo, &o);
  setenv("SLUICE_DEMO_THREADS", "lots", 1);
  CHECK_EQ_INT(fill_text("", &o, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "SLUICE_DEMO_THREADS");
  sl_cfg_section_fini(&demo, &o);
  unsetenv("SLUICE_DEMO_PATH");
  unsetenv("SLUICE_DEMO_THREADS");
}

static void test_sizes(void) {
  int64_t v;
  CHECK(sl_cfg_parse_size("4096", &v) == 0 && v == 4096);
  CHECK(sl_cfg_parse_size("1.5GB", &v) == 0 && v == 1500000000);
  CHECK(sl_cfg_parse_size("2 KiB", &v) == 0 && v == 2048);
  CHECK(sl_cfg_parse_size("12 parsecs", &v) != 0);
  CHECK(sl_cfg_parse_size("-1MB", &v) != 0);
  CHECK(sl_cfg_parse_size("", &v) != 0);
}

static void write_project(const char *dir, const char *yaml) {
  struct sl_err err;
  sl_fs_mkdirs(dir, &err);
  char *p = sl_fs_join(dir, "sluice.yaml");
  sl_fs_write_atomic(p, yaml, strlen(yaml), &err);
  sl_free(p);
}

static void test_project_sections(void) {
  char dir[300];
  snprintf(dir, sizeof dir, "%s/p1", sl_test_tmpdir());
  write_project(dir, "name: demo\nlake:\n  path: data\nsql:\n  threads: 2\n");
  struct sl_project *p = NULL;
  struct sl_err err = {0};
  CHECK_EQ_INT(sl_project_load(dir, &p, &err), 0);
  if (p) {
    CHECK_STR(p->name, "demo");
    CHECK_CONTAINS(p->lake_dir, "/p1/data");
    CHECK_CONTAINS(p->catalog_url, "sqlite:/");
    CHECK_CONTAINS(p->catalog_url, "/p1/.sluice/catalog.db");
    CHECK_EQ_INT(p->sql.threads, 2);
  }
  sl_project_free(p);
  p = NULL;

  write_project(dir, "name: demo\nlakes:\n  path: data\n");
  CHECK_EQ_INT(sl_project_load(dir, &p, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "sluice.yaml:2:1");
  CHECK_CONTAINS(err.msg, "'lakes'");
  CHECK_CONTAINS(err.msg, "unknown section");

  write_project(dir, "ingest:\n  target_file_size: 12 apples\n");
  CHECK_EQ_INT(sl_project_load(dir, &p, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "sluice.yaml:2:21");
  CHECK_CONTAINS(err.msg, "ingest.target_file_size");

  char sub[400];
  snprintf(sub, sizeof sub, "%s/p2", sl_test_tmpdir());
  CHECK_EQ_INT(sl_project_load(sub, &p, &err), SL_ECONFIG);
  CHECK_CONTAINS(err.msg, "sluice init");
}

static void test_reference(void) {
  char *md = sl_cfg_reference_md(sl_project_sections, sl_project_n_sections);
  CHECK_CONTAINS(md, "`lake.path`");
  CHECK_CONTAINS(md, "SLUICE_CATALOG_URL");
  CHECK_CONTAINS(md, "`ingest.target_file_size`");
  sl_free(md);
}

int main(void) {
  TEST_RUN(test_values_and_defaults);
  TEST_RUN(test_errors_have_positions);
  TEST_RUN(test_env_override);
  TEST_RUN(test_sizes);
  TEST_RUN(test_project_sections);
  TEST_RUN(test_reference);
  return TEST_DONE();
}
