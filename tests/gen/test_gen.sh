#!/usr/bin/env bash
# test_gen.sh: the generators: exact columns and row counts, same seed same bytes in
# every format, sane ranges, a learnable loan_status (AUC of a simple score), errors.
source "$(dirname "$0")/../lib.sh"
G() { "$SLUICE" gen "$@"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

for ds in loans diabetes trips; do
  for f in csv jsonl parquet; do
    G $ds --rows 2000 --seed 7 --out "$T/$ds-a.$f" 2>/dev/null
    G $ds --rows 2000 --seed 7 --out "$T/$ds-b.$f" 2>/dev/null
    expect_eq "$ds $f: same seed, same bytes" "$(sha "$T/$ds-a.$f")" "$(sha "$T/$ds-b.$f")"
  done
  G $ds --rows 2000 --seed 8 --out "$T/$ds-c.csv" 2>/dev/null
  [ "$(sha "$T/$ds-a.csv")" != "$(sha "$T/$ds-c.csv")" ] && ok "$ds: another seed, other data" || fail "$ds: seed ignored"
  expect_eq "$ds csv rows" "$(($(wc -l < "$T/$ds-a.csv") - 1))" "2000"
  expect_eq "$ds jsonl rows" "$(wc -l < "$T/$ds-a.jsonl")" "2000"
done

expect_eq "loans columns" "$(head -1 "$T/loans-a.csv")" \
  "id,person_age,person_gender,person_education,person_income,person_emp_exp,person_home_ownership,loan_amnt,loan_intent,loan_int_rate,loan_percent_income,cb_person_cred_hist_length,credit_score,previous_loan_defaults_on_file,loan_status"
expect_eq "diabetes columns" "$(head -1 "$T/diabetes-a.csv")" \
  "Pregnancies,Glucose,BloodPressure,SkinThickness,Insulin,BMI,DiabetesPedigreeFunction,Age,Outcome"
expect_eq "trips columns" "$(head -1 "$T/trips-a.csv")" \
  "trip_id,vendor_id,pickup_datetime,dropoff_datetime,passenger_count,trip_distance,pickup_zone,dropoff_zone,rate_code,payment_type,fare_amount,extra,mta_tax,tip_amount,tolls_amount,total_amount"
expect_contains "jsonl is JSON objects" "$(head -1 "$T/loans-a.jsonl")" '{"id":1,"person_age":'

# Ranges and shapes on 45,000 loans.
G loans --rows 45000 --out "$T/loans.csv" 2>/dev/null
r=$(awk -F, 'NR > 1 {
  n++; st += $15; if ($14 == "Yes") { y++; ys += $15 }
  if ($2 < 20 || $2 > 144) bad++; if ($5 < 8000) bad++; if ($8 < 500 || $8 > 35000) bad++
  if ($10 < 5.42 || $10 > 20) bad++; if ($13 < 390 || $13 > 850) bad++
  if ($3 != "male" && $3 != "female") bad++; if ($15 != 0 && $15 != 1) bad++; inc += $5 }
  END { printf "%d %d %.2f %.3f %d", n, bad, st / n, ys / y, inc / n }' "$T/loans.csv")
set -- $r
expect_eq "loans rows" "$1" "45000"
expect_eq "loans values in range" "$2" "0"
awk -v s="$3" 'BEGIN { exit !(s >= 0.18 && s <= 0.26) }' && ok "approval rate $3 near 0.22" || fail "approval rate $3"
expect_eq "prior default means no approval" "$4" "0.000"
awk -v s="$5" 'BEGIN { exit !(s >= 60000 && s <= 100000) }' && ok "mean income $5" || fail "mean income $5"

# A model can learn loan_status: the AUC of a hand-made score (no prior default, share
# of income, rate, renting) against the label, by the Mann-Whitney U statistic.
auc=$(awk -F, 'NR > 1 { s = ($14 == "No") * 10 + $11 * 8 + $10 * 0.2 + ($7 == "RENT"); print s, $15 }' "$T/loans.csv" |
  sort -g -k1,1 | awk '{ s[NR] = $1; y[NR] = $2 } END {
    i = 1; while (i <= NR) { j = i; while (j < NR && s[j + 1] == s[i]) j++
      r = (i + j) / 2; for (k = i; k <= j; k++) if (y[k] == 1) { R += r; P++ }; i = j + 1 }
    N = NR - P; printf "%.3f", (R - P * (P + 1) / 2) / (P * N) }')
awk -v a="$auc" 'BEGIN { exit !(a > 0.8) }' && ok "loan_status is learnable (AUC $auc)" || fail "AUC $auc too low"

G diabetes --rows 20000 --out "$T/d.csv" 2>/dev/null
r=$(awk -F, 'NR > 1 { n++; o += $9; if ($8 < 21 || $8 > 81 || $2 > 199 || $6 > 67.1 || $7 < 0.078 || $7 > 2.42) bad++
  if ($9) { gp += $2; np++ } else { gn += $2; nn++ } } END { printf "%d %.2f %d", bad, o / n, (gp / np > gn / nn) }' "$T/d.csv")
set -- $r
expect_eq "diabetes values in range" "$1" "0"
awk -v s="$2" 'BEGIN { exit !(s >= 0.3 && s <= 0.4) }' && ok "diabetes outcome rate $2" || fail "outcome rate $2"
expect_eq "glucose higher for positives" "$3" "1"

r=$(awk -F, 'NR > 1 { t = $11 + $12 + $13 + $14 + $15; if (t - $16 > 0.011 || $16 - t > 0.011) bad++
  if ($4 <= $3) bad++; if ($7 < 1 || $7 > 263) bad++ } END { print bad + 0 }' "$T/trips-a.csv")
expect_eq "trips: totals add up, dropoff after pickup, zones valid" "$r" "0"

# Errors.
expect_exit "unknown data set" 2 G cars --rows 1 --out "$T/x.csv"
expect_contains "unknown data set message" "$out" "loans, diabetes or trips"
expect_exit "no rows" 2 G loans --out "$T/x.csv"
expect_exit "bad rows" 2 G loans --rows ten --out "$T/x.csv"
expect_exit "unknown extension" 2 G loans --rows 1 --out "$T/x.xlsx"
expect_exit "unwritable folder" 1 G loans --rows 10 --out "/nonexistent/x.csv"
expect_contains "unwritable names the file" "$out" "/nonexistent/x.csv"
# A full disk, simulated by a file size limit: the write fails, names the file, and
# neither the file nor its temp file is left behind.
expect_exit "disk full" 1 bash -c "ulimit -f 200; trap '' XFSZ; exec '$SLUICE' gen trips --rows 100000 --out '$T/full.csv'"
expect_contains "disk full names the file" "$out" "full.csv"
expect_eq "disk full leaves nothing" "$(ls "$T" | grep -c 'full')" "0"
expect_eq "no temp files left" "$(ls "$T" | grep -c '\.tmp\.')" "0"
finish
