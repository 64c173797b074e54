#!/bin/sh
# t_nightly.sh - `attn nightly` end to end: the bundled sample served by the
# fake GitHub API, a spec, then the day's incremental, rolling cohort,
# experiment run, records push to a throwaway PostgreSQL and cleanup; a
# second run of the same day changes nothing; bad input exits 2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
trap 'stop_fake; stop_pg; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM HUP PIPE
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SAMPLE=$ROOT/sample/sample.json
R=synth/sample
D="--repo $R --data-dir $TMP/d"
DIR=$TMP/d/github/synth/sample

start_fake "$SAMPLE"
check "ingest the sample through the fake API" "$ATTN" ingest $D --api-url "$API" --quiet
last=$(sqlite3 "$DIR/history.sqlite" "SELECT strftime('%Y-%m-%d', max(created_at), 'unixepoch') FROM pull_requests")
first=$(sqlite3 "$DIR/history.sqlite" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(created_at), 'unixepoch') FROM pull_requests")
"$ATTN" cohort create $D --from "$first" --end-at "${last}T00:00:00Z" --limit 20 --out "$TMP/c0.json" >/dev/null 2>&1
check "a spec to run nightly" "$ATTN" experiment init $D --cohort "$TMP/c0.json" \
    --router popularity --router stewards --kind experimental --out "$TMP/spec.json" --quiet

# The day after the last PR, a 30-day window ending 2 days before it.
day=$(date -u -d "$last + 1 day" +%Y-%m-%d)
PG=""
if start_pg; then PG="--pg $PG_URL"; else echo "# no PostgreSQL: the records step is skipped"; fi
# shellcheck disable=SC2086
check "nightly" "$ATTN" nightly $D --spec "$TMP/spec.json" --date "$day" --days 30 \
    --api-url "$API" $PG --json
check_eq "the day's run" "nightly-$day" "$(jq -r .run_id "$TMP/out")"
check_eq "its directory holds a report" "1" "$([ -s "$DIR/eval/nightly-$day/report.json" ] && echo 1)"
check_eq "the day's cohort and spec are kept" "1 1" \
    "$([ -s "$DIR/nightly/$day/cohort.json" ] && echo 1) $([ -s "$DIR/nightly/$day/spec.json" ] && echo 1)"
check_eq "the spec is locked to the day's cohort" "$(jq -r .hash "$DIR/nightly/$day/cohort.json")" \
    "$(jq -r .cohort.hash "$DIR/nightly/$day/spec.json")"
want_end=$(date -u -d "$day - 2 days" +%Y-%m-%dT00:00:00Z)
check_eq "the window ends --lag-days before the day" "$want_end" "$(jq -r .end_at "$TMP/out")"
check_eq "the registry has it, completed" "completed" \
    "$(sqlite3 "$DIR/runs.sqlite" "SELECT status FROM runs WHERE run_id='nightly-$day'")"
if [ -n "$PG" ]; then
    check_eq "records pushed" "1" "$(psql_q "SELECT count(*) FROM eval_runs WHERE run_id='nightly-$day'")"
    n1=$(psql_q "SELECT count(*), max(xmin::text::bigint) FROM eval_samples")
fi
sum1=$(sqlite3 "$DIR/runs.sqlite" "SELECT count(*) FROM runs")
h1=$(find "$DIR/eval/nightly-$day" -type f -exec sha256sum {} + | sort | sha256sum)

# shellcheck disable=SC2086
check "nightly again, the same day" "$ATTN" nightly $D --spec "$TMP/spec.json" --date "$day" \
    --days 30 --api-url "$API" $PG
check_eq "says the day is done" "1" "$(grep -c 'already evaluated' "$TMP/err")"
check_eq "no new run" "$sum1" "$(sqlite3 "$DIR/runs.sqlite" "SELECT count(*) FROM runs")"
check_eq "the run directory is untouched" "$h1" \
    "$(find "$DIR/eval/nightly-$day" -type f -exec sha256sum {} + | sort | sha256sum)"
if [ -n "$PG" ]; then
    check_eq "the second push changes no row" "$n1" "$(psql_q "SELECT count(*), max(xmin::text::bigint) FROM eval_samples")"
fi

check_fails "a bad --date" 2 "is not a day" "$ATTN" nightly $D --spec "$TMP/spec.json" --date 2024-13-01
check_fails "no --spec" 2 "give --repo and --spec" "$ATTN" nightly $D
check_fails "a spec that is no spec" 2 "is not an experiment spec" \
    "$ATTN" nightly $D --spec "$TMP/c0.json" --date 2030-01-01 --no-incremental
stop_fake
"$ATTN" nightly $D --spec "$TMP/spec.json" --date 2030-01-02 --api-url "http://127.0.0.1:1" --quiet \
    >"$TMP/out" 2>"$TMP/err"
check_eq "a failing step exits 1" "1" "$?"
check_eq "the failing step is named" "1" "$(grep -c "nightly stopped at 'incremental'" "$TMP/err")"
check_eq "no cohort for the failed day" "0" "$([ -e "$DIR/nightly/2030-01-02/cohort.json" ] && echo 1 || echo 0)"
done_testing
