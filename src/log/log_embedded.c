/* log_embedded.c: placeholder for the embedded segment log. Every operation refuses
 * with an error that says so; the real backend replaces this file. */
#include "log/log.h"

static int emb_open(struct sl_log *log, const char *url, const struct sl_log_cfg *cfg, struct sl_err *err) {
  (void)log;
  (void)cfg;
  return sl_err_set(err, SL_ECONFIG,
                    "log %s: the embedded log is not available in this build; use log.url: kafka://host:port",
                    url);
}

static void emb_close(struct sl_log *log) { (void)log; }

const struct sl_log_ops sl_log_embedded_ops = {
    .name = "embedded",
    .open = emb_open,
    .close = emb_close,
};
