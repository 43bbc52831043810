/* test_router.c: the server's router (patterns, percent-decoding, traversal refusal,
 * query strings) and the metrics registry (Prometheus text, histogram buckets,
 * quantiles, labels). */
#include "test.h"

#include "core/mem.h"
#include "core/metrics.h"
#include "server/router.h"

#include <math.h>

static const struct sl_route routes[] = {
    {"GET", "/api/tables", 0},
    {"GET", "/api/tables/{ns}/{table}", 1},
    {"GET", "/api/tables/{ns}/{table}/snapshots", 2},
    {"POST", "/api/sql", 3},
};
#define NR (sizeof routes / sizeof routes[0])

static void test_match(void) {
  struct sl_route_match m;
  struct sl_err err = {0};
  CHECK_EQ_INT(sl_route_find(routes, NR, "GET", "/api/tables", &m, &err), SL_ROUTE_FOUND);
  CHECK_EQ_INT(m.route->id, 0);
  sl_route_match_fini(&m);
  CHECK_EQ_INT(sl_route_find(routes, NR, "GET", "/api/tables/", &m, &err), SL_ROUTE_FOUND);
  sl_route_match_fini(&m);
  CHECK_EQ_INT(sl_route_find(routes, NR, "GET", "/api/tables/bronze/my%20table/snapshots", &m, &err), SL_ROUTE_FOUND);
  CHECK_EQ_INT(m.route->id, 2);
  CHECK_STR(sl_route_param(&m, "ns"), "bronze");
  CHECK_STR(sl_route_param(&m, "table"), "my table");
  CHECK(sl_route_param(&m, "nope") == NULL);
  sl_route_match_fini(&m);
  CHECK_EQ_INT(sl_route_find(routes, NR, "POST", "/api/tables", &m, &err), SL_ROUTE_BAD_METHOD);
  CHECK_EQ_INT(sl_route_find(routes, NR, "GET", "/api/sql", &m, &err), SL_ROUTE_BAD_METHOD);
  CHECK_EQ_INT(sl_route_find(routes, NR, "GET", "/api/tablesx", &m, &err), SL_ROUTE_NO_PATH);
  CHECK_EQ_INT(sl_route_find(routes, NR, "GET", "/api/tables/a/b/c/d", &m, &err), SL_ROUTE_NO_PATH);
}

static void test_refused(void) {
  struct sl_route_match m;
  struct sl_err err = {0};
  const char *bad[] = {"/api/tables/a%2Fb/c", "/api/tables/%2e%2e/x", "/api/tables/../x", "/ui/./a",
                       "/api/tables/a%00/b", "/api/tables/a%zz/b", "/api/tables/a%4", "api/tables", "/a//b",
                       "/api/tables/a%5cb/c"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err.msg[0] = '\0';
    CHECK_EQ_INT(sl_route_find(routes, NR, "GET", bad[i], &m, &err), SL_ROUTE_BAD_PATH);
    CHECK(err.msg[0] != '\0');
  }
  char **segs;
  size_t n;
  CHECK(sl_route_segments("/ui/js/app.js", &segs, &n, &err) == 0);
  CHECK_EQ_INT(n, 3);
  CHECK_STR(segs[2], "app.js");
  sl_route_segments_free(segs, n);
  CHECK(sl_route_segments("/ui/%2e%2e/etc/passwd", &segs, &n, &err) != 0);
}

static void test_query(void) {
  struct sl_query q;
  struct sl_err err = {0};
  CHECK(sl_query_parse("limit=50&as_of=2026-01-31T12%3A00%3A00Z&name=a+b&flag&&x=%41", &q, &err) == 0);
  CHECK_STR(sl_query_get(&q, "limit"), "50");
  CHECK_STR(sl_query_get(&q, "as_of"), "2026-01-31T12:00:00Z");
  CHECK_STR(sl_query_get(&q, "name"), "a b");
  CHECK_STR(sl_query_get(&q, "flag"), "");
  CHECK_STR(sl_query_get(&q, "x"), "A");
  CHECK(sl_query_get(&q, "missing") == NULL);
  sl_query_fini(&q);
  CHECK(sl_query_parse("a=%g1", &q, &err) != 0);
  char big[SL_ROUTE_MAX_QUERY * 4 + 8] = "";
  for (int i = 0; i <= SL_ROUTE_MAX_QUERY; i++) strcat(big, "a=1&");
  CHECK(sl_query_parse(big, &q, &err) != 0);
}

static void test_metrics(void) {
  sl_metrics_reset();
  sl_metric_counter_add("sluice_ingest_rows_total", NULL, 1200);
  sl_metric_counter_add("sluice_ingest_rows_total", NULL, 34);
  sl_metric_counter_add("sluice_ingest_rows_total", NULL, -5); /* ignored: counters only grow */
  sl_metric_counter_add_label("sluice_cdc_events_total", "source", "a\"b", 3);
  sl_metric_gauge_set("sluice_cdc_lag_bytes", "source=\"app\"", 4096);
  for (int i = 0; i < 90; i++) sl_metric_histogram_observe("sluice_http_request_duration_seconds", "route=\"/x\"", 0.003);
  for (int i = 0; i < 10; i++) sl_metric_histogram_observe("sluice_http_request_duration_seconds", "route=\"/x\"", 0.7);
  CHECK(sl_metric_value("sluice_ingest_rows_total", NULL) == 1234);
  CHECK(sl_metric_value("sluice_http_request_duration_seconds", NULL) == 100);
  char *text = sl_metrics_render();
  CHECK(text != NULL);
  if (!text) return;
  CHECK(strstr(text, "# TYPE sluice_ingest_rows_total counter\nsluice_ingest_rows_total 1234\n") != NULL);
  CHECK(strstr(text, "sluice_cdc_events_total{source=\"a\\\"b\"} 3\n") != NULL);
  CHECK(strstr(text, "sluice_cdc_lag_bytes{source=\"app\"} 4096\n") != NULL);
  CHECK(strstr(text, "sluice_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.0025\"} 0\n") != NULL);
  CHECK(strstr(text, "sluice_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.005\"} 90\n") != NULL);
  CHECK(strstr(text, "sluice_http_request_duration_seconds_bucket{route=\"/x\",le=\"1\"} 100\n") != NULL);
  CHECK(strstr(text, "sluice_http_request_duration_seconds_bucket{route=\"/x\",le=\"+Inf\"} 100\n") != NULL);
  CHECK(strstr(text, "sluice_http_request_duration_seconds_count{route=\"/x\"} 100\n") != NULL);
  CHECK(strstr(text, "# TYPE sluice_catalog_conflicts_total counter\nsluice_catalog_conflicts_total 0\n") != NULL);
  sl_free(text);
  /* p50 falls in (0.0025, 0.005], p99 in (0.5, 1]. */
  double prev[SL_METRIC_MAX_BUCKETS + 1] = {0};
  double p50 = sl_metric_histogram_quantile("sluice_http_request_duration_seconds", 0.5, NULL);
  double p99 = sl_metric_histogram_quantile("sluice_http_request_duration_seconds", 0.99, prev);
  CHECK(p50 > 0.0025 && p50 <= 0.005);
  CHECK(p99 > 0.5 && p99 <= 1);
  /* Nothing new since prev: no quantile. */
  CHECK(isnan(sl_metric_histogram_quantile("sluice_http_request_duration_seconds", 0.5, prev)));
  sl_metrics_reset();
}

int main(void) {
  TEST_RUN(test_match);
  TEST_RUN(test_refused);
  TEST_RUN(test_query);
  TEST_RUN(test_metrics);
  return TEST_DONE();
}
