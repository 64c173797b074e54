#!/bin/sh
# bench/eval.sh - how fast `attn eval run` is, in the two cases issue 16 sets
# targets for (figures: wall, user and system time, peak RSS, and the load
# average before the run, since the machine may be shared):
#  1. every built-in router over a 10,000-PR cohort of a 50,000-PR synthetic
#     history (target: under 8 s wall on a quiet 2-core machine), each router
#     alone first (PRs/s), then all together;
#  2. the rust-clippy 2021-2024 eval of `make bench-real` with its 4
#     comparable routers (popularity, stewards, path_similarity, hybrid with
#     bench/clippy_hybrid.json; target: under 1 s), on the history loaded
#     from ../shared/data/rust-clippy (skipped when the data set is absent).
# llm_rerank is left out: it needs an LLM endpoint (bench/llm.sh measures it).
# Peak RSS counts the store's pages mapped by each worker.
# Env: ATTN_BIN (default ./attn), PRS (50000), COHORT (10000), JOBS (the
# --jobs values to run, default "1 2"), BENCH_STORE (reuse a data dir that
# already holds bench/eval), CLIPPY_STORE (likewise for rust-lang/rust-clippy),
# ALONE=0 skips the per-router runs, CLIPPY=0 skips case 2.
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
ROUTERS=$("$ATTN" route --list --json | jq -r '.[].name' | grep -v '^llm_rerank$')
JOBS=${JOBS:-1 2}
J1=${JOBS%% *}

# timed LABEL ARGS...: run attn under /usr/bin/time -v (stdout to $TMP/out)
# and print one line of figures.
timed() {
    label=$1
    shift
    la=$(cut -d' ' -f1-3 /proc/loadavg)
    /usr/bin/time -v "$ATTN" "$@" >"$TMP/out" 2>"$TMP/time" || { head -20 "$TMP/time"; exit 1; }
    wall=$(grep 'Elapsed (wall clock)' "$TMP/time" | awk '{print $NF}')
    secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
    usr=$(grep 'User time' "$TMP/time" | awk '{print $NF}')
    sys=$(grep 'System time' "$TMP/time" | awk '{print $NF}')
    rss=$(grep 'Maximum resident set size' "$TMP/time" | awk '{printf "%.0f", $NF / 1024}')
    printf '%s: wall %.2f s (user %s s, sys %s s), peak RSS %d MB, load average before %s\n' \
        "$label" "$secs" "$usr" "$sys" "$rss" "$la"
}
# The learned router trains on the PRs before the cohort (730 days by
# default: most of this history); 30 days keeps this a routing benchmark.
# bench_learned measures its training.
LEARNED="--learned-train-days 30"
all=""
for r in $ROUTERS; do
    all="$all --router $r"
    [ "${ALONE:-1}" = 0 ] && continue
    timed "eval $r alone, $COHORT PRs, --jobs $J1" eval run --jobs "$J1" --repo $R --data-dir "$DATA" \
        --cohort "$TMP/cohort.json" --router "$r" $LEARNED --quiet --json
    echo "  $(awk -v n="$COHORT" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }') PRs/s, MRR $(jq -r --arg r "$r" '.headline[$r].mrr' "$TMP/out")"
done
for j in $JOBS; do
    # shellcheck disable=SC2086
    timed "eval all $(echo $ROUTERS | wc -w) routers together, $COHORT of $PRS PRs, --jobs $j (target < 8 s wall)" \
        eval run --jobs "$j" --repo $R --data-dir "$DATA" --cohort "$TMP/cohort.json" $all $LEARNED \
        --quiet --json
done
echo "  answers shared between the hybrid and the routers run alone: $(jq .routes_shared "$TMP/out")"
jq -r '.headline | to_entries[] | "  \(.key): n \(.value.n) hit@1 \(.value.hit_at_1) mrr \(.value.mrr)"' "$TMP/out"

# 2. rust-clippy, 2021-01-01 .. 2024-12-01, as bench/real.sh evaluates it
# (there after ingesting through the fake GitHub API; here from the bundle
# the same converter makes, loaded with `attn load`).
[ "${CLIPPY:-1}" = 0 ] && exit 0
CDATA_SET=$ROOT/../shared/data/rust-clippy
CR=rust-lang/rust-clippy
CDATA=${CLIPPY_STORE:-$TMP/clippy}
if [ ! -f "$CDATA/github/$CR/history.sqlite" ]; then
    if [ ! -f "$CDATA_SET/prs.jsonl.gz" ]; then
        echo "eval rust-clippy: ../shared/data/rust-clippy not found; skipping"
        exit 0
    fi
    python3 "$ROOT/tests/fakegh/clippy_bundle.py" --data "$CDATA_SET" --out "$TMP/clippy.json" \
        2>"$TMP/conv.err" || { cat "$TMP/conv.err"; exit 1; }
    "$ATTN" load --repo $CR --bundle "$TMP/clippy.json" --data-dir "$CDATA" --quiet || exit 1
    rm -f "$TMP/clippy.json"
fi
for j in $JOBS; do
    timed "eval rust-clippy 2021-2024, 4 routers, --jobs $j (target < 1 s)" eval run --jobs "$j" \
        --repo $CR --data-dir "$CDATA" --router popularity --router stewards \
        --router path_similarity --router hybrid \
        --from 2021-01-01T00:00:00Z --end-at 2024-12-01T00:00:00Z \
        --truth reviewers_until_close:window=3650d --truth first_approval:window=3650d \
        --config hybrid="$ROOT/bench/clippy_hybrid.json" --hybrid-train-days 0 --quiet --json
    echo "  $(jq .n "$TMP/out") PRs; MRR: $(jq -c '.headline | map_values(.mrr)' "$TMP/out")"
done
