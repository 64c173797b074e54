#!/bin/sh
# Run every test: the cmocka unit binaries (TAP output) and the integration
# scripts in tests/integration (TAP too). Ends with "N passed, N failed".
# Env: ATTN_BIN (the attn binary), BUILD (build dir holding tests/).
set -u
cd "$(dirname "$0")/.."
: "${BUILD:=build/rel}"
: "${ATTN_BIN:=$PWD/attn}"
export ATTN_BIN CMOCKA_MESSAGE_OUTPUT=TAP
export ATTN_ROOT="$PWD"
pass=0 fail=0
failed_names=""
log=$(mktemp)
run_one() { # name, command...
    name=$1; shift
    "$@" >"$log" 2>&1
    rc=$?
    p=$(grep -c '^ok ' "$log")
    f=$(grep -c '^not ok ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi  # a crash counts as a failure
    pass=$((pass + p)); fail=$((fail + f))
    if [ "$f" -ne 0 ]; then
        failed_names="$failed_names $name"
        echo "--- $name (exit $rc)"; grep -v '^ok ' "$log" | tail -40
    else
        printf '%-40s %d ok\n' "$name" "$p"
    fi
}
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    run_one "$(basename "$t")" "$t"
done
for t in tests/integration/t_*.sh; do
    [ -f "$t" ] || continue
    run_one "$(basename "$t")" sh "$t"
done
rm -f "$log"
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
