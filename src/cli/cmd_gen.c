/* cmd_gen.c: `sluice gen loans|diabetes|trips --rows N [--seed S] --out FILE`. */
#include "cli/cmd_common.h"

#include "core/fs.h"
#include "core/progress.h"
#include "core/time.h"
#include "gen/datagen.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

extern volatile sig_atomic_t sl_gen_cancel;

static void usage(FILE *f) {
  fprintf(f, "usage: sluice gen loans|diabetes|trips --rows N --out FILE [--seed S] [--format csv|jsonl|parquet]\n\n"
             "Writes a deterministic data set: the same data set, rows, seed and format give the\n"
             "same bytes. The format comes from the file extension (.csv, .jsonl, .parquet)\n"
             "unless --format is given. The file appears only when complete.\n\n"
             "options:\n"
             "  --rows N      number of rows (required)\n"
             "  --seed S      random seed (default 42)\n"
             "  --out FILE    output file (required)\n"
             "  --format F    csv, jsonl or parquet\n"
             "  -h, --help    this help\n\ndata sets:\n");
  const char *names[] = {"loans", "diabetes", "trips"};
  for (int i = 0; i < 3; i++) {
    const struct sl_gen_dataset *ds = sl_gen_find(names[i]);
    fprintf(f, "  %-9s %s\n            columns:", ds->name, ds->doc);
    for (int c = 0; c < ds->n_cols; c++) fprintf(f, "%s%s", c % 5 == 0 && c ? "\n                     " : " ", ds->cols[c].name);
    fprintf(f, "\n");
  }
}

static void on_signal(int sig) {
  (void)sig;
  sl_gen_cancel = 1;
}

int sl_cmd_gen(int argc, char **argv) {
  enum { O_ROWS = 1, O_SEED, O_OUT, O_FORMAT };
  static const struct option longopts[] = {{"rows", required_argument, NULL, O_ROWS},
                                           {"seed", required_argument, NULL, O_SEED},
                                           {"out", required_argument, NULL, O_OUT},
                                           {"format", required_argument, NULL, O_FORMAT},
                                           SL_LONGOPT_HELP,
                                           SL_LONGOPT_PROJECT,
                                           {NULL, 0, NULL, 0}};
  long long rows = -1;
  unsigned long long seed = 42;
  const char *out = NULL, *fmt_s = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    char extra;
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_ROWS:
      if (sscanf(optarg, "%lld%c", &rows, &extra) != 1 || rows < 0)
        return sl_cli_usage_error("gen", "--rows takes a non-negative number, not '%s'", optarg);
      break;
    case O_SEED:
      if (sscanf(optarg, "%llu%c", &seed, &extra) != 1) return sl_cli_usage_error("gen", "--seed takes a number");
      break;
    case O_OUT: out = optarg; break;
    case O_FORMAT: fmt_s = optarg; break;
    case SL_OPT_PROJECT_ID: break;
    default: return sl_cli_usage_error("gen", "bad option");
    }
  }
  if (optind >= argc) return sl_cli_usage_error("gen", "name a data set: loans, diabetes or trips");
  const struct sl_gen_dataset *ds = sl_gen_find(argv[optind]);
  if (!ds) return sl_cli_usage_error("gen", "unknown data set '%s'; choose loans, diabetes or trips", argv[optind]);
  if (optind + 1 < argc) return sl_cli_usage_error("gen", "unexpected argument '%s'", argv[optind + 1]);
  if (rows < 0) return sl_cli_usage_error("gen", "--rows N is required");
  if (!out) return sl_cli_usage_error("gen", "--out FILE is required");
  enum sl_gen_format fmt;
  const char *ext = strrchr(out, '.');
  const char *f = fmt_s ? fmt_s : ext ? ext + 1 : "";
  if (!strcmp(f, "csv")) fmt = SL_GEN_CSV;
  else if (!strcmp(f, "jsonl") || !strcmp(f, "json") || !strcmp(f, "ndjson")) fmt = SL_GEN_JSONL;
  else if (!strcmp(f, "parquet")) fmt = SL_GEN_PARQUET;
  else if (fmt_s) return sl_cli_usage_error("gen", "--format must be csv, jsonl or parquet");
  else return sl_cli_usage_error("gen", "cannot tell the format of '%s'; end it in .csv, .jsonl or .parquet or pass --format", out);
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  struct sl_err err = {0};
  int64_t t0 = sl_time_mono_ns();
  if (sl_gen_write(ds, rows, seed, fmt, out, 1, &err)) return sl_cli_fail("gen", &err);
  double secs = (double)(sl_time_mono_ns() - t0) / 1e9;
  char size[32];
  sl_human_bytes((double)sl_fs_size(out), size, sizeof size);
  fprintf(stderr, "gen %s: %lld rows (seed %llu) to %s, %s in %.2fs (%.0f rows/s)\n", ds->name, rows, seed, out, size,
          secs, secs > 0 ? (double)rows / secs : 0.0);
  return 0;
}
