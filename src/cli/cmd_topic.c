/* cmd_topic.c: `sluice topic create|list|describe|produce|consume|delete|offsets`:
 * topics of the project's log (log: in sluice.yaml: the embedded log or Kafka). Every
 * action goes through log/log.h only, so both backends behave the same here.
 * produce acknowledges a record (counts it, prints it with --print-acks) only after
 * the flush that covers it returned; consume prints records as text or JSON lines. */
#include "cli/cmd_common.h"

#include "cli/output.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/time.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "usage: sluice topic COMMAND [options]\n\n"
    "Topics of the project's log (log.url in sluice.yaml: a folder for the embedded log,\n"
    "or kafka://host:port for an Apache Kafka cluster).\n\n"
    "commands:\n"
    "  create NAME [--partitions N] [--retention-ms MS] [--retention-bytes B]\n"
    "  list [--format table|json]\n"
    "  describe NAME [--format table|json]   partitions, offsets, bytes, groups and lag\n"
    "  produce NAME [--key K] [--keyed] [--partition P] [--file F] [--batch N] [--print-acks]\n"
    "  consume NAME [--group G] [--from beginning|end|offset:N|time:ISO8601|time:MS]\n"
    "               [--partition P] [--max N] [--follow] [--format text|json] [--commit]\n"
    "  offsets NAME [--group G] [--format table|json]\n"
    "  delete NAME\n\n"
    "common options:\n"
    "  --log URL       use this log instead of the project's log.url\n"
    "  --project DIR   project folder\n"
    "  -h, --help      help (also after a command)\n\n"
    "exit codes: 0 ok, 1 failed (the message says what to do), 2 bad usage or config\n";

static const char *create_usage =
    "usage: sluice topic create NAME [--partitions N] [--retention-ms MS] [--retention-bytes B]\n\n"
    "Creates a topic. Defaults come from log: (partitions, retention_ms, retention_bytes);\n"
    "-1 keeps records forever / without a size bound. Exit 1 if it exists.\n";
static const char *list_usage = "usage: sluice topic list [--format table|json]\n\nLists the topics with their "
                                "partitions, records held and bytes.\n";
static const char *describe_usage =
    "usage: sluice topic describe NAME [--format table|json]\n\n"
    "Shows each partition's start offset (first record still held), end offset (next to\n"
    "be written) and bytes, and each consumer group's committed offsets and lag.\n";
static const char *produce_usage =
    "usage: sluice topic produce NAME [--key K | --keyed] [--partition P] [--file F] [--batch N]\n"
    "                            [--print-acks] [--format text|json]\n\n"
    "Produces one record per line of stdin (or of F). With --keyed each line is\n"
    "KEY<TAB>VALUE; --key gives every record the key K. Records go to partition P, or by\n"
    "key (Kafka's murmur2 partitioner), or round-robin. Every N lines (default 1000) and\n"
    "at the end the log is flushed; only then are the records acknowledged: counted, and\n"
    "with --print-acks printed as PARTITION<TAB>OFFSET<TAB>VALUE. Prints the count and\n"
    "the offsets per partition at the end. Exit 1 if a flush fails: records after the\n"
    "last acknowledged ones may or may not be in the log.\n";
static const char *consume_usage =
    "usage: sluice topic consume NAME [--group G] [--from WHERE] [--partition P] [--max N]\n"
    "                            [--follow] [--format text|json] [--commit]\n\n"
    "Prints records: text is PARTITION<TAB>OFFSET<TAB>TIMESTAMP<TAB>KEY<TAB>VALUE, json one\n"
    "object per line ({\"topic\",\"partition\",\"offset\",\"timestamp\",\"key\",\"value\",\n"
    "\"headers\"}). With --group it resumes from the group's committed offsets; --from\n"
    "says where to start where nothing is committed: beginning (default), end,\n"
    "offset:N, time:2026-01-02T03:04:05Z or time:MS (the first record at or after that\n"
    "time). --commit stores the position for the group (at start, when caught up, every\n"
    "1000 records and at the end). Members of a group split the partitions; a partition\n"
    "handed to another member carries the position. Stops when caught up, after --max\n"
    "records, or with --follow on Ctrl-C.\n";
static const char *offsets_usage =
    "usage: sluice topic offsets NAME [--group G] [--format table|json]\n\n"
    "Prints each partition's start and end offsets, and with --group the committed\n"
    "offset and lag.\n";
static const char *delete_usage = "usage: sluice topic delete NAME\n\nDeletes a topic and every record in it.\n";

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

struct topt {
  const char *cmd; /* "topic produce" ... */
  const char *dir, *log_url, *name, *group, *key, *file, *from;
  int32_t partition;
  int64_t partitions, retention_ms, retention_bytes, max, batch;
  int keyed, follow, commit, print_acks, json;
};

static int num(const char *cmd, const char *opt, const char *s, int64_t lo, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < lo)
    return sl_cli_usage_error(cmd, "%s takes a number >= %lld, not '%s'", opt, (long long)lo, s);
  *out = v;
  return 0;
}

/* Parses a subcommand's options. Returns -1 to go on, else an exit code. */
static int parse(struct topt *o, const char *help, int argc, char **argv, int wants_name) {
  enum { O_PARTS = 1, O_RMS, O_RB, O_KEY, O_KEYED, O_PART, O_FILE, O_BATCH, O_ACKS, O_GROUP, O_FROM, O_MAX, O_FOLLOW,
         O_FORMAT, O_COMMIT, O_LOG };
  static const struct option longopts[] = {{"partitions", required_argument, NULL, O_PARTS},
                                           {"retention-ms", required_argument, NULL, O_RMS},
                                           {"retention-bytes", required_argument, NULL, O_RB},
                                           {"key", required_argument, NULL, O_KEY},
                                           {"keyed", no_argument, NULL, O_KEYED},
                                           {"partition", required_argument, NULL, O_PART},
                                           {"file", required_argument, NULL, O_FILE},
                                           {"batch", required_argument, NULL, O_BATCH},
                                           {"print-acks", no_argument, NULL, O_ACKS},
                                           {"group", required_argument, NULL, O_GROUP},
                                           {"from", required_argument, NULL, O_FROM},
                                           {"max", required_argument, NULL, O_MAX},
                                           {"follow", no_argument, NULL, O_FOLLOW},
                                           {"format", required_argument, NULL, O_FORMAT},
                                           {"commit", no_argument, NULL, O_COMMIT},
                                           {"log", required_argument, NULL, O_LOG},
                                           SL_LONGOPT_HELP,
                                           SL_LONGOPT_PROJECT,
                                           {NULL, 0, NULL, 0}};
  int c, rc;
  int64_t v;
  optind = 0;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(help, stdout); return 0;
    case O_PARTS:
      if ((rc = num(o->cmd, "--partitions", optarg, 1, &o->partitions))) return rc;
      break;
    case O_RMS:
      if ((rc = num(o->cmd, "--retention-ms", optarg, -1, &o->retention_ms))) return rc;
      break;
    case O_RB:
      if ((rc = num(o->cmd, "--retention-bytes", optarg, -1, &o->retention_bytes))) return rc;
      break;
    case O_KEY: o->key = optarg; break;
    case O_KEYED: o->keyed = 1; break;
    case O_PART:
      if ((rc = num(o->cmd, "--partition", optarg, 0, &v))) return rc;
      o->partition = (int32_t)v;
      break;
    case O_FILE: o->file = optarg; break;
    case O_BATCH:
      if ((rc = num(o->cmd, "--batch", optarg, 1, &o->batch))) return rc;
      break;
    case O_ACKS: o->print_acks = 1; break;
    case O_GROUP: o->group = optarg; break;
    case O_FROM: o->from = optarg; break;
    case O_MAX:
      if ((rc = num(o->cmd, "--max", optarg, 0, &o->max))) return rc;
      break;
    case O_FOLLOW: o->follow = 1; break;
    case O_FORMAT:
      if (!strcmp(optarg, "json")) o->json = 1;
      else if (strcmp(optarg, "text") && strcmp(optarg, "table"))
        return sl_cli_usage_error(o->cmd, "--format must be text (or table) or json");
      break;
    case O_COMMIT: o->commit = 1; break;
    case O_LOG: o->log_url = optarg; break;
    case SL_OPT_PROJECT_ID: o->dir = optarg; break;
    default: return sl_cli_usage_error(o->cmd, "bad option");
    }
  }
  if (wants_name) {
    if (optind >= argc) return sl_cli_usage_error(o->cmd, "name a topic");
    o->name = argv[optind++];
  }
  if (optind < argc) return sl_cli_usage_error(o->cmd, "unexpected argument '%s'", argv[optind]);
  return -1;
}

/* The log: --log URL, else the project's log: section. */
static int open_log(struct topt *o, struct sl_project **pp, struct sl_log **out) {
  struct sl_err err = {0};
  *pp = NULL;
  if (o->log_url) {
    int rc = sl_log_open(o->log_url, NULL, out, &err);
    return rc ? sl_cli_fail(o->cmd, &err) : 0;
  }
  int rc = sl_project_load(o->dir, pp, &err);
  if (!rc) rc = sl_project_log_open(*pp, out, &err);
  if (rc) {
    sl_project_free(*pp);
    *pp = NULL;
    return sl_cli_fail(o->cmd, &err);
  }
  return 0;
}

static void close_log(struct sl_project *p, struct sl_log *log) {
  sl_log_close(log);
  sl_project_free(p);
}

static int fail(struct topt *o, struct sl_project *p, struct sl_log *log, struct sl_err *err) {
  int rc = sl_cli_fail(o->cmd, err);
  close_log(p, log);
  return rc;
}

static int do_create(struct topt *o, struct sl_log *log, struct sl_err *err) {
  struct sl_log_topic_conf tc = {.partitions = (int32_t)o->partitions, .retention_ms = o->retention_ms,
                                 .retention_bytes = o->retention_bytes};
  int rc = sl_log_topic_create(log, o->name, &tc, err);
  if (!rc) printf("created topic %s\n", o->name);
  return rc;
}

static int do_list(struct topt *o, struct sl_log *log, struct sl_err *err) {
  char **names = NULL;
  size_t n = 0;
  int rc = sl_log_topic_list(log, &names, &n, err);
  if (rc) return rc;
  const char *cols[] = {"topic", "partitions", "records", "bytes"};
  const enum sl_cell_kind kinds[] = {SL_CELL_TEXT, SL_CELL_NUM, SL_CELL_NUM, SL_CELL_NUM};
  struct sl_rows rows;
  sl_rows_init(&rows, 4, cols, kinds);
  for (size_t i = 0; !rc && i < n; i++) {
    struct sl_log_topic_info info;
    rc = sl_log_topic_describe(log, names[i], &info, err);
    if (rc) break;
    int64_t recs = 0, bytes = 0;
    for (int32_t k = 0; k < info.n_parts; k++) {
      recs += info.parts[k].end_offset - info.parts[k].start_offset;
      bytes += info.parts[k].bytes > 0 ? info.parts[k].bytes : 0;
    }
    char *cells[4] = {sl_strdup(names[i]), sl_asprintf("%d", info.n_parts), sl_asprintf("%lld", (long long)recs),
                      sl_asprintf("%lld", (long long)bytes)};
    sl_rows_add(&rows, cells);
    sl_log_topic_info_fini(&info);
  }
  if (!rc) sl_rows_print(stdout, &rows, o->json ? SL_OUT_JSON : SL_OUT_TABLE);
  sl_rows_fini(&rows);
  for (size_t i = 0; i < n; i++) sl_free(names[i]);
  sl_free(names);
  return rc;
}

static int do_describe(struct topt *o, struct sl_log *log, int offsets_only, struct sl_err *err) {
  struct sl_log_topic_info info;
  int rc = sl_log_topic_describe(log, o->name, &info, err);
  if (rc) return rc;
  if (o->group && sl_log_topic_name_check(o->group, err)) {
    sl_log_topic_info_fini(&info);
    return sl_err_set(err, SL_ECONFIG, "--group '%s': use letters, digits, '.', '_' and '-'", o->group);
  }
  if (o->json) {
    json_t *doc = json_object(), *parts = json_array(), *groups = json_array();
    json_object_set_new(doc, "topic", json_string(info.name));
    json_object_set_new(doc, "partitions", json_integer(info.n_parts));
    json_object_set_new(doc, "retention_ms", json_integer(info.conf.retention_ms));
    json_object_set_new(doc, "retention_bytes", json_integer(info.conf.retention_bytes));
    for (int32_t k = 0; k < info.n_parts; k++)
      json_array_append_new(parts, json_pack("{s:i, s:I, s:I, s:I}", "partition", info.parts[k].partition,
                                             "start_offset", (json_int_t)info.parts[k].start_offset, "end_offset",
                                             (json_int_t)info.parts[k].end_offset, "bytes",
                                             (json_int_t)info.parts[k].bytes));
    for (size_t g = 0; g < info.n_groups; g++) {
      if (o->group && strcmp(o->group, info.groups[g].group)) continue;
      json_t *com = json_array();
      for (int32_t k = 0; k < info.n_parts; k++) json_array_append_new(com, json_integer(info.groups[g].committed[k]));
      json_array_append_new(groups, json_pack("{s:s, s:o, s:I}", "group", info.groups[g].group, "committed", com, "lag",
                                              (json_int_t)info.groups[g].lag));
    }
    json_object_set_new(doc, "partition_offsets", parts);
    json_object_set_new(doc, "groups", groups);
    char *s = json_dumps(doc, JSON_INDENT(2));
    if (s) puts(s);
    free(s);
    json_decref(doc);
    sl_log_topic_info_fini(&info);
    return 0;
  }
  if (!offsets_only)
    printf("topic %s: %d partitions, retention %lld ms / %lld bytes (-1: unbounded)\n\n", info.name, info.n_parts,
           (long long)info.conf.retention_ms, (long long)info.conf.retention_bytes);
  const struct sl_log_group_lag *gl = NULL;
  for (size_t g = 0; o->group && g < info.n_groups; g++)
    if (!strcmp(info.groups[g].group, o->group)) gl = &info.groups[g];
  int with_group = offsets_only && o->group;
  const char *cols[] = {"partition", "start_offset", "end_offset", "bytes", "committed", "lag"};
  const enum sl_cell_kind kinds[] = {SL_CELL_NUM, SL_CELL_NUM, SL_CELL_NUM, SL_CELL_NUM, SL_CELL_NUM, SL_CELL_NUM};
  struct sl_rows rows;
  sl_rows_init(&rows, with_group ? 6 : 4, cols, kinds);
  for (int32_t k = 0; k < info.n_parts; k++) {
    const struct sl_log_partition_info *pi = &info.parts[k];
    int64_t com = gl ? gl->committed[k] : -1;
    int64_t from = com >= 0 ? com : pi->start_offset;
    char *cells[6] = {sl_asprintf("%d", pi->partition), sl_asprintf("%lld", (long long)pi->start_offset),
                      sl_asprintf("%lld", (long long)pi->end_offset), sl_asprintf("%lld", (long long)pi->bytes),
                      com >= 0 ? sl_asprintf("%lld", (long long)com) : NULL,
                      sl_asprintf("%lld", (long long)(pi->end_offset > from ? pi->end_offset - from : 0))};
    if (!with_group) {
      sl_free(cells[4]);
      sl_free(cells[5]);
    }
    sl_rows_add(&rows, cells);
  }
  sl_rows_print(stdout, &rows, SL_OUT_TABLE);
  sl_rows_fini(&rows);
  if (!offsets_only) {
    printf("\nconsumer groups:%s\n", info.n_groups ? "" : " none");
    for (size_t g = 0; g < info.n_groups; g++) {
      printf("  %s  lag %lld  committed", info.groups[g].group, (long long)info.groups[g].lag);
      for (int32_t k = 0; k < info.n_parts; k++) printf(" %lld", (long long)info.groups[g].committed[k]);
      printf("\n");
    }
  }
  sl_log_topic_info_fini(&info);
  return 0;
}

struct ack_range {
  int64_t first, last, n;
};

static int do_produce(struct topt *o, struct sl_log *log, struct sl_err *err) {
  if (o->key && o->keyed) return sl_err_set(err, SL_ECONFIG, "give --key or --keyed, not both");
  FILE *in = stdin;
  if (o->file && !(in = fopen(o->file, "r"))) return sl_err_set(err, SL_EIO, "open %s: %s", o->file, strerror(errno));
  struct sl_log_topic_info info;
  int rc = sl_log_topic_describe(log, o->name, &info, err);
  if (rc) {
    if (in != stdin) fclose(in);
    return rc;
  }
  int32_t np = info.n_parts;
  sl_log_topic_info_fini(&info);
  if (o->partition >= np) {
    if (in != stdin) fclose(in);
    return sl_err_set(err, SL_ECONFIG, "topic %s has %d partitions; --partition %d does not exist", o->name, np,
                      o->partition);
  }
  size_t batch = (size_t)(o->batch > 0 ? o->batch : 1000);
  char **lines = sl_calloc(batch, sizeof *lines);
  struct sl_log_msg *msgs = sl_calloc(batch, sizeof *msgs);
  int64_t *offs = sl_calloc(batch, sizeof *offs);
  struct ack_range *acks = sl_calloc((size_t)np, sizeof *acks);
  if (!lines || !msgs || !offs || !acks) rc = sl_err_set(err, SL_ENOMEM, "out of memory");
  int64_t acked = 0, lineno = 0;
  uint64_t rr = 0;
  char *line = NULL;
  size_t cap = 0;
  for (int eof = 0; !rc && !eof && !g_stop;) {
    size_t n = 0;
    while (n < batch) {
      ssize_t len = getline(&line, &cap, in);
      if (len < 0) {
        eof = 1;
        break;
      }
      lineno++;
      if (len && line[len - 1] == '\n') line[--len] = '\0';
      if (len && line[len - 1] == '\r') line[--len] = '\0';
      lines[n] = sl_strndup(line, (size_t)len);
      if (!lines[n]) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        break;
      }
      struct sl_log_msg *m = &msgs[n];
      *m = (struct sl_log_msg){.partition = o->partition, .value = lines[n], .value_len = (size_t)len};
      if (o->key) m->key = o->key, m->key_len = strlen(o->key);
      if (o->keyed) {
        char *tab = strchr(lines[n], '\t');
        if (!tab) {
          rc = sl_err_set(err, SL_EDATA, "%s line %lld: no TAB between key and value (--keyed)",
                          o->file ? o->file : "stdin", (long long)lineno);
          sl_free(lines[n]);
          break;
        }
        m->key = lines[n];
        m->key_len = (size_t)(tab - lines[n]);
        m->value = tab + 1;
        m->value_len = (size_t)len - m->key_len - 1;
      }
      /* Without key or partition: round-robin here, so each ack names its partition. */
      if (m->partition < 0 && !m->key) m->partition = (int32_t)(rr++ % (uint64_t)np);
      n++;
    }
    if (!rc && n) rc = sl_log_produce(log, o->name, msgs, n, offs, err);
    if (!rc && n) rc = sl_log_flush(log, 30000, err);
    if (!rc) {
      for (size_t i = 0; i < n; i++) {
        /* The partition a record went to: the one whose range its offset extends. */
        int32_t p = msgs[i].partition >= 0 ? msgs[i].partition
                                           : sl_log_partition_for_key(msgs[i].key, msgs[i].key_len, np);
        struct ack_range *a = &acks[p];
        if (!a->n || offs[i] < a->first) a->first = offs[i];
        if (!a->n || offs[i] > a->last) a->last = offs[i];
        a->n++;
        if (o->print_acks) printf("%d\t%lld\t%.*s\n", p, (long long)offs[i], (int)msgs[i].value_len, (const char *)msgs[i].value);
      }
      acked += (int64_t)n;
      if (o->print_acks) fflush(stdout);
    }
    for (size_t i = 0; i < n; i++) sl_free(lines[i]);
  }
  free(line);
  if (in != stdin) fclose(in);
  if (o->json) {
    json_t *doc = json_pack("{s:s, s:I}", "topic", o->name, "acknowledged", (json_int_t)acked);
    json_t *parts = json_array();
    for (int32_t p = 0; p < np; p++)
      if (acks[p].n)
        json_array_append_new(parts, json_pack("{s:i, s:I, s:I, s:I}", "partition", p, "records",
                                               (json_int_t)acks[p].n, "first_offset", (json_int_t)acks[p].first,
                                               "last_offset", (json_int_t)acks[p].last));
    json_object_set_new(doc, "partitions", parts);
    char *s = json_dumps(doc, JSON_COMPACT);
    if (s) puts(s);
    free(s);
    json_decref(doc);
  } else if (!o->print_acks) {
    printf("produced %lld records to %s", (long long)acked, o->name);
    for (int32_t p = 0; p < np; p++)
      if (acks[p].n) printf("; partition %d offsets %lld-%lld", p, (long long)acks[p].first, (long long)acks[p].last);
    printf("\n");
  }
  if (rc) fprintf(stderr, "sluice topic produce: %lld records acknowledged before the failure\n", (long long)acked);
  sl_free(lines);
  sl_free(msgs);
  sl_free(offs);
  sl_free(acks);
  return rc;
}

static void put_bytes_json(json_t *obj, const char *k, const void *p, size_t n) {
  json_t *s = json_stringn(p, n); /* NULL when not UTF-8: then as hex under k_hex */
  if (s) {
    json_object_set_new(obj, k, s);
    return;
  }
  char *hex = sl_malloc(n * 2 + 1);
  if (!hex) return;
  for (size_t i = 0; i < n; i++) snprintf(hex + 2 * i, 3, "%02x", ((const unsigned char *)p)[i]);
  char key[32];
  snprintf(key, sizeof key, "%s_hex", k);
  json_object_set_new(obj, key, json_string(hex));
  sl_free(hex);
}

static int do_consume(struct topt *o, struct sl_log *log, struct sl_err *err) {
  struct sl_log_consumer_conf cc = {.group = o->group, .from = SL_LOG_FROM_BEGINNING};
  const char *topics[1] = {o->name};
  cc.topics = topics;
  cc.n_topics = 1;
  if (o->group && o->partition >= 0)
    return sl_err_set(err, SL_ECONFIG, "--partition reads one partition without a group; drop --group or --partition");
  if (o->commit && !o->group) return sl_err_set(err, SL_ECONFIG, "--commit needs --group");
  if (o->from) {
    if (!strcmp(o->from, "beginning")) cc.from = SL_LOG_FROM_BEGINNING;
    else if (!strcmp(o->from, "end")) cc.from = SL_LOG_FROM_END;
    else if (!strncmp(o->from, "offset:", 7)) {
      char *end;
      cc.from = SL_LOG_FROM_OFFSET;
      cc.from_value = strtoll(o->from + 7, &end, 10);
      if (end == o->from + 7 || *end || cc.from_value < 0)
        return sl_err_set(err, SL_ECONFIG, "--from %s: offset:N takes a number >= 0", o->from);
    } else if (!strncmp(o->from, "time:", 5)) {
      const char *t = o->from + 5;
      char *end;
      cc.from = SL_LOG_FROM_TIME;
      cc.from_value = strtoll(t, &end, 10);
      if ((end == t || *end) && sl_time_parse(t, &cc.from_value))
        return sl_err_set(err, SL_ECONFIG, "--from %s: time: takes ISO 8601 (2026-01-02T03:04:05Z) or milliseconds",
                          o->from);
    } else {
      return sl_err_set(err, SL_ECONFIG, "--from %s: use beginning, end, offset:N or time:ISO8601|MS", o->from);
    }
  }
  /* Caught up: the embedded log answers a poll from its files, so an empty poll means
   * caught up. A Kafka consumer first joins its group and fetches over the network, so
   * there an empty poll ends the read only once as many records came as the end
   * offsets at the start promised (the group's lag, or end - start), or after
   * KAFKA_IDLE_MS without a record (another member holds partitions, --from time:,
   * retention moved the start, or the cluster does not list the group's offsets).
   * Joining a group waits for a member that left uncleanly up to its session timeout. */
  enum { KAFKA_IDLE_MS = 15000 };
  int kafka = log->ops == &sl_log_kafka_ops;
  int64_t expect = -1;
  if (kafka && !o->follow) {
    struct sl_log_topic_info info;
    int rc = sl_log_topic_describe(log, o->name, &info, err);
    if (rc) return rc;
    int64_t sum = 0;
    for (int32_t i = 0; i < info.n_parts; i++)
      if (o->partition < 0 || info.parts[i].partition == o->partition)
        sum += info.parts[i].end_offset - info.parts[i].start_offset;
    if (cc.from == SL_LOG_FROM_BEGINNING) expect = sum;
    if (cc.from == SL_LOG_FROM_END) expect = 0;
    for (size_t g = 0; o->group && g < info.n_groups; g++) {
      if (strcmp(info.groups[g].group, o->group)) continue;
      int all = 1; /* the lag counts uncommitted partitions from their start */
      for (int32_t i = 0; i < info.n_parts; i++) all &= info.groups[g].committed[i] >= 0;
      if (all || cc.from == SL_LOG_FROM_BEGINNING) expect = info.groups[g].lag;
    }
    sl_log_topic_info_fini(&info);
  }
  struct sl_log_consumer *c = NULL;
  int rc = sl_log_consumer_open(log, &cc, &c, err);
  if (rc) return rc;
  int64_t n = 0, at_commit = 0, last_ns = sl_time_mono_ns();
  struct sl_buf out;
  sl_buf_init(&out);
  /* Storing the start position at once means partitions handed to another member
   * of the group later carry this member's position with them. */
  if (o->commit) rc = sl_log_consumer_commit(c, err);
  while (!rc && !g_stop && (!o->max || n < o->max)) {
    struct sl_log_record r;
    rc = sl_log_consumer_poll(c, o->follow ? 200 : 500, &r, err);
    if (rc < 0) break;
    if (rc == 0) {
      if (o->commit && n > at_commit) { /* caught up: store the position */
        fflush(stdout);
        if ((rc = sl_log_consumer_commit(c, err))) break;
        at_commit = n;
      }
      if (!o->follow && (!kafka || (expect >= 0 && n >= expect) ||
                         sl_time_mono_ns() - last_ns >= (int64_t)KAFKA_IDLE_MS * 1000000))
        break;
      continue;
    }
    rc = 0;
    last_ns = sl_time_mono_ns();
    if (o->partition >= 0 && r.partition != o->partition) continue;
    n++;
    char ts[40];
    sl_time_iso8601(r.ts_ms, ts, sizeof ts);
    if (o->json) {
      json_t *obj = json_pack("{s:s, s:i, s:I, s:s, s:I}", "topic", r.topic, "partition", r.partition, "offset",
                              (json_int_t)r.offset, "timestamp", ts, "timestamp_ms", (json_int_t)r.ts_ms);
      if (r.key) put_bytes_json(obj, "key", r.key, r.key_len);
      else json_object_set_new(obj, "key", json_null());
      put_bytes_json(obj, "value", r.value, r.value_len);
      if (r.n_headers) {
        json_t *h = json_object();
        for (size_t i = 0; i < r.n_headers; i++) put_bytes_json(h, r.headers[i].name, r.headers[i].value, r.headers[i].len);
        json_object_set_new(obj, "headers", h);
      }
      char *s = json_dumps(obj, JSON_COMPACT);
      if (s) printf("%s\n", s);
      free(s);
      json_decref(obj);
    } else {
      printf("%d\t%lld\t%s\t%.*s\t%.*s\n", r.partition, (long long)r.offset, ts, r.key ? (int)r.key_len : 0,
             r.key ? (const char *)r.key : "", (int)r.value_len, (const char *)r.value);
    }
    if (o->commit && n % 1000 == 0) {
      fflush(stdout);
      if ((rc = sl_log_consumer_commit(c, err))) break;
      at_commit = n;
    }
  }
  fflush(stdout);
  if (!rc && o->commit) rc = sl_log_consumer_commit(c, err);
  sl_buf_fini(&out);
  sl_log_consumer_close(c);
  return rc;
}

int sl_cmd_topic(int argc, char **argv) {
  /* The subcommand is the first word that is not an option (or an option's value). */
  int sub = 0;
  for (int i = 1; i < argc && !sub; i++) {
    if (!strcmp(argv[i], "--project") || !strcmp(argv[i], "--log")) i++;
    else if (argv[i][0] != '-') sub = i;
    else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(usage, stdout);
      return 0;
    }
  }
  if (!sub) return sl_cli_usage_error("topic", "name a command: create, list, describe, produce, consume, offsets, delete");
  const char *what = argv[sub];
  static const char *const subs[] = {"create", "list", "describe", "produce", "consume", "offsets", "delete"};
  const char *const helps[] = {create_usage, list_usage, describe_usage, produce_usage,
                               consume_usage, offsets_usage, delete_usage};
  int k = -1;
  for (int i = 0; i < 7; i++)
    if (!strcmp(what, subs[i])) k = i;
  if (k < 0) return sl_cli_usage_error("topic", "unknown command '%s'", what);
  char cmd[32];
  snprintf(cmd, sizeof cmd, "topic %s", what);
  /* argv without the subcommand word, for getopt. */
  char **av = sl_calloc((size_t)argc + 1, sizeof *av);
  if (!av) return 1;
  int ac = 0;
  av[ac++] = cmd;
  for (int i = 1; i < argc; i++)
    if (i != sub) av[ac++] = argv[i];
  struct topt o = {.cmd = cmd, .partition = -1};
  int rc = parse(&o, helps[k], ac, av, k != 1);
  sl_free(av);
  if (rc >= 0) return rc;
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  struct sl_project *p = NULL;
  struct sl_log *log = NULL;
  if ((rc = open_log(&o, &p, &log))) return rc;
  struct sl_err err = {0};
  switch (k) {
  case 0: rc = do_create(&o, log, &err); break;
  case 1: rc = do_list(&o, log, &err); break;
  case 2: rc = do_describe(&o, log, 0, &err); break;
  case 3: rc = do_produce(&o, log, &err); break;
  case 4: rc = do_consume(&o, log, &err); break;
  case 5: rc = do_describe(&o, log, 1, &err); break;
  case 6:
    rc = sl_log_topic_delete(log, o.name, &err);
    if (!rc) printf("deleted topic %s\n", o.name);
    break;
  }
  if (rc) return fail(&o, p, log, &err);
  close_log(p, log);
  return 0;
}
