#!/bin/sh
# t_load.sh - `attn load` and `attn snapshot` end to end on a small hand-written
# bundle (tests/data/normalize/bundles/small.json): idempotent reload, as-of
# answers at boundaries, --strict refusal, and one-line errors for bad input.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/tests/data/normalize/bundles/small.json
BAD=$ROOT/tests/data/normalize/bundles/malformed.json
DB=$ATTN_DATA_DIR/github/acme/widgets/history.sqlite

check "load a bundle" "$ATTN" load --repo acme/widgets --bundle "$B"
first=$(cat "$TMP/out")
case $first in *"events 0 inserted"*) not_ok "first load inserts events ($first)";; *) ok "first load inserts events";; esac
check "load the same bundle again" "$ATTN" load --repo acme/widgets --bundle "$B"
check_eq "second load inserts no events" "1" "$(grep -c 'events 0 inserted' "$TMP/out")"
check_eq "one merge event, actor is the merger" "1|bob" \
    "$(sqlite3 "$DB" "SELECT count(*), max(u.login) FROM events e JOIN users u ON u.id = e.actor_id WHERE e.event_type = 'pull_request.merged'")"
check_eq "team and user review requests kept apart" "0" \
    "$(sqlite3 "$DB" "SELECT count(*) FROM pull_request_review_request_intervals WHERE reviewer_type NOT IN ('user','team')")"
check "--quiet prints nothing" "$ATTN" load --repo acme/widgets --bundle "$B" --quiet
check_eq "--quiet output is empty" "" "$(cat "$TMP/out")"
check "contract check after load" "$ATTN" contract check --repo acme/widgets

# Snapshots: the title before and at the rename instant (2024-01-02T00:00:00Z).
check "snapshot at created_at" "$ATTN" snapshot --repo acme/widgets --pr 1 --json
check_eq "title at creation is the rename's from" '"Old title"' "$(jq '.title' "$TMP/out")"
check_eq "draft at creation from ready_for_review" "true" "$(jq '.draft' "$TMP/out")"
check "snapshot one second before the rename" "$ATTN" snapshot --repo acme/widgets --pr 1 --as-of 2024-01-01T23:59:59Z --json
check_eq "old title before the rename" '"Old title"' "$(jq '.title' "$TMP/out")"
check "snapshot at the rename instant" "$ATTN" snapshot --repo acme/widgets --pr 1 --as-of 2024-01-02T00:00:00Z --json
check_eq "new title at the rename instant" '"New title"' "$(jq '.title' "$TMP/out")"
check_eq "labels at the rename instant" '["ui"]' "$(jq -c '.labels' "$TMP/out")"
check "snapshot of the force-pushed PR" "$ATTN" snapshot --repo acme/widgets --pr 2 --json
check_eq "force push: head sha unknown at creation" "null" "$(jq '.head_sha' "$TMP/out")"
check_eq "force push: leak_risk names it, and no later head's files leak in" "true|[]" \
    "$(jq -r '"\(.leak_risk | index("head_sha_unknown") != null and index("files_unknown_at_cutoff") != null)|\(.changed_files | tostring)"' "$TMP/out")"
check "--allow-later-files shows the latest head's files" "$ATTN" snapshot --repo acme/widgets --pr 2 --allow-later-files --json
check_eq "flagged files_from_later_head" "true|true" \
    "$(jq -r '"\(.leak_risk | index("files_from_later_head") != null)|\(.changed_files | length > 0)"' "$TMP/out")"
check "snapshot of the merged PR after the merge" "$ATTN" snapshot --repo acme/widgets --pr 4 --as-of 2024-01-03T00:00:00Z --json
check_eq "state merged" '"merged"' "$(jq '.state' "$TMP/out")"
check "snapshot output has sorted keys" sh -c "jq -S . '$TMP/out' | cmp -s - '$TMP/out'"

# --strict and errors: one line on stderr each.
check_fails "--strict refuses with leak_risk" 1 "leak_risk: .*body_observed_at_ingestion" \
    "$ATTN" snapshot --repo acme/widgets --pr 1 --strict
check_fails "unknown PR" 1 "no pull request #99" "$ATTN" snapshot --repo acme/widgets --pr 99
check_fails "before creation" 1 "did not exist yet" \
    "$ATTN" snapshot --repo acme/widgets --pr 1 --as-of 2023-12-31T23:59:59Z
check_fails "bad --as-of" 2 "as-of" "$ATTN" snapshot --repo acme/widgets --pr 1 --as-of yesterday
check_fails "bad --pr" 2 "not a pull request number" "$ATTN" snapshot --repo acme/widgets --pr x
check_fails "bad repo name" 2 "acme/../x\|repo" "$ATTN" load --repo "acme/../x" --bundle "$B"
check_fails "missing bundle file" 2 "does not exist" "$ATTN" load --repo acme/widgets --bundle "$TMP/nope.json"
check_fails "malformed JSON names file, line and column" 2 "malformed.json:3:20" \
    "$ATTN" load --repo acme/widgets --bundle "$BAD"
check_fails "repo mismatch names both" 2 "acme/widgets.*acme/other" \
    "$ATTN" load --repo acme/other --bundle "$B"
check_fails "snapshot of a repo never loaded" 1 "other" "$ATTN" snapshot --repo acme/other --pr 1

# A generated bundle (attn synth): the normalizers on the full event vocabulary.
if "$ATTN" synth --prs 40 --seed 7 -o "$TMP/synth.json" >/dev/null 2>&1; then
    check "load a synthetic bundle" "$ATTN" load --repo synth/sample --bundle "$TMP/synth.json"
    check "reload it" "$ATTN" load --repo synth/sample --bundle "$TMP/synth.json"
    check_eq "synthetic reload inserts no events" "1" "$(grep -c 'events 0 inserted' "$TMP/out")"
    check "contract check after the synthetic load" "$ATTN" contract check --repo synth/sample
    SDB=$ATTN_DATA_DIR/github/synth/sample/history.sqlite
    check_eq "one merge event per merged PR, each with an actor" "0|0" \
        "$(sqlite3 "$SDB" "SELECT (SELECT count(*) FROM pull_requests WHERE merged_at IS NOT NULL) - (SELECT count(*) FROM events WHERE event_type = 'pull_request.merged'), (SELECT count(*) FROM pull_requests p WHERE p.merged_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM events e WHERE e.event_key = 'pr:' || p.id || ':merged' AND e.actor_id IS NOT NULL))")"

    # All or nothing (issue 18 defect 8): a bundle that fails on its last PR
    # leaves the store as it was, the user rename in its catalogue included.
    dump() { sqlite3 "$SDB" .dump | sha256sum | cut -d' ' -f1; }
    before=$(dump)
    jq '.users[0].login = "renamed-user" | .pulls[-1].created_at = "garbage"' "$TMP/synth.json" >"$TMP/half.json"
    check_fails "a bundle failing on its last PR is refused" 2 "invalid instant 'garbage'" \
        "$ATTN" load --repo synth/sample --bundle "$TMP/half.json"
    check_eq "and leaves the store as it was" "$before" "$(dump)"
    # Bad data is refused by name, never merged, dropped or NULLed (defect 9).
    while IFS='|' read -r what edit pat; do
        [ -n "$what" ] || continue
        jq "$edit" "$TMP/synth.json" >"$TMP/bad.json"
        check_fails "$what is refused" 2 "$pat" "$ATTN" load --repo synth/sample --bundle "$TMP/bad.json"
        check_eq "$what: the store is unchanged" "$before" "$(dump)"
    done <<'CASES'
a duplicate PR id|.pulls[1].id = .pulls[0].id|pulls\[0\] and pulls\[1\] have the same id
PR number 0|.pulls[0].number = 0|pulls\[0\] has number 0
PR number -5|.pulls[0].number = -5|pulls\[0\] has number -5
an integer title|.pulls[0].title = 42|title that is not a string
a duplicate issue id|.issues[1].id = .issues[0].id|have the same id
CASES
    # The loader reads the bundle as a stream (ingest/bundle_stream.c): the
    # order of its members and its layout change nothing in the store.
    jq --indent 3 'to_entries | reverse | from_entries' "$TMP/synth.json" >"$TMP/reordered.json"
    check "load the synthetic bundle into an empty store" \
        "$ATTN" load --repo synth/sample --bundle "$TMP/synth.json" --data-dir "$TMP/s1"
    check "load it with its members in reverse order, pretty-printed" \
        "$ATTN" load --repo synth/sample --bundle "$TMP/reordered.json" --data-dir "$TMP/s2"
    check_eq "both stores hold the same rows, ids included" \
        "$(sqlite3 "$TMP/s1/github/synth/sample/history.sqlite" .dump | sha256sum)" \
        "$(sqlite3 "$TMP/s2/github/synth/sample/history.sqlite" .dump | sha256sum)"
    check "contract check after a first (bulk) load" \
        "$ATTN" contract check --repo synth/sample --data-dir "$TMP/s2"
    # Syntax errors inside a list element, and repeated keys, are named by the
    # file's line and column, as a whole-file parse named them.
    printf '{"format": "attn.github_bundle.v1",\n "repo": {"id": 1, "full_name": "acme/widgets"},\n "pulls": [{"id": 1, "number": 1},\n   {"id": 2 "number": 2}]}\n' >"$TMP/bad_el.json"
    check_fails "a broken list element names its line and column" 2 "bad_el.json:4:20: '}' expected" \
        "$ATTN" load --repo acme/widgets --bundle "$TMP/bad_el.json" --data-dir "$TMP/s3"
    printf '{"format": "attn.github_bundle.v1", "repo": {"id": 1, "full_name": "acme/widgets"},\n "pulls": [], "pulls": []}\n' >"$TMP/dup_key.json"
    check_fails "a repeated member is refused" 2 "dup_key.json:2:21: duplicate object key" \
        "$ATTN" load --repo acme/widgets --bundle "$TMP/dup_key.json" --data-dir "$TMP/s3"
    check_eq "and no store was created for either" "no" \
        "$([ -e "$TMP/s3/github/acme/widgets/history.sqlite" ] && echo yes || echo no)"
    first=$(sqlite3 "$SDB" "SELECT min(number) FROM pull_requests")
    check "snapshot of a synthetic PR" "$ATTN" snapshot --repo synth/sample --pr "$first"
else
    ok "# SKIP attn synth unavailable"
fi
done_testing
