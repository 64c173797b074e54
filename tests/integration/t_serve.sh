#!/bin/sh
# t_serve.sh - `attn serve` over loopback with curl: every JSON API endpoint,
# the dashboard pages, error codes (bad ids, path tricks, unknown runs,
# malformed JSON, oversized bodies, wrong methods), bearer auth on every
# mutation, each lifecycle action compared with `attn runs` doing the same
# on a copy of the data, the cleanup dry run equal to the real cleanup, and
# a clean stop on SIGTERM.
. "$(dirname "$0")/lib.sh"
R=synth/sample
D1=$ATTN_DATA_DIR
DIR=$D1/github/synth/sample
SRV_PID=""
stop_srv() { if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; SRV_PID=""; fi; }
trap 'stop_srv; rm -rf "$TMP"' EXIT
# start_srv DATA_DIR [env...]: attn serve --port 0; sets URL
start_srv() {
    d=$1; shift
    rm -f "$TMP/srv.out"
    env "$@" "$ATTN" serve --data-dir "$d" --port 0 --timeout 2 >"$TMP/srv.out" 2>"$TMP/srv.err" &
    SRV_PID=$!
    i=0; while ! grep -q '^listening on ' "$TMP/srv.out" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
    URL=$(head -1 "$TMP/srv.out" | sed 's/^listening on //')
}
# req METHOD PATH [BODY [TOKEN]]: response body in $TMP/body, prints the status
req() {
    if [ -n "${4:-}" ]; then
        curl -s -o "$TMP/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $4" --data-binary "${3:-}" "$URL$2"
    elif [ -n "${3:-}" ]; then
        curl -s -o "$TMP/body" -w '%{http_code}' -X "$1" --data-binary "$3" "$URL$2"
    else
        curl -s -o "$TMP/body" -w '%{http_code}' -X "$1" "$URL$2"
    fi
}
err_code() { jq -r .error "$TMP/body" 2>/dev/null; }

"$ATTN" synth --prs 260 --seed 5 -o "$TMP/b.json" >/dev/null 2>&1
"$ATTN" load --repo $R --bundle "$TMP/b.json" --quiet
from=$(sqlite3 "$DIR/history.sqlite" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(created_at) + 40*86400, 'unixepoch') FROM pull_requests")
end=$(sqlite3 "$DIR/history.sqlite" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', max(created_at) - 5*86400, 'unixepoch') FROM pull_requests")
"$ATTN" cohort create --repo $R --from "$from" --end-at "$end" --limit 60 --seed 3 --out "$TMP/c.json" >/dev/null
"$ATTN" experiment init --repo $R --cohort "$TMP/c.json" --router popularity --router mentions \
    --kind baseline --tag demo --out "$TMP/base.json" --quiet
"$ATTN" experiment init --repo $R --cohort "$TMP/c.json" --router hybrid --router stewards \
    --kind experimental --tag cand --out "$TMP/cand.json" --quiet
A=$("$ATTN" experiment run --repo $R --spec "$TMP/base.json" --cohort "$TMP/c.json" --quiet --json | jq -r .run_id)
B=$("$ATTN" experiment run --repo $R --spec "$TMP/cand.json" --cohort "$TMP/c.json" --quiet --json | jq -r .run_id)
for s in 1 2 3; do
    "$ATTN" experiment init --repo $R --cohort "$TMP/c.json" --router popularity --experiment-id "e$s" \
        --kind experimental --out "$TMP/x$s.json" --quiet
    "$ATTN" experiment run --repo $R --spec "$TMP/x$s.json" --cohort "$TMP/c.json" --quiet --json >/dev/null
done
NRUNS=$("$ATTN" runs list --repo $R --json | jq length)
check_eq "fixture: five runs in the registry" "5" "$NRUNS"

# --- reading ------------------------------------------------------------------
start_srv "$D1"
check "serve --port 0 prints 'listening on http://127.0.0.1:PORT' first" \
    grep -qE '^listening on http://127\.0\.0\.1:[0-9]+$' "$TMP/srv.out"
check_eq "GET /api/repos" "200 synth/sample" "$(req GET /api/repos) $(jq -r '.repos | join(",")' "$TMP/body")"
check_eq "GET /api/runs lists every run" "200 $NRUNS" "$(req GET /api/runs) $(jq '.runs | length' "$TMP/body")"
check_eq "GET /api/runs?kind=baseline" "200 $A" "$(req GET "/api/runs?repo=$R&kind=baseline") $(jq -r '[.runs[].run_id] | join(",")' "$TMP/body")"
check_eq "GET /api/runs?tag=cand" "200 $B" "$(req GET "/api/runs?tag=cand") $(jq -r '[.runs[].run_id] | join(",")' "$TMP/body")"
check_eq "GET /api/runs?experiment_id=e2" "200 1" "$(req GET "/api/runs?experiment_id=e2") $(jq '.runs | length' "$TMP/body")"
check_eq "GET /api/runs?lifecycle=archived (none yet)" "200 0" "$(req GET "/api/runs?lifecycle=archived") $(jq '.runs | length' "$TMP/body")"
"$ATTN" runs show "$A" --repo $R --json >"$TMP/show.json"
check_eq "GET /api/runs/ID: the registry row of attn runs show" "200 true" \
    "$(req GET "/api/runs/$A?repo=$R") $(jq --slurpfile s "$TMP/show.json" '(.run) == ($s[0] | del(.events))' "$TMP/body")"
check_eq "  with its report and manifest" "$A $A" "$(jq -r '[.report.run_id, .manifest.run_id] | join(" ")' "$TMP/body")"
total=$(wc -l <"$DIR/eval/$A/per_pr.jsonl")
check_eq "GET /api/runs/ID/prs pages per_pr.jsonl" "200 $total 5 true" \
    "$(req GET "/api/runs/$A/prs?offset=3&limit=5") $(jq -r '[.total, (.prs|length)] | join(" ")' "$TMP/body") $(jq -c '.prs[0]' "$TMP/body" | jq -S . >"$TMP/p1"; sed -n 4p "$DIR/eval/$A/per_pr.jsonl" | jq -S . | cmp -s - "$TMP/p1" && echo true || echo false)"
PR=$(sed -n 1p "$DIR/eval/$A/per_pr.jsonl" | jq .pr_number)
check_eq "GET /api/runs/ID/prs/N: snapshot, truth, each route" "200 $PR true true mentions,popularity" \
    "$(req GET "/api/runs/$A/prs/$PR") $(jq -r '[.pr, (.snapshot.leak_risk != null), (.truth != null), (.routes | keys | join(","))] | map(tostring) | join(" ")' "$TMP/body")"
"$ATTN" experiment compare --repo $R "$A" "$B" --quiet >/dev/null 2>&1
CJ="$DIR/eval/_compare/${A}__vs__${B}/compare.json"
check_eq "GET /api/compare: the same pairs as attn experiment compare" "200 true" \
    "$(req GET "/api/compare?run_a=$A&run_b=$B") $(jq --slurpfile c "$CJ" '.pairs == $c[0].pairs and .histograms == $c[0].histograms' "$TMP/body")"
check_eq "GET /api/prompts/diff" "200 $A" "$(req GET "/api/prompts/diff?run_a=$A&run_b=$B") $(jq -r .run_a "$TMP/body")"
check_eq "GET /api/recommendations?pr=N before any webhook: 404 not_found" "404 not_found" "$(req GET "/api/recommendations?pr=$PR") $(err_code)"

# --- errors -------------------------------------------------------------------
check_eq "path trick in a run id: 400 invalid_id" "400 invalid_id" "$(req GET '/api/runs/..%2F..%2Fetc%2Fpasswd') $(err_code)"
check_eq "dot-dot run id: 400 invalid_id" "400" "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$URL/api/runs/../prs")"
check_eq "unknown run: 404 not_found" "404 not_found" "$(req GET /api/runs/no-such-run) $(err_code)"
check_eq "unknown repo: 404 repo_not_found" "404 repo_not_found" "$(req GET "/api/runs/$A?repo=no/such") $(err_code)"
check_eq "bad repo name: 400" "400" "$(req GET "/api/runs/$A?repo=..%2Fx")"
check_eq "unknown PR of a run: 404" "404 not_found" "$(req GET "/api/runs/$A/prs/999999") $(err_code)"
check_eq "PR that is not a number: 400" "400 bad_request" "$(req GET "/api/runs/$A/prs/abc") $(err_code)"
check_eq "unknown endpoint: 404 not_found" "404 not_found" "$(req GET /api/nothing) $(err_code)"
check_eq "POST on a read endpoint: 405" "405 method_not_allowed" "$(req POST /api/compare) $(err_code)"
check_eq "compare without runs: 400" "400 bad_request" "$(req GET /api/compare) $(err_code)"
check_eq "mutation without a configured secret: 403 auth_not_configured" "403 auth_not_configured" \
    "$(req POST "/api/runs/$B/archive" '' anything) $(err_code)"
head -c 9000000 /dev/zero | tr '\0' 'a' >"$TMP/big"
check_eq "body over --max-body: 413" "413" "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$TMP/big" "$URL/api/runs/cleanup")"
check_eq "HTML page of an unknown run: 404" "404" "$(req GET "/run?id=nope")"
check_eq "HTML page with a path trick: 400" "400" "$(req GET "/run?id=../../x")"

# --- pages ----------------------------------------------------------------------
check_eq "GET / lists runs" "200 2" "$(req GET /) $(grep -o "$A\|$B" "$TMP/body" | sort -u | wc -l)"
check_eq "GET /run shows metadata, intervals, per-PR table" "200 3" \
    "$(req GET "/run?id=$A") $(grep -o 'Metadata\|MRR with 95% interval\|Per-PR (page' "$TMP/body" | sort -u | wc -l)"
check_eq "GET /compare shows deltas, histograms, per-PR table, flips, config diff" "200 5" \
    "$(req GET "/compare?run_a=$A&run_b=$B") $(grep -o 'Summary deltas\|score histograms\|Per-PR deltas\|Flips at hit@1\|Config diff' "$TMP/body" | sort -u | wc -l)"
flip=$(grep -o 'class="flip" href="[^"]*"' "$TMP/body" | head -1 | sed 's/.*href="//; s/"$//; s/&amp;/\&/g')
check_eq "a flip links to its drill-down beside both runs" "200 2" \
    "$(req GET "$flip") $(grep -o 'Snapshot at the cutoff\|Routes of' "$TMP/body" | sort -u | wc -l)"
check_eq "no page fetches anything from another host" "0" \
    "$(for p in / "/run?id=$A" "/compare?run_a=$A&run_b=$B"; do curl -s "$URL$p"; done | grep -c 'src="http\|href="http')"
check_eq "a value is escaped on a page" "0" "$(req GET '/runs?tag=%3Cscript%3Ex' >/dev/null; grep -c '<script>x' "$TMP/body")"
stop_srv

# --- mutations: the same effects as attn runs ---------------------------------
D2=$TMP/data2
cp -a "$D1" "$D2"
sqlite3 "$D2/github/synth/sample/runs.sqlite" "UPDATE runs SET run_dir = replace(run_dir, '$D1', '$D2')"
export ATTN_NOW=2030-01-01T00:00:00Z
start_srv "$D1" ATTN_PUSH_SECRET=s3cret
check_eq "mutation without a token: 401 unauthorized" "401 unauthorized" "$(req POST "/api/runs/$B/archive") $(err_code)"
check_eq "mutation with a wrong token: 401" "401 unauthorized" "$(req POST "/api/runs/$B/archive" '' wrong) $(err_code)"
check_eq "mutation with a longer wrong token: 401" "401" "$(req POST "/api/runs/$B/archive" '' s3cretX)"
check_eq "malformed JSON body: 400 invalid_json" "400 invalid_json" "$(req POST "/api/runs/$B/tag" '{"add":' s3cret) $(err_code)"
check_eq "tag without add/remove: 400" "400 bad_request" "$(req POST "/api/runs/$B/tag" '{}' s3cret) $(err_code)"
check_eq "unknown action: 404" "404" "$(req POST "/api/runs/$B/explode" '' s3cret)"
check_eq "POST tag add" "200 cand,keep" "$(req POST "/api/runs/$B/tag" '{"add":"keep"}' s3cret) $(jq -r '.tags | join(",")' "$TMP/body")"
"$ATTN" runs tag "$B" --repo $R --add keep --data-dir "$D2" --quiet
check_eq "POST archive" "200 archived" "$(req POST "/api/runs/$B/archive" '' s3cret) $(jq -r .lifecycle "$TMP/body")"
"$ATTN" runs archive "$B" --repo $R --data-dir "$D2" --quiet
check_eq "POST restore" "200 active" "$(req POST "/api/runs/$B/restore" '' s3cret) $(jq -r .lifecycle "$TMP/body")"
"$ATTN" runs restore "$B" --repo $R --data-dir "$D2" --quiet
check_eq "POST tag remove" "200 cand" "$(req POST "/api/runs/$B/tag" '{"remove":"keep"}' s3cret) $(jq -r '.tags | join(",")' "$TMP/body")"
"$ATTN" runs tag "$B" --repo $R --remove keep --data-dir "$D2" --quiet
check_eq "DELETE a baseline run without force: 409 conflict" "409 conflict" "$(req DELETE "/api/runs/$A" '' s3cret) $(err_code)"
"$ATTN" runs delete "$A" --repo $R --data-dir "$D2" --quiet 2>/dev/null
X=$("$ATTN" runs list --repo $R --json --kind experimental | jq -r '.[-1].run_id')
check_eq "DELETE a run" "200 deleted" "$(req DELETE "/api/runs/$X" '' s3cret) $(jq -r .lifecycle "$TMP/body")"
"$ATTN" runs delete "$X" --repo $R --data-dir "$D2" --quiet
check_eq "  its directory is gone" "no" "$([ -d "$DIR/eval/$X" ] && echo yes || echo no)"
norm() { "$ATTN" runs list --repo $R --json --data-dir "$1" --lifecycle "$2" | sed "s|$1|DATA|g" | jq -S 'map(del(.events))'; }
for l in active archived deleted; do
    check_eq "registry rows ($l) equal to attn runs doing the same" "$(norm "$D2" $l)" "$(norm "$D1" $l)"
done
ev() { "$ATTN" runs show "$1" --repo $R --data-dir "$2" --json | jq -c '[.events[] | [.action, .detail, .at]]'; }
check_eq "audit trail equal to attn runs doing the same" "$(ev "$B" "$D2")" "$(ev "$B" "$D1")"
check_eq "POST kind baseline" "200 baseline" "$(req POST "/api/runs/$B/kind" '{"kind":"baseline"}' s3cret) $(jq -r .kind "$TMP/body")"
check_eq "POST kind experimental" "200 experimental" "$(req POST "/api/runs/$B/kind" '{"kind":"experimental"}' s3cret) $(jq -r .kind "$TMP/body")"
check_eq "POST kind with an unknown kind: 400" "400" "$(req POST "/api/runs/$B/kind" '{"kind":"boss"}' s3cret)"

# --- cleanup --------------------------------------------------------------------
POL='"policy":{"keep_last":1,"archive_after_days":1,"delete_after_days":2}'
check_eq "cleanup dry run" "200 true" "$(req POST "/api/runs/cleanup" "{\"dry_run\":true,$POL}" s3cret) $(jq .dry_run "$TMP/body")"
jq -S .actions "$TMP/body" >"$TMP/dry.json"
check "  plans at least one action" test "$(jq length "$TMP/dry.json")" -gt 0
"$ATTN" runs cleanup --repo $R --data-dir "$D2" --dry-run --keep-last 1 --archive-after 1 --delete-after 2 --json >"$TMP/cli_dry.json"
check_eq "  the same plan as attn runs cleanup --dry-run" "$(jq -S .actions "$TMP/cli_dry.json" | sed "s|$D2|DATA|g")" "$(sed "s|$D1|DATA|g" "$TMP/dry.json")"
check_eq "cleanup" "200 false" "$(req POST "/api/runs/cleanup" "{$POL}" s3cret) $(jq .dry_run "$TMP/body")"
check_eq "  applies exactly the dry run's plan" "$(cat "$TMP/dry.json")" "$(jq -S .actions "$TMP/body")"
"$ATTN" runs cleanup --repo $R --data-dir "$D2" --keep-last 1 --archive-after 1 --delete-after 2 --quiet >/dev/null
for l in active archived deleted; do
    check_eq "after cleanup, rows ($l) equal to attn runs cleanup" "$(norm "$D2" $l)" "$(norm "$D1" $l)"
done
check_eq "cleanup with a bad policy: 400" "400" "$(req POST "/api/runs/cleanup" '{"policy":{"keep_lots":1}}' s3cret)"
check_eq "cleanup with dry_run not a boolean: 400" "400" "$(req POST "/api/runs/cleanup" '{"dry_run":"yes"}' s3cret)"

# --- robustness and stop --------------------------------------------------------
python3 - "$URL" <<'PY' >"$TMP/slow" 2>&1
import socket, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
s = socket.create_connection((u.hostname, u.port)); s.sendall(b"GET /api/repos HTTP/1.1\r\nHost: x\r\n")
t = time.time(); s.settimeout(10)
try:
    d = s.recv(100)
except Exception:
    d = b"?"
print("closed" if d == b"" and time.time() - t < 8 else "open")
PY
check_eq "a slow client is timed out" "closed" "$(cat "$TMP/slow")"
check_eq "the server still answers after bad input" "200" "$(req GET /api/repos)"
kill -TERM "$SRV_PID"; wait "$SRV_PID"; rc=$?; SRV_PID=""
check_eq "SIGTERM stops the server cleanly (exit 0)" "0" "$rc"
# --- live recommendations: a webhook opens a PR; the baseline run's routers answer ---
start_srv "$D1" ATTN_WEBHOOK_SECRET=wh
NPR=$(jq '.pulls[-1].number' "$TMP/b.json")
jq -c '{action: "opened", number: .pulls[-1].number, pull_request: .pulls[-1], repository: .repo}' "$TMP/b.json" >"$TMP/open.json"
sig=$(openssl dgst -sha256 -hmac wh -r "$TMP/open.json" | cut -d' ' -f1)
check_eq "webhook: a pull_request opened delivery" "200" "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'X-GitHub-Event: pull_request' \
    -H 'X-GitHub-Delivery: live-1' -H "X-Hub-Signature-256: sha256=$sig" --data-binary @"$TMP/open.json" "$URL/webhook")"
check_eq "GET /api/recommendations?pr=N: routed by the baseline run's routers" "200 $A null mentions,popularity true" \
    "$(req GET "/api/recommendations?pr=$NPR") $(jq -r '[.baseline_run, .error, (.routes | keys | join(",")), (.routes.popularity.candidates | length > 0)] | map(tostring) | join(" ")' "$TMP/body")"
check_eq "GET /api/recommendations lists it" "200 $NPR" "$(req GET /api/recommendations) $(jq -r '[.recommendations[].pr] | join(",")' "$TMP/body")"
check_eq "GET /api/recommendations?pr= of another PR: 404" "404" "$(req GET '/api/recommendations?pr=999999')"
check_eq "the live page shows it" "200 1" "$(req GET /live) $(grep -c "#$NPR" "$TMP/body")"
stop_srv

# Runs imported from another tracker (attn runs import) are listed beside attn's own (issue 14).
WB=${ATTN_ROOT:-.}/../shared/data/wandb-run-ids/runs_sample.jsonl
if [ -f "$WB" ]; then
    "$ATTN" runs import --source wandb "$WB" --patterns datadecide --repo $R --quiet
    start_srv "$D1"
    check_eq "GET /api/runs?kind=external: the imported runs" "200 6" \
        "$(req GET '/api/runs?kind=external&limit=100') $(jq '[.runs[] | select(.kind == "external")] | length' "$TMP/body")"
    check_eq "GET /api/runs: beside attn's own" "true true" \
        "$(req GET '/api/runs?limit=500' >/dev/null; jq -r '[([.runs[] | select(.kind == "external")] | length == 6), ([.runs[] | select(.kind != "external")] | length > 0)] | map(tostring) | join(" ")' "$TMP/body")"
    check_eq "the runs page shows them" "200 1" "$(req GET '/runs?kind=external') $(grep -c 'external' "$TMP/body" | awk '{print ($1 > 0)}')"
    stop_srv
else
    ok "# SKIP $WB absent"
fi
check_fails "serve: a bad --port is a usage error" 2 "port" "$ATTN" serve --port 70000
check_fails "serve: a bad --bind is refused" 2 "bind" "$ATTN" serve --bind not-an-ip --port 0
done_testing
