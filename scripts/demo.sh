#!/bin/sh
# The main job on the bundled sample, end to end with the real binary:
#   fake GitHub API serving sample/sample.json -> attn ingest -> attn incremental
#   (an unchanged repository costs only 304s) -> contract check -> as-of snapshots.
# ATTN_WRAP (e.g. "valgrind -q --error-exitcode=3") prefixes every attn call.
set -eu
cd "$(dirname "$0")/.."
ATTN="${ATTN_WRAP:-} ./attn"
DATA=${DEMO_DATA_DIR:-build/demo-data}
REPO=synth/sample
DB="$DATA/github/synth/sample/history.sqlite"
rm -rf "$DATA"
mkdir -p "$DATA"

# The fake GitHub API (tests/fakegh) on a free loopback port; stopped on exit.
python3 tests/fakegh/fakegh.py --bundle sample/sample.json --port 0 \
    --port-file "$DATA/fakegh.port" --max-lifetime 600 2>"$DATA/fakegh.err" &
FAKE=$!
trap 'kill $FAKE 2>/dev/null || true' EXIT
i=0
while [ ! -s "$DATA/fakegh.port" ]; do
    i=$((i + 1))
    if [ $i -gt 200 ]; then echo "demo: the fake GitHub API did not start:" >&2; cat "$DATA/fakegh.err" >&2; exit 1; fi
    sleep 0.05
done
API="http://127.0.0.1:$(cat "$DATA/fakegh.port")"

echo "== attn ingest --repo $REPO --api-url $API   (full backfill through the GitHub REST API)"
$ATTN ingest --data-dir "$DATA" --repo $REPO --api-url "$API"
echo "== attn incremental   (nothing changed: conditional requests only)"
$ATTN incremental --data-dir "$DATA" --repo $REPO --api-url "$API"
echo "== attn contract check"
$ATTN contract check --data-dir "$DATA" --repo $REPO
# A PR whose title was edited makes the as-of answer interesting: show it at
# creation and one day later.
PR=$(sqlite3 "$DB" "SELECT p.number FROM pull_requests p JOIN events e
    ON e.subject_type='issue' AND e.subject_id=p.issue_id
    WHERE e.event_type='issue.content.edit' ORDER BY p.number LIMIT 1")
[ -n "$PR" ] || PR=1
echo "== attn snapshot --pr $PR   (as of its creation)"
$ATTN snapshot --data-dir "$DATA" --repo $REPO --pr "$PR"
AS_OF=$(date -u -d "@$(sqlite3 "$DB" "SELECT created_at + 86400 FROM pull_requests WHERE number=$PR")" +%Y-%m-%dT%H:%M:%SZ)
echo "== attn snapshot --pr $PR --as-of $AS_OF   (one day later: title, labels, requests, state moved on)"
$ATTN snapshot --data-dir "$DATA" --repo $REPO --pr "$PR" --as-of "$AS_OF"
