/* datagen_diabetes.c: the Pima diabetes shape. Outcome is drawn first (about 35%
 * positive) and the measurements depend on it (glucose, BMI, age, pedigree higher for
 * positives), with the source data's zeros standing for missing measurements. */
#include "gen/datagen.h"

#include <math.h>

static const struct sl_gen_col cols[] = {
    {"Pregnancies", "INTEGER"},   {"Glucose", "INTEGER"}, {"BloodPressure", "INTEGER"},
    {"SkinThickness", "INTEGER"}, {"Insulin", "INTEGER"}, {"BMI", "DOUBLE"},
    {"DiabetesPedigreeFunction", "DOUBLE"}, {"Age", "INTEGER"}, {"Outcome", "INTEGER"},
};

static double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

static void rows(struct sl_gen_out *o, int64_t n, uint64_t seed, int (*tick)(void *, int64_t), void *arg) {
  struct sl_gen_rng r;
  sl_gen_rng_seed(&r, seed);
  for (int64_t i = 0; i < n; i++) {
    int pos = sl_gen_unit(&r) < 0.349;
    int age = (int)clamp(21 + floor(-log(1 - sl_gen_unit(&r)) * (pos ? 15.5 : 10.5)), 21, 81);
    int preg = (int)clamp(floor(-log(1 - sl_gen_unit(&r)) * (pos ? 4.9 : 3.3) * (age < 25 ? 0.5 : 1.0)), 0, 17);
    int glucose = sl_gen_unit(&r) < 0.006 ? 0 : (int)clamp(round(sl_gen_normal(&r, pos ? 141 : 110, pos ? 31 : 26)), 44, 199);
    int bp = sl_gen_unit(&r) < 0.046 ? 0 : (int)clamp(round(sl_gen_normal(&r, 70 + (age - 30) * 0.2, 12)), 24, 122);
    int skin = sl_gen_unit(&r) < 0.296 ? 0 : (int)clamp(round(sl_gen_normal(&r, pos ? 33 : 27, 10)), 7, 99);
    int insulin = sl_gen_unit(&r) < 0.487 ? 0 : (int)clamp(round(exp(sl_gen_normal(&r, log(pos ? 160.0 : 110.0), 0.6))), 14, 846);
    double bmi = sl_gen_unit(&r) < 0.014 ? 0 : clamp(sl_gen_normal(&r, pos ? 35.1 : 30.3, 6.8), 18.2, 67.1);
    double dpf = clamp(exp(sl_gen_normal(&r, log(pos ? 0.45 : 0.34), 0.6)), 0.078, 2.42);
    sl_gen_int(o, preg);
    sl_gen_int(o, glucose);
    sl_gen_int(o, bp);
    sl_gen_int(o, skin);
    sl_gen_int(o, insulin);
    sl_gen_fixed(o, llround(bmi * 10), 1);
    sl_gen_fixed(o, llround(dpf * 1000), 3);
    sl_gen_int(o, age);
    sl_gen_int(o, pos);
    sl_gen_row_end(o);
    if (tick && (i & 0xFFFF) == 0 && tick(arg, i)) return;
  }
}

const struct sl_gen_dataset sl_gen_diabetes = {
    "diabetes",
    "Pima diabetes measurements: 8 features and Outcome (1 = diabetic)",
    cols,
    (int)(sizeof cols / sizeof cols[0]),
    rows,
};
