# Shared helpers for integration tests (sourced). Each check prints a TAP line.
# Tests run the real attn binary ($ATTN_BIN) in a scratch directory.
set -u
ATTN=${ATTN_BIN:?set ATTN_BIN}
T_N=0
T_FAIL=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export ATTN_DATA_DIR="$TMP/data"

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $1"; }
not_ok() { T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $1"; }

# check DESC CMD...: passes when CMD exits 0
check() { d=$1; shift; if "$@" >"$TMP/out" 2>"$TMP/err"; then ok "$d"; else not_ok "$d"; sed 's/^/# /' "$TMP/err" | head -5; fi; }
# check_fails DESC STATUS PATTERN CMD...: passes when CMD exits STATUS and stderr matches PATTERN
check_fails() {
    d=$1; want=$2; pat=$3; shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
    if [ "$rc" -eq "$want" ] && grep -q -- "$pat" "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then ok "$d"
    else not_ok "$d (exit $rc, want $want; stderr: $(head -c 300 "$TMP/err"))"; fi
}
# check_eq DESC EXPECTED ACTUAL
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (want '$2', got '$3')"; fi; }
done_testing() { echo "1..$T_N"; [ "$T_FAIL" -eq 0 ]; }

# The fake GitHub API (tests/fakegh) for scripts that need one. A script
# that uses it sets: trap 'stop_fake; rm -rf "$TMP"' EXIT
# start_fake BUNDLE [fakegh options...]: serve BUNDLE on a free loopback port
# (bounded wait for the port file); sets FAKE_PID, PORT and API.
FAKE_PID=""
PORT=""
start_fake() {
    stop_fake
    b=$1; shift
    rm -f "$TMP/port"
    python3 "$(dirname "$0")/../fakegh/fakegh.py" --bundle "$b" --port 0 --port-file "$TMP/port" \
        --max-lifetime 300 --log "$TMP/fake.log" "$@" 2>"$TMP/fake.err" &
    FAKE_PID=$!
    i=0; while [ ! -s "$TMP/port" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
    PORT=$(cat "$TMP/port" 2>/dev/null)
    API=http://127.0.0.1:$PORT
}
stop_fake() { if [ -n "$FAKE_PID" ]; then kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; FAKE_PID=""; fi; }
# stat JQ: a figure from the fake's request statistics.
stat() { curl -s "$API/_fake/stats" | jq -r "$1"; }
