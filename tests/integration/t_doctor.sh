#!/bin/sh
# t_doctor.sh - `attn doctor`'s messages after an API ingest (fake GitHub
# API): the leak-risk advice does not send the user back to `attn ingest`,
# which was just run, and the ingestion line gives the start of the last
# whole-repository run (the instant the store is complete to), also when
# that run was interrupted and resumed later; the resumed run's summary
# counts the PRs of the whole run.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REPO=synth/sample
trap 'stop_fake; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
DB=$ATTN_DATA_DIR/github/synth/sample/history.sqlite

"$ATTN" synth --prs 150 --seed 7 -o "$TMP/b.json" >/dev/null 2>&1
start_fake "$TMP/b.json" --rate-limit 1000000 --slow-rate 0.2 --slow-seconds 0.05

# An ingest killed after its per-PR stage, resumed two seconds later.
t0=$(date -u +%s)
"$ATTN" ingest --repo $REPO --api-url "$API" --quiet >/dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 1500 ] && [ "$(sqlite3 "$DB" "SELECT count(*) FROM ingestion_checkpoints
        WHERE stage = 'pr_details' AND completed_at IS NOT NULL" 2>/dev/null)" != 1 ]; do
    sleep 0.02; i=$((i + 1))
done
killed=0
kill -9 $pid 2>/dev/null && killed=1
wait $pid 2>/dev/null
sleep 2
t1=$(date -u +%s)
check "the resumed ingest completes" "$ATTN" ingest --repo $REPO --api-url "$API"
check_eq "its summary counts the PRs of the whole run, not 0" "1" "$(grep -c ', 150 PRs)' "$TMP/out")"

"$ATTN" doctor --repo $REPO --json >"$TMP/doc.json" 2>"$TMP/err"
check_eq "doctor runs" "1" "$(jq -e .checks "$TMP/doc.json" >/dev/null && echo 1)"
last=$(jq -r '.checks[] | select(.name == "ingestion") | .details.last_run' "$TMP/doc.json")
lt=$(date -u -d "$last" +%s 2>/dev/null || echo 0)
if [ $killed = 1 ]; then
    check_eq "the ingestion instant is the run's start, before the resume ($last)" "1" \
        "$([ "$lt" -ge "$t0" ] && [ "$lt" -lt "$t1" ] && echo 1)"
else
    ok "# SKIP the first ingest finished before it could be interrupted"
fi
check_eq "the ingestion line says what the instant is" "1" \
    "$(jq -r '.checks[] | select(.name == "ingestion") | .message' "$TMP/doc.json" | grep -c 'complete up to')"
adv=$(jq -r '.checks[] | select(.name == "leak_risk") | .advice // ""' "$TMP/doc.json")
check_eq "leak-risk advice after an API ingest does not say 'attn ingest' ($adv)" "0" \
    "$(printf '%s' "$adv" | grep -c 'attn ingest')"

# A store loaded from a bundle: no ingestion run, and ingesting is the advice.
"$ATTN" load --repo $REPO --bundle "$TMP/b.json" --data-dir "$TMP/l" --quiet
"$ATTN" doctor --repo $REPO --data-dir "$TMP/l" --json >"$TMP/doc2.json" 2>/dev/null
check_eq "a loaded store has no ingestion run" "1" \
    "$(jq -r '.checks[] | select(.name == "ingestion") | .message' "$TMP/doc2.json" | grep -c 'no ingestion run')"
[ -n "${KEEP:-}" ] && echo "# kept $TMP"
done_testing
