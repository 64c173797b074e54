#!/bin/sh
# t_experiment.sh - `attn experiment` and `attn runs` end to end on a
# synthetic history: specs locked to their cohort, two recorded runs
# (baseline and experimental), gates and promotion files, a run that fails
# before its directory is committed (no directory, registry says failed),
# tags and lifecycle, and retention cleanup whose --dry-run lists exactly
# what the real cleanup then does, with the baseline run surviving.
. "$(dirname "$0")/lib.sh"
R=synth/sample
DIR=$ATTN_DATA_DIR/github/synth/sample

"$ATTN" synth --prs 400 --seed 5 -o "$TMP/b.json" >/dev/null 2>&1
check "load a 400-PR synthetic history" "$ATTN" load --repo $R --bundle "$TMP/b.json" --quiet
from=$(sqlite3 "$DIR/history.sqlite" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(created_at) + 40*86400, 'unixepoch') FROM pull_requests")
end=$(sqlite3 "$DIR/history.sqlite" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', max(created_at) - 5*86400, 'unixepoch') FROM pull_requests")
check "cohort" "$ATTN" cohort create --repo $R --from "$from" --end-at "$end" --limit 150 --seed 3 --out "$TMP/c.json"
"$ATTN" cohort create --repo $R --from "$from" --end-at "$end" --limit 150 --seed 4 --out "$TMP/c2.json" >/dev/null

# --- init -------------------------------------------------------------------
check "init a baseline spec" "$ATTN" experiment init --repo $R --cohort "$TMP/c.json" \
    --router popularity --router mentions --kind baseline --out "$TMP/base.json"
echo '{"decay": {"half_life_days": 30}}' >"$TMP/stew.json"
check "init an experimental spec with a config file" "$ATTN" experiment init --repo $R \
    --cohort "$TMP/c.json" --router stewards --router hybrid --config "stewards=$TMP/stew.json" \
    --tag first --notes "stewards vs hybrid" --out "$TMP/exp.json"
check_eq "the config is embedded inline" "30" "$(jq '.routers[0].config.decay.half_life_days' "$TMP/exp.json")"
check_eq "the spec names its cohort by hash" "$(jq -r .hash "$TMP/c.json")" "$(jq -r .cohort.hash "$TMP/exp.json")"
check_eq "promotion pair defaults to stewards -> hybrid" "stewards hybrid" \
    "$(jq -r '.promotion | "\(.baseline_router) \(.candidate_router)"' "$TMP/exp.json")"
jq '.cohort.path = "/elsewhere/c.json"' "$TMP/exp.json" >"$TMP/moved.json"
check "a moved cohort path keeps the spec valid" "$ATTN" experiment run --repo $R --spec "$TMP/moved.json" \
    --cohort "$TMP/c.json" --run-id moved --quiet
jq '.top_k = 5' "$TMP/exp.json" >"$TMP/edited.json"
check_fails "a hand-edited spec is refused" 2 "hash mismatch" \
    "$ATTN" experiment run --repo $R --spec "$TMP/edited.json" --cohort "$TMP/c.json"
check_fails "init refuses an unknown router" 2 "the routers are" \
    "$ATTN" experiment init --repo $R --cohort "$TMP/c.json" --router nosuch --out "$TMP/x.json"
check_fails "init refuses a bad truth policy" 2 "truth policy" \
    "$ATTN" experiment init --repo $R --cohort "$TMP/c.json" --router popularity --truth nosuch --out "$TMP/x.json"

# --- run --------------------------------------------------------------------
check_fails "a spec run over another cohort is refused, naming both hashes" 2 \
    "$(jq -r .hash "$TMP/c2.json")" \
    "$ATTN" experiment run --repo $R --spec "$TMP/exp.json" --cohort "$TMP/c2.json"
check "run the baseline" "$ATTN" experiment run --repo $R --spec "$TMP/base.json" --cohort "$TMP/c.json" --json --quiet
base=$(jq -r .run_id "$TMP/out")
check "run the experiment" "$ATTN" experiment run --repo $R --spec "$TMP/exp.json" --cohort "$TMP/c.json" --json --quiet
exp=$(jq -r .run_id "$TMP/out")
for f in experiment.json cohort.json gates.json promotion.json report.json per_pr.jsonl run_summary.json; do
    check_eq "$f in the run directory" "1" "$([ -s "$DIR/eval/$exp/$f" ] && echo 1)"
done
check_eq "cohort.json is the cohort" "" "$(cmp "$TMP/c.json" "$DIR/eval/$exp/cohort.json")"
check_eq "six gates" "6" "$(jq '.gates | length' "$DIR/eval/$exp/gates.json")"
check_eq "G4 is n/a (pass) without codeowners" "true null" \
    "$(jq -r '.gates.G4_ownership_availability | "\(.pass) \(.value)"' "$DIR/eval/$exp/gates.json")"
check_eq "the manifest records the experiment" "$(jq -r .hash "$TMP/exp.json")" \
    "$(jq -r .extra.experiment.spec_hash "$DIR/eval/$exp/manifest.json")"
check_eq "no wall-clock value in the artifacts" "0" "$(grep -rl 'started_at\|duration_ms' "$DIR/eval/$exp" | wc -l | tr -d ' ')"
reg=$DIR/runs.sqlite
check_eq "registry: both completed" "completed completed" \
    "$(sqlite3 "$reg" "SELECT status FROM runs WHERE run_id IN ('$base','$exp') ORDER BY run_id" | tr '\n' ' ' | sed 's/ $//')"
check_eq "registry: kinds" "baseline" "$(sqlite3 "$reg" "SELECT kind FROM runs WHERE run_id='$base'")"
check_eq "registry: spec hash" "$(jq -r .hash "$TMP/exp.json")" "$(sqlite3 "$reg" "SELECT spec_hash FROM runs WHERE run_id='$exp'")"
check_eq "registry: router hashes" "hybrid stewards" \
    "$(sqlite3 "$reg" "SELECT router_hashes FROM runs WHERE run_id='$exp'" | jq -r 'keys | join(" ")')"
check_eq "registry: n_prs" "150" "$(sqlite3 "$reg" "SELECT n_prs FROM runs WHERE run_id='$exp'")"

# --- a run that fails before its directory is committed ----------------------
ATTN_TEST_FAIL_EXPERIMENT=post "$ATTN" experiment run --repo $R --spec "$TMP/exp.json" \
    --cohort "$TMP/c.json" --run-id crashed --quiet >"$TMP/out" 2>"$TMP/err"
check_eq "the failing run exits 1" "1" "$?"
check_eq "no run directory for the failed run" "0" "$([ -e "$DIR/eval/crashed" ] && echo 1 || echo 0)"
check_eq "no temporary directories left" "0" "$(ls -A "$DIR/eval" | grep -c '^\.')"
check_eq "the registry says failed, with the error" "failed 1" \
    "$(sqlite3 "$reg" "SELECT status, error LIKE '%injected%' FROM runs WHERE run_id='crashed'" | tr '|' ' ')"

# --- show, summarize, promote ---------------------------------------------------
check "experiment show" "$ATTN" experiment show "$exp" --repo $R --json
check_eq "show has the registry row and the gates" "completed true" \
    "$(jq -r '"\(.run.status) \(.gates.all_pass)"' "$TMP/out")"
# A damaged run file is an error naming it, not a silent null (issue 19).
cp "$DIR/eval/$exp/gates.json" "$TMP/gates.keep"
printf '{"all_pass": tru' >"$DIR/eval/$exp/gates.json"
check_fails "show names a corrupt gates.json" 1 "gates.json" "$ATTN" experiment show "$exp" --repo $R --json
cp "$TMP/gates.keep" "$DIR/eval/$exp/gates.json"
check "experiment summarize" "$ATTN" experiment summarize --repo $R --json
check_eq "summarize lists MRR per router" "hybrid stewards" \
    "$(jq -r --arg e "$exp" '.[] | select(.run_id == $e) | .routers | keys | join(" ")' "$TMP/out")"
"$ATTN" experiment promote "$exp" --repo $R >"$TMP/out" 2>&1
prc=$?
want=$(jq -r 'if .promote then 0 else 1 end' "$DIR/eval/$exp/promotion.json")
check_eq "promote's exit status follows promotion.json" "$want" "$prc"
check_eq "promote prints the decision" "1" "$(grep -c 'promote hybrid over stewards' "$TMP/out")"

# --- runs: list, tag, archive, restore, delete ----------------------------------
check "runs list" "$ATTN" runs list --repo $R --json
check_eq "four runs listed" "4" "$(jq length "$TMP/out")"
check "runs list --status failed" "$ATTN" runs list --repo $R --status failed --json
check_eq "one failed run" "crashed" "$(jq -r '.[].run_id' "$TMP/out")"
check_fails "an unknown status is a usage error, not an empty table" 2 "did you mean completed" \
    "$ATTN" runs list --repo $R --status complete
check "runs list --sort mrr --limit 1" "$ATTN" runs list --repo $R --status completed --sort mrr --limit 1 --json run_id,first_router
check_eq "the best first router's MRR first, one row" "1" "$(jq length "$TMP/out")"
"$ATTN" runs list --repo $R --status completed --json >"$TMP/all"
check_eq "sorted by the first router's MRR" \
    "$(jq -r 'max_by(.headline[.first_router].mrr) | .headline[.first_router].mrr' "$TMP/all")" \
    "$(jq -r --arg id "$(jq -r '.[0].run_id' "$TMP/out")" '.[] | select(.run_id == $id) | .headline[.first_router].mrr' "$TMP/all")"
check "runs list prints metric columns" "$ATTN" runs list --repo $R
check_eq "the failed run's metrics are –, never 0.000" "1 0" \
    "$(grep '^crashed ' "$TMP/out" | grep -c '–') $(grep '^crashed ' "$TMP/out" | grep -c '0\.000')"
check_eq "the baseline's first router is popularity" "1" "$(grep "^$base " "$TMP/out" | grep -c ' popularity ')"
check "runs tag --add" "$ATTN" runs tag "$exp" --repo $R --add keep-me
check_eq "tags are sorted" '["first","keep-me"]' "$(sqlite3 "$reg" "SELECT tags FROM runs WHERE run_id='$exp'")"
check "runs tag --remove" "$ATTN" runs tag "$exp" --repo $R --remove keep-me
check "runs archive" "$ATTN" runs archive "$exp" --repo $R
check_eq "archived" "archived" "$(sqlite3 "$reg" "SELECT lifecycle FROM runs WHERE run_id='$exp'")"
check_eq "archiving keeps the files" "1" "$([ -d "$DIR/eval/$exp" ] && echo 1)"
check "runs restore" "$ATTN" runs restore "$exp" --repo $R
check_eq "restored" "active" "$(sqlite3 "$reg" "SELECT lifecycle FROM runs WHERE run_id='$exp'")"
check_fails "a baseline run is protected from delete" 1 "protected" "$ATTN" runs delete "$base" --repo $R
check "runs show has the audit trail" "$ATTN" runs show "$exp" --repo $R --json
check_eq "audit trail" "start,complete,tag,untag,archive,restore" "$(jq -r '[.events[].action] | join(",")' "$TMP/out")"

# --- cleanup ----------------------------------------------------------------------
later=$(($(date +%s) + 40 * 86400))
ATTN_NOW=$later "$ATTN" runs cleanup --repo $R --keep-last 1 --dry-run >"$TMP/dry1"
ATTN_NOW=$later "$ATTN" runs cleanup --repo $R --keep-last 1 >"$TMP/real1"
check_eq "cleanup does exactly what --dry-run listed" "$(sed 's/^would //' "$TMP/dry1")" "$(cat "$TMP/real1")"
check_eq "cleanup: the failed run deleted, one experimental archived, one kept" \
    "archive delete" "$(awk '{print $1}' "$TMP/real1" | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "the most recent experimental run stays active" "active" \
    "$(sqlite3 "$reg" "SELECT lifecycle FROM runs WHERE run_id='$exp'")"
much_later=$(($(date +%s) + 100 * 86400))
ATTN_NOW=$much_later "$ATTN" runs cleanup --repo $R --keep-last 0 --dry-run >"$TMP/dry2"
ATTN_NOW=$much_later "$ATTN" runs cleanup --repo $R --keep-last 0 >"$TMP/real2"
check_eq "second cleanup matches its dry run" "$(sed 's/^would //' "$TMP/dry2")" "$(cat "$TMP/real2")"
check_eq "the archived run is deleted, the last one archived" "archive $exp
delete moved" "$(awk '{print $1, $2}' "$TMP/real2")"
check_eq "the deleted run's directory is gone" "0" "$([ -e "$DIR/eval/moved" ] && echo 1 || echo 0)"
check_eq "the baseline survives cleanup" "active 1" \
    "$(sqlite3 "$reg" "SELECT lifecycle FROM runs WHERE run_id='$base'") $([ -d "$DIR/eval/$base" ] && echo 1)"
check_fails "a deleted run cannot be restored" 1 "was deleted" "$ATTN" runs restore moved --repo $R
check "runs list --lifecycle deleted" "$ATTN" runs list --repo $R --lifecycle deleted --json
check_eq "two deleted runs" "crashed moved" "$(jq -r '[.[].run_id] | sort | join(" ")' "$TMP/out")"

# --- a run id names one run (issue 18, defect 4) -------------------------------------
sum_before=$(sha256sum "$DIR/eval/$base/manifest.json" | cut -d' ' -f1)
check_fails "eval run refuses the id of an experiment run" 1 "belongs to" \
    "$ATTN" eval run --repo $R --cohort "$TMP/c.json" --router popularity --run-id "$base" --quiet
check_eq "and leaves that run as it was" "$sum_before completed" \
    "$(sha256sum "$DIR/eval/$base/manifest.json" | cut -d' ' -f1) $(sqlite3 "$reg" "SELECT status FROM runs WHERE run_id='$base'")"
rm -rf "$TMP/gone" && mv "$DIR/eval/$base" "$TMP/gone"
check_fails "a registered id is refused even when its directory is gone" 1 "registered run" \
    "$ATTN" eval run --repo $R --cohort "$TMP/c.json" --router popularity --run-id "$base" --quiet
mv "$TMP/gone" "$DIR/eval/$base"
check_fails "_compare is reserved" 2 "reserved" \
    "$ATTN" eval run --repo $R --cohort "$TMP/c.json" --router popularity --run-id _compare --quiet
check_fails "so is a temporary-tree name" 2 "reserved" \
    "$ATTN" eval run --repo $R --cohort "$TMP/c.json" --router popularity --run-id .tmp-x-1 --quiet
check "--force replaces it" "$ATTN" eval run --repo $R --cohort "$TMP/c.json" --router popularity \
    --run-id "$base" --force --quiet
check_eq "the registry records the replacement" "failed replaced" \
    "$(sqlite3 "$reg" "SELECT status, (SELECT action FROM events WHERE run_id='$base' ORDER BY id DESC LIMIT 1) FROM runs WHERE run_id='$base'" | tr '|' ' ')"
check_eq "naming what replaced it" "1" \
    "$(sqlite3 "$reg" "SELECT error LIKE '%replaced by%--force%' FROM runs WHERE run_id='$base'")"
# --force on an id nobody has used: a plain run (it failed once, after writing the run)
check "--force with a new id is a plain run" "$ATTN" eval run --repo $R --cohort "$TMP/c.json" \
    --router popularity --run-id fresh-id --force --quiet
check_eq "which the registry does not list" "0" \
    "$(sqlite3 "$reg" "SELECT count(*) FROM runs WHERE run_id='fresh-id'")"
done_testing
