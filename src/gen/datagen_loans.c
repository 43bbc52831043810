/* datagen_loans.c: the loans data set, shaped like Kaggle's "Loan Approval
 * Classification" table (id + 14 attributes). loan_status (1 = approved) depends on the
 * features through a logistic model, so a classifier can learn it: a prior default on
 * file means no approval; a larger share of income, a higher rate and renting raise it.
 * See docs/internals/gen.md for the distributions. */
#include "gen/datagen.h"

#include <math.h>

static const struct sl_gen_col cols[] = {
    {"id", "INTEGER"},
    {"person_age", "DOUBLE"},
    {"person_gender", "VARCHAR"},
    {"person_education", "VARCHAR"},
    {"person_income", "DOUBLE"},
    {"person_emp_exp", "INTEGER"},
    {"person_home_ownership", "VARCHAR"},
    {"loan_amnt", "DOUBLE"},
    {"loan_intent", "VARCHAR"},
    {"loan_int_rate", "DOUBLE"},
    {"loan_percent_income", "DOUBLE"},
    {"cb_person_cred_hist_length", "DOUBLE"},
    {"credit_score", "INTEGER"},
    {"previous_loan_defaults_on_file", "VARCHAR"},
    {"loan_status", "INTEGER"},
};

static const char *education[] = {"Bachelor", "Associate", "High School", "Master", "Doctorate"};
static const double education_cum[] = {29.8, 56.5, 83.1, 98.6, 100.0};
static const double education_income[] = {1.0, 0.95, 0.9, 1.1, 1.25};
static const char *home[] = {"RENT", "MORTGAGE", "OWN", "OTHER"};
static const char *intent[] = {"EDUCATION", "MEDICAL", "VENTURE", "PERSONAL", "DEBTCONSOLIDATION", "HOMEIMPROVEMENT"};
static const double intent_cum[] = {20.4, 39.4, 56.8, 73.7, 89.6, 100.0};

static double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

static void rows(struct sl_gen_out *o, int64_t n, uint64_t seed, int (*tick)(void *, int64_t), void *arg) {
  struct sl_gen_rng r;
  sl_gen_rng_seed(&r, seed);
  for (int64_t i = 0; i < n; i++) {
    double age = 20 + floor(exp(sl_gen_normal(&r, 1.75, 0.7)));
    if (age > 80) age = 80 - floor(sl_gen_unit(&r) * 30);
    if (sl_gen_unit(&r) < 0.0002) age = (double)sl_gen_range(&r, 100, 144); /* the source data's outliers */
    int male = sl_gen_unit(&r) < 0.552;
    int edu = sl_gen_pick(&r, education_cum, 5);
    double income = exp(sl_gen_normal(&r, log(68000.0), 0.55)) * education_income[edu] * (1 + (age - 25) * 0.01);
    income = floor(clamp(income, 8000, 7200000));
    int emp = (int)clamp(floor(age - 21 - sl_gen_unit(&r) * 4), 0, 125);
    double p_mortgage = clamp(0.38 + (income - 60000) / 150000, 0.15, 0.85);
    double u = sl_gen_unit(&r);
    int own = u < 0.003 ? 3 : u < 0.07 ? 2 : u < 0.07 + p_mortgage * 0.93 ? 1 : 0;
    double amount = floor(clamp(exp(sl_gen_normal(&r, log(8000.0), 0.6)), 500, 35000) / 25) * 25;
    int it = sl_gen_pick(&r, intent_cum, 6);
    int credit = (int)clamp(round(sl_gen_normal(&r, 632, 50)), 390, 850);
    double rate = round(clamp(11 + (632 - credit) / 40.0 + sl_gen_normal(&r, 0, 2.6), 5.42, 20.0) * 100) / 100;
    double pct = round(amount / income * 100) / 100;
    double hist = clamp(round((age - 20) * 0.55 + sl_gen_normal(&r, 3.5, 1.5)), 2, 30);
    int prior_default = sl_gen_unit(&r) < 0.508;
    int status = 0;
    if (!prior_default) {
      double z = -0.85 + 11.0 * (pct - 0.14) + 0.32 * (rate - 11) + (own == 0 ? 0.9 : own == 2 ? -1.3 : 0) -
                 0.35 * log(income / 64000) + (it == 1 || it == 4 ? 0.35 : it == 2 ? -0.4 : 0);
      status = sl_gen_unit(&r) < 1 / (1 + exp(-z));
    }
    sl_gen_int(o, i + 1);
    sl_gen_fixed(o, (int64_t)age * 10, 1);
    sl_gen_str(o, male ? "male" : "female");
    sl_gen_str(o, education[edu]);
    sl_gen_fixed(o, (int64_t)income * 10, 1);
    sl_gen_int(o, emp);
    sl_gen_str(o, home[own]);
    sl_gen_fixed(o, (int64_t)amount * 10, 1);
    sl_gen_str(o, intent[it]);
    sl_gen_fixed(o, (int64_t)llround(rate * 100), 2);
    sl_gen_fixed(o, (int64_t)llround(pct * 100), 2);
    sl_gen_fixed(o, (int64_t)hist * 10, 1);
    sl_gen_int(o, credit);
    sl_gen_str(o, prior_default ? "Yes" : "No");
    sl_gen_int(o, status);
    sl_gen_row_end(o);
    if (tick && (i & 0xFFFF) == 0 && tick(arg, i)) return;
  }
}

const struct sl_gen_dataset sl_gen_loans = {
    "loans",
    "loan applications: id + the 14 columns of the Kaggle loan approval data; loan_status 1 = approved",
    cols,
    (int)(sizeof cols / sizeof cols[0]),
    rows,
};
