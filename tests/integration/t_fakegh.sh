# The fake GitHub API's self-test (tests/fakegh/test_fakegh.py prints the TAP lines).
# Needs python3 (standard library only); does not use $ATTN_BIN.
cd "$(dirname "$0")/../.." || exit 1
if ! command -v python3 >/dev/null 2>&1; then
    echo "not ok 1 - python3 is needed to run the fake GitHub API (tests/fakegh)"
    exit 1
fi
exec python3 tests/fakegh/test_fakegh.py
