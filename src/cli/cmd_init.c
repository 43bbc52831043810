/* cmd_init.c: `sluice init [DIR]`: a new project with a minimal sluice.yaml, the lake
 * folder, and a catalog holding the bronze, silver and gold namespaces. */
#include "cli/cmd_common.h"

#include "core/fs.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

static const char *usage =
    "usage: sluice init [DIR] [--name NAME]\n\n"
    "Creates a project in DIR (default: the current folder): sluice.yaml, the lake\n"
    "folder (lake/), the catalog (.sluice/catalog.db) with the namespaces bronze,\n"
    "silver and gold, and a .gitignore for the data. Refuses to overwrite an existing\n"
    "sluice.yaml.\n\n"
    "options:\n"
    "  --name NAME   project name (default: the folder's name)\n"
    "  -h, --help    this help\n";

static const char *yaml_fmt =
    "# sluice project: see docs/configuration.md for every option.\n"
    "name: %s\n"
    "\n"
    "lake:\n"
    "  path: lake                       # data files: lake/<namespace>/<table>/data/*.parquet\n"
    "\n"
    "catalog:\n"
    "  url: sqlite:.sluice/catalog.db   # tables, schemas, snapshots\n"
    "\n"
    "sql:\n"
    "  threads: 0                       # 0 = all cores\n"
    "\n"
    "log:\n"
    "  url: .sluice/log                 # topics: a folder, or kafka://host:port\n"
    "  durability: batch                # one fsync per produced batch\n"
    "\n"
    "logging:\n"
    "  level: warn\n";

static int valid_name(const char *s) {
  if (!*s || strlen(s) > 100) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
          *s == '.'))
      return 0;
  return 1;
}

int sl_cmd_init(int argc, char **argv) {
  static const struct option longopts[] = {{"name", required_argument, NULL, 'n'}, SL_LONGOPT_HELP,
                                           SL_LONGOPT_PROJECT, {NULL, 0, NULL, 0}};
  const char *name = NULL, *dir = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "hn:", longopts, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(usage, stdout); return 0;
    case 'n': name = optarg; break;
    case SL_OPT_PROJECT_ID: dir = optarg; break;
    default: return sl_cli_usage_error("init", "bad option");
    }
  }
  if (optind < argc) dir = argv[optind++];
  if (optind < argc) return sl_cli_usage_error("init", "unexpected argument '%s'", argv[optind]);
  if (!dir) dir = ".";
  struct sl_err err = {0};
  int rc = sl_fs_mkdirs(dir, &err);
  if (rc) return sl_cli_fail("init", &err);
  char *root = sl_fs_abs(dir);
  char *cfg = root ? sl_fs_join(root, "sluice.yaml") : NULL;
  if (!cfg) return sl_cli_fail("init", &(struct sl_err){SL_ENOMEM, "out of memory"});
  if (sl_fs_exists(cfg)) {
    fprintf(stderr, "sluice init: %s already exists; this folder is already a project\n", cfg);
    sl_free(cfg);
    sl_free(root);
    return 1;
  }
  const char *base = strrchr(root, '/');
  base = base && base[1] ? base + 1 : "sluice";
  if (!name) name = valid_name(base) ? base : "sluice";
  if (!valid_name(name)) {
    sl_free(cfg);
    sl_free(root);
    return sl_cli_usage_error("init", "--name '%s': use letters, digits, '-', '_' and '.'", name);
  }
  char *text = sl_asprintf(yaml_fmt, name);
  char *gi = sl_fs_join(root, ".gitignore");
  rc = text && gi ? 0 : sl_err_set(&err, SL_ENOMEM, "out of memory");
  if (!rc && !sl_fs_exists(gi)) rc = sl_fs_write_atomic(gi, "/lake/\n/.sluice/\n", 16, &err);
  if (!rc) rc = sl_fs_write_atomic(cfg, text, strlen(text), &err);
  sl_free(text);
  sl_free(gi);
  struct sl_project *p = NULL;
  if (!rc) rc = sl_project_load(root, &p, &err);
  if (!rc) rc = sl_project_open(p, &err);
  if (!rc) {
    printf("Created project '%s' in %s\n", name, root);
    printf("  config   %s\n  lake     %s\n  catalog  %s\n", cfg, p->lake_dir, p->catalog_url);
    printf("Next: sluice ingest FILE --into bronze.TABLE, then sluice sql \"SELECT ...\"\n");
  }
  sl_project_free(p);
  sl_free(cfg);
  sl_free(root);
  return rc ? sl_cli_fail("init", &err) : 0;
}
