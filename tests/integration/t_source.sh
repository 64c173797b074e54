# Rules about the source itself (issue 19): no function in src/ runs over 150
# lines. Function bodies open and close with a brace in column 0 (the style of
# every file), which is what the count relies on.
. "$(dirname "$0")/lib.sh"

long=$(for f in "$ATTN_ROOT"/src/*.c "$ATTN_ROOT"/src/*/*.c; do
    awk -v f="${f#"$ATTN_ROOT"/}" '/^\{/ { s = FNR } /^\}/ { if (s && FNR - s + 1 > 150) print f ":" s " " FNR - s + 1 " lines"; s = 0 }' "$f"
done)
check_eq "no function in src/ is over 150 lines" "" "$long"
done_testing
