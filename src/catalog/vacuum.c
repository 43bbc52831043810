/* vacuum.c: the lake's upkeep (see vacuum.h). The catalog forgets expired snapshots'
 * files in one transaction before any is deleted, so a crash in between leaves files no
 * snapshot names, which a later vacuum collects; never a snapshot naming a file that is
 * gone. Folders are listed before the catalog is read, so a file committed meanwhile is
 * seen as named. */
#include "catalog/vacuum.h"

#include "core/fs.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/strs.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct ids {
  int64_t *v;
  size_t n, cap;
};

static int ids_add(struct ids *s, int64_t id) {
  if (sl_array_grow(&s->v, &s->cap, s->n + 1, sizeof *s->v)) return -1;
  s->v[s->n++] = id;
  return 0;
}

static int ids_has(const struct ids *s, int64_t id) {
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i] == id) return 1;
  return 0;
}

/* The snapshots incremental models read from: the values of "inputs" in the summary of
 * the current snapshot of every incremental model's table (snapshot ids are global, so
 * no name is needed); the next build reads what changed since them. */
static int keep_inputs(struct sl_catalog *cat, const struct sl_table_info *ts, size_t nt, struct ids *keep,
                       struct sl_err *err) {
  int rc = 0;
  for (size_t i = 0; i < nt && !rc; i++) {
    struct sl_snapshot cur;
    if (!ts[i].current_snapshot) continue;
    if ((rc = sl_catalog_snapshot_get(cat, ts[i].table_id, ts[i].current_snapshot, &cur, err))) break;
    json_t *sum = cur.summary_json ? json_loads(cur.summary_json, 0, NULL) : NULL;
    const char *mat = json_string_value(json_object_get(sum, "materialized"));
    const char *name;
    json_t *v;
    if (mat && !strcmp(mat, "incremental"))
      json_object_foreach(json_object_get(sum, "inputs"), name, v) {
        if (json_is_integer(v) && ids_add(keep, json_integer_value(v))) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      }
    json_decref(sum);
    sl_snapshot_fini(&cur);
  }
  return rc;
}

static struct sl_vacuum_table *entry(struct sl_vacuum_result *r, const char *ns, const char *name, struct sl_err *err) {
  for (size_t i = 0; i < r->n; i++)
    if (!strcmp(r->v[i].ns, ns) && !strcmp(r->v[i].name, name)) return &r->v[i];
  struct sl_vacuum_table *v = sl_realloc(r->v, (r->n + 1) * sizeof *v);
  if (!v) {
    sl_err_set(err, SL_ENOMEM, "out of memory");
    return NULL;
  }
  r->v = v;
  struct sl_vacuum_table *t = &v[r->n];
  memset(t, 0, sizeof *t);
  t->ns = sl_strdup(ns);
  t->name = sl_strdup(name);
  if (!t->ns || !t->name) {
    sl_free(t->ns);
    sl_free(t->name);
    sl_err_set(err, SL_ENOMEM, "out of memory");
    return NULL;
  }
  r->n++;
  return t;
}

/* Expires the table's snapshots replaced before the retention (not current, not kept)
 * and deletes the files only they saw. */
static int expire_table(struct sl_catalog *cat, struct sl_store *st, const struct sl_vacuum_opts *o,
                        const struct sl_table_info *t, const struct ids *keep, struct sl_vacuum_table *out,
                        struct sl_err *err) {
  struct sl_snapshot *ss = NULL;
  size_t n = 0;
  struct ids go = {0};
  int rc = sl_catalog_snapshot_list(cat, t->table_id, &ss, &n, err);
  for (size_t i = 0; !rc && i < n; i++) {
    if (ss[i].expired_ms) continue;
    /* When it stopped being current: the next snapshot's time (ids increase along the chain). */
    int64_t replaced = i + 1 < n ? ss[i + 1].ts_ms : 0;
    int old = ss[i].snapshot_id != t->current_snapshot && replaced && replaced <= o->now_ms - o->retention_ms;
    if (old && !ids_has(keep, ss[i].snapshot_id)) {
      if (ids_add(&go, ss[i].snapshot_id)) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
      out->expired++;
    } else {
      out->kept++;
    }
  }
  sl_snapshot_list_free(ss, n);
  struct sl_data_file *gone = NULL;
  size_t ng = 0;
  if (!rc && go.n) rc = sl_catalog_expire(cat, t->table_id, go.v, go.n, o->now_ms, o->dry_run, &gone, &ng, err);
  /* Not in the catalog any more: a file that cannot be deleted now is an orphan that
   * the next vacuum collects, so the first error is reported after trying them all. */
  struct sl_err first = {0};
  for (size_t i = 0; !rc && i < ng; i++) {
    struct sl_err e = {0};
    if (!o->dry_run && sl_store_del(st, gone[i].path, &e)) {
      if (!first.code) first = e;
      continue;
    }
    out->files++;
    out->bytes += gone[i].bytes;
  }
  sl_data_file_list_free(gone, ng);
  sl_free(go.v);
  if (!rc && first.code) {
    *err = first;
    rc = err->code;
  }
  if (rc) sl_err_prefix(err, "vacuum %s.%s: ", t->ns, t->name);
  return rc;
}

/* How old a file no snapshot names must be to go: the retention, at least an hour. */
static int64_t orphan_age(const struct sl_vacuum_opts *o) {
  return o->retention_ms > SL_VACUUM_MIN_ORPHAN_AGE_MS ? o->retention_ms : SL_VACUUM_MIN_ORPHAN_AGE_MS;
}

/* Files in the namespace's tables' data folders that no snapshot names: deleted when
 * older than the retention (at least SL_VACUUM_MIN_ORPHAN_AGE_MS) and the catalog knows
 * the table; in a folder of a table the catalog does not know (another catalog's lake?)
 * they are only counted. */
static int orphans_ns(struct sl_catalog *cat, struct sl_store *st, const struct sl_vacuum_opts *o, const char *ns,
                      struct sl_vacuum_result *r, struct sl_err *err) {
  char **keys = NULL, **known = NULL, *cur = NULL;
  size_t nk = 0, nknown = 0;
  int rc = sl_store_list(st, ns, &keys, &nk, err), have = 0;
  int64_t age = orphan_age(o);
  struct sl_vacuum_table *t = NULL;
  size_t lns = strlen(ns);
  for (size_t i = 0; !rc && i < nk; i++) {
    /* ns/<table>/data/<file or partition/file> */
    const char *k = keys[i], *tb = k + lns + 1, *slash = strchr(tb, '/');
    if (strncmp(k, ns, lns) || k[lns] != '/' || !slash || strncmp(slash, "/data/", 6)) continue;
    size_t tlen = (size_t)(slash - tb);
    if (!cur || strlen(cur) != tlen || strncmp(cur, tb, tlen)) {
      sl_free(cur);
      sl_str_list_free(known, nknown);
      known = NULL, nknown = 0, t = NULL, have = 0;
      if (!(cur = sl_strndup(tb, tlen))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        break;
      }
      if (!sl_catalog_names_select(o->tables, o->n_tables, ns, cur)) continue;
      struct sl_table_info ti = {0};
      rc = sl_catalog_table_get(cat, ns, cur, &ti, err);
      if (rc == SL_ENOTFOUND) {
        sl_err_clear(err);
        rc = 0;
      } else if (!rc) {
        have = 1;
        rc = sl_catalog_paths(cat, ti.table_id, &known, &nknown, err);
        sl_table_info_fini(&ti);
      }
      if (!rc && !(t = entry(r, ns, cur, err))) rc = err->code;
      if (t) t->known = have;
    }
    if (rc || !t) continue;
    if (have && sl_strs_has((const char *const *)known, nknown, k)) continue;
    int64_t mtime = 0, bytes = 0;
    struct sl_err e = {0};
    if (sl_store_stat(st, k, &mtime, &bytes, &e)) continue; /* gone meanwhile */
    if (mtime > o->now_ms - age) {
      t->young++;
      continue;
    }
    if (have && !o->dry_run && (rc = sl_store_del(st, k, err))) break;
    t->orphans++;
    t->orphan_bytes += bytes;
  }
  if (rc) sl_err_prefix(err, "vacuum %s: ", ns);
  sl_free(cur);
  sl_str_list_free(known, nknown);
  sl_str_list_free(keys, nk);
  return rc;
}

/* The entries of the staging folder (a load's CSV chunks, one folder per load) whose
 * newest file is older than the orphan age: what a killed load left. */
static int staging_sweep(const struct sl_vacuum_opts *o, struct sl_vacuum_result *r, struct sl_err *err) {
  DIR *d = opendir(o->staging_dir);
  if (!d) return errno == ENOENT ? 0 : sl_err_set(err, SL_EIO, "vacuum: open %s: %s", o->staging_dir, strerror(errno));
  int64_t age = orphan_age(o);
  int rc = 0;
  struct dirent *de;
  while (!rc && (de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    char *sub = sl_fs_join(o->staging_dir, de->d_name);
    int64_t newest = 0, bytes = 0;
    if (!sub) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    else if (!sl_fs_tree_stat(sub, &newest, &bytes) && newest <= o->now_ms - age) {
      if (!o->dry_run) rc = sl_fs_remove_tree(sub, err);
      if (!rc) r->staging++, r->staging_bytes += bytes;
    }
    sl_free(sub);
  }
  closedir(d);
  return rc;
}

int sl_vacuum(struct sl_catalog *cat, struct sl_store *st, const struct sl_vacuum_opts *o,
              struct sl_vacuum_result *out, struct sl_err *err) {
  struct sl_table_info *ts = NULL;
  size_t nt = 0;
  struct ids keep = {0};
  char **nss = NULL;
  size_t nns = 0;
  memset(out, 0, sizeof *out);
  int rc = sl_catalog_table_list(cat, NULL, &ts, &nt, err);
  if (!rc) rc = sl_catalog_names_known(ts, nt, o->tables, o->n_tables, "vacuum", err);
  if (!rc) rc = keep_inputs(cat, ts, nt, &keep, err);
  for (size_t i = 0; !rc && i < nt; i++) {
    if (!sl_catalog_names_select(o->tables, o->n_tables, ts[i].ns, ts[i].name)) continue;
    struct sl_vacuum_table *t = entry(out, ts[i].ns, ts[i].name, err);
    if (!t) rc = err->code;
    else {
      t->known = 1;
      rc = expire_table(cat, st, o, &ts[i], &keep, t, err);
    }
  }
  if (!rc) rc = sl_catalog_ns_list(cat, &nss, &nns, err);
  for (size_t i = 0; !rc && i < nns; i++) rc = orphans_ns(cat, st, o, nss[i], out, err);
  if (!rc && o->staging_dir && !o->n_tables) rc = staging_sweep(o, out, err);
  sl_str_list_free(nss, nns);
  sl_table_list_free(ts, nt);
  sl_free(keep.v);
  out->bytes_freed = out->staging_bytes;
  for (size_t i = 0; i < out->n; i++) {
    const struct sl_vacuum_table *t = &out->v[i];
    out->snapshots_expired += t->expired;
    out->files_deleted += t->files + (t->known ? t->orphans : 0);
    out->bytes_freed += t->bytes + (t->known ? t->orphan_bytes : 0);
    out->unknown_files += t->known ? 0 : t->orphans;
  }
  if (!o->dry_run) {
    sl_metric_counter_add(rc ? "sluice_vacuum_failures_total" : "sluice_vacuum_runs_total", NULL, 1);
    sl_metric_counter_add("sluice_vacuum_snapshots_expired_total", NULL, (double)out->snapshots_expired);
    sl_metric_counter_add("sluice_vacuum_files_deleted_total", NULL, (double)out->files_deleted);
    sl_metric_counter_add("sluice_vacuum_bytes_freed_total", NULL, (double)out->bytes_freed);
  }
  if (rc) sl_vacuum_result_fini(out);
  return rc;
}

int sl_vacuum_incremental_inputs(struct sl_catalog *cat, int64_t **ids, size_t *n, struct sl_err *err) {
  struct sl_table_info *ts = NULL;
  size_t nt = 0;
  struct ids keep = {0};
  int rc = sl_catalog_table_list(cat, NULL, &ts, &nt, err);
  if (!rc) rc = keep_inputs(cat, ts, nt, &keep, err);
  sl_table_list_free(ts, nt);
  if (rc) {
    sl_free(keep.v);
    return rc;
  }
  *ids = keep.v;
  *n = keep.n;
  return 0;
}

void sl_vacuum_result_fini(struct sl_vacuum_result *r) {
  for (size_t i = 0; i < r->n; i++) {
    sl_free(r->v[i].ns);
    sl_free(r->v[i].name);
  }
  sl_free(r->v);
  memset(r, 0, sizeof *r);
}
