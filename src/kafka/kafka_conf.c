/* kafka_conf.c: the Kafka backend's edges. Parses the kafka:// URL and the user's
 * librdkafka property items, builds librdkafka configurations (user properties first,
 * then the settings our guarantees rest on, which a user property may not contradict),
 * routes librdkafka's log lines and global errors, and turns librdkafka error codes
 * into messages that name the cluster, topic and partition and say what to do.
 *
 * Secrets: property values whose key looks secret (sl_kafka_prop_is_secret) are never
 * put in a log line or a message; configuration errors name the key only. */
#include "kafka/kafka_int.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

#include <stdio.h>
#include <string.h>

int sl_kafka_url_parse(const char *url, char **out, struct sl_err *err) {
  *out = NULL;
  if (!url || strncmp(url, "kafka://", 8) != 0)
    return sl_err_set(err, SL_ECONFIG, "log url '%s' is not kafka://host:port[,host:port...]", url ? url : "");
  const char *p = url + 8;
  size_t n = strlen(p);
  if (n > 0 && p[n - 1] == '/') n--;
  if (n == 0) return sl_err_set(err, SL_ECONFIG, "log url '%s' names no broker; write kafka://host:port", url);
  if (n > 4096) return sl_err_set(err, SL_ECONFIG, "log url is longer than 4096 characters");
  /* every host may gain ":9092" */
  size_t cap = n + 1, hosts = 1;
  for (size_t i = 0; i < n; i++) hosts += p[i] == ',';
  cap += hosts * 5;
  char *b = sl_malloc(cap);
  if (!b) return sl_err_set(err, SL_ENOMEM, "log url: out of memory");
  size_t o = 0, i = 0;
  while (i <= n) {
    size_t j = i;
    while (j < n && p[j] != ',') j++;
    const char *h = p + i;
    size_t hl = j - i;
    if (hl == 0) {
      sl_free(b);
      return sl_err_set(err, SL_ECONFIG, "log url '%s' has an empty broker address at position %zu", url, i + 9);
    }
    int has_port = 0;
    size_t host_end = hl;
    if (h[0] == '[') {
      const char *rb = memchr(h, ']', hl);
      if (!rb || rb == h + 1) {
        sl_free(b);
        return sl_err_set(err, SL_ECONFIG, "log url '%s': '[' without a closing ']' in an IPv6 address", url);
      }
      size_t after = (size_t)(rb - h) + 1;
      if (after < hl && h[after] != ':') {
        sl_free(b);
        return sl_err_set(err, SL_ECONFIG, "log url '%s': expected ':port' after ']'", url);
      }
      has_port = after < hl;
      host_end = after;
    } else {
      const char *colon = memchr(h, ':', hl);
      if (colon) {
        has_port = 1;
        host_end = (size_t)(colon - h);
      }
    }
    for (size_t k = h[0] == '[' ? host_end : 0; k < host_end; k++) {
      char ch = h[k];
      int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
               ch == '-' || ch == '_';
      if (!ok || host_end == 0) {
        sl_free(b);
        return sl_err_set(err, SL_ECONFIG, "log url '%s': broker host '%.*s' has a character not allowed in a host name",
                          url, (int)host_end, h);
      }
    }
    if (host_end == 0) {
      sl_free(b);
      return sl_err_set(err, SL_ECONFIG, "log url '%s': a broker address has no host", url);
    }
    if (has_port) {
      const char *port = h + host_end + 1;
      size_t pl = hl - host_end - 1;
      long v = 0;
      for (size_t k = 0; k < pl; k++) {
        if (port[k] < '0' || port[k] > '9' || v > 65535) {
          v = -1;
          break;
        }
        v = v * 10 + (port[k] - '0');
      }
      if (pl == 0 || v < 1 || v > 65535) {
        sl_free(b);
        return sl_err_set(err, SL_ECONFIG, "log url '%s': broker '%.*s' has no port from 1 to 65535", url, (int)hl, h);
      }
    }
    if (o) b[o++] = ',';
    memcpy(b + o, h, hl);
    o += hl;
    if (!has_port) {
      memcpy(b + o, ":9092", 5);
      o += 5;
    }
    i = j + 1;
  }
  b[o] = '\0';
  *out = b;
  return 0;
}

int sl_kafka_prop_split(const char *item, char **buf, const char **key, const char **value,
                        struct sl_err *err) {
  *buf = NULL;
  const char *eq = strchr(item, '=');
  if (!eq || eq == item)
    return sl_err_set(err, SL_ECONFIG,
                      "log.kafka: item %s is not key=value (a librdkafka property, e.g. security.protocol=SSL)",
                      eq ? "with an empty key" : "without '='");
  char *b = sl_strdup(item);
  if (!b) return sl_err_set(err, SL_ENOMEM, "log.kafka: out of memory");
  size_t k = (size_t)(eq - item);
  b[k] = '\0';
  /* trim spaces around the key and before the value, as YAML lists tend to have them */
  char *ks = b, *ke = b + k;
  while (*ks == ' ') ks++;
  while (ke > ks && ke[-1] == ' ') *--ke = '\0';
  char *v = b + k + 1;
  while (*v == ' ') v++;
  if (!*ks) {
    sl_free(b);
    return sl_err_set(err, SL_ECONFIG, "log.kafka: an item has an empty key before '='");
  }
  *buf = b;
  *key = ks;
  *value = v;
  return 0;
}

int sl_kafka_prop_is_secret(const char *key) {
  static const char *const marks[] = {"password", "secret", "ssl.key.pem", "keystore", "jaas", "oauthbearer.config",
                                      "token", "credential", NULL};
  for (size_t i = 0; marks[i]; i++)
    if (strstr(key, marks[i])) return 1;
  return 0;
}

void sl_kafka_client_init(struct sl_kafka_client *cl, struct sl_kafka *kf) {
  memset(cl, 0, sizeof *cl);
  cl->kf = kf;
  pthread_mutex_init(&cl->mu, NULL);
}

void sl_kafka_client_fini(struct sl_kafka_client *cl) { pthread_mutex_destroy(&cl->mu); }

void sl_kafka_client_conn_error(struct sl_kafka_client *cl, char *buf, size_t cap) {
  pthread_mutex_lock(&cl->mu);
  snprintf(buf, cap, "%s", cl->conn_error);
  pthread_mutex_unlock(&cl->mu);
}

/* librdkafka uses syslog levels; its connection chatter is info, trouble is a warning. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  (void)rk;
  enum sl_log_level lv = level <= 2 ? SL_LOG_ERROR : level <= 4 ? SL_LOG_WARN : level <= 6 ? SL_LOG_INFO : SL_LOG_DEBUG;
  sl_log(lv, "kafka", buf, "facility", fac, NULL);
}

static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque) {
  struct sl_kafka_client *cl = opaque;
  if (!cl) return;
  pthread_mutex_lock(&cl->mu);
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) cl->all_down = 1;
  if (code == RD_KAFKA_RESP_ERR__AUTHENTICATION || code == RD_KAFKA_RESP_ERR__SSL) cl->auth_failed = 1;
  if (code == RD_KAFKA_RESP_ERR__TRANSPORT || code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
      code == RD_KAFKA_RESP_ERR__RESOLVE || code == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
      code == RD_KAFKA_RESP_ERR__SSL)
    snprintf(cl->conn_error, sizeof cl->conn_error, "%s", reason);
  if (code == RD_KAFKA_RESP_ERR__FATAL && !cl->fatal_error[0]) {
    char why[400];
    rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof why);
    snprintf(cl->fatal_error, sizeof cl->fatal_error, "%s (%s)", why, rd_kafka_err2name(orig));
  }
  pthread_mutex_unlock(&cl->mu);
  sl_log(code == RD_KAFKA_RESP_ERR__FATAL ? SL_LOG_ERROR : SL_LOG_DEBUG, "kafka", "client error", "error",
         rd_kafka_err2name(code), "reason", reason, NULL);
}

void sl_kafka_conf_set_callbacks(rd_kafka_conf_t *conf, struct sl_kafka_client *cl) {
  rd_kafka_conf_set_opaque(conf, cl);
  rd_kafka_conf_set_log_cb(conf, on_log);
  rd_kafka_conf_set_error_cb(conf, on_error);
}

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, const char *whose,
                    struct sl_err *err) {
  char es[512];
  if (rd_kafka_conf_set(conf, key, value, es, sizeof es) == RD_KAFKA_CONF_OK) return 0;
  if (sl_kafka_prop_is_secret(key))
    return sl_err_set(err, SL_ECONFIG, "%s: librdkafka refuses property '%s' (value not shown)", whose, key);
  return sl_err_set(err, SL_ECONFIG, "%s: librdkafka refuses %s=%s: %s", whose, key, value, es);
}

int sl_kafka_conf_new(struct sl_kafka *kf, const char *const *forced, rd_kafka_conf_t **out,
                      struct sl_err *err) {
  *out = NULL;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (!conf) return sl_err_set(err, SL_ENOMEM, "kafka: out of memory");
  int rc = conf_set(conf, "bootstrap.servers", kf->bootstrap, "log.url", err);
  if (!rc) rc = conf_set(conf, "client.id", "sluice", "kafka", err);
  if (!rc) rc = conf_set(conf, "log.connection.close", "false", "kafka", err);
  for (size_t i = 0; !rc && i < kf->props.n; i++) {
    char *buf;
    const char *key, *value;
    rc = sl_kafka_prop_split(kf->props.v[i], &buf, &key, &value, err);
    if (rc) break;
    for (size_t f = 0; forced && forced[f]; f += 2)
      if (!strcmp(key, forced[f]) && strcmp(value, forced[f + 1])) {
        rc = sl_err_set(err, SL_ECONFIG,
                        "log.kafka: %s=%s is not allowed: sluice needs %s=%s for its delivery guarantees; "
                        "remove the item",
                        key, sl_kafka_prop_is_secret(key) ? "(value not shown)" : value, forced[f], forced[f + 1]);
        break;
      }
    if (!rc) rc = conf_set(conf, key, value, "log.kafka", err);
    sl_free(buf);
  }
  for (size_t f = 0; !rc && forced && forced[f]; f += 2) rc = conf_set(conf, forced[f], forced[f + 1], "kafka", err);
  if (rc) {
    rd_kafka_conf_destroy(conf);
    return rc;
  }
  *out = conf;
  return 0;
}

int sl_kafka_err_no_topic(struct sl_kafka *kf, struct sl_err *err, const char *what, const char *topic) {
  return sl_err_set(err, SL_ENOTFOUND, "%s: topic %s does not exist on %s; create it with `sluice topic create %s`",
                    what, topic, kf->url, topic);
}

int sl_kafka_err_set(struct sl_kafka *kf, struct sl_err *err, rd_kafka_resp_err_t code, const char *what,
                     const char *topic, int32_t partition, const char *detail) {
  char where[400] = "";
  if (topic && partition >= 0) snprintf(where, sizeof where, " topic %s partition %d", topic, (int)partition);
  else if (topic) snprintf(where, sizeof where, " topic %s", topic);
  char why[700];
  if (detail && *detail && strcmp(detail, rd_kafka_err2str(code)))
    snprintf(why, sizeof why, "%s: %s", rd_kafka_err2str(code), detail);
  else
    snprintf(why, sizeof why, "%s", rd_kafka_err2str(code));
  switch (code) {
  case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
  case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    if (topic) return sl_kafka_err_no_topic(kf, err, what, topic);
    break;
  case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    return sl_err_set(err, SL_EINVAL, "%s%s on %s: no such partition; `sluice topic describe %s` lists them", what,
                      where, kf->url, topic ? topic : "TOPIC");
  case RD_KAFKA_RESP_ERR__TRANSPORT:
  case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
  case RD_KAFKA_RESP_ERR__RESOLVE:
  case RD_KAFKA_RESP_ERR__NODE_UPDATE:
    return sl_err_set(err, SL_EIO,
                      "%s%s: cannot reach the Kafka brokers %s (%s); check that they are running and reachable "
                      "from this machine (host, port, firewall) and that log.url names them",
                      what, where, kf->bootstrap, why);
  case RD_KAFKA_RESP_ERR__AUTHENTICATION:
  case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
  case RD_KAFKA_RESP_ERR__SSL:
  case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
  case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
    return sl_err_set(err, SL_ECONFIG,
                      "%s%s: authentication with %s failed (%s); check security.protocol and the sasl.* / ssl.* "
                      "items of log.kafka (secrets belong in SLUICE_LOG_KAFKA)",
                      what, where, kf->url, why);
  case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    return sl_err_set(err, SL_ECONFIG,
                      "%s%s on %s: not authorized (%s); the principal in log.kafka needs ACLs for this "
                      "(ask the cluster's administrator)",
                      what, where, kf->url, why);
  case RD_KAFKA_RESP_ERR__TIMED_OUT:
  case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
  case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
  case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    return sl_err_set(err, SL_EIO,
                      "%s%s: timed out (%s); the brokers %s are slow, overloaded or unreachable; check them and "
                      "retry",
                      what, where, why, kf->bootstrap);
  case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
    return sl_err_set(err, SL_EEXIST, "%s%s: it already exists on %s", what, where, kf->url);
  case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
  case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    return sl_err_set(err, SL_EINVAL,
                      "%s%s: a record is larger than the cluster or client accepts (%s); raise message.max.bytes "
                      "(log.kafka and the topic's max.message.bytes) or send smaller records",
                      what, where, why);
  case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
  case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
  case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
  case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
  case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
  case RD_KAFKA_RESP_ERR__INVALID_ARG:
    return sl_err_set(err, SL_EINVAL, "%s%s on %s: the cluster refuses it (%s)", what, where, kf->url, why);
  default: break;
  }
  return sl_err_set(err, SL_EIO, "%s%s on %s: %s", what, where, kf->url, why);
}

int sl_kafka_wait_cluster(struct sl_kafka *kf, rd_kafka_t *rk, struct sl_kafka_client *cl, int timeout_ms,
                          struct sl_err *err) {
  int64_t deadline = sl_time_mono_ns() + (int64_t)timeout_ms * 1000000;
  rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR__TIMED_OUT;
  for (;;) {
    const struct rd_kafka_metadata *md = NULL;
    int64_t left = (deadline - sl_time_mono_ns()) / 1000000;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, NULL, &md, left < 500 ? (int)(left > 0 ? left : 1) : 500);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
      int n = md->broker_cnt;
      rd_kafka_metadata_destroy(md);
      if (n > 0) return 0;
    } else {
      last = e;
    }
    rd_kafka_poll(rk, 0); /* serves the error callback */
    pthread_mutex_lock(&cl->mu);
    int down = cl->all_down, auth = cl->auth_failed;
    pthread_mutex_unlock(&cl->mu);
    char why[256];
    sl_kafka_client_conn_error(cl, why, sizeof why);
    if (auth) return sl_kafka_err_set(kf, err, RD_KAFKA_RESP_ERR__AUTHENTICATION, "connect", NULL, -1, why);
    if (down || sl_time_mono_ns() >= deadline) {
      if (!why[0]) snprintf(why, sizeof why, "%s", rd_kafka_err2str(last));
      return sl_err_set(err, SL_EIO,
                        "cannot reach the Kafka brokers %s of %s within %d ms (%s); check that they are running "
                        "and reachable from this machine (host, port, firewall) and that log.url names them",
                        kf->bootstrap, kf->url, timeout_ms, why);
    }
  }
}
