# The command table and top-level error handling of the real binary.
. "$(dirname "$0")/lib.sh"

check "attn --help lists commands" sh -c "$ATTN --help | grep -q 'contract'"
check "attn version names the contract" sh -c "$ATTN --version | grep -q 'attn.contract.v2'"
check_fails "no command is a usage error" 2 "missing command" $ATTN
check_fails "unknown command names it" 2 "unknown command 'frobnicate'" $ATTN frobnicate
check_fails "bad repo name is rejected before touching disk" 2 "invalid repository '../etc'" \
    $ATTN init --repo ../etc
check_eq "nothing was created for the bad repo" "no" "$( [ -e "$ATTN_DATA_DIR" ] && echo yes || echo no)"
done_testing
