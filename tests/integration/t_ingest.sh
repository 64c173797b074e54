#!/bin/sh
# t_ingest.sh - `attn ingest` / `incremental` / `renormalize` end to end against
# the fake GitHub API (tests/fakegh) serving sample/sample.json (synth/sample):
# same database as `attn load`, 304-only incremental, new activity picked up,
# kill -9 resume, injected faults, a malformed per-PR page as a gap, token errors.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SAMPLE=$ROOT/sample/sample.json
REPO=synth/sample
trap 'stop_fake; rm -rf "$TMP"' EXIT

# Canonical dump: content tables without autoincrement ids or event-id links.
dump() {
    db=$1
    for t in events pull_requests reviews comments pull_request_files issues labels milestones \
        $(sqlite3 "$db" "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE '%_intervals' ORDER BY name"); do
        cols=$(sqlite3 "$db" "SELECT group_concat(name, ',') FROM pragma_table_info('$t')
               WHERE name <> 'id' AND name NOT LIKE '%event_id'")
        echo "== $t"
        sqlite3 "$db" "SELECT $cols FROM $t ORDER BY $cols"
    done
}
db_of() { echo "$1/github/synth/sample/history.sqlite"; }

# Reference: attn load of the same bundle.
"$ATTN" load --repo $REPO --bundle "$SAMPLE" --data-dir "$TMP/ref" --quiet
dump "$(db_of "$TMP/ref")" >"$TMP/ref.dump"

# (1) full backfill equals attn load; requests per PR within the plan's target
start_fake "$SAMPLE"
check "ingest via the fake API" "$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$TMP/a"
summary=$(cat "$TMP/out")
dump "$(db_of "$TMP/a")" >"$TMP/a.dump"
if cmp -s "$TMP/ref.dump" "$TMP/a.dump"; then ok "ingest gives the same rows as attn load"
else not_ok "ingest gives the same rows as attn load"; diff "$TMP/ref.dump" "$TMP/a.dump" | head -10 | sed 's/^/# /'; fi
reqs=$(stat .requests)
per_pr=$(awk -v r="$reqs" 'BEGIN { printf "%.2f", r / 50 }')
echo "# full backfill: $reqs requests for 50 PRs = $per_pr per PR ($summary)"
# Per PR exactly reviews + files; the rest is 11 fixed list pages (repo, labels,
# milestones, pulls, issues, 2 comment lists, 4 event pages), i.e. 0.22 per PR
# on a 50-PR repository and 0.01 at 1,000 PRs.
check_eq "requests = 2 per PR + 11 list pages" 111 "$reqs"
check_eq "per-PR requests: reviews and files only" "50 50" "$(stat .by_path_kind.reviews) $(stat .by_path_kind.files)"
check_eq "one qa_reports row with counts" 1 \
    "$(sqlite3 "$(db_of "$TMP/a")" "SELECT count(*) FROM qa_reports WHERE json_extract(summary_json,'$.counts.pulls') = 50")"
check_eq "checkpoints cleared after a complete run" 0 \
    "$(sqlite3 "$(db_of "$TMP/a")" "SELECT count(*) FROM ingestion_checkpoints")"
check_eq "raw archive holds every PR" 50 \
    "$(sqlite3 "$(db_of "$TMP/a")" "SELECT count(*) FROM object_snapshots WHERE resource='pull'")"

# renormalize spends no request and changes nothing
before=$(stat .requests)
check "renormalize from the archive" "$ATTN" renormalize --repo $REPO --data-dir "$TMP/a"
check_eq "renormalize: no requests" "$before" "$(stat .requests)"
dump "$(db_of "$TMP/a")" >"$TMP/a2.dump"
check "renormalize keeps the same rows" cmp -s "$TMP/ref.dump" "$TMP/a2.dump"

# (2) unchanged repository: incremental costs only 304s
curl -s -X POST "$API/_fake/reset-stats" >/dev/null
check "incremental on an unchanged server" "$ATTN" incremental --repo $REPO --api-url "$API" --data-dir "$TMP/a" --json
check_eq "every request answered 304" "$(stat .requests)" "$(stat .not_modified)"
check_eq "no new events" 0 "$(jq .events_inserted "$TMP/out")"

# (3) new activity: a review and an issue comment added to PR 3 (python3 copy)
python3 - "$SAMPLE" "$TMP/new.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
pr = next(p for p in b["pulls"] if p["number"] == 3)
u = b["users"][1]
t = "2024-06-29T12:00:00Z"
rv = json.loads(json.dumps(b["reviews"]["3"][0])) if b["reviews"].get("3") else {}
rv.update({"id": 99000001, "user": u, "state": "COMMENTED", "body": "late look", "submitted_at": t})
b["reviews"].setdefault("3", []).append(rv)
c = json.loads(json.dumps(b["issue_comments"][0]))
c.update({"id": 99000002, "user": u, "body": "ping", "created_at": t, "updated_at": t,
          "issue_url": pr["issue_url"]})
b["issue_comments"].append(c)
pr["updated_at"] = t
for i in b["issues"]:
    if i["number"] == 3:
        i["updated_at"] = t
json.dump(b, open(sys.argv[2], "w"))
PY
curl -s -X POST -d "{\"path\": \"$TMP/new.json\"}" "$API/_fake/bundle" >/dev/null
curl -s -X POST "$API/_fake/reset-stats" >/dev/null
check "incremental after new activity" "$ATTN" incremental --repo $REPO --api-url "$API" --data-dir "$TMP/a" --json
echo "# incremental: $(cat "$TMP/out")"
check_eq "the new review is in" 1 "$(sqlite3 "$(db_of "$TMP/a")" "SELECT count(*) FROM reviews WHERE id = 99000001")"
check_eq "the new comment is in" 1 "$(sqlite3 "$(db_of "$TMP/a")" "SELECT count(*) FROM comments WHERE id = 99000002")"
check_eq "only PR 3's details refetched" "1 1" "$(stat '.by_path_kind.reviews // 0') $(stat '.by_path_kind.files // 0')"
"$ATTN" load --repo $REPO --bundle "$TMP/new.json" --data-dir "$TMP/ref2" --quiet
dump "$(db_of "$TMP/ref2")" >"$TMP/ref2.dump"
dump "$(db_of "$TMP/a")" >"$TMP/a3.dump"
if cmp -s "$TMP/ref2.dump" "$TMP/a3.dump"; then ok "incremental gives the rows of a fresh load of the new bundle"
else not_ok "incremental gives the rows of a fresh load"; diff "$TMP/ref2.dump" "$TMP/a3.dump" | head -10 | sed 's/^/# /'; fi

# (4) kill -9 at random points, rerun: same database as an uninterrupted run
start_fake "$SAMPLE" --slow-rate 0.3 --slow-seconds 0.1
for k in 1 2 3 4; do
    "$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$TMP/k" --quiet >/dev/null 2>&1 &
    pid=$!
    sleep "$(awk -v s=$k 'BEGIN { srand(s * 7919); printf "%.2f", 0.2 + rand() * 1.8 }')"
    kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
done
check "ingest after four kill -9" "$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$TMP/k"
dump "$(db_of "$TMP/k")" >"$TMP/k.dump"
if cmp -s "$TMP/ref.dump" "$TMP/k.dump"; then ok "killed and resumed ingest gives the same rows"
else not_ok "killed and resumed ingest gives the same rows"; diff "$TMP/ref.dump" "$TMP/k.dump" | head -10 | sed 's/^/# /'; fi
echo "# after kills: $(stat .requests) requests in all"

# (4b) killed just after the per-PR stage completed: the resumed run skips it
# (under SAN=1 this caught a leak of that stage's saved state)
"$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$TMP/k2" --quiet >/dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 3000 ] && [ "$(sqlite3 "$(db_of "$TMP/k2")" "SELECT count(*) FROM ingestion_checkpoints
        WHERE stage = 'pr_details' AND completed_at IS NOT NULL" 2>/dev/null)" != 1 ]; do
    sleep 0.02; i=$((i + 1))
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
check "resume after the per-PR stage completed" "$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$TMP/k2"
dump "$(db_of "$TMP/k2")" >"$TMP/k2.dump"
check "and gives the same rows" cmp -s "$TMP/ref.dump" "$TMP/k2.dump"

# (5) 5% 5xx, a secondary limit every 7 requests, 5% short reads
start_fake "$SAMPLE" --seed 5 --fail-rate 0.05 --secondary-every 7 --retry-after 0 --truncate-rate 0.05
check "ingest under injected faults" "$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$TMP/f"
dump "$(db_of "$TMP/f")" >"$TMP/f.dump"
check "faults: same rows" cmp -s "$TMP/ref.dump" "$TMP/f.dump"
echo "# faults: $(stat .faults_injected)"

# (6) malformed JSON on one PR's reviews: a gap row, a warning, exit 0
start_fake "$SAMPLE" --malformed /repos/synth/sample/pulls/3/reviews
"$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$TMP/m" >"$TMP/out" 2>"$TMP/err"; rc=$?
check_eq "malformed page: exit 0 (gaps are warnings)" 0 "$rc"
check_eq "gap row names resource, PR and URL" "reviews|3|1" \
    "$(sqlite3 "$(db_of "$TMP/m")" "SELECT resource, pull_request_number, url LIKE '%/pulls/3/reviews%' FROM ingestion_gaps")"
check_eq "one warning line naming PR #3" 1 "$(grep -c 'gap in reviews of PR #3' "$TMP/err")"
check_eq "summary counts the gap" 1 "$(grep -c '1 gaps' "$TMP/out")"

# (7) token errors
stop_fake
check_fails "no token against api.github.com: exit 2" 2 "GITHUB_TOKEN is not set" \
    env -u GITHUB_TOKEN -u GH_TOKEN PATH=/nonexistent "$ATTN" ingest --repo $REPO --data-dir "$TMP/t"
start_fake "$SAMPLE" --token right-token
GITHUB_TOKEN=wrong-token check_fails "bad token: exit 1 naming 401" 1 "401" \
    "$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$TMP/t"
check_eq "the token is never printed" 0 "$(grep -c wrong-token "$TMP/err" "$TMP/out" | awk -F: '{s+=$2} END {print s}')"
stop_fake
done_testing
