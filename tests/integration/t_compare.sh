#!/bin/sh
# t_compare.sh - `attn experiment compare`, `attn experiment index-all` and
# `attn doctor` end to end on a synthetic history: two eval runs with
# different routers compared (pair table, flips recomputed with jq from
# per_pr.jsonl, deterministic files), incompatible cohorts refused without
# --force, examples index row counts, doctor ready / stale / missing pins.
#
# Until the experiment dispatcher lands, compare and index-all are reached
# through ATTN_EXP_COMPARE / ATTN_EXP_INDEX (default: the temporary
# top-level names experiment-compare / experiment-index-all).
. "$(dirname "$0")/lib.sh"
R=synth/sample
DIR=$ATTN_DATA_DIR/github/synth/sample
P='first_response:window=2d'
if "$ATTN" experiment compare --help >/dev/null 2>&1; then
    CMP="experiment compare"; IDX="experiment index-all"
else
    CMP="experiment-compare"; IDX="experiment-index-all"
fi

"$ATTN" synth --prs 300 --seed 5 -o "$TMP/b.json" >/dev/null 2>&1
check "load a synthetic history" "$ATTN" load --repo $R --bundle "$TMP/b.json" --quiet
from=$(sqlite3 "$DIR/history.sqlite" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(created_at) + 40*86400, 'unixepoch') FROM pull_requests")
end=$(sqlite3 "$DIR/history.sqlite" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', max(created_at) - 5*86400, 'unixepoch') FROM pull_requests")
"$ATTN" cohort create --repo $R --from "$from" --end-at "$end" --limit 60 --seed 3 --out "$TMP/c1.json" >/dev/null
"$ATTN" cohort create --repo $R --from "$from" --end-at "$end" --limit 60 --seed 4 --out "$TMP/c2.json" >/dev/null

# --- doctor -----------------------------------------------------------------
check "doctor: a loaded store is ready for the cohort" "$ATTN" doctor --repo $R --cohort "$TMP/c1.json"
check_eq "doctor prints a checklist" "8" "$(grep -cE '^\[(ok  |warn|fail)\]' "$TMP/out")"
check "doctor --json" "$ATTN" doctor --repo $R --cohort "$TMP/c1.json" --json
check_eq "ready, nothing failed, every base sha pinned" "true 0 ok ok" \
    "$(jq -r '[.ready, .failures, (.checks[] | select(.name == "pins" or .name == "stale") | .status)] | map(tostring) | join(" ")' "$TMP/out")"
"$ATTN" doctor --repo $R --cutoff created_at+30d --json >"$TMP/stale.json" 2>"$TMP/err"
check_eq "doctor: cutoffs after the horizon make the store not ready (exit 1)" "1" "$?"
check_eq "the stale check fails and names the PRs" "fail 1" \
    "$(jq -r '.checks[] | select(.name == "stale") | [.status, (.details.prs | length > 0 | if . then 1 else 0 end)] | map(tostring) | join(" ")' "$TMP/stale.json")"
want=$(sqlite3 "$DIR/history.sqlite" "SELECT count(*) FROM pull_requests WHERE created_at + 30*86400 > (SELECT max(occurred_at) FROM events)")
check_eq "stale count = PRs whose cutoff is after the latest event" "$want" \
    "$(jq -r '.checks[] | select(.name == "stale") | .details.n' "$TMP/stale.json")"
check_fails "doctor: --from without --end-at" 2 "go together" "$ATTN" doctor --repo $R --from "$from"
check_fails "doctor: unknown repository store" 1 "" "$ATTN" doctor --repo no/such

# A store whose bundle lacks CODEOWNERS for some base SHAs.
jq '.codeowners |= with_entries(select(.key < "8"))' "$TMP/b.json" >"$TMP/b2.json"
D2="$TMP/d2"
"$ATTN" load --repo $R --bundle "$TMP/b2.json" --quiet --data-dir "$D2" >/dev/null 2>&1
check "doctor: missing pins are a warning (still ready)" "$ATTN" doctor --repo $R --data-dir "$D2" --json
unpinned=$(jq -r '.checks[] | select(.name == "pins") | .details.unpinned' "$TMP/out")
check_eq "pins: warn, suggests attn pin" "warn 1" \
    "$(jq -r '.checks[] | select(.name == "pins") | [.status, (.advice | test("attn pin") | if . then 1 else 0 end)] | map(tostring) | join(" ")' "$TMP/out")"
shas=$(sqlite3 "$D2/github/synth/sample/history.sqlite" "SELECT DISTINCT base_sha FROM pull_request_base_intervals" | sort -u)
miss=0; for s in $shas; do [ -f "$D2/github/synth/sample/repo_artifacts/$s/.pin.json" ] || [ -f "$D2/github/synth/sample/codeowners/$s/CODEOWNERS" ] || miss=$((miss + 1)); done
check_eq "unpinned base shas counted (at most the shas missing from the store)" "1" \
    "$([ "$unpinned" -ge 1 ] && [ "$unpinned" -le "$miss" ] && echo 1)"

# --- two runs and compare --------------------------------------------------
check "eval run A (popularity, stewards)" "$ATTN" eval run --repo $R --cohort "$TMP/c1.json" \
    --router popularity --router stewards --bootstrap 200 --run-id runA --quiet
check "eval run B (popularity, hybrid)" "$ATTN" eval run --repo $R --cohort "$TMP/c1.json" \
    --router popularity --router hybrid --bootstrap 200 --run-id runB --quiet
check "compare A B" "$ATTN" $CMP --repo $R runA runB --pair stewards:hybrid
check_eq "the summary has the shared pair" "1" "$(grep -c '^popularity -> popularity ' "$TMP/out")"
check_eq "the summary has the named pair" "1" "$(grep -c '^stewards -> hybrid ' "$TMP/out")"
C=$DIR/eval/_compare/runA__vs__runB
check_eq "compare.json and compare.md written" "1" "$([ -s "$C/compare.json" ] && [ -s "$C/compare.md" ] && echo 1)"
cp "$C/compare.json" "$TMP/cmp1.json"; cp "$C/compare.md" "$TMP/cmp1.md"
"$ATTN" $CMP --repo $R runA runB --pair stewards:hybrid --quiet
check_eq "compare output is byte-identical on a rerun" "" \
    "$(cmp "$TMP/cmp1.json" "$C/compare.json"; cmp "$TMP/cmp1.md" "$C/compare.md")"
flips() { # $1 A router, $2 B router, $3 k, $4 hit_to_miss|miss_to_hit
    jq -n --slurpfile a "$DIR/eval/runA/per_pr.jsonl" --slurpfile b "$DIR/eval/runB/per_pr.jsonl" \
        --arg ra "$1" --arg rb "$2" --argjson k "$3" --arg d "$4" --arg p "$P" '
        ($b | map({key: (.pr_number | tostring), value: .}) | from_entries) as $B
        | def hit(r): (r != null and r >= 1 and r <= $k);
        [ $a[] | . as $x | $B[$x.pr_number | tostring] as $y | select($y != null)
          | (hit($x.routers[$ra].rank[$p])) as $ha | (hit($y.routers[$rb].rank[$p])) as $hb
          | select(if $d == "hit_to_miss" then ($ha and ($hb | not)) else (($ha | not) and $hb) end) ]
        | length'
}
got() { jq -r --arg ra "$1" --arg rb "$2" --arg k "hit_at_$3" --arg d "$4" \
    '.pairs[] | select(.a_router == $ra and .b_router == $rb) | .flips[$k][$d].total' "$C/compare.json"; }
for k in 1 5; do for d in hit_to_miss miss_to_hit; do
    check_eq "stewards->hybrid flips at hit@$k $d match a jq recomputation" \
        "$(flips stewards hybrid $k $d)" "$(got stewards hybrid $k $d)"
done; done
check_eq "popularity is unchanged: no flips" "0 0" "$(got popularity popularity 1 hit_to_miss) $(got popularity popularity 1 miss_to_hit)"
check_eq "flip items carry evidence from the route files" "1" \
    "$(jq '[.pairs[] | .flips[][] | .items[] | .a.top[0].evidence | type == "array"] | if length == 0 then true else all end | if . then 1 else 0 end' "$C/compare.json")"
check_eq "config diff: hybrid added, stewards removed" "hybrid stewards" \
    "$(jq -r '[.config_diff.routers.added[0].name, .config_diff.routers.removed[0].name] | join(" ")' "$C/compare.json")"
check "compare --json" "$ATTN" $CMP --repo $R runA runB --json --out "$TMP/cmpout"
check_eq "--json summary names both runs; --out used" "runA runB 1" \
    "$(jq -r '[.a, .b, (.out_dir == "'"$TMP/cmpout"'" | if . then 1 else 0 end)] | map(tostring) | join(" ")' "$TMP/out")"

# --- incompatible runs ----------------------------------------------------
check "eval run C over another cohort" "$ATTN" eval run --repo $R --cohort "$TMP/c2.json" \
    --router popularity --bootstrap 200 --run-id runC --quiet
check_fails "incompatible cohorts are refused" 1 "cohort hash differs" "$ATTN" $CMP --repo $R runA runC
check_eq "nothing written for a refused compare" "0" "$([ -e "$DIR/eval/_compare/runA__vs__runC" ] && echo 1 || echo 0)"
check "--force compares anyway" "$ATTN" $CMP --repo $R runA runC --force --json
check_eq "forced: not compatible; cohort, cutoffs and PR sets warned" "false 1 1 1" \
    "$(jq -r '[.compatible, ([.warnings[] | select(test("^cohort hash differs"))] | length),
               ([.warnings[] | select(test("^pr_cutoffs differ"))] | length),
               ([.warnings[] | select(test("^PR sets differ"))] | length)] | map(tostring) | join(" ")' "$TMP/out")"
check_fails "an unknown run" 1 "not an evaluation run directory" "$ATTN" $CMP --repo $R runA nosuch
check_fails "a bad --pair" 2 "A_ROUTER:B_ROUTER" "$ATTN" $CMP --repo $R runA runB --pair bad
check_fails "a pair naming a missing router" 2 "no router 'nosuch'" "$ATTN" $CMP --repo $R runA runB --pair nosuch:hybrid
check_fails "one run id only" 2 "two run ids" "$ATTN" $CMP --repo $R runA

# --- index-all ---------------------------------------------------------------
mkdir -p "$DIR/eval/.tmp-junk-1" "$DIR/eval/notarun"
check "index-all" "$ATTN" $IDX --repo $R --json
X=$DIR/examples_index.sqlite
check_eq "three runs indexed, the non-run skipped" "3 1" "$(jq -r '[.runs, .skipped] | map(tostring) | join(" ")' "$TMP/out")"
check_eq "rows = runs x PRs x routers" "$((60 * 2 + 60 * 2 + 60 * 1))" "$(sqlite3 "$X" 'SELECT count(*) FROM examples')"
check_eq "runs table" "runA|popularity,stewards|60 runB|popularity,hybrid|60 runC|popularity|60" \
    "$(sqlite3 "$X" "SELECT run_id, routers, n FROM runs ORDER BY run_id" | tr '\n' ' ' | sed 's/ $//')"
check_eq "hit1 agrees with per_pr.jsonl" \
    "$(jq -s --arg p "$P" '[.[] | select(.routers.stewards.rank[$p] == 1)] | length' "$DIR/eval/runA/per_pr.jsonl")" \
    "$(sqlite3 "$X" "SELECT sum(hit1) FROM examples WHERE run_id = 'runA' AND router = 'stewards'")"
check_eq "indexes exist" "3" "$(sqlite3 "$X" "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%'")"
check_eq "no temporary index file left" "0" "$(ls -A "$DIR" | grep -c 'examples_index.sqlite.tmp')"
done_testing
