#!/bin/sh
# The main job, end to end with the real binary (`make demo`):
#   a synthetic repository (attn synth) served by the fake GitHub API
#   -> attn ingest -> attn incremental (only 304s) -> contract check
#   -> attn pin (CODEOWNERS at every base SHA, contents API) -> attn doctor
#   -> a cohort -> two experiment runs (baselines: popularity + mentions;
#      candidate: hybrid + stewards) -> attn experiment compare, whose summary
#      shows the hybrid's gain over each baseline with 95% bootstrap intervals.
# Env: ATTN_WRAP (e.g. "valgrind -q --error-exitcode=3") prefixes every attn
# call; DEMO_PRS (default 800) sizes the synthetic history; DEMO_DATA_DIR.
set -eu
cd "$(dirname "$0")/.."
ATTN="${ATTN_WRAP:-} ./attn"
DATA=${DEMO_DATA_DIR:-build/demo-data}
PRS=${DEMO_PRS:-800}
REPO=synth/sample
rm -rf "$DATA"
mkdir -p "$DATA"

echo "== attn synth --prs $PRS   (a made-up repository whose reviewers have known habits)"
$ATTN synth --prs "$PRS" --seed 7 -o "$DATA/bundle.json"

# The fake GitHub API (tests/fakegh) on a free loopback port; stopped on exit.
python3 tests/fakegh/fakegh.py --bundle "$DATA/bundle.json" --port 0 \
    --port-file "$DATA/fakegh.port" --max-lifetime 900 --rate-limit 1000000 2>"$DATA/fakegh.err" &
FAKE=$!
trap 'kill $FAKE 2>/dev/null || true' EXIT
i=0
while [ ! -s "$DATA/fakegh.port" ]; do
    i=$((i + 1))
    if [ $i -gt 400 ]; then echo "demo: the fake GitHub API did not start:" >&2; cat "$DATA/fakegh.err" >&2; exit 1; fi
    sleep 0.05
done
API="http://127.0.0.1:$(cat "$DATA/fakegh.port")"
D="--data-dir $DATA --repo $REPO"

echo "== attn ingest --api-url $API   (full backfill through the GitHub REST API)"
$ATTN ingest $D --api-url "$API" --quiet
echo "== attn incremental   (nothing changed: conditional requests only)"
$ATTN incremental $D --api-url "$API"
echo "== attn contract check"
$ATTN contract check $D
echo "== attn pin   (CODEOWNERS at every base SHA, through the contents API)"
$ATTN pin $D --api-url "$API" --quiet

DB="$DATA/github/$REPO/history.sqlite"
FROM=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(created_at) + (max(created_at) - min(created_at)) * 55 / 100, 'unixepoch') FROM pull_requests")
END=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', max(created_at) - 3 * 86400, 'unixepoch') FROM pull_requests")
echo "== attn cohort create --from $FROM --end-at $END --limit 300 --seed 1"
$ATTN cohort create $D --from "$FROM" --end-at "$END" --limit 300 --seed 1 --out "$DATA/cohort.json"
echo "== attn doctor --cohort   (is the store ready for this evaluation?)"
$ATTN doctor $D --cohort "$DATA/cohort.json" || true

echo "== attn experiment init   (two specs, each naming the cohort by its hash)"
$ATTN experiment init $D --cohort "$DATA/cohort.json" --router popularity --router mentions \
    --kind baseline --tag demo --out "$DATA/baseline.json" --quiet
$ATTN experiment init $D --cohort "$DATA/cohort.json" --router hybrid --router stewards \
    --kind experimental --tag demo --out "$DATA/candidate.json" --quiet
echo "== attn experiment run   (baselines, then the candidate)"
BASE=$($ATTN experiment run $D --spec "$DATA/baseline.json" --cohort "$DATA/cohort.json" --quiet --json | jq -r .run_id)
CAND=$($ATTN experiment run $D --spec "$DATA/candidate.json" --cohort "$DATA/cohort.json" --quiet --json | jq -r .run_id)
echo "baseline run $BASE, candidate run $CAND"
$ATTN runs list $D
echo "== attn experiment compare $BASE $CAND   (paired bootstrap over the same PRs)"
$ATTN experiment compare $D "$BASE" "$CAND" --pair popularity:hybrid --pair mentions:hybrid \
    --pair popularity:stewards
echo "(full comparison: $DATA/github/$REPO/eval/_compare/${BASE}__vs__${CAND}/compare.md)"

# llm_rerank (an OpenAI-compatible model reorders the hybrid's top 10) against
# the fake chat server (tests/fakellm) on loopback: record, then the same run
# replayed from DATA/llm-cache with the server stopped, compared with the hybrid.
echo "== attn prompt hash prompts/triage   (the prompt bundle's content hash and label)"
$ATTN prompt hash prompts/triage --data-dir "$DATA"
python3 tests/fakellm/fakellm.py --port 0 --port-file "$DATA/fakellm.port" --max-lifetime 900 \
    2>"$DATA/fakellm.err" &
LLMFAKE=$!
trap 'kill $FAKE $LLMFAKE 2>/dev/null || true' EXIT
i=0
while [ ! -s "$DATA/fakellm.port" ]; do
    i=$((i + 1))
    if [ $i -gt 400 ]; then echo "demo: the fake LLM server did not start" >&2; exit 1; fi
    sleep 0.05
done
export ATTN_LLM_BASE_URL="http://127.0.0.1:$(cat "$DATA/fakellm.port")/v1"
mkdir -p "$DATA/github/$REPO/routing"
cp routing/llm_prices.json "$DATA/github/$REPO/routing/"
$ATTN experiment init $D --cohort "$DATA/cohort.json" --router llm_rerank --router hybrid \
    --kind experimental --tag demo --out "$DATA/llm.json" --quiet
echo "== attn experiment run (llm_rerank, ATTN_LLM_CACHE=record)"
ATTN_LLM_CACHE=record $ATTN experiment run $D --spec "$DATA/llm.json" --cohort "$DATA/cohort.json" \
    --run-id llm-record --quiet --json | jq -c '{run_id, llm: .llm.llm_rerank}'
kill $LLMFAKE 2>/dev/null || true
wait $LLMFAKE 2>/dev/null || true
echo "== the same run in replay mode, the fake server stopped"
ATTN_LLM_CACHE=replay $ATTN experiment run $D --spec "$DATA/llm.json" --cohort "$DATA/cohort.json" \
    --run-id llm-replay --quiet --json | jq -c '{run_id, headline: (.headline | map_values(.mrr))}'
E="$DATA/github/$REPO/eval"
if diff -r -x manifest.json -x run_summary.json -x report.json -x report.md "$E/llm-record" "$E/llm-replay" >/dev/null; then
    echo "replay reproduced the recorded per-PR routes and LLM exchanges byte for byte"
else
    echo "demo: the replay differs from the recording" >&2; exit 1
fi
echo "== attn experiment compare $CAND llm-replay --pair hybrid:llm_rerank"
echo "   (the fake chat server reverses the base order on purpose, so the rerank shows as a drop;"
echo "    pointed at a real model, the same runs measure that model: see README, LLM reranking)"
$ATTN experiment compare $D "$CAND" llm-replay --pair hybrid:llm_rerank
echo "== the dashboard: runs, compare, drill-downs (JSON API under /api/); Ctrl-C stops it"
echo "attn serve --data-dir $DATA    # then open the printed http://127.0.0.1:8080/"
