#!/bin/sh
# t_export.sh - `attn export parquet` end to end: every file read back by
# DuckDB (tests/duckdb/compare.py) and compared row by row with the SQLite
# store, with NULLs, non-ASCII text, timestamps, many row groups and a
# dictionary that overflows; an empty export; the manifest's hashes and
# counts; byte-identical reruns; no partial folder on failure; one-line errors.
. "$(dirname "$0")/lib.sh"
R=synth/sample
DB=$ATTN_DATA_DIR/github/synth/sample/history.sqlite
EX=$ATTN_DATA_DIR/exports/synth/sample
ROOT=${ATTN_ROOT:-$PWD}
export ATTN_ROOT=$ROOT

"$ATTN" synth --prs 300 --seed 9 -o "$TMP/b.json" >/dev/null 2>&1
check "load a synthetic history" "$ATTN" load --repo $R --bundle "$TMP/b.json" --quiet
# Edge cases the synthetic history lacks: non-ASCII logins and titles, an
# author-less PR, an empty title, a NULL file status.
sqlite3 "$DB" "UPDATE users SET login = 'jürgen-日本' WHERE id = (SELECT min(id) FROM users WHERE type = 'User');
  UPDATE pull_requests SET user_id = NULL WHERE number = 7;
  UPDATE issue_content_intervals SET title = 'fix: naïve “quotes”, emoji 🚀' WHERE id IN (SELECT id FROM issue_content_intervals LIMIT 5);
  UPDATE issue_content_intervals SET title = '' WHERE id = (SELECT max(id) FROM issue_content_intervals);
  UPDATE pull_request_files SET status = NULL WHERE rowid IN (SELECT rowid FROM pull_request_files LIMIT 3);"

check "export with small row groups and a tiny dictionary" "$ATTN" export parquet --repo $R \
    --export-run-id e1 --include-text --include-truth --row-group-rows 64 --dict-bytes 48 --quiet
check_eq "no temporary folder is left" "" "$(ls -A "$EX" | grep tmp)"

# compare NAME SQLITE_SQL DUCKDB_SELECT: DuckDB reads $EX/e1/NAME.parquet as t.
compare() {
    name=$1; lite=$2; duck=$(echo "$3" | sed "s|FROM t|FROM read_parquet('$EX/e1/$1.parquet') t|")
    out=$(python3 "$ROOT/tests/duckdb/compare.py" "$DB" "$lite" "$duck" 2>&1); rc=$?
    if [ $rc -eq 77 ]; then ok "# SKIP $name: DuckDB not installed"
    elif [ $rc -eq 0 ]; then ok "$name.parquet equals the store row by row ($out)"
    else not_ok "$name.parquet equals the store: $out"; fi
}
HEAD="(SELECT i.head_sha FROM pull_request_head_intervals i WHERE i.pull_request_id = p.id
  AND i.start_at <= p.created_at AND coalesce(i.end_at, 1e18) > p.created_at ORDER BY i.start_at DESC, i.id DESC LIMIT 1)"
compare prs \
  "SELECT p.number, p.created_at, u.login, u.type, $HEAD, p.merged_at, p.closed_at FROM pull_requests p
   LEFT JOIN users u ON u.id = p.user_id ORDER BY p.number" \
  "SELECT pr_number, epoch(cutoff)::BIGINT, author_login, author_type, head_sha, epoch(merged_at)::BIGINT,
   epoch(closed_at)::BIGINT FROM t ORDER BY pr_number"
compare pr_files \
  "SELECT p.number, f.path, f.status, f.additions, f.deletions, f.changes FROM pull_requests p
   JOIN pull_request_files f ON f.pull_request_id = p.id AND f.head_sha = $HEAD ORDER BY p.number, f.path" \
  "SELECT pr_number, path, status, additions, deletions, changes FROM t ORDER BY pr_number, path"
compare pr_activity \
  "SELECT * FROM (SELECT p.number, r.submitted_at AS at, u.login, 'review_submitted' AS kind, r.id AS sid
   FROM reviews r JOIN pull_requests p ON p.id = r.pull_request_id LEFT JOIN users u ON u.id = r.user_id
   UNION ALL SELECT p.number, c.created_at, u.login, CASE c.comment_type WHEN 'review' THEN
   'review_comment_created' ELSE 'comment_created' END, c.id FROM comments c JOIN pull_requests p
   ON p.id = c.pull_request_id LEFT JOIN users u ON u.id = c.user_id) ORDER BY at, number, kind, sid" \
  "SELECT pr_number, epoch(occurred_at)::BIGINT, actor_login, kind, source_id FROM t"
compare prs_text \
  "SELECT p.number, c.title, c.body FROM pull_requests p LEFT JOIN issue_content_intervals c ON c.id =
   (SELECT i.id FROM issue_content_intervals i WHERE i.issue_id = p.issue_id AND i.start_at <= p.created_at
    AND coalesce(i.end_at, 1e18) > p.created_at ORDER BY i.start_at DESC, i.id DESC LIMIT 1) ORDER BY p.number" \
  "SELECT pr_number, title, body FROM t ORDER BY pr_number"
compare truth_intent \
  "SELECT p.number, i.start_at, i.reviewer_type FROM pull_requests p JOIN pull_request_review_request_intervals i
   ON i.pull_request_id = p.id AND i.start_at >= p.created_at AND i.start_at < p.created_at + 3600
   ORDER BY 1, 2, 3" \
  "SELECT pr_number, epoch(requested_at)::BIGINT, target_type FROM t ORDER BY 1, 2, 3"
compare truth_behavior \
  "SELECT count(*), count(DISTINCT number) FROM pull_requests" \
  "SELECT count(*), count(DISTINCT pr_number) FROM t"
compare prs "SELECT 'multi row groups', 1" \
  "SELECT 'multi row groups', (count(DISTINCT row_group_id) > 3)::INT FROM parquet_metadata('$EX/e1/prs.parquet')"
compare prs "SELECT 'dictionary then PLAIN', 1" \
  "SELECT 'dictionary then PLAIN', (count(*) > 0)::INT FROM parquet_metadata('$EX/e1/pr_activity.parquet')
   WHERE path_in_schema = 'actor_login' AND encodings LIKE '%PLAIN_DICTIONARY%' AND encodings LIKE '%PLAIN,%'"
compare prs "SELECT 'non-ASCII login', 1" \
  "SELECT 'non-ASCII login', (count(*) > 0)::INT FROM read_parquet('$EX/e1/pr_activity.parquet') WHERE actor_login = 'jürgen-日本'"

# the manifest: hashes, counts, contract
M=$EX/e1/export_manifest.json
check_eq "manifest contract version" "attn.export.v1" "$(jq -r .contract_version "$M")"
bad=0
for f in $(jq -r '.tables[] | .file' "$M"); do
    t=${f%.parquet}
    [ "$(sha256sum "$EX/e1/$f" | cut -d' ' -f1)" = "$(jq -r ".tables.$t.sha256" "$M")" ] || bad=1
done
check_eq "every file's sha256 matches the manifest" "0" "$bad"
check_eq "six tables with text and truth" "6" "$(jq '.tables | length' "$M")"
check_eq "prs has one row per PR" "$(sqlite3 "$DB" 'SELECT count(*) FROM pull_requests')" "$(jq .tables.prs.rows "$M")"
check_eq "every column states its as-of rule" "0" "$(jq '[.tables[].columns[] | select(.as_of == null)] | length' "$M")"

# determinism, refusal to overwrite
check "export again under another id" "$ATTN" export parquet --repo $R --export-run-id e2 \
    --include-text --include-truth --row-group-rows 64 --dict-bytes 48 --quiet
check_eq "the manifests differ only by the export id" "" \
    "$(jq -S 'del(.export_run_id)' "$EX/e1/export_manifest.json" | cmp - "$(jq -S 'del(.export_run_id)' "$EX/e2/export_manifest.json" >"$TMP/m2"; echo "$TMP/m2")")"
check_eq "parquet files are byte-identical on rerun" "0" \
    "$(for f in "$EX"/e1/*.parquet; do cmp -s "$f" "$EX/e2/$(basename "$f")" || echo x; done | wc -l | tr -d ' ')"
check_fails "an existing export id is refused" 1 "already exists" \
    "$ATTN" export parquet --repo $R --export-run-id e1 --quiet

# an empty window: files with zero rows that DuckDB reads
check "export an empty window" "$ATTN" export parquet --repo $R --export-run-id empty \
    --from 1999-01-01 --end-at 1999-02-01 --quiet
out=$(python3 "$ROOT/tests/duckdb/compare.py" "$DB" "SELECT 0, 0" \
    "SELECT (SELECT count(*) FROM read_parquet('$EX/empty/prs.parquet')), (SELECT count(*) FROM read_parquet('$EX/empty/pr_files.parquet'))" 2>&1)
case $? in 0) ok "empty tables read by DuckDB";; 77) ok "# SKIP DuckDB not installed";; *) not_ok "empty tables: $out";; esac

# the boundary model: memberships.parquet read by DuckDB, one primary area per file
T=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', (min(created_at) + max(created_at)) / 2, 'unixepoch') FROM pull_requests")
check "boundary build" "$ATTN" boundary build --repo $R --as-of "$T" --out "$TMP/bnd"
check_eq "boundary manifest rows = model memberships" "$(jq .memberships "$TMP/bnd/boundary_model.json")" \
    "$(jq '.files["memberships.parquet"].rows' "$TMP/bnd/manifest.json")"
out=$(python3 "$ROOT/tests/duckdb/compare.py" "$DB" "SELECT $(jq .files "$TMP/bnd/boundary_model.json"), 0, 1" \
    "SELECT count(*) FILTER (WHERE is_primary), count(*) FILTER (WHERE weight <= 0 OR weight > 1),
     (count(DISTINCT file) = count(*) FILTER (WHERE is_primary))::INT FROM read_parquet('$TMP/bnd/memberships.parquet')" 2>&1)
case $? in 0) ok "memberships.parquet: one primary area per file, weights in (0, 1]";; 77) ok "# SKIP DuckDB not installed";; *) not_ok "memberships: $out";; esac
check "boundary build again (same folder, replaced)" "$ATTN" boundary build --repo $R --as-of "$T" --out "$TMP/bnd2"
check_eq "the model is byte-identical on rebuild" "" "$(cmp "$TMP/bnd/memberships.parquet" "$TMP/bnd2/memberships.parquet")"
check_fails "boundary needs --as-of" 2 "as-of" "$ATTN" boundary build --repo $R
check_fails "boundary: a bad --as-of" 2 "as-of" "$ATTN" boundary build --repo $R --as-of yesterday

check_fails "a bad repo name" 2 "repo" "$ATTN" export parquet --repo 'bad name' --export-run-id x
check_fails "a bad export id" 2 "export-run-id" "$ATTN" export parquet --repo $R --export-run-id ../x
check_fails "a bad --from" 2 "from" "$ATTN" export parquet --repo $R --export-run-id x --from 2024-13-01
check_fails "--end-at before --from" 2 "after --from" "$ATTN" export parquet --repo $R --export-run-id x \
    --from 2024-02-01 --end-at 2024-01-01
check_fails "an unknown repository" 1 "no history store" "$ATTN" export parquet --repo no/such --export-run-id x
check_fails "a missing --export-run-id" 2 "export-run-id" "$ATTN" export parquet --repo $R
check_fails "an unknown subcommand" 2 "unknown subcommand" "$ATTN" export nope
check "export --help" "$ATTN" export parquet --help
check_eq "help gives an example" "1" "$(grep -c '^example:' "$TMP/out")"
done_testing
