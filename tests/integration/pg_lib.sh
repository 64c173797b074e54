# pg_lib.sh - a throwaway PostgreSQL 15 cluster for integration tests
# (sourced after lib.sh). start_pg initdb's a cluster in $TMP/pg, listening
# only on a Unix socket in that folder, and sets PG_URL; stop_pg stops it.
# PostgreSQL refuses to run as root: as root the cluster belongs to the
# 'postgres' user (runuser); otherwise to the current user. Without the
# server binaries, start_pg returns 1 (callers skip).
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=""
PG_URL=""
pg_as() { # run a server command as the cluster's owner
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
start_pg() {
    [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] || return 1
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then return 1; fi
    PG_DIR=$(mktemp -d /tmp/attn-pg-XXXXXX)
    chmod 755 "$PG_DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
    owner=$(if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi)
    pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$owner" --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$TMP/initdb.log" 2>&1 || { echo "# initdb failed: $(tail -3 "$TMP/initdb.log")"; return 1; }
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 \
        -o "-c listen_addresses='' -k $PG_DIR -c fsync=off -c max_connections=20" start \
        >"$TMP/pgctl.log" 2>&1 || { echo "# pg_ctl start failed: $(tail -3 "$PG_DIR/log")"; return 1; }
    PG_URL="postgresql:///postgres?host=$PG_DIR&user=$owner"
    return 0
}
stop_pg() {
    if [ -n "$PG_DIR" ]; then
        pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
        rm -rf "$PG_DIR"
        PG_DIR=""
    fi
}
# psql_q SQL: one value, unaligned (psql from the same server package)
psql_q() { "$PG_BIN/psql" -X -A -t -q "$PG_URL" -c "$1"; }
