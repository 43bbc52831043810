/* datagen_trips.c: NYC-taxi-like trips over 2024, fast enough for tens of millions of
 * rows. Pickups follow a daily curve (quiet at 4am, peaks at 8am and 6pm); distance is
 * lognormal; duration follows distance at an hour-dependent speed; fares are built from
 * the parts (base + distance + time), tips mostly on card payments, and total_amount is
 * the sum of the parts. */
#include "gen/datagen.h"

#include <math.h>

static const struct sl_gen_col cols[] = {
    {"trip_id", "BIGINT"},          {"vendor_id", "INTEGER"},       {"pickup_datetime", "TIMESTAMP"},
    {"dropoff_datetime", "TIMESTAMP"}, {"passenger_count", "INTEGER"}, {"trip_distance", "DOUBLE"},
    {"pickup_zone", "INTEGER"},     {"dropoff_zone", "INTEGER"},    {"rate_code", "INTEGER"},
    {"payment_type", "INTEGER"},    {"fare_amount", "DOUBLE"},      {"extra", "DOUBLE"},
    {"mta_tax", "DOUBLE"},          {"tip_amount", "DOUBLE"},       {"tolls_amount", "DOUBLE"},
    {"total_amount", "DOUBLE"},
};

/* Relative trips per hour of day. */
static const double hour_w[24] = {3.0, 2.0, 1.4, 1.0, 0.9, 1.2, 2.6, 4.2, 5.2, 5.0, 4.9, 5.1,
                                  5.4, 5.4, 5.7, 5.9, 5.8, 6.4, 7.0, 6.6, 5.8, 5.6, 5.2, 4.0};
/* Average speed (mph) by hour: slow in the day, fast at night. */
static const double hour_speed[24] = {17, 18, 19, 20, 20, 18, 14, 11, 10, 10, 10.5, 10.5,
                                      10.5, 10.5, 10, 9.5, 9.5, 9.5, 10, 11, 12.5, 14, 15, 16};
static const int busy_zones[] = {161, 237, 236, 162, 230, 186, 170, 142, 163, 239, 48,  234, 68,  79,
                                 141, 107, 140, 263, 132, 249, 100, 164, 113, 90,  138, 246, 229, 233,
                                 262, 151, 43,  238, 158, 231, 13,  87,  144, 125, 211, 114, 148, 4,
                                 137, 224, 166, 24,  50,  143, 152, 75,  74,  41,  42,  116, 244, 45};
static const double pax_cum[] = {72, 86, 90, 92, 97, 100};
static const double pay_cum[] = {72, 97, 99, 100};
#define T2024 1704067200LL /* 2024-01-01 00:00:00 UTC */

static int zone(struct sl_gen_rng *r) {
  if (sl_gen_unit(r) < 0.7) return busy_zones[sl_gen_u64(r) % (sizeof busy_zones / sizeof busy_zones[0])];
  return (int)sl_gen_range(r, 1, 263);
}

static void rows(struct sl_gen_out *o, int64_t n, uint64_t seed, int (*tick)(void *, int64_t), void *arg) {
  struct sl_gen_rng r;
  sl_gen_rng_seed(&r, seed);
  double hour_cum[24], c = 0;
  for (int h = 0; h < 24; h++) hour_cum[h] = c += hour_w[h];
  for (int64_t i = 0; i < n; i++) {
    int64_t day = sl_gen_range(&r, 0, 365);
    int hour = sl_gen_pick(&r, hour_cum, 24);
    int64_t pickup = T2024 + day * 86400 + hour * 3600 + sl_gen_range(&r, 0, 3599);
    double dist = exp(sl_gen_normal(&r, 0.6, 0.85));
    if (dist > 60) dist = 60;
    if (dist < 0.01) dist = 0.01;
    int64_t dist_c = llround(dist * 100);
    double mph = hour_speed[hour] * (0.7 + 0.6 * sl_gen_unit(&r));
    int64_t dur = 60 + (int64_t)(dist / mph * 3600);
    int rate_code = 1;
    double ur = sl_gen_unit(&r);
    if (ur < 0.03) rate_code = 2;
    else if (ur < 0.05) rate_code = (int)sl_gen_range(&r, 3, 5);
    int pay = sl_gen_pick(&r, pay_cum, 4) + 1;
    int64_t fare = rate_code == 2 ? 7000 : 300 + dist_c * 250 / 100 + dur * 50 / 60;
    int64_t extra = hour >= 16 && hour < 20 ? 250 : hour >= 20 || hour < 6 ? 100 : 0;
    int64_t mta = 50;
    int64_t tip = pay == 1 ? (fare + extra) * sl_gen_range(&r, 10, 25) / 100 : 0;
    int64_t tolls = sl_gen_unit(&r) < 0.05 ? 694 : 0;
    sl_gen_int(o, i + 1);
    sl_gen_int(o, sl_gen_unit(&r) < 0.7 ? 2 : 1);
    sl_gen_ts(o, pickup);
    sl_gen_ts(o, pickup + dur);
    sl_gen_int(o, sl_gen_pick(&r, pax_cum, 6) + 1);
    sl_gen_fixed(o, dist_c, 2);
    sl_gen_int(o, zone(&r));
    sl_gen_int(o, zone(&r));
    sl_gen_int(o, rate_code);
    sl_gen_int(o, pay);
    sl_gen_fixed(o, fare, 2);
    sl_gen_fixed(o, extra, 2);
    sl_gen_fixed(o, mta, 2);
    sl_gen_fixed(o, tip, 2);
    sl_gen_fixed(o, tolls, 2);
    sl_gen_fixed(o, fare + extra + mta + tip + tolls, 2);
    sl_gen_row_end(o);
    if (tick && (i & 0xFFFF) == 0 && tick(arg, i)) return;
  }
}

const struct sl_gen_dataset sl_gen_trips = {
    "trips",
    "NYC-taxi-like trips in 2024: times, zones, distance, fares, payment type",
    cols,
    (int)(sizeof cols / sizeof cols[0]),
    rows,
};
