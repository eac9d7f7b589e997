#!/bin/sh
# Seed-exact gates against the golden vectors of ../shared/data/golden:
# at least 99.9 % of the gates equal, none more than one sample away (in
# both directions, so a missing or extra gate fails).  Skips (77) without
# the shared data.
set -u
eval_bin=$1
golden=${ECG_SHARED_DATA:-}/golden
if [ ! -f "$golden/119_250.gates.csv" ]; then
  echo "SKIP: no shared data at '$golden' (needs ../shared beside the checkout)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for rec in 119 208; do
  "$eval_bin" --seed-exact --rate 250 --column MLII --gates "$tmp/$rec.txt" \
      "$golden/${rec}_250.csv" || { echo "FAIL: ecg-eval on $rec"; exit 1; }
  tail -n +2 "$golden/${rec}_250.gates.csv" > "$tmp/$rec.golden"
  awk -v rec="$rec" '
    NR == FNR { a[na++] = $1; next }
    { b[nb++] = $1 }
    function far(x, y, ny,    i, j, lo, hi, m) {
      # sorted y: distance to the nearest element
      lo = 0; hi = ny - 1
      while (lo < hi) { m = int((lo + hi) / 2); if (y[m] < x) lo = m + 1; else hi = m }
      d = x - y[lo]; if (d < 0) d = -d
      if (lo > 0) { e = x - y[lo - 1]; if (e < 0) e = -e; if (e < d) d = e }
      return d
    }
    END {
      same = 0; bad = 0
      for (i = 0; i < na; i++) { d = far(a[i], b, nb); if (d == 0) same++; if (d > 1) bad++ }
      for (i = 0; i < nb; i++) { if (far(b[i], a, na) > 1) bad++ }
      pct = nb ? 100 * same / nb : 0
      printf "%s: %d gates, golden %d, identical %d (%.3f %%), more than 1 sample off %d\n", rec, na, nb, same, pct, bad
      exit (pct >= 99.9 && bad == 0 && na > 0) ? 0 : 1
    }' "$tmp/$rec.txt" "$tmp/$rec.golden" || status=1
done
exit $status
