/* fuzz_pgoutput.c: libFuzzer target for the pgoutput decoder and the Debezium
 * rendering of what it decodes. The input is a sequence of messages, each framed by a
 * 2-byte big-endian length, decoded by one decoder (so relations and rows meet). */
#include "cdc/event.h"
#include "cdc/pgoutput.h"
#include "core/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct sl_pgo_decoder d;
  sl_pgo_init(&d);
  struct sl_buf b;
  sl_buf_init(&b);
  struct sl_cdc_event_src es = {.name = "f", .db = "db", .snapshot = "false", .tx_id = 1, .lsn = 1};
  size_t off = 0;
  while (off + 2 <= size) {
    size_t n = (size_t)data[off] << 8 | data[off + 1];
    off += 2;
    if (n > size - off) n = size - off;
    /* a private copy, so reading one byte past the message is caught by ASan */
    uint8_t *m = malloc(n ? n : 1);
    if (!m) break;
    memcpy(m, data + off, n);
    off += n;
    struct sl_pgo_msg out;
    struct sl_err err = {0};
    if (sl_pgo_decode(&d, m, n, &out, &err) == 0 && out.rel && (out.new_tuple || out.old_tuple)) {
      sl_buf_reset(&b);
      sl_cdc_envelope(&b, &es, out.rel, 'u', out.old_tuple, out.new_tuple, 0);
    } else if (err.code && strncmp(err.msg, "pgoutput", 8) && err.code != SL_ENOMEM) {
      abort();
    }
    free(m);
  }
  sl_buf_fini(&b);
  sl_pgo_fini(&d);
  return 0;
}
