#!/bin/sh
# attn init and attn contract check, end to end on the real binary.
. "$(dirname "$0")/lib.sh"

DB="$ATTN_DATA_DIR/github/octo/demo/history.sqlite"
check "init creates the store" "$ATTN" init --repo octo/demo
check_eq "init prints the path" "$DB" "$(cat "$TMP/out")"
check "init is idempotent" "$ATTN" init --repo octo/demo --quiet
check_eq "--quiet prints nothing" "" "$(cat "$TMP/out")"
check "contract check passes on a fresh store" "$ATTN" contract check --repo octo/demo
check_eq "summary line" "contract attn.contract.v2: OK (31 tables, 0 intervals checked)" "$(cat "$TMP/out")"
check "contract check --json" "$ATTN" contract check --repo octo/demo --json
if grep -q '"ok": true' "$TMP/out" && grep -q '"schema_version": 2' "$TMP/out"; then ok "json report"; else not_ok "json report"; fi
check_fails "missing store names the path and attn init" 1 "octo/none/history.sqlite.*attn init" \
    "$ATTN" contract check --repo octo/none
check_fails "contract without a subcommand is bad usage" 2 "check" "$ATTN" contract --repo octo/demo
check_fails "init without --repo is bad usage" 2 "repo" "$ATTN" init
check_fails "bad repo name is bad usage" 2 "" "$ATTN" init --repo ../x
mkdir -p "$ATTN_DATA_DIR/github/octo/junk"
head -c 4096 /dev/urandom > "$ATTN_DATA_DIR/github/octo/junk/history.sqlite"
check_fails "garbage file is refused" 1 "is not an attn history database" \
    "$ATTN" contract check --repo octo/junk
# damage: drop a required index
sqlite3 "$DB" "DROP INDEX ix_events_subject" 2>/dev/null || \
    python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('DROP INDEX ix_events_subject'); c.commit()" "$DB"
"$ATTN" contract check --repo octo/demo >"$TMP/out" 2>"$TMP/err"; rc=$?
check_eq "damaged store fails with exit 1" 1 "$rc"
if grep -q "^FAIL missing_index events(subject_type,subject_id,occurred_at)" "$TMP/out" &&
   grep -q "FAILED (1 finding)" "$TMP/out"; then ok "finding and summary printed"; else not_ok "finding and summary printed"; fi
done_testing
