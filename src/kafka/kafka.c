/* kafka.c: the Apache Kafka backend of the topics interface (log/log.h). This build
 * has none yet: opening a kafka:// log says so, and every other entry point is
 * unreachable because open fails first. */
#include "log/log.h"

static int kafka_open(struct sl_log *log, const char *url, const struct sl_log_cfg *cfg, struct sl_err *err) {
  (void)log;
  (void)cfg;
  return sl_err_set(err, SL_ECONFIG,
                    "log.url %s: this build has no Kafka backend; use a folder for the embedded log", url);
}

static void kafka_close(struct sl_log *log) { (void)log; }

const struct sl_log_ops sl_log_kafka_ops = {
    .name = "kafka",
    .open = kafka_open,
    .close = kafka_close,
};
