#!/bin/sh
# t_webhook.sh - POST /webhook of `attn serve` over loopback: signatures
# (missing, bad, good), redeliveries (no-ops), out-of-order deliveries
# (converge), and the store after the deliveries equal to the store after
# `attn ingest` of the same history from the fake GitHub API (contract check,
# row counts, the same event keys), with a later `attn incremental` adding
# nothing. Deliveries are derived from a synthetic bundle by
# tests/serve/deliveries.py; GitHub's own example payloads
# (@octokit/webhooks-examples, scripts/install-npm-serve) are sent too when
# installed.
. "$(dirname "$0")/lib.sh"
ROOT=${ATTN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
DEL="python3 $ROOT/tests/serve/deliveries.py"
R=synth/sample
SECRET=whsec-t
SRV_PID=""
stop_srv() { if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; SRV_PID=""; fi; }
trap 'stop_srv; stop_fake; rm -rf "$TMP"' EXIT
start_srv() {
    d=$1; shift
    rm -f "$TMP/srv.out"
    env "$@" "$ATTN" serve --data-dir "$d" --port 0 >"$TMP/srv.out" 2>"$TMP/srv.err" &
    SRV_PID=$!
    i=0; while ! grep -q '^listening on ' "$TMP/srv.out" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
    URL=$(head -1 "$TMP/srv.out" | sed 's/^listening on //')
}
q() { sqlite3 "$1/github/$R/history.sqlite" "$2"; }
counts() { for t in pull_requests reviews comments users issues events; do printf '%s=%s ' $t "$(q "$1" "SELECT count(*) FROM $t")"; done; }
keys() { q "$1" "SELECT event_key FROM events ORDER BY event_key" | sha256sum | cut -c1-16; }
post() { # post EVENT DELIVERY BODY_FILE [SIG]: prints the status
    sig=${4:-sha256=$(openssl dgst -sha256 -hmac "$SECRET" -r "$3" | cut -d' ' -f1)}
    curl -s -o "$TMP/body" -w '%{http_code}' -X POST -H "X-GitHub-Event: $1" -H "X-GitHub-Delivery: $2" \
        -H "X-Hub-Signature-256: $sig" --data-binary @"$3" "$URL/webhook"
}

# A history whose every object a webhook can carry: PRs, their reviews, review
# comments, and PR comments with their issues (GitHub sends a PR's issue half
# only with issue_comment); no issue events, file lists, labels or milestones,
# which no handled webhook carries.
"$ATTN" synth --prs 60 --seed 11 -o "$TMP/full.json" >/dev/null 2>&1
jq '.issue_events = [] | .files = {} | .labels = [] | .milestones = [] | .teams = []
    | .pulls |= map(.labels = [] | .milestone = null | .requested_teams = [] | .requested_reviewers = [])
    | (.pulls | map(.number)) as $prs
    | ([.issue_comments[] | .issue_url | split("/") | .[-1] | tonumber] | unique) as $commented
    | .issue_comments |= map(select((.issue_url | split("/") | .[-1] | tonumber) as $n | $prs | index($n)))
    | .issues |= map(select(.number as $n | ($prs | index($n)) and ($commented | index($n))) | .labels = [] | .milestone = null)' \
    "$TMP/full.json" >"$TMP/b.json"
N=$($DEL derive "$TMP/b.json" "$TMP/d.json")
check "derived deliveries from the bundle" test "$N" -gt 100

W=$TMP/w
"$ATTN" init --repo $R --data-dir "$W" >/dev/null
start_srv "$W"
printf '{}' >"$TMP/empty.json"
check_eq "without ATTN_WEBHOOK_SECRET: 403 webhook_not_configured" "403 webhook_not_configured" \
    "$(post ping p-1 "$TMP/empty.json") $(jq -r .error "$TMP/body")"
stop_srv
start_srv "$W" ATTN_WEBHOOK_SECRET=$SECRET
check_eq "ping: 200" "200" "$(post ping p-1 "$TMP/empty.json")"
check_eq "missing signature: 401 bad_signature" "401 bad_signature" \
    "$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST -H 'X-GitHub-Event: ping' -H 'X-GitHub-Delivery: p-2' --data-binary '{}' "$URL/webhook") $(jq -r .error "$TMP/body")"
check_eq "signature with another secret: 401" "401" "$(post ping p-3 "$TMP/empty.json" "sha256=$(openssl dgst -sha256 -hmac other -r "$TMP/empty.json" | cut -d' ' -f1)")"
check_eq "malformed signature header: 401" "401" "$(post ping p-4 "$TMP/empty.json" "sha1=abc")"
check_eq "GET /webhook: 405" "405" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/webhook")"
printf '{"action":' >"$TMP/bad.json"
check_eq "malformed JSON (signed): 400 invalid_json" "400 invalid_json" "$(post pull_request p-5 "$TMP/bad.json") $(jq -r .error "$TMP/body")"
check_eq "bad delivery id: 400 bad_delivery" "400 bad_delivery" "$(post pull_request '../x' "$TMP/empty.json") $(jq -r .error "$TMP/body")"
check_eq "an event attn does not handle: 202 ignored" "202 star" "$(post star p-6 "$TMP/empty.json") $(jq -r .ignored "$TMP/body")"
printf '{"action":"opened","repository":{"full_name":"no/such"},"pull_request":{"number":1}}' >"$TMP/nr.json"
check_eq "a repository without a store here: 404 repo_not_found" "404 repo_not_found" "$(post pull_request p-7 "$TMP/nr.json") $(jq -r .error "$TMP/body")"

$DEL send "$URL" wrong-secret "$TMP/d.json" >"$TMP/s0" 2>/dev/null
check_eq "every delivery with a bad signature: 401, nothing stored" "401 $N|0" "$(cat "$TMP/s0")|$(q "$W" 'SELECT count(*) FROM pull_requests')"
$DEL send "$URL" "$SECRET" "$TMP/d.json" >"$TMP/s1" 2>/dev/null
check_eq "every delivery in order: 200" "200 $N" "$(cat "$TMP/s1")"
C1=$(counts "$W"); K1=$(keys "$W")
$DEL send "$URL" "$SECRET" "$TMP/d.json" >"$TMP/s2" 2>/dev/null
check_eq "redelivering all: 200, and the store does not change" "200 $N|$C1|$K1" "$(cat "$TMP/s2")|$(counts "$W")|$(keys "$W")"
check_eq "each X-GitHub-Delivery recorded once in the raw archive" "$N" \
    "$(q "$W" "SELECT count(*) FROM object_snapshots WHERE resource = 'webhook' AND source_id LIKE 'd-%'")"
check_eq "a redelivery answers duplicate" "true" "$(jq -r '.[0].body' "$TMP/d.json" >"$TMP/one.json"; post "$(jq -r '.[0].event' "$TMP/d.json")" "$(jq -r '.[0].delivery' "$TMP/d.json")" "$TMP/one.json" >/dev/null; jq .duplicate "$TMP/body")"
check "contract check of the webhook store" "$ATTN" contract check --repo $R --data-dir "$W"
stop_srv

# The same history through the fake API.
start_fake "$TMP/b.json"
I=$TMP/i
"$ATTN" ingest --repo $R --data-dir "$I" --api-url "$API" --quiet
check_eq "row counts equal to attn ingest of the same history" "$(counts "$I")" "$C1"
check_eq "the same event keys as attn ingest" "$(keys "$I")" "$K1"
cp -a "$W" "$TMP/w2"
"$ATTN" incremental --repo $R --data-dir "$TMP/w2" --api-url "$API" --quiet
check_eq "a later attn incremental adds no event" "$C1" "$(counts "$TMP/w2")"

# Out of order: every delivery shuffled, into a fresh store.
O=$TMP/o
"$ATTN" init --repo $R --data-dir "$O" >/dev/null
start_srv "$O" ATTN_WEBHOOK_SECRET=$SECRET
$DEL send "$URL" "$SECRET" "$TMP/d.json" --shuffle 7 >"$TMP/s3" 2>/dev/null
check_eq "shuffled deliveries: 200" "200 $N" "$(cat "$TMP/s3")"
check_eq "shuffled deliveries converge to the same store" "$C1|$K1" "$(counts "$O")|$(keys "$O")"
stop_srv

# Concurrent: 8 connections at once, so deliveries that arrive together are
# committed as one batch (group commit); the store is the same.
G=$TMP/g
"$ATTN" init --repo $R --data-dir "$G" >/dev/null
start_srv "$G" ATTN_WEBHOOK_SECRET=$SECRET
$DEL send "$URL" "$SECRET" "$TMP/d.json" --conns 8 >"$TMP/s4" 2>/dev/null
check_eq "concurrent deliveries: 200" "200 $N" "$(cat "$TMP/s4")"
check_eq "concurrent deliveries converge to the same store" "$C1|$K1" "$(counts "$G")|$(keys "$G")"
$DEL send "$URL" "$SECRET" "$TMP/d.json" --conns 8 >"$TMP/s5" 2>/dev/null
check_eq "concurrent redeliveries: 200, and the store does not change" "200 $N|$C1|$K1" \
    "$(cat "$TMP/s5")|$(counts "$G")|$(keys "$G")"
check "contract check of the concurrently fed store" "$ATTN" contract check --repo $R --data-dir "$G"
stop_srv

# GitHub's example payloads.
EX=$ROOT/build/npm/node_modules/@octokit/webhooks-examples
if [ -f "$EX/api.github.com/index.json" ]; then
    NE=$($DEL examples "$EX" "$TMP/ex.json")
    X=$TMP/x
    for r in $(jq -r '.[].body | fromjson | .repository.full_name // empty' "$TMP/ex.json" | sort -u); do
        "$ATTN" init --repo "$r" --data-dir "$X" >/dev/null
    done
    start_srv "$X" ATTN_WEBHOOK_SECRET=$SECRET
    $DEL send "$URL" "$SECRET" "$TMP/ex.json" >"$TMP/e1" 2>/dev/null
    check_eq "GitHub's example payloads ($NE): all applied" "200 $NE" "$(cat "$TMP/e1")"
    $DEL send "$URL" "$SECRET" "$TMP/ex.json" --shuffle 3 >"$TMP/e2" 2>/dev/null
    check_eq "  redelivered shuffled: all no-ops" "200 $NE" "$(cat "$TMP/e2")"
    $DEL send "$URL" "$SECRET" "$TMP/ex.json" --bad-signature >"$TMP/e3" 2>/dev/null
    check_eq "  with a flipped signature bit: all 401" "401 $NE" "$(cat "$TMP/e3")"
    stop_srv
    check "  the store passes the contract check" "$ATTN" contract check --repo Codertocat/Hello-World --data-dir "$X"
    check_eq "  the example PR, its review and comments are in the store" "1 1 2" \
        "$(sqlite3 "$X/github/Codertocat/Hello-World/history.sqlite" "SELECT (SELECT count(*) FROM pull_requests), (SELECT count(*) FROM reviews), (SELECT count(*) FROM comments)" | tr '|' ' ')"
else
    ok "# SKIP @octokit/webhooks-examples not installed (scripts/install-npm-serve)"
fi
done_testing
