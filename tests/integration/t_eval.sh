#!/bin/sh
# t_eval.sh - `attn route`, `attn cohort` and `attn eval run` end to end on a
# synthetic history: deterministic run directories (two runs, identical
# trees), atomic replacement, strict streaming, cohort hashes, and one-line
# errors for bad input.
. "$(dirname "$0")/lib.sh"
R=synth/sample
DIR=$ATTN_DATA_DIR/github/synth/sample

"$ATTN" synth --prs 400 --seed 5 -o "$TMP/b.json" >/dev/null 2>&1
check "load a 400-PR synthetic history" "$ATTN" load --repo $R --bundle "$TMP/b.json" --quiet

# --- route ------------------------------------------------------------------
check "route --list" "$ATTN" route --list
for r in codeowners hybrid learned mentions path_similarity popularity review_requests stewards; do
    check_eq "router $r is listed" "1" "$(grep -c "^$r " "$TMP/out")"
done
check "route one PR with every router" "$ATTN" route --repo $R --pr 300 --json
check_eq "eight results" "8" "$(jq 'length' "$TMP/out")"
check_eq "every result is for PR 300 at its created_at" "1" \
    "$(jq '[.[] | [.pr_number, .as_of]] | unique | length' "$TMP/out")"
author=$("$ATTN" snapshot --repo $R --pr 300 --json | jq -r .author)
check_eq "the author is never a candidate" "0" \
    "$(jq --arg a "$author" '[.[].candidates[].target.name | ascii_downcase | select(. == ($a|ascii_downcase))] | length' "$TMP/out")"
check_eq "no bot is a candidate" "0" \
    "$(jq '[.[].candidates[].target.name | select(test("\\[bot\\]$") or . == "synth-ci")] | length' "$TMP/out")"
check "route stewards twice" "$ATTN" route --repo $R --pr 300 --router stewards --json
cp "$TMP/out" "$TMP/r1"
"$ATTN" route --repo $R --pr 300 --router stewards --json >"$TMP/r2"
check_eq "routing is deterministic" "" "$(cmp "$TMP/r1" "$TMP/r2")"
echo '{"decay": {"half_life_days": -1}}' >"$TMP/bad.json"
check_fails "a bad config names the key" 2 "half_life_days" \
    "$ATTN" route --repo $R --pr 300 --router stewards --config "$TMP/bad.json"
echo '{"halflife": 3}' >"$TMP/bad2.json"
check_fails "an unknown config key is refused" 2 "unknown key 'halflife'" \
    "$ATTN" route --repo $R --pr 300 --router popularity --config "$TMP/bad2.json"
check_fails "an unknown router lists the valid ones" 2 "the routers are: codeowners" \
    "$ATTN" route --repo $R --pr 300 --router nosuch
check_fails "an unknown PR" 1 "synth/sample" "$ATTN" route --repo $R --pr 99999 --router mentions
check_fails "a bad --as-of" 2 "as-of" "$ATTN" route --repo $R --pr 300 --as-of 2024-13-01

# --- cohort -----------------------------------------------------------------
from=$(sqlite3 "$DIR/history.sqlite" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(created_at) + 40*86400, 'unixepoch') FROM pull_requests")
end=$(sqlite3 "$DIR/history.sqlite" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', max(created_at) - 5*86400, 'unixepoch') FROM pull_requests")
check "cohort create" "$ATTN" cohort create --repo $R --from "$from" --end-at "$end" --limit 120 --seed 3 --out "$TMP/c1.json"
check "cohort create again" "$ATTN" cohort create --repo $R --from "$from" --end-at "$end" --limit 120 --seed 3 --out "$TMP/c2.json"
check_eq "cohorts are deterministic" "" "$(cmp "$TMP/c1.json" "$TMP/c2.json")"
check_eq "the cohort has 120 PRs" "120" "$(jq '.prs | length' "$TMP/c1.json")"
"$ATTN" cohort create --repo $R --from "$from" --end-at "$end" --limit 120 --seed 4 --out "$TMP/c3.json" >/dev/null
check_eq "another seed samples differently" "1" "$(cmp -s "$TMP/c1.json" "$TMP/c3.json" || echo 1)"
check "cohort validate" "$ATTN" cohort validate "$TMP/c1.json"
jq '.prs[0].cutoff = "2020-01-01T00:00:00Z"' "$TMP/c1.json" >"$TMP/edited.json"
check_fails "a hand-edited cohort is refused" 2 "hash mismatch" "$ATTN" cohort validate "$TMP/edited.json"
check_fails "eval refuses a hand-edited cohort" 2 "hash mismatch" \
    "$ATTN" eval run --repo $R --router popularity --cohort "$TMP/edited.json"
check_fails "a cohort of another repo" 2 "not other/repo" "$ATTN" cohort validate "$TMP/c1.json" --repo other/repo

# --- eval -------------------------------------------------------------------
check "eval run over the cohort" "$ATTN" eval run --repo $R --cohort "$TMP/c1.json" \
    --router popularity --router stewards --router mentions --bootstrap 200 --quiet --json
run=$(jq -r .run_id "$TMP/out")
rd=$DIR/eval/$run
check_eq "the run directory exists" "1" "$([ -d "$rd" ] && echo 1)"
for f in manifest.json report.json report.md per_pr.jsonl run_summary.json; do
    check_eq "$f written" "1" "$([ -s "$rd/$f" ] && echo 1)"
done
check_eq "one per_pr line per PR" "120" "$(wc -l <"$rd/per_pr.jsonl" | tr -d ' ')"
n=$(jq -r '.prs[0].number' "$TMP/c1.json")
check_eq "per-PR entries are packed, not a tree" "1" "$([ -s "$rd/artifacts.sqlite" ] && [ ! -e "$rd/prs" ] && echo 1)"
for f in snapshot inputs truth routes/stewards routes/popularity; do
    "$ATTN" artifacts show "$run" --repo $R --pr "$n" --entry $f >"$TMP/entry" 2>&1
    check_eq "entry $f of PR $n is in the pack" "object" "$(jq -r type "$TMP/entry")"
done
check "artifacts show --router" "$ATTN" artifacts show "$run" --repo $R --pr "$n" --router stewards
check_eq "show --router prints only that router's entries" '["routes/stewards"]' "$(jq -c 'keys' "$TMP/out")"
check "artifacts show (every entry)" "$ATTN" artifacts show "$run" --repo $R --pr "$n"
check_eq "every entry of the PR" '["inputs","routes/mentions","routes/popularity","routes/stewards","snapshot","truth"]' "$(jq -c 'keys' "$TMP/out")"
check_fails "show of an unknown run" 1 "no run nosuch" "$ATTN" artifacts show nosuch --repo $R --pr "$n"
check_fails "show of a PR outside the run" 1 "no entries for PR #99999" "$ATTN" artifacts show "$run" --repo $R --pr 99999
check_fails "show without --pr" 2 "needs --pr" "$ATTN" artifacts show "$run" --repo $R
check_fails "a bad entry name" 2 "bad entry name" "$ATTN" artifacts show "$run" --repo $R --pr "$n" --entry ../x
check "artifacts unpack" "$ATTN" artifacts unpack "$run" --repo $R --out "$TMP/tree" --quiet
check_eq "unpack writes every PR's tree" "120" "$(ls "$TMP/tree" | wc -l | tr -d ' ')"
"$ATTN" artifacts show "$run" --repo $R --pr "$n" --entry routes/stewards >"$TMP/shown"
check_eq "unpacked files are what show prints" "" "$(cmp "$TMP/shown" "$TMP/tree/$n/routes/stewards.json")"
check_eq "an unpacked route is pretty JSON" '  "as_of":' "$(sed -n 2p "$TMP/tree/$n/routes/stewards.json" | cut -c1-10)"
check_fails "unpack refuses an existing path" 1 "already exists" "$ATTN" artifacts unpack "$run" --repo $R --out "$TMP/tree"
check_eq "every route carries candidate_gen_version" "$(jq -r .candidate_gen_version "$rd/manifest.json")" "$(jq -r .candidate_gen_version "$TMP/tree/$n/routes/stewards.json")"
check_eq "the manifest records the cohort hash" "$(jq -r .hash "$TMP/c1.json")" "$(jq -r .cohort.hash "$rd/manifest.json")"
check_eq "no wall-clock field in the artifacts" "0" "$(grep -rlE 'generated_at|created_at_wall' "$rd" | wc -l | tr -d ' ')"
cp -r "$rd" "$TMP/run1"
check "the same eval again" "$ATTN" eval run --repo $R --cohort "$TMP/c1.json" \
    --router popularity --router stewards --router mentions --bootstrap 200 --quiet --json
check_eq "same run id" "$run" "$(jq -r .run_id "$TMP/out")"
check_eq "byte-identical run directories" "" "$(diff -r "$TMP/run1" "$rd" 2>&1 | head -3)"
check_eq "no temporary directories left" "0" "$(ls -A "$DIR/eval" | grep -c '^\.')"
# --jobs: PRs are routed and labelled by a pool of threads and merged in PR
# order, so any thread count writes the same run directory, byte for byte.
all="--router codeowners --router hybrid --router mentions --router path_similarity --router popularity --router review_requests --router stewards"
# shellcheck disable=SC2086
check "every router, --jobs 1" "$ATTN" eval run --repo $R --cohort "$TMP/c1.json" $all --bootstrap 50 --jobs 1 --quiet --json
jrun=$(jq -r .run_dir "$TMP/out")
shared1=$(jq .routes_shared "$TMP/out")
rm -rf "$TMP/jobs1"; cp -r "$jrun" "$TMP/jobs1"
# shellcheck disable=SC2086
check "every router, --jobs 4" "$ATTN" eval run --repo $R --cohort "$TMP/c1.json" $all --bootstrap 50 --jobs 4 --quiet --json
check_eq "--jobs 4 writes the run directory of --jobs 1" "" "$(diff -r "$TMP/jobs1" "$jrun" 2>&1 | head -3)"
check_eq "and shares as many answers" "$shared1" "$(jq .routes_shared "$TMP/out")"
check_fails "--jobs 0 is refused" 2 "jobs" "$ATTN" eval run --repo $R --router popularity --pr 300 --jobs 0

check "a different bootstrap seed is another run" "$ATTN" eval run --repo $R --cohort "$TMP/c1.json" \
    --router popularity --bootstrap 50 --seed 7 --quiet --json
check_eq "distinct run id" "1" "$([ "$(jq -r .run_id "$TMP/out")" != "$run" ] && echo 1)"
check "report.md has a headline table" grep -q '^| stewards |' "$rd/report.md"

# The hybrid's components are answered from the routers run alone (router.h,
# memo): every route file must be what a run of that router alone writes.
check "eval hybrid with its components" "$ATTN" eval run --repo $R --cohort "$TMP/c1.json" \
    --router hybrid --router stewards --router path_similarity --hybrid-train-days 0 \
    --bootstrap 20 --run-id shared --quiet --json
check_eq "stewards and path_similarity are computed once per PR" "240" "$(jq .routes_shared "$TMP/out")"
for r in hybrid stewards; do
    "$ATTN" eval run --repo $R --cohort "$TMP/c1.json" --router $r --hybrid-train-days 0 \
        --bootstrap 20 --run-id alone-$r --quiet >/dev/null 2>&1
    [ -d "$DIR/eval/shared/prs" ] || "$ATTN" artifacts unpack shared --repo $R --quiet
    "$ATTN" artifacts unpack alone-$r --repo $R --quiet
    same=1
    for d in "$DIR"/eval/shared/prs/*; do
        cmp -s "$d/routes/$r.json" "$DIR/eval/alone-$r/prs/${d##*/}/routes/$r.json" || same=0
    done
    check_eq "$r routes are the same as when it runs alone" "1" "$same"
done

# strict streaming: a cutoff after the last event is refused, naming the PR
last=$(sqlite3 "$DIR/history.sqlite" "SELECT max(number) FROM pull_requests")
check_fails "stale cutoffs are refused" 1 "after the ingested horizon.*#$last" \
    "$ATTN" eval run --repo $R --router popularity --pr "$last" --cutoff created_at+3650d
check "--allow-stale evaluates anyway" "$ATTN" eval run --repo $R --router popularity \
    --pr "$last" --cutoff created_at+3650d --allow-stale --quiet --json
check "and notes it" grep -q "allow-stale" "$(jq -r .run_dir "$TMP/out")/report.md"

check_fails "eval without routers" 2 "router" "$ATTN" eval run --repo $R --pr 5
check_fails "eval with two PR sources" 2 "exactly one" "$ATTN" eval run --repo $R --router popularity --pr 5 --from "$from" --end-at "$end"
check_fails "a bad truth policy" 2 "nosuch" "$ATTN" eval run --repo $R --router popularity --pr 300 --truth nosuch
check_fails "a k beyond top-k" 2 "k = 20" "$ATTN" eval run --repo $R --router popularity --pr 300 --ks 1,20
check "build-artifacts for two PRs" "$ATTN" build-artifacts --repo $R --run-id arts --pr 300 --pr 301 --quiet
check_eq "artifacts written" "stewards" "$("$ATTN" artifacts show arts --repo $R --pr 301 --entry routes/stewards | jq -r .router)"
done_testing
