/* mock_broker.c: a Kafka-protocol cluster for shell tests and benchmarks, on
 * librdkafka's mock cluster (rdkafka_mock.h). It starts N brokers on loopback, creates
 * the topics named on the command line, prints the bootstrap address (host:port,...)
 * on stdout, and runs until stdin closes (when stdin is a pipe or a terminal) or until
 * SIGTERM / SIGINT. Any Kafka client (kcat, sluice) can connect to it.
 *
 *   kafka_mock_broker [--brokers N] TOPIC[:PARTITIONS] ...
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void usage(FILE *f) {
  fprintf(f, "usage: kafka_mock_broker [--brokers N] TOPIC[:PARTITIONS] ...\n"
             "Starts librdkafka's mock Kafka cluster with N brokers (default 1) on loopback, creates the\n"
             "topics (default 1 partition each), prints the bootstrap address and runs until stdin closes\n"
             "(when it is a pipe or a terminal) or SIGTERM/SIGINT.\n");
}

int main(int argc, char **argv) {
  int brokers = 1, first = 1;
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    usage(stdout);
    return 0;
  }
  if (argc > 2 && !strcmp(argv[1], "--brokers")) {
    brokers = atoi(argv[2]);
    first = 3;
    if (brokers < 1 || brokers > 32) {
      fprintf(stderr, "kafka_mock_broker: --brokers takes 1 to 32, not '%s'\n", argv[2]);
      return 2;
    }
  }
  char es[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", es, sizeof es);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof es);
  if (!rk) {
    fprintf(stderr, "kafka_mock_broker: %s\n", es);
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    fprintf(stderr, "kafka_mock_broker: cannot start the mock cluster\n");
    rd_kafka_destroy(rk);
    return 1;
  }
  for (int i = first; i < argc; i++) {
    char name[256];
    snprintf(name, sizeof name, "%s", argv[i]);
    int parts = 1;
    char *colon = strrchr(name, ':');
    if (colon) {
      *colon = '\0';
      parts = atoi(colon + 1);
    }
    if (!name[0] || parts < 1 || parts > 10000) {
      fprintf(stderr, "kafka_mock_broker: '%s' is not TOPIC[:PARTITIONS]\n", argv[i]);
      rd_kafka_mock_cluster_destroy(mc);
      rd_kafka_destroy(rk);
      return 2;
    }
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, parts, brokers < 3 ? brokers : 3);
    if (e) {
      fprintf(stderr, "kafka_mock_broker: create topic %s: %s\n", name, rd_kafka_err2str(e));
      rd_kafka_mock_cluster_destroy(mc);
      rd_kafka_destroy(rk);
      return 1;
    }
  }
  printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  struct stat st;
  int watch_stdin = fstat(0, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(0));
  while (!stop) {
    struct pollfd pfd = {.fd = 0, .events = POLLIN};
    int n = poll(&pfd, watch_stdin ? 1 : 0, 1000);
    if (n < 0 && errno != EINTR) break;
    if (n > 0) {
      char buf[256];
      ssize_t r = read(0, buf, sizeof buf);
      if (r <= 0) break;
    }
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
