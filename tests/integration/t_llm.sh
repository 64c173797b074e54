#!/bin/sh
# t_llm.sh - prompt bundles (`attn prompt`) and the llm_rerank router against
# the fake OpenAI-compatible server (tests/fakellm) on loopback: strict
# validation and fallback, the retry rules (429 + Retry-After, 5xx backoff,
# no retry on 400, timeouts), the replay cache (hits, misses, replay offline
# with the server stopped, byte for byte), cost sums and --max-cost-usd.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${ATTN_ROOT:-$(cd "$HERE/../.." && pwd)}
R=synth/sample
DIR=$ATTN_DATA_DIR/github/synth/sample
LLM_PID=""
stop_llm() { if [ -n "$LLM_PID" ]; then kill "$LLM_PID" 2>/dev/null; wait "$LLM_PID" 2>/dev/null; LLM_PID=""; fi; }
trap 'stop_llm; rm -rf "$TMP"' EXIT
start_llm() {
    stop_llm
    rm -f "$TMP/llm.port"
    python3 "$HERE/../fakellm/fakellm.py" --port 0 --port-file "$TMP/llm.port" --max-lifetime 300 \
        "$@" 2>"$TMP/llm.err" &
    LLM_PID=$!
    i=0; while [ ! -s "$TMP/llm.port" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
    LLM=http://127.0.0.1:$(cat "$TMP/llm.port")
}
mode() { curl -s -X POST -d "{\"mode\": \"$1\"}" "$LLM/_fake/mode" >/dev/null; }
reqs() { curl -s "$LLM/_fake/stats" | jq -r .requests; }

# --- prompt bundles ----------------------------------------------------------------
P=$TMP/p
cp -r "$ROOT/prompts/triage" "$P"
check "prompt hash" "$ATTN" prompt hash "$P" --json
H1=$(jq -r .prompt_hash "$TMP/out")
check_eq "the shipped bundle's label" "1.0.0" "$(jq -r .version "$TMP/out")"
printf '%s  \r\n\r\n' "$(cat "$P/system.md")" >"$P/system.md.crlf" && mv "$P/system.md.crlf" "$P/system.md"
jq -S . "$P/output_schema.json" >"$P/o.json" && mv "$P/o.json" "$P/output_schema.json"
check_eq "CRLF, trailing spaces and JSON key order keep the hash" "$H1" \
    "$("$ATTN" prompt hash "$P" --json | jq -r .prompt_hash)"
check "register the label" "$ATTN" prompt hash "$P" --register
echo "Prefer people who reviewed recently." >>"$P/task.md"
H2=$("$ATTN" prompt hash "$P" --json 2>/dev/null | jq -r .prompt_hash)
check_fails "a reused label with other content is refused, naming both hashes" 1 "$H1.*$H2" \
    "$ATTN" prompt hash "$P" --register
check "diff by label and directory" "$ATTN" prompt diff triage@1.0.0 "$P" --json
check_eq "only the task section changed" '["task"]' "$(jq -c .changed_sections "$TMP/out")"
check_eq "the added line" "+Prefer people who reviewed recently." \
    "$(jq -r '.sections.task.lines[] | select(startswith("+"))' "$TMP/out")"
check "prompt list" "$ATTN" prompt list --dir "$ROOT/prompts" --json
check_eq "list shows the shipped bundle and the registered label" "triage triage" \
    "$(jq -r '[.bundles[0].name, .registered[0].name] | join(" ")' "$TMP/out")"
check "prompt show" "$ATTN" prompt show "$ROOT/prompts/triage"
check_eq "show prints the hash" "$H1" "$(jq -r .prompt_hash "$TMP/out")"
check_fails "a missing bundle" 1 "no bundle.json" "$ATTN" prompt hash "$TMP"
check_fails "an unknown subcommand" 2 "unknown subcommand" "$ATTN" prompt nope

# --- the router -------------------------------------------------------------------------
"$ATTN" synth --prs 400 --seed 5 -o "$TMP/b.json" >/dev/null 2>&1
check "load a 400-PR synthetic history" "$ATTN" load --repo $R --bundle "$TMP/b.json" --quiet
# Twelve PR numbers from #300 on (issues share the numbering).
set -- $(sqlite3 "$DIR/history.sqlite" "SELECT number FROM pull_requests WHERE number >= 300 ORDER BY number LIMIT 12")
P1=$1 P2=$2 P3=$3 P4=$4 P5=$5
PRS=""; for n in "$@"; do PRS="$PRS --pr $n"; done
mkdir -p "$DIR/routing"
echo '{"gpt-4o-mini": {"input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.6}}' \
    >"$DIR/routing/llm_prices.json"
cat >"$TMP/rr.json" <<JSON
{"prompt": "$ROOT/prompts/triage", "retry_base_ms": 20, "max_retries": 2, "timeout_ms": 2000}
JSON
start_llm
export ATTN_LLM_BASE_URL=$LLM/v1
route() { "$ATTN" route --repo $R --pr "$1" --router llm_rerank --config "$TMP/rr.json" --json --top-k 10; }
ATTN_LLM_CACHE=live check "llm_rerank routes a PR (live)" route $P1
cp "$TMP/out" "$TMP/live.json"
"$ATTN" route --repo $R --pr $P1 --router hybrid --json --top-k 10 >"$TMP/hyb.json"
check_eq "status ok" "ok" "$(jq -r .llm.status "$TMP/live.json")"
check_eq "the fake's ranking (base order reversed) is applied" \
    "$(jq -c '[.candidates[].target.name] | reverse' "$TMP/hyb.json")" \
    "$(jq -c '[.candidates[].target.name]' "$TMP/live.json")"
check_eq "every candidate carries the model's reason" "$(jq '.candidates | length' "$TMP/live.json")" \
    "$(jq '[.candidates[].evidence[] | select(.kind == "llm")] | length' "$TMP/live.json")"
check_eq "tokens from usage" "true" "$(jq '.llm.tokens_in > 0 and .llm.tokens_out > 0' "$TMP/live.json")"
check_eq "cost from the price table" "true" \
    "$(jq '(.llm.tokens_in * 0.15 + .llm.tokens_out * 0.6) / 1e6 - .llm.cost_usd | fabs < 1e-9' "$TMP/live.json")"
check_eq "request and answer ride as artifacts" "ok" \
    "$(jq -r '._artifacts["llm/llm_rerank/response"].status' "$TMP/live.json")"
check_eq "the API key never reaches the request artifact" "0" \
    "$(ATTN_LLM_API_KEY=sekrit-123 ATTN_LLM_CACHE=live route $P1 | grep -c sekrit-123)"

base5=$(jq -c '[.candidates[].target.name]' "$TMP/hyb.json")
for m in malformed badbody schema hallucinate; do
    mode "$m"
    ATTN_LLM_CACHE=live route $P2 >"$TMP/m.json" 2>"$TMP/err"
    "$ATTN" route --repo $R --pr $P2 --router hybrid --json --top-k 10 >"$TMP/hp2.json"
    check_eq "$m: falls back to the base ranking" \
        "invalid $(jq -c '[.candidates[].target.name]' "$TMP/hp2.json")" \
        "$(jq -r .llm.status "$TMP/m.json") $(jq -c '[.candidates[].target.name]' "$TMP/m.json")"
    check_eq "$m: with a note" "1" "$(jq '[.notes[] | select(startswith("llm invalid"))] | length' "$TMP/m.json")"
done
check_eq "a hallucinated login is named" "1" \
    "$(jq '[.notes[] | select(contains("ghost-reviewer"))] | length' "$TMP/m.json")"

mode 429; n0=$(reqs)
ATTN_LLM_CACHE=live check "429 with Retry-After is retried" route $P3
check_eq "429: two requests, status ok" "2 ok" "$(($(reqs) - n0)) $(jq -r .llm.status "$TMP/out")"
check_eq "429: waited for Retry-After (1 s)" "true" "$(jq '.llm.latency_ms >= 1000' "$TMP/out")"
mode 5xx; n0=$(reqs)
ATTN_LLM_CACHE=live check "5xx is retried with backoff" route $P3
check_eq "5xx: three requests, status ok" "3 ok" "$(($(reqs) - n0)) $(jq -r .llm.status "$TMP/out")"
mode 500; n0=$(reqs)
ATTN_LLM_CACHE=live check "a 5xx that persists falls back" route $P3
check_eq "500: 1 + max_retries requests, status error" "3 error" \
    "$(($(reqs) - n0)) $(jq -r .llm.status "$TMP/out")"
mode 400; n0=$(reqs)
ATTN_LLM_CACHE=live check "400 falls back" route $P3
check_eq "400: not retried" "1 error" "$(($(reqs) - n0)) $(jq -r .llm.status "$TMP/out")"
stop_llm
start_llm --mode timeout --timeout-sleep 3
export ATTN_LLM_BASE_URL=$LLM/v1
sed 's/"timeout_ms": 2000/"timeout_ms": 300/; s/"max_retries": 2/"max_retries": 1/' "$TMP/rr.json" >"$TMP/rr_to.json"
ATTN_LLM_CACHE=live check "a timeout falls back" "$ATTN" route --repo $R --pr $P3 --router llm_rerank \
    --config "$TMP/rr_to.json" --json
check_eq "timeout: error naming it, after 2 tries" "error 1" \
    "$(jq -r .llm.status "$TMP/out") $(jq '[.notes[] | select(test("Timeout.*2 tries"))] | length' "$TMP/out")"
start_llm --delay-ms 300
export ATTN_LLM_BASE_URL=$LLM/v1
ATTN_LLM_CACHE=live check "a slow answer within the timeout is used" route $P4
check_eq "slow: ok" "ok" "$(jq -r .llm.status "$TMP/out")"
start_llm
export ATTN_LLM_BASE_URL=$LLM/v1

# --- the cache ------------------------------------------------------------------------------
check_fails "replay: a miss is an error naming the key" 1 "no recorded answer for PR #$P5 (key [0-9a-f]\{64\}" \
    env ATTN_LLM_CACHE=replay "$ATTN" route --repo $R --pr $P5 --router llm_rerank --config "$TMP/rr.json"
check_fails "a bad cache mode" 2 "not one of live, record, replay, off" \
    env ATTN_LLM_CACHE=nope "$ATTN" route --repo $R --pr $P5 --router llm_rerank --config "$TMP/rr.json"
n0=$(reqs)
ATTN_LLM_CACHE=record route $P5 >"$TMP/rec.json"
check_eq "record: a miss asks the server once" "1" "$(($(reqs) - n0))"
check_eq "record: one zstd entry" "1" "$(find "$ATTN_DATA_DIR/llm-cache" -name '*.json.zst' | wc -l | tr -d ' ')"
ATTN_LLM_CACHE=record route $P5 >"$TMP/rec2.json"
check_eq "record: a hit asks nothing" "1" "$(($(reqs) - n0))"
stop_llm
ATTN_LLM_CACHE=replay check "replay with the server stopped" route $P5
check_eq "replay gives the recorded result byte for byte" "" "$(cmp "$TMP/out" "$TMP/rec.json")"
ATTN_LLM_CACHE=off check "off: no request, base ranking" route $P5
check_eq "off: status" "off" "$(jq -r .llm.status "$TMP/out")"

# --- eval: accounting, replay runs, --max-cost-usd -----------------------------------------------
start_llm
export ATTN_LLM_BASE_URL=$LLM/v1
EV="$ATTN eval run --repo $R --router llm_rerank --router hybrid --config llm_rerank=$TMP/rr.json --bootstrap 50 --quiet"
ATTN_LLM_CACHE=record check "eval with llm_rerank (record)" $EV $PRS --run-id llm1 --json
check_eq "every PR asked once or from the cache" "12" "$(jq .llm.llm_rerank.prs "$TMP/out")"
check_eq "no invalid answers" "0" "$(jq .llm.llm_rerank.llm_invalid "$TMP/out")"
RD=$DIR/eval/llm1
check_eq "report cost = sum of per-PR costs" "true" \
    "$(jq -s '(map(.routers.llm_rerank.llm.cost_usd) | add) as $s | $s > 0' "$RD/per_pr.jsonl")"
s=$(jq -s 'map(.routers.llm_rerank.llm.cost_usd) | add' "$RD/per_pr.jsonl")
check_eq "report.json total matches" "true" "$(jq --argjson s "$s" '(.llm.llm_rerank.cost_usd - $s) | fabs < 1e-9' "$RD/report.json")"
check_eq "report.md has the LLM table" "1" "$(sed -n '/^## LLM usage/,$p' "$RD/report.md" | grep -c '^| llm_rerank | 12 | 12 | 0 | 0 |')"
check_eq "the manifest holds the prompt bundle snapshot" "$H1 1.0.0" \
    "$(jq -r '.routers[] | select(.name == "llm_rerank") | .llm.prompt | "\(.prompt_hash) \(.version)"' "$RD/manifest.json")"
check_eq "per-PR request and answer entries" "2" \
    "$("$ATTN" artifacts show llm1 --repo $R --pr "$P1" --router llm_rerank | jq '[keys[] | select(startswith("llm/llm_rerank/"))] | length')"
cp -r "$RD" "$TMP/llm1"
stop_llm
ATTN_LLM_CACHE=replay check "the same eval in replay, server stopped" $EV $PRS --run-id llm1
check_eq "replay run is byte-identical" "" "$(diff -r "$TMP/llm1" "$RD")"
check_fails "--max-cost-usd stops the run" 1 "over --max-cost-usd" \
    env ATTN_LLM_CACHE=replay $EV $PRS --run-id capped --max-cost-usd 0.0005
check_eq "no run directory for a stopped run" "0" "$(ls -d "$DIR/eval/capped" 2>/dev/null | wc -l | tr -d ' ')"
check_fails "a bad --max-cost-usd" 2 "max-cost-usd" $EV $PRS --max-cost-usd -3
# A replayed eval prepares PRs ahead on a second thread; a miss still stops it at that PR.
P13=$(sqlite3 "$DIR/history.sqlite" "SELECT number FROM pull_requests WHERE number >= 300 ORDER BY number LIMIT 1 OFFSET 12")
check_fails "eval replay: a miss is an error naming the PR and the key" 1 \
    "no recorded answer for PR #$P13 (key [0-9a-f]\{64\}" env ATTN_LLM_CACHE=replay $EV $PRS --pr "$P13" --run-id miss
# Record and live evals keep 8 requests in flight from a queue; retries happen in it.
start_llm
export ATTN_LLM_BASE_URL=$LLM/v1
curl -s -X POST -d "{\"mode\": \"ok\", \"rules\": {\"$P2\": \"429\", \"$P3\": \"5xx\"}}" "$LLM/_fake/mode" >/dev/null
ATTN_LLM_CACHE=live check "eval (live) with a 429 and a 5xx in the queue" $EV $PRS --run-id llm4 --json
check_eq "queue: every PR ok after its retries" "12" "$(jq '.llm.llm_rerank.status.ok' "$TMP/out")"
check_eq "queue: 12 requests + 1 retry (429) + 2 retries (5xx)" "15" "$(reqs)"
check_eq "queue: the same rankings and tokens, in PR order, as the recorded run" \
    "$(jq -c '[.pr_number, .routers.llm_rerank.candidates, .routers.llm_rerank.llm.tokens_in]' "$TMP/llm1/per_pr.jsonl")" \
    "$(jq -c '[.pr_number, .routers.llm_rerank.candidates, .routers.llm_rerank.llm.tokens_in]' "$DIR/eval/llm4/per_pr.jsonl")"
start_llm --mode malformed
export ATTN_LLM_BASE_URL=$LLM/v1
ATTN_LLM_CACHE=live check "eval with malformed answers" $EV $PRS --run-id llm2 --json
check_eq "llm_invalid counts every fallback" "12" "$(jq .llm.llm_rerank.llm_invalid "$TMP/out")"
check_eq "and the fallback equals the base (hybrid, defaults)" "true" \
    "$(jq -s 'map(.routers.llm_rerank.llm.status == "invalid") | all' "$DIR/eval/llm2/per_pr.jsonl")"
# --- A/B: two prompt versions on one cohort, runs.sqlite, compare with the prompt diff ----------
from=$(sqlite3 "$DIR/history.sqlite" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', created_at, 'unixepoch') FROM pull_requests WHERE number = $P1")
end=$(sqlite3 "$DIR/history.sqlite" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', created_at + 86400 * 20, 'unixepoch') FROM pull_requests WHERE number = $P1")
check "a cohort" "$ATTN" cohort create --repo $R --from "$from" --end-at "$end" --limit 15 --seed 2 --out "$TMP/c.json"
cp -r "$ROOT/prompts/triage" "$TMP/pb"
sed 's/"1.0.0"/"1.1.0"/' "$ROOT/prompts/triage/bundle.json" >"$TMP/pb/bundle.json"
echo "Break ties in favour of people with fewer open review requests (keep the base order)." >>"$TMP/pb/task.md"
sed "s#$ROOT/prompts/triage#$TMP/pb#" "$TMP/rr.json" >"$TMP/rr_b.json"
"$ATTN" experiment init --repo $R --cohort "$TMP/c.json" --router llm_rerank --router hybrid \
    --config llm_rerank="$TMP/rr.json" --out "$TMP/sa.json" --quiet
"$ATTN" experiment init --repo $R --cohort "$TMP/c.json" --router llm_rerank --router hybrid \
    --config llm_rerank="$TMP/rr_b.json" --out "$TMP/sb.json" --quiet
start_llm
export ATTN_LLM_BASE_URL=$LLM/v1
ATTN_LLM_CACHE=record check "experiment ab" "$ATTN" experiment ab --repo $R --control "$TMP/sa.json" \
    --treatment "$TMP/sb.json" --cohort "$TMP/c.json" --experiment-id abtest --json
check_eq "two runs under one experiment id" "abtest-control abtest-treatment" \
    "$(jq -r '"\(.control.run_id) \(.treatment.run_id)"' "$TMP/out")"
RS=$DIR/runs.sqlite
check_eq "kinds and experiment id on the run records" "ab_control|abtest ab_treatment|abtest" \
    "$(sqlite3 "$RS" "SELECT kind || '|' || experiment_id FROM runs WHERE experiment_id = 'abtest' ORDER BY run_id" | tr '\n' ' ' | sed 's/ $//')"
check_eq "tokens and cost on the run record" "1" \
    "$(sqlite3 "$RS" "SELECT tokens_in > 0 AND tokens_out > 0 AND cost_usd > 0 FROM runs WHERE run_id = 'abtest-control'")"
check_eq "the run record's cost is the report's" "$(jq .llm.llm_rerank.cost_usd "$DIR/eval/abtest-control/report.json")" \
    "$(sqlite3 "$RS" "SELECT cost_usd FROM runs WHERE run_id = 'abtest-control'")"
check_eq "each run keeps its prompt snapshot, version and hash" "1.0.0|$H1 1.1.0" \
    "$(sqlite3 "$RS" "SELECT prompt_version || CASE WHEN prompt_version = '1.0.0' THEN '|' || prompt_hash ELSE '' END FROM run_prompts ORDER BY run_id" | tr '\n' ' ' | sed 's/ $//')"
check_eq "the snapshot's source paths" "1" \
    "$(sqlite3 "$RS" "SELECT count(*) FROM run_prompts WHERE run_id = 'abtest-treatment' AND source_paths LIKE '%task.md%'")"
check "compare the pair" "$ATTN" experiment compare abtest-control abtest-treatment --repo $R
check_eq "compare prints the changed section and line" "2" \
    "$(grep -c -e '^  section task (changed)' -e '^    +Break ties' "$TMP/out")"
check "compare --json" "$ATTN" experiment compare abtest-control abtest-treatment --repo $R --json
CD=$DIR/eval/_compare/abtest-control__vs__abtest-treatment
check_eq "compare.json holds the prompt diff" '["task"]' "$(jq -c .prompt_diff.changed_sections "$CD/compare.json")"
check_eq "flips of llm_rerank name the changed sections, as heuristic" "true" \
    "$(jq '[.pairs[] | select(.a_router == "llm_rerank") | .. | objects | select(has("pr_number") and has("a"))] | length > 0 and all(.attribution == "heuristic, not causal" and .prompt_sections_changed == ["task"])' "$CD/compare.json")"
ATTN_LLM_CACHE=replay check_fails "an experiment run over its cost cap fails" 1 "over --max-cost-usd" \
    "$ATTN" experiment run --repo $R --spec "$TMP/sa.json" --cohort "$TMP/c.json" --run-id capx --max-cost-usd 0.0001
check_eq "marked failed in runs.sqlite, no run directory" "failed 0" \
    "$(sqlite3 "$RS" "SELECT status FROM runs WHERE run_id = 'capx'") $(ls -d "$DIR/eval/capx" 2>/dev/null | wc -l | tr -d ' ')"
done_testing
