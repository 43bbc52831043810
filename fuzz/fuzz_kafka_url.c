/* fuzz_kafka_url.c: libFuzzer target for the Kafka backend's parsers of configuration
 * input: the log url (kafka://host:port,...) and a librdkafka property item
 * (key=value). The input is split at its first NUL: url, then the item. A parsed url
 * must be a non-empty host:port list with no empty entry. */
#include "core/mem.h"
#include "kafka/kafka.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  const char *item = strlen(s) < size ? s + strlen(s) + 1 : "";
  struct sl_err err = {0};
  char *bs = NULL;
  if (sl_kafka_url_parse(s, &bs, &err) == 0) {
    size_t n = strlen(bs);
    if (n == 0 || bs[0] == ',' || bs[n - 1] == ',' || strstr(bs, ",,") || !strchr(bs, ':')) abort();
    sl_free(bs);
  } else if (bs || !err.msg[0]) {
    abort();
  }
  char *buf = NULL;
  const char *key, *value;
  if (sl_kafka_prop_split(item, &buf, &key, &value, &err) == 0) {
    if (!*key || strchr(key, '=')) abort();
    (void)sl_kafka_prop_is_secret(key);
    sl_free(buf);
  } else if (buf) {
    abort();
  }
  free(s);
  return 0;
}
