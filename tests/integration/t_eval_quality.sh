#!/bin/sh
# t_eval_quality.sh - the evaluation can tell good routers from bad ones: on a
# synthetic history whose reviewers have known habits (home areas, activity,
# CODEOWNERS; see src/synth/synth.h), the better-informed routers beat the
# baselines with non-overlapping 95% bootstrap intervals (observed PRs,
# first_response truth, cutoff = created_at):
#   hybrid beats popularity and mentions on hit@1 and MRR;
#   stewards beats popularity on MRR and mentions on both;
#   path_similarity beats mentions on both.
# (stewards and popularity tie on hit@1 here: both put the busiest
# maintainer first, and maintainers answer most PRs first in this model.)
. "$(dirname "$0")/lib.sh"
R=synth/sample
"$ATTN" synth --prs 5000 --seed 7 -o "$TMP/b.json" >/dev/null 2>&1
check "load a 5,000-PR synthetic history" "$ATTN" load --repo $R --bundle "$TMP/b.json" --quiet
DB=$ATTN_DATA_DIR/github/$R/history.sqlite
from=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(created_at) + (max(created_at) - min(created_at)) * 40 / 100, 'unixepoch') FROM pull_requests")
end=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', max(created_at) - 3 * 86400, 'unixepoch') FROM pull_requests")
check "eval five routers over the later 60% of the history" "$ATTN" eval run --repo $R \
    --from "$from" --end-at "$end" --router popularity --router mentions --router stewards \
    --router path_similarity --router hybrid --quiet --json
rep=$(jq -r .run_dir "$TMP/out")/report.json
pol=$(jq -r .primary_policy "$rep")
check_eq "more than 2,000 observed PRs" "true" "$(jq --arg p "$pol" '.metrics[$p].popularity.observed.n > 2000' "$rep")"
# beats BETTER WORSE METRIC: the better router's interval lies above the worse one's
beats() {
    v=$(jq -r --arg p "$pol" --arg a "$1" --arg b "$2" --arg m "$3" \
        '.metrics[$p] as $x | "\($x[$a].observed.ci95[$m][0]) \($x[$b].observed.ci95[$m][1])"' "$rep")
    lo=${v% *} hi=${v#* }
    if awk -v l="$lo" -v h="$hi" 'BEGIN { exit !(l > h) }'; then ok "$1 beats $2 on $3 ($lo > $hi)"
    else not_ok "$1 beats $2 on $3 (interval low $lo, other's high $hi)"; fi
}
for m in hit_at_1 mrr; do
    beats hybrid popularity $m
    beats hybrid mentions $m
    beats stewards mentions $m
    beats path_similarity mentions $m
done
beats stewards popularity mrr
done_testing
