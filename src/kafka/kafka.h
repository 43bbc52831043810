/* kafka.h: the Apache Kafka backend of the topics log (sl_log_kafka_ops in log.h),
 * built on librdkafka. Callers use log.h; this header holds the pieces of the backend
 * that are worth calling on their own: parsing its URL and its property items. */
#ifndef SL_KAFKA_KAFKA_H
#define SL_KAFKA_KAFKA_H

#include "core/err.h"

#include <stddef.h>

/* Parses "kafka://host[:port][,host[:port]...][/]" into librdkafka's bootstrap.servers
 * ("host:port,host:port"; a host without a port gets Kafka's 9092). IPv6 hosts go in
 * brackets ("[::1]:9092"). *out is a new string. */
int sl_kafka_url_parse(const char *url, char **out, struct sl_err *err);

/* Splits a "key=value" property item; key and value point into a new copy in *buf
 * (free it with sl_free). */
int sl_kafka_prop_split(const char *item, char **buf, const char **key, const char **value,
                        struct sl_err *err);

/* 1 if a librdkafka property holds a secret (passwords, private keys, tokens, JAAS or
 * OAUTHBEARER settings): its value is never written to a log line or a message. */
int sl_kafka_prop_is_secret(const char *key);

#endif
