#!/bin/sh
# t_gh.sh - the CLI's gh habits, end to end against the fake GitHub API:
# --repo from GH_REPO, from the git remote of the current directory, in URL
# forms; the token from GITHUB_TOKEN, GH_TOKEN, or `gh auth token` (a stub
# gh on PATH); GITHUB_API_URL and GH_HOST; --json FIELDS and --jq; help,
# -h and "did you mean"; progress as a live line on a TTY (script(1)), as
# periodic lines otherwise, or none; --verbose request logs.
. "$(dirname "$0")/lib.sh"
REPO=synth/sample
trap 'stop_fake; rm -rf "$TMP"' EXIT
DB=$ATTN_DATA_DIR/github/synth/sample/history.sqlite
# Every check below controls these itself.
unset GH_REPO GH_TOKEN GITHUB_TOKEN GITHUB_API_URL GH_HOST

"$ATTN" synth --prs 60 --seed 3 -o "$TMP/b.json" >/dev/null 2>&1
start_fake "$TMP/b.json" --token right-token --rate-limit 1000000
# A directory that is no git repository, so no remote is found by accident.
mkdir -p "$TMP/plain" "$TMP/bin"
cd "$TMP/plain" || exit 1

# --- the repository ---------------------------------------------------------------
check_fails "no --repo, no GH_REPO, no remote: usage error" 2 "repo OWNER/NAME is required" \
    "$ATTN" init
GH_REPO=$REPO check "GH_REPO names the repository" "$ATTN" init --json
check_eq "GH_REPO: the store is created for it" "1" "$([ -s "$DB" ] && echo 1)"
check "https://github.com/O/R is accepted" "$ATTN" init --repo https://github.com/acme/web --json
check_eq "https form: acme/web" "1" "$([ -d "$ATTN_DATA_DIR/github/acme/web" ] && echo 1)"
check "git@github.com:O/R.git is accepted" "$ATTN" init --repo git@github.com:acme/api.git --json
check_eq "ssh form: acme/api" "1" "$([ -d "$ATTN_DATA_DIR/github/acme/api" ] && echo 1)"
check_fails "a URL without OWNER/NAME is refused" 2 "not a repository" \
    "$ATTN" init --repo https://github.com/acme
mkdir -p "$TMP/wc" && git -C "$TMP/wc" init -q && \
    git -C "$TMP/wc" remote add origin https://github.com/acme/from-remote.git
(cd "$TMP/wc" && "$ATTN" init --json >"$TMP/out" 2>"$TMP/err")
check_eq "the git remote of the current directory names the repository" "1" \
    "$([ -d "$ATTN_DATA_DIR/github/acme/from-remote" ] && echo 1)"
git -C "$TMP/wc" remote add upstream git@github.com:acme/upstream.git
(cd "$TMP/wc" && "$ATTN" init --quiet)
check_eq "gh's order: the upstream remote first" "1" \
    "$([ -d "$ATTN_DATA_DIR/github/acme/upstream" ] && echo 1)"
git -C "$TMP/wc" -c user.name=t -c user.email=t@e commit -q --allow-empty -m x && \
    git -C "$TMP/wc" worktree add -q "$TMP/wt" 2>/dev/null && mkdir -p "$TMP/wt/sub"
(cd "$TMP/wt/sub" && "$ATTN" init --data-dir "$TMP/wtdata" --quiet)
check_eq "a worktree's subdirectory finds the shared remotes" "1" \
    "$([ -d "$TMP/wtdata/github/acme/upstream" ] && echo 1)"
mkdir -p "$TMP/ghe" && git -C "$TMP/ghe" init -q && \
    git -C "$TMP/ghe" remote add origin git@ghe.example.com:corp/tool.git
(cd "$TMP/ghe" && GH_HOST=ghe.example.com "$ATTN" init --quiet)
check_eq "GH_HOST: an Enterprise remote names the repository" "1" \
    "$([ -d "$ATTN_DATA_DIR/github/corp/tool" ] && echo 1)"
(cd "$TMP/ghe" && "$ATTN" init --quiet 2>/dev/null)
check_eq "without GH_HOST that remote is not GitHub" "2" "$?"

# --- the token and the API ----------------------------------------------------------
check_fails "no token at all: exit 2 naming every source" 2 "nor GH_TOKEN" \
    env PATH=/usr/bin:/bin "$ATTN" ingest --repo $REPO
GH_TOKEN=right-token check "GH_TOKEN is used" "$ATTN" ingest --repo $REPO --api-url "$API" --quiet
printf '#!/bin/sh\n[ "$1 $2" = "auth token" ] && echo right-token\n' >"$TMP/bin/gh"
chmod +x "$TMP/bin/gh"
PATH="$TMP/bin:$PATH" check "gh auth token is used when gh is on PATH" \
    "$ATTN" incremental --repo $REPO --api-url "$API" --verbose
check_eq "the log names the token's source, never the token" "1 0" \
    "$(grep -c 'token gh auth token' "$TMP/err") $(grep -c right-token "$TMP/err")"
GITHUB_TOKEN=right-token GH_TOKEN=wrong check "GITHUB_TOKEN comes before GH_TOKEN" \
    "$ATTN" incremental --repo $REPO --api-url "$API" --quiet
GITHUB_TOKEN=right-token GITHUB_API_URL=$API GH_REPO=$REPO check "GITHUB_API_URL is the API root" \
    "$ATTN" incremental --verbose
check_eq "verbose logs each request: method, path, status, rate left" "1" \
    "$(grep -c '^attn: GET /repos/synth/sample/labels?per_page=100 -> 304 (rate limit remaining' "$TMP/err")"
GITHUB_TOKEN=x GH_HOST=127.0.0.1:1 timeout 3 "$ATTN" ingest --repo $REPO --verbose \
    --data-dir "$TMP/ghe-data" >/dev/null 2>"$TMP/err"
check_eq "GH_HOST: the API is https://HOST/api/v3" "1" \
    "$(grep -c 'API https://127.0.0.1:1/api/v3' "$TMP/err")"

# --- output: --json FIELDS, --jq, numbers ---------------------------------------------
N=$(sqlite3 "$DB" "SELECT max(number) FROM pull_requests")
check "route prints a table by default" "$ATTN" route --repo $REPO --pr "$N" --router popularity
check_eq "the table has a header and ranks" "1" "$(grep -c '^rank  candidate' "$TMP/out")"
check "route --json FIELDS" "$ATTN" route --repo $REPO --pr "$N" --router popularity --json router,top_k
check_eq "only those fields" '{"router":"popularity","top_k":5}' "$(cat "$TMP/out")"
check "route --jq" "$ATTN" route --repo $REPO --pr "$N" --router popularity --jq '.candidates | length'
check_eq "--jq filters" "5" "$(cat "$TMP/out")"
check "--jq prints strings raw" "$ATTN" route --repo $REPO --pr "$N" --router popularity --jq .router
check_eq "raw string" "popularity" "$(cat "$TMP/out")"
check_fails "an unknown field lists the available ones" 2 "available fields: .*top_k" \
    "$ATTN" route --repo $REPO --pr "$N" --router popularity --json nosuch
check_fails "a bad --jq expression is a usage error" 2 "does not compile" \
    "$ATTN" route --repo $REPO --pr "$N" --router popularity --jq '.['
"$ATTN" route --repo $REPO --pr "$N" --router hybrid --json >"$TMP/out"
check_eq "numbers in shortest round-trip form (no 0.x0000000000001)" "0" \
    "$(grep -cE '[0-9]\.[0-9]*(0000000|9999999)[0-9]' "$TMP/out")"
check "snapshot --json=FIELD" "$ATTN" snapshot --repo $REPO --pr "$N" --json=number
check_eq "one field" "{\"number\":$N}" "$(cat "$TMP/out")"

# --- help and did you mean -------------------------------------------------------------
check_fails "unknown command: did you mean" 2 "did you mean 'route'" "$ATTN" rotue
check_fails "unknown flag: did you mean" 2 "did you mean --top-k" "$ATTN" route --tpo-k 3
check_fails "unknown subcommand: did you mean" 2 "did you mean 'compare'" "$ATTN" experiment compar
check "experiment --help" "$ATTN" experiment --help
check_eq "experiment --help lists all seven subcommands" "7" \
    "$(grep -cE '^  (init|run|show|summarize|promote|compare|index-all) ' "$TMP/out")"
for c in $("$ATTN" __complete ""); do
    "$ATTN" help "$c" >"$TMP/h" 2>&1
    check_eq "attn help $c: usage and an example" "1 1" \
        "$(grep -c '^usage:' "$TMP/h" | tr -d ' ') $(grep -ciE '^ *(examples?:|  -o)' "$TMP/h" | awk '{print ($1 > 0)}')"
done
check "-h is --help" "$ATTN" route -h
check_eq "-h prints the flags" "1" "$(grep -c '^  --top-k K' "$TMP/out")"
check_eq "completion: subcommands" "compare" "$("$ATTN" __complete experiment comp | grep -x compare)"
check_eq "completion: a subcommand's flags" "1" "$("$ATTN" __complete experiment run -- | grep -cx -- --spec)"
check "the man page is generated" "$ATTN" help --man
check_eq "man: every command has a section" "$("$ATTN" __complete "" | wc -l | tr -d ' ')" \
    "$(grep -c '^\.SS [a-z-]*$' "$TMP/out")"

# --- progress: tty, lines, none ------------------------------------------------------------
rm -rf "$TMP/p1" "$TMP/p2" "$TMP/p3"
GITHUB_TOKEN=right-token ATTN_PROGRESS_INTERVAL=0 "$ATTN" ingest --repo $REPO --api-url "$API" \
    --data-dir "$TMP/p1" >/dev/null 2>"$TMP/lines"
check_eq "not a TTY: periodic plain lines" "0 1" \
    "$(tr -cd '\r' <"$TMP/lines" | wc -c | tr -d ' ') $([ "$(grep -c '^ingest: .* requests' "$TMP/lines")" -gt 3 ] && echo 1)"
GITHUB_TOKEN=right-token ATTN_PROGRESS_INTERVAL=0 "$ATTN" ingest --repo $REPO --api-url "$API" \
    --data-dir "$TMP/p2" --progress=none >/dev/null 2>"$TMP/none"
check_eq "--progress=none: nothing on stderr" "0" "$(wc -c <"$TMP/none" | tr -d ' ')"
GITHUB_TOKEN=right-token script -qec "'$ATTN' ingest --repo $REPO --api-url '$API' --data-dir '$TMP/p3'" \
    /dev/null >"$TMP/tty" 2>&1
check_eq "a TTY: one live line redrawn in place" "1 1" \
    "$([ "$(tr -cd '\r' <"$TMP/tty" | wc -c)" -gt 3 ] && echo 1) $(grep -c 'ingest synth/sample: .* 60 PRs' "$TMP/tty")"
script -qec "'$ATTN' load --repo $REPO --bundle '$TMP/b.json' --data-dir '$TMP/p4'" /dev/null >"$TMP/ltty" 2>&1
check_eq "load: its phases on the live line" "1" "$(grep -c 'load: normalizing 60 PRs' "$TMP/ltty")"
check_fails "--progress takes none, tty or lines" 2 "none, tty or lines" \
    "$ATTN" ingest --repo $REPO --progress=sometimes
from=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(created_at), 'unixepoch') FROM pull_requests")
end=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', max(created_at) + 1, 'unixepoch') FROM pull_requests")
ATTN_PROGRESS_INTERVAL=0 "$ATTN" eval run --repo $REPO --router popularity --from "$from" \
    --end-at "$end" --bootstrap 10 --allow-stale --run-id p >/dev/null 2>"$TMP/eval"
check_eq "eval's progress lines carry an ETA" "1" \
    "$([ "$(grep -c '^eval: PR [0-9]*/[0-9]*, ETA [0-9]* s$' "$TMP/eval")" -gt 3 ] && echo 1)"
done_testing
