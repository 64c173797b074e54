#!/bin/sh
# t_records.sh - `attn records` against a real, throwaway PostgreSQL 15
# cluster (pg_lib.sh): push twice (no row changes: same xmin), the SQL script
# loaded twice through psql (idempotent, one transaction), views equal to
# report.json, a broken run dir (clear error, nothing written), the contract
# check (ok, then failing after tampering), bad URLs and usage. Skips when
# the PostgreSQL server binaries are absent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
trap 'stop_pg; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM HUP PIPE  # a killed test still stops its server (via the EXIT trap)
R=synth/sample
DB=$ATTN_DATA_DIR/github/synth/sample/history.sqlite
EVAL=$ATTN_DATA_DIR/github/synth/sample/eval
ROOT=${ATTN_ROOT:-$PWD}

check_eq "records migrations equal db/migrations/0001_eval_records.sql" "" \
    "$("$ATTN" records migrations | cmp - "$ROOT/db/migrations/0001_eval_records.sql" 2>&1)"
if ! start_pg; then
    ok "# SKIP PostgreSQL 15 server binaries not available"
    done_testing; exit 0
fi
PSQL="$PG_BIN/psql -X -q -v ON_ERROR_STOP=1"

"$ATTN" synth --prs 240 --seed 3 -o "$TMP/b.json" >/dev/null 2>&1
check "load a synthetic history" "$ATTN" load --repo $R --bundle "$TMP/b.json" --quiet
from=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(created_at) + 40*86400, 'unixepoch') FROM pull_requests")
end=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', max(created_at) - 5*86400, 'unixepoch') FROM pull_requests")
check "eval run r1" "$ATTN" eval run --repo $R --router popularity --router mentions \
    --from "$from" --end-at "$end" --run-id r1 --bootstrap 20 --quiet
check "eval run r2" "$ATTN" eval run --repo $R --router popularity --from "$from" --end-at "$end" \
    --run-id r2 --bootstrap 20 --quiet
samples() { jq -s '[.[] | .routers[] | .rank | length] | add' "$EVAL/$1/per_pr.jsonl"; }

check "push r1" "$ATTN" records push r1 --repo $R --pg "$PG_URL" --quiet
check_eq "one eval_samples row per (PR, router, policy)" "$(samples r1)" \
    "$(psql_q "SELECT count(*) FROM eval_samples WHERE run_id = 'r1'")"
v1=$(psql_q "SELECT count(*) || '/' || sum(xmin::text::bigint) FROM eval_samples")
r1=$(psql_q "SELECT xmin FROM eval_runs WHERE run_id = 'r1'")
check "push r1 again" "$ATTN" records push r1 --repo $R --pg "$PG_URL" --quiet
check_eq "a second push changes no sample row" "$v1" \
    "$(psql_q "SELECT count(*) || '/' || sum(xmin::text::bigint) FROM eval_samples")"
check_eq "a second push changes no run row" "$r1" "$(psql_q "SELECT xmin FROM eval_runs WHERE run_id = 'r1'")"
primary=$(jq -r .primary_policy "$EVAL/r1/report.json")
check_eq "eval_headline hit@1 equals report.json" \
    "$(jq -r --arg p "$primary" '.metrics[$p].popularity.observed.hit_at_1 * 1e9 | round' "$EVAL/r1/report.json")" \
    "$(psql_q "SELECT round(hit_at_1 * 1e9) FROM eval_headline WHERE run_id = 'r1' AND router = 'popularity' AND policy = '$primary'")"
check_eq "eval_runs.headline keeps the report's MRR" \
    "$(jq -r --arg p "$primary" '.metrics[$p].mentions.observed.mrr * 1e9 | round' "$EVAL/r1/report.json")" \
    "$(psql_q "SELECT round((headline->'mentions'->>'mrr')::numeric * 1e9) FROM eval_runs WHERE run_id = 'r1'")"

check "records sql r1 r2" "$ATTN" records sql r1 r2 --repo $R -o "$TMP/load.sql"
check_eq "the script is one transaction" "1 1" \
    "$(grep -c '^BEGIN;$' "$TMP/load.sql") $(grep -c '^COMMIT;$' "$TMP/load.sql")"
check "psql loads the script" $PSQL "$PG_URL" -f "$TMP/load.sql"
check_eq "r1 untouched by the script, r2 added" "$v1 $(samples r2)" \
    "$(psql_q "SELECT count(*) || '/' || sum(xmin::text::bigint) FROM eval_samples WHERE run_id = 'r1'") $(psql_q "SELECT count(*) FROM eval_samples WHERE run_id = 'r2'")"
v2=$(psql_q "SELECT count(*) || '/' || sum(xmin::text::bigint) FROM eval_samples")
check "psql loads the script again" $PSQL "$PG_URL" -f "$TMP/load.sql"
check_eq "loading the script twice changes nothing" "$v2" \
    "$(psql_q "SELECT count(*) || '/' || sum(xmin::text::bigint) FROM eval_samples")"
check_eq "the leaderboard ranks both routers" "2" \
    "$(psql_q "SELECT count(*) FROM eval_router_leaderboard WHERE policy = '$primary'")"

# broken run directories: a clear error and nothing written
cp -r "$EVAL/r1" "$EVAL/broken"
jq -c '.run_id = "broken"' "$EVAL/r1/report.json" >"$EVAL/broken/report.json"
printf '{"pr_number": 5, "routers": {"x": {"rank": {"p": 1}}}}\n{oops\n' >>"$EVAL/broken/per_pr.jsonl"
n=$(wc -l <"$EVAL/broken/per_pr.jsonl" | tr -d ' ')
check_fails "push of a broken run names the bad line" 1 "per_pr.jsonl:$n" \
    "$ATTN" records push r2 broken --repo $R --pg "$PG_URL" --quiet
check_eq "nothing of it was written" "0 $v2" \
    "$(psql_q "SELECT count(*) FROM eval_runs WHERE run_id = 'broken'") $(psql_q "SELECT count(*) || '/' || sum(xmin::text::bigint) FROM eval_samples")"
check_fails "records sql refuses it too" 1 "per_pr.jsonl:$n" "$ATTN" records sql broken --repo $R -o "$TMP/broken.sql"
check_eq "and writes no script" "" "$(ls "$TMP"/broken.sql* 2>/dev/null)"
rm "$EVAL/broken/report.json"
check_fails "a run without report.json" 1 "run broken is incomplete" \
    "$ATTN" records push broken --repo $R --pg "$PG_URL"

# the contract check
check "records check passes" "$ATTN" records check --repo $R --pg "$PG_URL" -o "$TMP/report.json"
check_eq "eval_run_report.json: ok, runs r1 and r2 matching their directories" "true r1,r2 true" \
    "$(jq -r '[.ok, ([.runs[].run_id] | join(",")), ([.runs[] | .ok and .report_sha256_match] | all)] | map(tostring) | join(" ")' "$TMP/report.json")"
psql_q "DELETE FROM eval_samples WHERE run_id = 'r2' AND pr_number IN (SELECT pr_number FROM eval_samples WHERE run_id = 'r2' LIMIT 3)"
check_fails "missing samples fail the check" 1 "breaks the contract" "$ATTN" records check --repo $R --pg "$PG_URL"
check_eq "the report names the run" "r2" "$(jq -r '[.runs[] | select(.ok == false) | .run_id] | join(",")' "$TMP/out")"
check "a push repairs it" "$ATTN" records push r2 --repo $R --pg "$PG_URL" --quiet
check "records check passes again" "$ATTN" records check --repo $R --pg "$PG_URL"
psql_q "ALTER TABLE eval_samples DROP CONSTRAINT eval_samples_run_id_fkey"
check_fails "a dropped foreign key fails the check" 1 "breaks the contract" "$ATTN" records check --repo $R --pg "$PG_URL"
check_eq "the report names the constraint" "eval_samples foreign key" \
    "$(jq -r '[.checks[] | select(.ok == false) | .name] | join(",")' "$TMP/out")"

check_fails "an unreachable database" 1 "cannot connect to PostgreSQL" \
    "$ATTN" records push r1 --repo $R --pg "postgresql:///nosuch?host=$TMP/nosock"
check_fails "push without --pg" 2 "pg URL is required" env -u ATTN_PG_URL "$ATTN" records push r1 --repo $R
check_fails "push without a run" 2 "RUN_ID" "$ATTN" records push --repo $R --pg "$PG_URL"
check_fails "an unknown run" 1 "no run nosuch" "$ATTN" records push nosuch --repo $R --pg "$PG_URL"
check_fails "an unknown subcommand" 2 "unknown subcommand" "$ATTN" records nope --repo $R
done_testing
