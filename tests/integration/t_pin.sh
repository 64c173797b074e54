#!/bin/sh
# t_pin.sh - `attn pin` end to end: the contents API of the fake GitHub API
# (tests/fakegh) after ingesting sample/sample.json (files, manifests, blobs
# stored once, an idempotent rerun without requests, CODEOWNERS under docs/,
# --path, injected 500s as gaps then a completing rerun), a local clone via
# --git-dir (commits made here; a missing sha is a counted failure), `attn
# load` pinning a bundle's codeowners map, and one-line usage errors.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SAMPLE=$ROOT/sample/sample.json
REPO=synth/sample
trap 'stop_fake; rm -rf "$TMP"' EXIT
reset_stats() { curl -s -X POST "$API/_fake/reset-stats" >/dev/null; }
rdir() { echo "$1/github/$2"; }
db_of() { echo "$(rdir "$1" "$2")/history.sqlite"; }
j() { jq -r "$1" "$TMP/out"; }

# ---- usage errors (one line, exit 2) ---------------------------------------------------
check_fails "no --repo" 2 "repo OWNER/NAME is required" \
    sh -c 'cd "$1" && shift && exec "$@"' _ "$TMP" env -u GH_REPO "$ATTN" pin --git-dir /x
check_fails "bad --pr" 2 "not a pull request number" "$ATTN" pin --repo $REPO --pr 0x1 --git-dir /x
check_fails "unsafe --path" 2 "unsafe path" "$ATTN" pin --repo $REPO --path ../etc/passwd --git-dir /x
check_fails "absolute --path" 2 "unsafe path" "$ATTN" pin --repo $REPO --path /etc/passwd --git-dir /x
check_fails "reserved --path" 2 "reserved" "$ATTN" pin --repo $REPO --path .pin.json --git-dir /x
check_fails "bad --max-retries" 2 "max-retries" "$ATTN" pin --repo $REPO --max-retries x --git-dir /x
check_fails "unknown option" 2 "unknown or incomplete option" "$ATTN" pin --repo $REPO --bogus
check_fails "no token against api.github.com" 2 "GITHUB_TOKEN is not set" \
    env -u GITHUB_TOKEN -u GH_TOKEN PATH=/nonexistent "$ATTN" pin --repo $REPO
check_fails "no store yet" 2 "no history store" "$ATTN" pin --repo $REPO --git-dir /x --data-dir "$TMP/none"
check "--help" "$ATTN" pin --help

# ---- (1) contents API after an ingest ---------------------------------------------------
A=$TMP/a; RA=$(rdir "$A" $REPO)
start_fake "$SAMPLE"
check "ingest the sample through the fake API" "$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$A" --quiet
SHAS=$(sqlite3 "$(db_of "$A" $REPO)" "SELECT base_sha FROM pull_request_base_intervals UNION SELECT base_sha FROM pull_requests ORDER BY 1")
NSHA=$(echo "$SHAS" | wc -l)
reset_stats
check "pin through the contents API" "$ATTN" pin --repo $REPO --api-url "$API" --data-dir "$A" --json
check_eq "summary: every base sha pinned, each with CODEOWNERS" "$NSHA 0 $NSHA $NSHA 0 0 0" \
    "$(j '[.shas, .already_pinned, .pinned, .with_codeowners, .absent, .failed, .gaps] | map(tostring) | join(" ")')"
check_eq "one contents request per sha (.github/ found first)" "$NSHA" "$(stat '.by_path_kind.contents')"
check_eq "requests = contents + one repository check" "$((NSHA + 1))" "$(j .requests)"
bad=0
for s in $SHAS; do
    jq -j --arg s "$s" '.codeowners[$s]' "$SAMPLE" >"$TMP/want"
    cmp -s "$TMP/want" "$RA/repo_artifacts/$s/.github/CODEOWNERS" || bad=$((bad + 1))
    cmp -s "$TMP/want" "$RA/codeowners/$s/CODEOWNERS" || bad=$((bad + 1))
    [ "$(jq -c '[.base_sha == $s, .source, .codeowners_path, (.files | keys)]' --arg s "$s" \
        "$RA/repo_artifacts/$s/.pin.json")" = '[true,"contents_api",".github/CODEOWNERS",[".github/CODEOWNERS"]]' ] ||
        bad=$((bad + 1))
done
check_eq "files, legacy copies and manifests match the served CODEOWNERS" 0 "$bad"
distinct=$(for s in $SHAS; do jq -j --arg s "$s" '.codeowners[$s]' "$SAMPLE" | git hash-object --stdin; done | sort -u | wc -l)
check_eq "content stored once per blob sha" "$distinct" "$(ls "$RA/repo_artifacts/.blobs" | wc -l)"
check_eq "blob names are git blob shas" "$(ls "$RA/repo_artifacts/.blobs" | head -1)" \
    "$(git hash-object "$RA/repo_artifacts/.blobs/$(ls "$RA/repo_artifacts/.blobs" | head -1)")"
check_eq "no temporary files left" 0 "$(find "$A" -name '*.tmp.*' | wc -l)"
check "human summary" "$ATTN" pin --repo $REPO --api-url "$API" --data-dir "$A"
check_eq "human summary line" 1 "$(grep -c "^pinned $REPO: $NSHA base SHAs, $NSHA already pinned, 0 pinned now" "$TMP/out")"

# ---- (2) rerun: nothing new, no contents request ----------------------------------------
reset_stats
check "rerun" "$ATTN" pin --repo $REPO --api-url "$API" --data-dir "$A" --json
check_eq "rerun pins nothing" "$NSHA 0 0" "$(j '[.already_pinned, .pinned, .requests] | map(tostring) | join(" ")')"
check_eq "rerun makes no request at all" 0 "$(stat .requests)"
check "--quiet prints nothing" "$ATTN" pin --repo $REPO --api-url "$API" --data-dir "$A" --quiet
check_eq "--quiet output is empty" "" "$(cat "$TMP/out")"

# ---- (3) CODEOWNERS under docs/: absences recorded; --pr; --path extends ----------------
cp "$(db_of "$A" $REPO)" "$TMP/hist.sqlite"   # a quiet store: no WAL left after the runs
B=$TMP/b; RB=$(rdir "$B" $REPO); mkdir -p "$RB"; cp "$TMP/hist.sqlite" "$RB/history.sqlite"
start_fake "$SAMPLE" --codeowners-path docs/CODEOWNERS
S1=$(sqlite3 "$RB/history.sqlite" "SELECT base_sha FROM pull_requests WHERE number = 1")
S2=$(sqlite3 "$RB/history.sqlite" "SELECT base_sha FROM pull_requests WHERE number = 2")
N12=$(printf '%s\n%s\n' "$S1" "$S2" | sort -u | wc -l)
check "pin --pr 1 --pr 2" "$ATTN" pin --repo $REPO --api-url "$API" --data-dir "$B" --pr 1 --pr 2 --json
check_eq "only those PRs' SHAs" "$N12 $N12" "$(j '[.shas, .pinned] | map(tostring) | join(" ")')"
check_eq "three requests per sha (.github/, root, docs/)" "$((3 * N12))" "$(stat '.by_path_kind.contents')"
check_eq "manifest records the two absences" '[null,null,true,"docs/CODEOWNERS"]' \
    "$(jq -c '[.files[".github/CODEOWNERS"], .files.CODEOWNERS, (.files["docs/CODEOWNERS"] | type == "string"), .codeowners_path]' \
        "$RB/repo_artifacts/$S1/.pin.json")"
jq -j --arg s "$S1" '.codeowners[$s]' "$SAMPLE" >"$TMP/want"
check "docs/CODEOWNERS content" cmp -s "$TMP/want" "$RB/repo_artifacts/$S1/docs/CODEOWNERS"
check "legacy copy of the docs/ file" cmp -s "$TMP/want" "$RB/codeowners/$S1/CODEOWNERS"
check_eq "no file where GitHub has none" "no" "$([ -e "$RB/repo_artifacts/$S1/CODEOWNERS" ] && echo yes || echo no)"
reset_stats
check "--path extends pinned SHAs" "$ATTN" pin --repo $REPO --api-url "$API" --data-dir "$B" --pr 1 --pr 2 --path OWNERS --json
check_eq "one request per sha for the new path only" "$N12 $N12" "$(j .pinned) $(stat '.by_path_kind.contents')"
check_eq "manifest merged: OWNERS absent, docs/ kept" 'null "docs/CODEOWNERS"' \
    "$(jq -c '.files.OWNERS' "$RB/repo_artifacts/$S1/.pin.json") $(jq -c '.codeowners_path' "$RB/repo_artifacts/$S1/.pin.json")"
check_fails "unknown --pr" 1 "no pull request #999" "$ATTN" pin --repo $REPO --api-url "$API" --data-dir "$B" --pr 999
check_fails "a repository the API does not know" 1 "not visible at the API" \
    sh -c "mkdir -p '$B/github/synth/gone' && cp '$TMP/hist.sqlite' '$B/github/synth/gone/history.sqlite' && sqlite3 '$B/github/synth/gone/history.sqlite' \"UPDATE repos SET full_name = 'synth/gone'\" && '$ATTN' pin --repo synth/gone --api-url '$API' --data-dir '$B'"

# ---- (4) injected 500s: gaps, then a rerun completes ---------------------------------------
C=$TMP/c; RC=$(rdir "$C" $REPO); mkdir -p "$RC"; cp "$TMP/hist.sqlite" "$RC/history.sqlite"
start_fake "$SAMPLE" --seed 3 --fail-rate 0.3
"$ATTN" pin --repo $REPO --api-url "$API" --data-dir "$C" --max-retries 0 --json >"$TMP/out" 2>"$TMP/err"; rc=$?
failed=$(j .failed); pinned=$(j .pinned)
echo "# under 30% 500s: $(cat "$TMP/out")"
check_eq "500s: exit 0 with some SHAs pinned" 0 "$rc"
check_eq "500s: pinned + failed = all" "$NSHA" "$((failed + pinned))"
if [ "$failed" -gt 0 ] && [ "$pinned" -gt 0 ]; then ok "500s: some SHAs failed ($failed)"; else not_ok "500s: some SHAs failed (got $failed)"; fi
check_eq "one gap row (resource contents) per failed sha" "$failed" \
    "$(sqlite3 "$RC/history.sqlite" "SELECT count(*) FROM ingestion_gaps WHERE resource = 'contents' AND resolved_at IS NULL AND url LIKE '%/contents/%?ref=%' AND detail LIKE '%HTTP 5%'")"
check_eq "one warning line per failed sha" "$failed" "$(grep -c '^attn: warning: base sha [0-9a-f]* not pinned.*HTTP 5' "$TMP/err")"
check_eq "failed SHAs have no manifest" "$pinned" "$(ls "$RC/repo_artifacts"/*/.pin.json | wc -l)"
start_fake "$SAMPLE"
check "rerun against a healthy server" "$ATTN" pin --repo $REPO --api-url "$API" --data-dir "$C" --json
check_eq "rerun pins exactly the failed SHAs" "$pinned $failed 0" "$(j '[.already_pinned, .pinned, .failed] | map(tostring) | join(" ")')"
check_eq "rerun asks only for them" "$failed" "$(stat '.by_path_kind.contents')"
check_eq "gaps marked resolved" 0 "$(sqlite3 "$RC/history.sqlite" "SELECT count(*) FROM ingestion_gaps WHERE resolved_at IS NULL")"
check "same files as the clean run" diff -r "$RA/repo_artifacts" "$RC/repo_artifacts"
# Every sha failing: exit 1 and the summary still printed.
D=$TMP/d; RD=$(rdir "$D" $REPO); mkdir -p "$RD"; cp "$TMP/hist.sqlite" "$RD/history.sqlite"
start_fake "$SAMPLE" --fail-rate 1
"$ATTN" pin --repo $REPO --api-url "$API" --data-dir "$D" --max-retries 0 --pr 1 --json >"$TMP/out" 2>"$TMP/err"; rc=$?
check_eq "every needed sha failing: exit 1" 1 "$rc"
check_eq "it says so" 1 "$(grep -c 'none of the 1 base SHAs' "$TMP/err")"
# A body that is not JSON is a gap too, never a pinned file.
start_fake "$SAMPLE" --malformed /repos/synth/sample/contents
"$ATTN" pin --repo $REPO --api-url "$API" --data-dir "$D" --pr 1 --json >"$TMP/out" 2>"$TMP/err"; rc=$?
check_eq "malformed contents body: a gap, exit 1" "1 1" "$rc $(j .gaps)"
check_eq "the gap says why" 1 \
    "$(sqlite3 "$RD/history.sqlite" "SELECT count(*) FROM ingestion_gaps WHERE detail LIKE 'malformed JSON body%'")"
check_eq "nothing pinned" no "$([ -d "$RD/repo_artifacts" ] && echo yes || echo no)"
stop_fake

# ---- (5) --git-dir: a local clone made here ---------------------------------------------------
G=$TMP/repo
gitc() { git -C "$G" -c user.name=t -c user.email=t@example.com -c commit.gpgsign=false "$@"; }
git init -q "$G"
mkdir -p "$G/.github" && printf '* @acme/core\n' >"$G/.github/CODEOWNERS"
gitc add -A && gitc commit -q -m one
C1=$(gitc rev-parse HEAD)
gitc rm -q .github/CODEOWNERS
mkdir -p "$G/docs" && printf '/docs/ @dave\n' >"$G/docs/CODEOWNERS" && printf 'be kind\n' >"$G/CONTRIBUTING.md"
ln -s docs/CODEOWNERS "$G/CODEOWNERS"   # a symlink is no CODEOWNERS for GitHub
gitc add -A && gitc commit -q -m two
C2=$(gitc rev-parse HEAD)
MISSING=ffffffffffffffffffffffffffffffffffffffff
python3 - "$ROOT/tests/data/fakegh/tiny_bundle.json" "$TMP/git_bundle.json" "$C1" "$C2" "$MISSING" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
for p, sha in zip(b["pulls"], sys.argv[3:6]):
    p["base"]["sha"] = sha
b.pop("codeowners", None)
json.dump(b, open(sys.argv[2], "w"))
PY
GD=$TMP/g; RG=$(rdir "$GD" acme/widgets)
check "load a bundle whose bases are the clone's commits" "$ATTN" load --repo acme/widgets --bundle "$TMP/git_bundle.json" --data-dir "$GD" --quiet
check_eq "no codeowners map: nothing pinned by load" no "$([ -d "$RG/repo_artifacts" ] && echo yes || echo no)"
env -u GITHUB_TOKEN "$ATTN" pin --repo acme/widgets --git-dir "$G" --path CONTRIBUTING.md --data-dir "$GD" --json >"$TMP/out" 2>"$TMP/err"; rc=$?
check_eq "git: exit 0 although one sha is missing" 0 "$rc"
check_eq "git: 3 SHAs, 2 pinned, 1 failed, no requests" "3 2 2 0 1 0" \
    "$(j '[.shas, .pinned, .with_codeowners, .absent, .failed, .requests] | map(tostring) | join(" ")')"
check_eq "git: the warning names the sha and git fetch" 1 "$(grep -c "$MISSING.*git fetch" "$TMP/err")"
check "git: .github/CODEOWNERS at the first commit" sh -c "printf '* @acme/core\n' | cmp -s - '$RG/repo_artifacts/$C1/.github/CODEOWNERS'"
check "git: docs/CODEOWNERS at the second" sh -c "printf '/docs/ @dave\n' | cmp -s - '$RG/codeowners/$C2/CODEOWNERS'"
check_eq "git: manifests (source, choice, absences)" \
    'git .github/CODEOWNERS null|git docs/CODEOWNERS null "be kind\n"' \
    "$(jq -j '.source, " ", .codeowners_path, " ", (.files["CONTRIBUTING.md"] | tostring)' "$RG/repo_artifacts/$C1/.pin.json")|$(jq -j '.source, " ", .codeowners_path, " ", (.files.CODEOWNERS | tostring)' "$RG/repo_artifacts/$C2/.pin.json") $(jq -Rs . <"$RG/repo_artifacts/$C2/CONTRIBUTING.md")"
check_eq "git: the missing sha has no manifest" no "$([ -e "$RG/repo_artifacts/$MISSING" ] && echo yes || echo no)"
env -u GITHUB_TOKEN "$ATTN" pin --repo acme/widgets --git-dir "$G" --pr 3 --data-dir "$GD" >"$TMP/out" 2>"$TMP/err"; rc=$?
check_eq "git: only missing SHAs: exit 1" 1 "$rc"
check_eq "git: ... with the count" 1 "$(grep -c 'none of the 1 base SHAs' "$TMP/err")"
check_fails "bad --git-dir: one line, exit 2" 2 "not a git repository" \
    env -u GITHUB_TOKEN "$ATTN" pin --repo acme/widgets --git-dir "$TMP/nowhere" --data-dir "$GD"
check_fails "--git-dir with --api-url" 2 "exclude each other" \
    "$ATTN" pin --repo acme/widgets --git-dir "$G" --api-url http://127.0.0.1:1 --data-dir "$GD"

# ---- (6) attn load pins a bundle's codeowners map ----------------------------------------------
L=$TMP/l; RL=$(rdir "$L" $REPO)
check "load the sample" "$ATTN" load --repo $REPO --bundle "$SAMPLE" --data-dir "$L" --json
check_eq "load reports the pinned SHAs" "$(jq '.codeowners | length' "$SAMPLE")" "$(j .codeowners_pinned)"
check_eq "a manifest per map entry, source bundle" "$(jq '.codeowners | length' "$SAMPLE")" \
    "$(cat "$RL"/repo_artifacts/*/.pin.json | jq -s 'map(select(.source == "bundle")) | length')"
check "load pins the same CODEOWNERS files the API served" \
    sh -c "for s in $(echo $SHAS); do cmp -s '$RA/codeowners/'\$s/CODEOWNERS '$RL/codeowners/'\$s/CODEOWNERS || exit 1; done"
check "attn pin after load has nothing to do" "$ATTN" pin --repo $REPO --git-dir "$G" --data-dir "$L" --json
check_eq "... all already pinned" "$NSHA 0 0" "$(j '[.already_pinned, .pinned, .failed] | map(tostring) | join(" ")')"
# A rejected token stops the run (the rule ingest uses, client.h), not one gap per SHA.
start_fake "$SAMPLE" --token right-token
cp -r "$A" "$TMP/tok"
GITHUB_TOKEN=wrong-token check_fails "bad token: exit 1 naming 401" 1 "401" \
    "$ATTN" pin --repo $REPO --api-url "$API" --data-dir "$TMP/tok" --path OWNERS.md --quiet
check_eq "... after one request" 1 "$(stat .requests)"
stop_fake

jq --arg s "$(echo "$SHAS" | head -1)" '.codeowners[$s] = {"../escape": "x"}' "$SAMPLE" >"$TMP/badco.json"
check_fails "a bad codeowners map: exit 2 before anything is written" 2 "unsafe path" \
    "$ATTN" load --repo $REPO --bundle "$TMP/badco.json" --data-dir "$TMP/bad"
check_eq "... no store created" no "$([ -e "$(db_of "$TMP/bad" $REPO)" ] && echo yes || echo no)"
done_testing
