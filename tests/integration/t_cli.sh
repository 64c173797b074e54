# The command table and top-level error handling of the real binary.
. "$(dirname "$0")/lib.sh"

check "attn --help lists commands" sh -c "$ATTN --help | grep -q 'contract'"
check "attn version names the contract" sh -c "$ATTN --version | grep -q 'attn.contract.v2'"
check_fails "no command is a usage error" 2 "missing command" $ATTN
check_fails "unknown command names it" 2 "unknown command 'frobnicate'" $ATTN frobnicate
check_fails "bad repo name is rejected before touching disk" 2 "invalid repository '../etc'" \
    $ATTN init --repo ../etc
check_eq "nothing was created for the bad repo" "no" "$( [ -e "$ATTN_DATA_DIR" ] && echo yes || echo no)"
# One rule for "asks for help": -h or --help before "--"; after it, "-h" is an
# argument (a run id, a file) in every command, not only those attn_cli_parse reads.
for c in "classify --patterns datadecide" "runs import --source wandb --patterns datadecide" \
         "export parquet" "route --repo o/r"; do
    check_eq "attn $c -- -h is no request for help" "0" \
        "$($ATTN $c -- -h 2>/dev/null | grep -c '^usage:')"
    check_eq "attn $c --help is" "1" "$($ATTN $c --help 2>/dev/null | grep -c '^usage:')"
done
done_testing
