#!/bin/sh
# t_faults.sh - the fault-injection harness (issue 18): `attn ingest` and
# `attn load` are killed at random points, run out of disk (a file-size limit:
# writes fail with EFBIG, as on a full disk) and fed malformed bodies; after a
# clean rerun every table of the store must equal a clean store's (sorted dump
# without ids and fetch times). ATTN_FAULT_SWEEP=N raises the number of kill
# points per command (default 3) for a longer sweep.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REPO=synth/sample
N=${ATTN_FAULT_SWEEP:-3}
trap 'stop_fake; rm -rf "$TMP"' EXIT

dump() {
    db=$1
    for t in $(sqlite3 "$db" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN
            ('watermarks', 'ingestion_checkpoints', 'qa_reports', 'object_snapshots', 'ingestion_gaps',
             'sqlite_sequence') ORDER BY name"); do
        cols=$(sqlite3 "$db" "SELECT group_concat(name, ',') FROM pragma_table_info('$t')
               WHERE name <> 'id' AND name NOT LIKE '%event_id'")
        echo "== $t"
        sqlite3 "$db" "SELECT $cols FROM $t ORDER BY $cols"
    done
    echo "== object_snapshots"
    sqlite3 "$db" "SELECT resource, source_id, hex(payload) FROM object_snapshots ORDER BY 1, 2"
    echo "== open gaps"
    sqlite3 "$db" "SELECT resource, pull_request_number FROM ingestion_gaps WHERE resolved_at IS NULL ORDER BY 1, 2"
}
db_of() { echo "$1/github/synth/sample/history.sqlite"; }
same() { # DESC REF_DUMP DIR
    dump "$(db_of "$3")" >"$TMP/x.dump" 2>&1
    if cmp -s "$2" "$TMP/x.dump"; then ok "$1"
    else not_ok "$1"; diff "$2" "$TMP/x.dump" | head -6 | sed 's/^/# /'; fi
}
start_fake_() {
    start_fake "$@"
    i=0; while [ -z "$PORT" ] && [ $i -lt 600 ]; do sleep 0.1; PORT=$(cat "$TMP/port" 2>/dev/null); i=$((i + 1)); done
    API=http://127.0.0.1:$PORT
}
# kill_at CMD... : run CMD in the background and kill -9 it after a random
# delay (seeded by $K so a failure can be replayed)
kill_at() {
    "$@" >/dev/null 2>&1 &
    p=$!
    sleep "$(awk -v s="$K" 'BEGIN { srand(s * 7919 + 17); printf "%.2f", 0.05 + rand() * 1.5 }')"
    kill -9 $p 2>/dev/null; wait $p 2>/dev/null
}
# limited KB CMD...: run CMD with writes beyond KB kilobytes failing (EFBIG,
# SIGXFSZ ignored) - a full disk as far as the process can tell
limited() { kb=$1; shift; ( trap '' XFSZ; ulimit -f "$kb"; exec "$@" ); }

"$ATTN" synth --prs 150 --seed 11 -o "$TMP/b.json" 2>/dev/null

# ---- ingest ------------------------------------------------------------------------------
start_fake_ "$TMP/b.json"
"$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$TMP/ref" --quiet
dump "$(db_of "$TMP/ref")" >"$TMP/ref.dump"
start_fake_ "$TMP/b.json" --slow-rate 0.3 --slow-seconds 0.02
K=1; while [ $K -le "$N" ]; do kill_at "$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$TMP/k"; K=$((K + 1)); done
check "ingest after $N kill -9 at random points" "$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$TMP/k" --quiet
same "ingest: killed and resumed = clean" "$TMP/ref.dump" "$TMP/k"
for kb in 300 1200; do
    limited $kb "$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$TMP/f$kb" --quiet >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then ok "ingest with the disk full at ${kb} KB: exit 1, one line"
    else not_ok "ingest disk full at $kb KB: exit $rc, $(head -c 300 "$TMP/err")"; fi
    check "ingest rerun with room" "$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$TMP/f$kb" --quiet
    same "ingest: disk full then rerun = clean" "$TMP/ref.dump" "$TMP/f$kb"
done
for mode in "--truncate-rate 0.2 --truncate-mode bad-json" "--truncate-rate 0.2 --truncate-mode short-read" \
            "--empty-page-rate 0.4" "--fail-rate 0.1"; do
    d=$TMP/m$(echo "$mode" | tr -cd 'a-z0-9')
    # shellcheck disable=SC2086
    start_fake_ "$TMP/b.json" --seed 3 $mode
    "$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$d" --quiet >/dev/null 2>&1
    start_fake_ "$TMP/b.json"
    "$ATTN" ingest --repo $REPO --api-url "$API" --data-dir "$d" --quiet >/dev/null 2>&1
    same "ingest: faulty ($mode) then clean = clean" "$TMP/ref.dump" "$d"
done
stop_fake

# ---- load --------------------------------------------------------------------------------
"$ATTN" load --repo $REPO --bundle "$TMP/b.json" --data-dir "$TMP/lref" --quiet
dump "$(db_of "$TMP/lref")" >"$TMP/lref.dump"
K=1; while [ $K -le "$N" ]; do kill_at "$ATTN" load --repo $REPO --bundle "$TMP/b.json" --data-dir "$TMP/lk"; K=$((K + 1)); done
check "load after $N kill -9 at random points" "$ATTN" load --repo $REPO --bundle "$TMP/b.json" --data-dir "$TMP/lk" --quiet
same "load: killed and rerun = clean" "$TMP/lref.dump" "$TMP/lk"
limited 400 "$ATTN" load --repo $REPO --bundle "$TMP/b.json" --data-dir "$TMP/lf" --quiet >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then ok "load with the disk full: exit 1, one line"
else not_ok "load disk full: exit $rc, $(head -c 300 "$TMP/err")"; fi
check "load rerun with room" "$ATTN" load --repo $REPO --bundle "$TMP/b.json" --data-dir "$TMP/lf" --quiet
same "load: disk full then rerun = clean" "$TMP/lref.dump" "$TMP/lf"
head -c 30000 "$TMP/b.json" >"$TMP/trunc.json"
check_fails "a truncated bundle: exit 2" 2 "" "$ATTN" load --repo $REPO --bundle "$TMP/trunc.json" --data-dir "$TMP/lref"
same "and the store is unchanged" "$TMP/lref.dump" "$TMP/lref"
done_testing
