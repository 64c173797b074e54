#!/bin/sh
# bench/eval.sh - `attn eval run` of every built-in router over a 10,000-PR
# cohort of a 50,000-PR synthetic history (target: every router together
# under 8 s wall on a quiet 2-core machine, --jobs default = one per core):
# wall, user and system time, PRs/s per router (each router alone, then all
# together), peak RSS (which counts the store's pages mapped by each worker).
# Env: ATTN_BIN (default ./attn), PRS (50000), COHORT (10000), JOBS (default:
# attn's, one per core), BENCH_STORE (reuse a data dir that already holds
# bench/eval), ALONE=0 skips the per-router runs.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ATTN=${ATTN_BIN:-$ROOT/attn}
PRS=${PRS:-50000}
COHORT=${COHORT:-10000}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
DATA=${BENCH_STORE:-$TMP/data}
R=bench/eval
if [ ! -f "$DATA/github/$R/history.sqlite" ]; then
    t0=$(date +%s.%N)
    "$ATTN" synth --prs "$PRS" --seed 13 --repo $R -o "$TMP/b.json" >/dev/null || exit 1
    "$ATTN" load --repo $R --bundle "$TMP/b.json" --data-dir "$DATA" --quiet || exit 1
    rm -f "$TMP/b.json"
    t1=$(date +%s.%N)
    echo "synth + load $PRS PRs: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
fi
DB=$DATA/github/$R/history.sqlite
# The cohort: COHORT PRs sampled from the last 40% of the history.
from=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(created_at) + (max(created_at) - min(created_at)) * 6 / 10, 'unixepoch') FROM pull_requests")
end=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', max(created_at) - 3 * 86400, 'unixepoch') FROM pull_requests")
"$ATTN" cohort create --repo $R --data-dir "$DATA" --from "$from" --end-at "$end" --limit "$COHORT" --seed 1 --out "$TMP/cohort.json" || exit 1
ROUTERS=$("$ATTN" route --list --json | jq -r '.[].name')
J=""
[ -n "${JOBS:-}" ] && J="--jobs $JOBS"
# The learned router trains on the PRs before the cohort (730 days by
# default: most of this history); 30 days keeps this a routing benchmark.
# bench_learned measures its training.
LEARNED="--learned-train-days 30"
all=""
for r in $ROUTERS; do
    all="$all --router $r"
    [ "${ALONE:-1}" = 0 ] && continue
    # shellcheck disable=SC2086
    /usr/bin/time -v "$ATTN" eval run $J --repo $R --data-dir "$DATA" --cohort "$TMP/cohort.json" \
        --router "$r" $LEARNED --quiet --json >"$TMP/out" 2>"$TMP/time" || { cat "$TMP/time" | head; exit 1; }
    wall=$(grep 'Elapsed (wall clock)' "$TMP/time" | awk '{print $NF}')
    secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
    rss=$(grep 'Maximum resident set size' "$TMP/time" | awk '{printf "%.0f", $NF / 1024}')
    printf 'eval %-16s %6d PRs  wall %6.1f s  %7.0f PRs/s  peak RSS %4d MB  (MRR %s)\n' "$r" "$COHORT" \
        "$secs" "$(awk -v n="$COHORT" -v s="$secs" 'BEGIN { print (s > 0 ? n / s : 0) }')" "$rss" \
        "$(jq -r --arg r "$r" '.headline[$r].mrr' "$TMP/out")"
done
# shellcheck disable=SC2086
/usr/bin/time -v "$ATTN" eval run $J --repo $R --data-dir "$DATA" --cohort "$TMP/cohort.json" $all $LEARNED \
    --quiet --json >"$TMP/out" 2>"$TMP/time" || { cat "$TMP/time" | head; exit 1; }
wall=$(grep 'Elapsed (wall clock)' "$TMP/time" | awk '{print $NF}')
rss=$(grep 'Maximum resident set size' "$TMP/time" | awk '{printf "%.0f", $NF / 1024}')
usr=$(grep 'User time' "$TMP/time" | awk '{print $NF}')
sys=$(grep 'System time' "$TMP/time" | awk '{print $NF}')
echo "eval all routers together: $COHORT PRs, wall $wall (user $usr s, system $sys s), peak RSS ${rss} MB (target: < 8 s wall on 2 cores)"
echo "  answers shared between the hybrid and the routers run alone: $(jq .routes_shared "$TMP/out")"
jq -r '.headline | to_entries[] | "  \(.key): n \(.value.n) hit@1 \(.value.hit_at_1) mrr \(.value.mrr)"' "$TMP/out"
