#!/bin/sh
# t_inputs.sh - hostile small inputs (issue 18 D10): terminal escapes in
# CODEOWNERS lines and spec tags are printed escaped; a token with CR/LF or
# credentials inside --api-url are refused without echoing them; an empty
# --data-dir is refused instead of meaning /.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REPO=synth/sample
ESC=$(printf '\033')

printf '* @alice\n\033]0;owned\007/src/ @bob \033[2J\n' >"$TMP/co"
"$ATTN" owners --codeowners "$TMP/co" src/a.rs >/dev/null 2>"$TMP/err"
check_eq "CODEOWNERS warning: no raw ESC byte" 0 "$(grep -c "$ESC" "$TMP/err")"
check_eq "but the escape shown as \\x1b" 1 "$(grep -c 'x1b' "$TMP/err")"

"$ATTN" load --repo $REPO --bundle "$ROOT/sample/sample.json" --quiet
"$ATTN" cohort create --repo $REPO --from 2024-01-01 --end-at 2024-07-01 --out "$TMP/c.json" >/dev/null 2>&1
"$ATTN" experiment init --repo $REPO --cohort "$TMP/c.json" --router popularity \
    --tag "$(printf 'red\033[31mALERT')" --out "$TMP/s.json" >/dev/null 2>&1
"$ATTN" experiment run --repo $REPO --spec "$TMP/s.json" --cohort "$TMP/c.json" --run-id esc --quiet >/dev/null 2>&1
"$ATTN" runs list --repo $REPO >"$TMP/out" 2>&1
check_eq "runs list shows the run" 1 "$(grep -c '^esc ' "$TMP/out")"
check_eq "runs list: the tag's ESC is escaped" "0 1" "$(grep -c "$ESC" "$TMP/out") $(grep -c 'red\\x1b\[31mALERT' "$TMP/out")"

GITHUB_TOKEN="$(printf 'tok\r\nX-Injected: yes')" check_fails "a token with CR/LF is refused" 2 "control character" \
    "$ATTN" ingest --repo $REPO --api-url http://127.0.0.1:9 --data-dir "$TMP/t"
check_fails "credentials in --api-url are refused" 2 "carries credentials" \
    "$ATTN" ingest --repo $REPO --api-url "http://u:tok-SECRET-CANARY@127.0.0.1:9" --data-dir "$TMP/t"
check_eq "and not echoed" 0 "$(grep -c CANARY "$TMP/err")"
check_fails "--data-dir '' is refused" 2 "data directory is empty" \
    "$ATTN" load --repo $REPO --bundle "$ROOT/sample/sample.json" --data-dir ''
echo '{"weights": {"review": 1e308}}' >"$TMP/huge.json"
check_fails "a popularity weight of 1e308 is a config error, not 'out of memory'" 2 "weights.review must be" \
    "$ATTN" route --repo $REPO --pr 3 --router popularity --config "popularity=$TMP/huge.json"

# A server that accepts and never answers: --deadline bounds the whole request
# (6 x 60 s before), and each retry is announced.
python3 -c "
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(16)
open(sys.argv[1], 'w').write(str(s.getsockname()[1])); time.sleep(60)
" "$TMP/mute.port" &
MUTE=$!
i=0; while [ ! -s "$TMP/mute.port" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
t0=$(date +%s)
check_fails "a mute server: the deadline ends the request" 1 "no answer within 3 s" \
    "$ATTN" ingest --repo $REPO --api-url "http://127.0.0.1:$(cat "$TMP/mute.port")" --data-dir "$TMP/m" \
    --deadline 3 --quiet
t1=$(date +%s)
check_eq "within the deadline, not 6 x 60 s" "1" "$([ $((t1 - t0)) -lt 20 ] && echo 1 || echo 0)"
kill $MUTE 2>/dev/null; wait $MUTE 2>/dev/null
"$ATTN" ingest --repo $REPO --api-url "http://127.0.0.1:9" --data-dir "$TMP/r" --deadline 4 --verbose \
    >"$TMP/out" 2>"$TMP/err"
check_eq "a refused connection is retried, each retry on stderr, then stops" "1 1" \
    "$([ "$(grep -c 'did not answer.*retry 1 of' "$TMP/err")" -ge 1 ] && echo 1) $(grep -c 'no answer within 4 s' "$TMP/err")"
check_fails "--deadline must be whole seconds" 2 "--deadline takes whole seconds" \
    "$ATTN" incremental --repo $REPO --deadline soon
done_testing
