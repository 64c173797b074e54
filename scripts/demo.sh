#!/bin/sh
# The main job on the bundled sample, end to end with the real binary:
#   data dir -> store -> load the sample history -> contract check -> as-of snapshot.
# ATTN_WRAP (e.g. "valgrind -q --error-exitcode=3") prefixes every attn call.
set -eu
cd "$(dirname "$0")/.."
ATTN="${ATTN_WRAP:-} ./attn"
DATA=${DEMO_DATA_DIR:-build/demo-data}
REPO=synth/sample
rm -rf "$DATA"
echo "== attn init"
$ATTN init --data-dir "$DATA" --repo $REPO
echo "== attn load (bundled sample: sample/sample.json)"
$ATTN load --data-dir "$DATA" --repo $REPO --bundle sample/sample.json
echo "== attn contract check"
$ATTN contract check --data-dir "$DATA" --repo $REPO
# A PR with a rename or a force push makes the as-of answer interesting: show
# it at creation and one day later.
PR=$(sqlite3 "$DATA/github/synth/sample/history.sqlite" \
  "SELECT p.number FROM pull_requests p JOIN events e ON e.subject_type='issue' AND e.subject_id=p.issue_id
   WHERE e.event_type='issue.content.edit' ORDER BY p.number LIMIT 1" 2>/dev/null || true)
[ -n "$PR" ] || PR=1
echo "== attn snapshot --pr $PR (as of its creation)"
$ATTN snapshot --data-dir "$DATA" --repo $REPO --pr "$PR"
echo "== attn snapshot --pr $PR --as-of <created + 1 day> (title, labels, requests may differ)"
CREATED=$(sqlite3 "$DATA/github/synth/sample/history.sqlite" \
  "SELECT created_at + 86400 FROM pull_requests WHERE number=$PR")
AS_OF=$(date -u -d "@$CREATED" +%Y-%m-%dT%H:%M:%SZ)
$ATTN snapshot --data-dir "$DATA" --repo $REPO --pr "$PR" --as-of "$AS_OF"
