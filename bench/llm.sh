#!/bin/sh
# bench/llm.sh - llm_rerank throughput (issue 12): a 2,000-PR cohort against the
# fake OpenAI-compatible server (tests/fakellm) answering after 200 ms, with
# concurrency 8, in record mode (target < 60 s); then the same evaluation in
# replay mode with the server stopped (target < 3 s). Prints wall and CPU
# time with the load average (the machine may be shared), the hybrid alone
# for the base's share, and whether the replay is byte-identical.
# Env: BENCH_PRS (cohort size, default 2000), BENCH_DELAY_MS (default 200),
# BENCH_DATA_DIR (default build/bench-llm), ATTN_BIN (default ./attn).
set -eu
cd "$(dirname "$0")/.."
ATTN=${ATTN_BIN:-./attn}
N=${BENCH_PRS:-2000}
DELAY=${BENCH_DELAY_MS:-200}
DATA=${BENCH_DATA_DIR:-build/bench-llm}
R=synth/sample
rm -rf "$DATA"
mkdir -p "$DATA"
export ATTN_DATA_DIR="$DATA"
"$ATTN" synth --prs $((N * 13 / 10 + 200)) --seed 11 -o "$DATA/b.json" >/dev/null 2>&1
"$ATTN" load --repo $R --bundle "$DATA/b.json" --quiet
DB="$DATA/github/$R/history.sqlite"
FROM=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(created_at) + 86400 * 14, 'unixepoch') FROM pull_requests")
END=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', max(created_at), 'unixepoch') FROM pull_requests")
"$ATTN" cohort create --repo $R --from "$FROM" --end-at "$END" --limit "$N" --seed 1 --out "$DATA/cohort.json" >/dev/null 2>&1
echo "{\"prompt\": \"$PWD/prompts/triage\", \"concurrency\": 8}" >"$DATA/rr.json"
mkdir -p "$DATA/github/$R/routing"
cp routing/llm_prices.json "$DATA/github/$R/routing/llm_prices.json"

python3 tests/fakellm/fakellm.py --port 0 --port-file "$DATA/port" --delay-ms "$DELAY" \
    --max-lifetime 600 2>"$DATA/fake.err" &
FAKE=$!
trap 'kill $FAKE 2>/dev/null || true' EXIT
i=0; while [ ! -s "$DATA/port" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
export ATTN_LLM_BASE_URL="http://127.0.0.1:$(cat "$DATA/port")/v1"
EV="$ATTN eval run --repo $R --router llm_rerank --config llm_rerank=$DATA/rr.json --cohort $DATA/cohort.json --bootstrap 0 --quiet --json"
# Wall, user and sys seconds of one command into $DATA/$1.time (/usr/bin/time
# when present, so the CPU figures can be read next to the wall time on a
# shared machine); the load average is printed with them for the same reason.
timed() {
    out=$1; shift
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f "%e %U %S" -o "$DATA/$out.time" "$@"
    else
        s=$(date +%s.%N); "$@"; e=$(date +%s.%N)
        echo "$(awk "BEGIN {print $e - $s}") 0 0" >"$DATA/$out.time"
    fi
}
fig() { awk '{printf "%.1f s wall, %.1f s user + %.1f s sys", $1, $2, $3}' "$DATA/$1.time"; }
load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }
l0=$(load)
ATTN_LLM_CACHE=record timed rec $EV --run-id rec >"$DATA/rec.json"
l1=$(load)
kill $FAKE 2>/dev/null || true
wait $FAKE 2>/dev/null || true
# The replay has the recording's inputs, so it may replace the run under the
# same id; keep the recorded run to compare the two byte for byte.
RUNS="$DATA/github/$R/eval"
cp -r "$RUNS/rec" "$DATA/rec-run"
ATTN_LLM_CACHE=replay timed rep $EV --run-id rec >"$DATA/rep.json"
l2=$(load)
same=yes
# The summary's llm_stats say how each run was computed (cache hits, live calls).
diff -r "$DATA/rec-run" "$RUNS/rec" >/dev/null || same=NO
[ "$(jq -S 'del(.llm_stats)' "$DATA/rec.json")" = "$(jq -S 'del(.llm_stats)' "$DATA/rep.json")" ] || same=NO
# The base router alone on one thread: the base and eval-loop cost inside
# the replay (the replay's LLM side runs on a second thread; see llm_rerank.c).
timed base "$ATTN" eval run --repo $R --router hybrid --cohort "$DATA/cohort.json" --bootstrap 0 \
    --quiet --json --jobs 1 --run-id base >/dev/null
l3=$(load)
n=$(jq .n "$DATA/rec.json")
echo "llm_rerank over $n PRs, fake answers after ${DELAY} ms, concurrency 8:"
echo "  record (live calls): $(fig rec)  (target < 60 s; ideal $(awk "BEGIN {printf \"%.0f\", $n * $DELAY / 8000}") s; load $l0 -> $l1)"
echo "  replay (server stopped): $(fig rep)  (target < 3 s; load $l1 -> $l2)"
echo "  hybrid alone, --jobs 1 (the base inside the replay): $(fig base)  (load $l2 -> $l3)"
echo "  replay run directory byte-identical to the recording's, summary equal but llm_stats: $same"
jq -c '{llm: .llm.llm_rerank | {prs, status, tokens_in, tokens_out, cost_usd}, stats: .llm_stats.llm_rerank}' "$DATA/rec.json"
