#!/bin/sh
# t_owners.sh - `attn owners` end to end: JSON shape and values, the human
# table, stdin paths, invalid-line reporting, CRLF files, and error exits.
. "$(dirname "$0")/lib.sh"

# check_usage DESC PATTERN CMD...: exit 2 with one line naming the problem and the usage.
check_usage() { d=$1; pat=$2; shift 2; check_fails "$d" 2 "$pat.*usage:" "$@"; }

CO="$TMP/CODEOWNERS"
cat >"$CO" <<'EOF'
# default owners
*       @global-owner1 @global-owner2
*.js    @js-owner #This is an inline comment.
!*.log  @nobody
/docs/  @doctocat docs@example.com
/apps/  @octocat
/apps/github
src/[ab]/ @ranges
/build/logs/ @org/loggers
lib/ not-an-owner
EOF

# JSON: the fields of each path, checked with python3's json module.
check "json output parses" "$ATTN" owners --codeowners "$CO" --json README.md app/x.js docs/a.md apps/github/y apps/z build/logs/a.txt a.log 'src/[ab]/x.c' src/a/x.c
cp "$TMP/out" "$TMP/owners.json"
py() { python3 -c "import json,sys; d=json.load(open('$TMP/owners.json')); $1"; }
check_eq "paths in argument order" "README.md app/x.js docs/a.md apps/github/y apps/z build/logs/a.txt a.log src/[ab]/x.c src/a/x.c" \
    "$(py "print(' '.join(p['path'] for p in d['paths']))")"
check_eq "catch-all owners" "@global-owner1,@global-owner2 2 *" \
    "$(py "p=d['paths'][0]; print(','.join(p['owners']), p['line'], p['pattern'])")"
check_eq "last match wins for .js" "@js-owner 3 True" \
    "$(py "p=d['paths'][1]; print(' '.join(p['owners']), p['line'], p['owned'])")"
check_eq "email owner kept" "@doctocat docs@example.com" \
    "$(py "print(' '.join(d['paths'][2]['owners']))")"
check_eq "empty owners: unowned" "False 7 /apps/github []" \
    "$(py "p=d['paths'][3]; print(p['owned'], p['line'], p['pattern'], p['owners'])")"
check_eq "team owner" "@org/loggers" "$(py "print(' '.join(d['paths'][5]['owners']))")"
check_eq "negation line skipped, earlier rule applies" "2" "$(py "print(d['paths'][6]['line'])")"
check_eq "invalid lines reported with line numbers" "4 10" \
    "$(py "print(' '.join(str(i['line']) for i in d['invalid_lines']))")"
check_eq "invalid line reasons" "True True" \
    "$(py "r=[i['reason'] for i in d['invalid_lines']]; print('negation' in r[0], \"'not-an-owner'\" in r[1])")"
check_eq "brackets are literal: [ab] owns the path spelled [ab]" "@ranges 8" \
    "$(py "p=d['paths'][7]; print(' '.join(p['owners']), p['line'])")"
check_eq "brackets are no range: src/a/ is the catch-all's" "2" "$(py "print(d['paths'][8]['line'])")"
check_eq "keys sorted" "['invalid_lines', 'paths'] ['line', 'owned', 'owners', 'path', 'pattern']" \
    "$(py "print(list(d.keys()), list(d['paths'][0].keys()))")"

# No rule at all: owned false, line and pattern null.
printf '/only/ @x\n' >"$TMP/CO2"
check "no-rule path" "$ATTN" owners --codeowners "$TMP/CO2" --json elsewhere.c
check_eq "no rule gives nulls" "False None None []" \
    "$(python3 -c "import json; p=json.load(open('$TMP/out'))['paths'][0]; print(p['owned'], p['line'], p['pattern'], p['owners'])")"

# Paths from stdin, mixed with arguments; CR and blank lines ignored.
printf 'docs/x.md\r\n\nsrc/y.js\n' >"$TMP/paths"
"$ATTN" owners --codeowners "$CO" --json first.txt - <"$TMP/paths" >"$TMP/out" 2>"$TMP/err"
check_eq "stdin paths" "first.txt docs/x.md src/y.js" \
    "$(python3 -c "import json; print(' '.join(p['path'] for p in json.load(open('$TMP/out'))['paths']))")"

# Human table: header, one aligned row per path, invalid lines on stderr.
check "human table" "$ATTN" owners --codeowners "$CO" README.md apps/github/y nowhere/../x
check_eq "table rows" "4" "$(wc -l <"$TMP/out" | tr -d ' ')"
check_eq "table header" "PATH" "$(head -1 "$TMP/out" | cut -d' ' -f1)"
if grep -q '^apps/github/y  *(unowned)  *line 7: /apps/github$' "$TMP/out"; then ok "unowned row"; else not_ok "unowned row: $(cat "$TMP/out")"; fi
col1=$(sed -n 2p "$TMP/out" | awk '{print index($0, "@global")}')
col2=$(sed -n 3p "$TMP/out" | awk '{print index($0, "(unowned)")}')
check_eq "owners column aligned" "$col1" "$col2"
check_eq "invalid lines on stderr" "2" "$(grep -c 'skipped invalid line' "$TMP/err")"
if grep -q "CODEOWNERS:4: skipped invalid line (negation" "$TMP/err"; then ok "stderr names file and line"; else not_ok "stderr names file and line: $(cat "$TMP/err")"; fi
check "quiet hides invalid-line warnings" "$ATTN" owners --quiet --codeowners "$CO" README.md
check_eq "quiet stderr empty" "0" "$(wc -c <"$TMP/err" | tr -d ' ')"

# CRLF file: same answers.
sed 's/$/\r/' "$CO" >"$TMP/CO.crlf"
check "crlf file" "$ATTN" owners --codeowners "$TMP/CO.crlf" --json apps/github/y app/x.js
check_eq "crlf answers" "7 3 2" \
    "$(python3 -c "import json; d=json.load(open('$TMP/out')); print(d['paths'][0]['line'], d['paths'][1]['line'], len(d['invalid_lines']))")"

# Errors: one line on stderr, exit 1 for a missing file, 2 for bad usage/input.
check_fails "missing file" 1 "cannot read" "$ATTN" owners --codeowners "$TMP/nope" a.c
check_usage "no paths" "no paths" "$ATTN" owners --codeowners "$CO"
check_usage "no --codeowners" "codeowners FILE is required" "$ATTN" owners a.c
check_usage "unknown option" "unknown or incomplete option" "$ATTN" owners --bogus --codeowners "$CO" a.c
python3 -c "import sys; sys.stdout.write('* @a\n' + '#' * (3*1024*1024))" >"$TMP/big"
check_fails "file of 3 MB or more" 2 "3 MB" "$ATTN" owners --codeowners "$TMP/big" a.c
check "help" "$ATTN" owners --help
if grep -q "usage: attn owners" "$TMP/out"; then ok "help text"; else not_ok "help text"; fi

done_testing
