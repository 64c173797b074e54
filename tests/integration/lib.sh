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
