#!/bin/sh
# t_export_run.sh - `attn export run`: the flat long tables of an eval run,
# as Parquet (read by DuckDB) and CSV. The per-(router, policy) means of
# hit@1 and reciprocal rank over observed truth equal report.json's; the
# candidate table agrees with top1 and n_candidates; CSV and Parquet hold the
# same rows; a corrupt run leaves nothing behind; one-line errors.
. "$(dirname "$0")/lib.sh"
R=synth/sample
DB=$ATTN_DATA_DIR/github/synth/sample/history.sqlite
EX=$ATTN_DATA_DIR/exports/synth/sample
ROOT=${ATTN_ROOT:-$PWD}
export ATTN_ROOT=$ROOT

"$ATTN" synth --prs 300 --seed 5 -o "$TMP/b.json" >/dev/null 2>&1
check "load a synthetic history" "$ATTN" load --repo $R --bundle "$TMP/b.json" --quiet
from=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(created_at) + 40*86400, 'unixepoch') FROM pull_requests")
end=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', max(created_at) - 5*86400, 'unixepoch') FROM pull_requests")
check "an eval run with two routers" "$ATTN" eval run --repo $R --router popularity --router mentions \
    --from "$from" --end-at "$end" --run-id r1 --bootstrap 20 --quiet
RUN=$ATTN_DATA_DIR/github/synth/sample/eval/r1
check "export run as parquet" "$ATTN" export run r1 --repo $R --quiet
check "export run as csv" "$ATTN" export run r1 --repo $R --format csv -o "$TMP/csv" --quiet
P=$EX/run-r1-parquet

duck() { # DESC SQLITE_SQL DUCKDB_SQL
    out=$(python3 "$ROOT/tests/duckdb/compare.py" :memory: "$2" "$3" 2>&1); rc=$?
    if [ $rc -eq 77 ]; then ok "# SKIP $1: DuckDB not installed"
    elif [ $rc -eq 0 ]; then ok "$1 ($out)"; else not_ok "$1: $out"; fi
}
want=$(jq -r '[.metrics | to_entries[] | .key as $p | .value | to_entries[] |
  "SELECT \(.key|@json) AS r, \($p|@json) AS p, round(\(.value.observed.hit_at_1), 9), round(\(.value.observed.mrr), 9), \(.value.observed.n)"]
  | join(" UNION ALL ") + " ORDER BY 1, 2"' "$RUN/report.json" | tr '"' "'")
duck "hit@1, MRR and n per router and policy equal report.json" "$want" \
  "SELECT router, policy, round(avg(hit_at_1::INT), 9), round(avg(reciprocal_rank), 9), count(*)
   FROM read_parquet('$P/run_routes.parquet') WHERE truth_status = 'observed' GROUP BY ALL ORDER BY 1, 2"
duck "top1 is the rank-1 candidate" "SELECT 0" \
  "SELECT count(*) FROM read_parquet('$P/run_routes.parquet') r LEFT JOIN read_parquet('$P/run_candidates.parquet') c
   ON c.pr_number = r.pr_number AND c.router = r.router AND c.rank = 1 WHERE r.top1 IS DISTINCT FROM c.candidate"
duck "n_candidates counts the candidate rows" "SELECT 0" \
  "SELECT count(*) FROM (SELECT pr_number, router, max(n_candidates) n FROM read_parquet('$P/run_routes.parquet') GROUP BY ALL) r
   LEFT JOIN (SELECT pr_number, router, count(*) n FROM read_parquet('$P/run_candidates.parquet') GROUP BY ALL) c
   USING (pr_number, router) WHERE coalesce(c.n, 0) <> r.n"
duck "popularity candidates carry scores in rank order" "SELECT 0" \
  "SELECT count(*) FROM (SELECT score, lag(score) OVER (PARTITION BY pr_number ORDER BY rank) prev
   FROM read_parquet('$P/run_candidates.parquet') WHERE router = 'popularity') WHERE score IS NULL OR score > prev"
n_pr=$(wc -l <"$RUN/per_pr.jsonl" | tr -d ' ')
duck "run_truth has a row per PR and policy at least" "SELECT 1" \
  "SELECT (count(DISTINCT (pr_number, policy)) = 2 * $n_pr)::INT FROM read_parquet('$P/run_truth.parquet')"
for t in run_routes run_candidates run_truth; do
    duck "$t: CSV and Parquet hold the same rows" "SELECT 0" \
      "SELECT count(*) FROM ((SELECT * EXCLUDE (cutoff) FROM read_parquet('$P/$t.parquet') EXCEPT ALL
        SELECT * EXCLUDE (cutoff) FROM read_csv('$TMP/csv/$t.csv', header = true))
       UNION ALL (SELECT * EXCLUDE (cutoff) FROM read_csv('$TMP/csv/$t.csv', header = true)
        EXCEPT ALL SELECT * EXCLUDE (cutoff) FROM read_parquet('$P/$t.parquet')))"
done
check_eq "manifest rows match the CSV lines" "$(($(wc -l <"$TMP/csv/run_routes.csv") - 1))" \
    "$(jq .tables.run_routes.rows "$TMP/csv/export_manifest.json")"
check_eq "fixed column names" "run_id,repo,pr_number,cutoff,router,policy,truth_status,n_truth_targets,first_hit_rank,hit_at_1,hit_at_3,hit_at_5,reciprocal_rank,top1,n_candidates,confidence,risk" \
    "$(head -1 "$TMP/csv/run_routes.csv" | tr -d '\r')"

# failures
check_fails "an existing output folder" 1 "already exists" "$ATTN" export run r1 --repo $R --quiet
check_fails "an unknown run" 1 "no run nosuch" "$ATTN" export run nosuch --repo $R
check_fails "a bad format" 2 "parquet or csv" "$ATTN" export run r1 --repo $R --format xlsx
check_fails "a missing RUN_ID" 2 "RUN_ID" "$ATTN" export run --repo $R
cp -r "$RUN" "$ATTN_DATA_DIR/github/synth/sample/eval/broken"
printf '{"pr_number": 1, "routers": {}, "truth": {}}\n{not json\n' >>"$ATTN_DATA_DIR/github/synth/sample/eval/broken/per_pr.jsonl"
check_fails "a corrupt per_pr.jsonl names the line" 1 "per_pr.jsonl:$((n_pr + 2))" \
    "$ATTN" export run broken --repo $R -o "$TMP/broken" --quiet
check_eq "nothing is left behind" "" "$(ls -d "$TMP"/broken* 2>/dev/null)"
done_testing
