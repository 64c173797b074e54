#!/bin/sh
# t_learned.sh - the learned router end to end on a synthetic history:
# `attn model train` (help, bad input, byte-identical model files), routing
# with a model file (explanations, the model hash in every route, a tampered
# file refused), and `attn eval run` training it walk-forward on the PRs
# before each block (learned_fit.json, the model hashes in the config hash,
# identical reruns).
. "$(dirname "$0")/lib.sh"
R=synth/sample
DIR=$ATTN_DATA_DIR/github/synth/sample

"$ATTN" synth --prs 400 --seed 5 --start 2023-01-01T00:00:00Z --days 200 -o "$TMP/b.json" >/dev/null 2>&1
check "load a 400-PR synthetic history" "$ATTN" load --repo $R --bundle "$TMP/b.json" --quiet

# --- attn model train --------------------------------------------------------
check "model --help" "$ATTN" model train --help
for f in --repo --until --from --out --truth --cutoff --objective --rounds --eta --max-depth \
         --seed --max-candidates --data-dir --json --quiet Example; do
    check_eq "help describes $f" "1" "$(grep -c -- "^ *$f\|^$f" "$TMP/out" | awk '{print ($1 > 0)}')"
done
check_fails "train needs --until and --out" 2 "required" "$ATTN" model train --repo $R
check_fails "a bad --until" 2 "until" \
    "$ATTN" model train --repo $R --until 2023-13-01 --out "$TMP/m.json"
check_fails "--from after --until" 2 "before --until" \
    "$ATTN" model train --repo $R --from 2023-06-01T00:00:00Z --until 2023-05-01T00:00:00Z --out "$TMP/m.json"
check_fails "a bad objective" 2 "rank:pairwise" \
    "$ATTN" model train --repo $R --until 2023-05-01T00:00:00Z --objective reg --out "$TMP/m.json"
check_fails "a window with no final label says why" 2 "still open" \
    "$ATTN" model train --repo $R --from 2023-01-01T00:00:00Z --until 2023-01-03T00:00:00Z \
    --truth reviewers_until_close:window=30d --out "$TMP/m.json" --quiet
check "train on the PRs before May" "$ATTN" model train --repo $R --from 2023-01-01T00:00:00Z \
    --until 2023-05-01T00:00:00Z --out "$TMP/m1.json" --quiet --json
hash=$(jq -r .hash "$TMP/out")
check_eq "the summary names the window" "2023-05-01T00:00:00Z" "$(jq -r .training.until "$TMP/out")"
check_eq "the file records the feature version" "learned-features.v2" "$(jq -r .features.version "$TMP/m1.json")"
check_eq "the file records the truth policy" "reviewers_until_close:window=30d" \
    "$(jq -r .training.truth_policy.spec "$TMP/m1.json")"
"$ATTN" model train --repo $R --from 2023-01-01T00:00:00Z --until 2023-05-01T00:00:00Z \
    --out "$TMP/m2.json" --quiet >/dev/null 2>&1
check_eq "training twice gives byte-identical files" "" "$(cmp "$TMP/m1.json" "$TMP/m2.json" 2>&1)"

# --- routing with the model ----------------------------------------------------
echo "{\"model\": \"$TMP/m1.json\"}" >"$TMP/cfg.json"
check "route with the model" "$ATTN" route --repo $R --pr 350 --router learned --config "$TMP/cfg.json" --json
check_eq "the route names the model" "model=$hash" "$(jq -r '.notes[0]' "$TMP/out")"
check_eq "candidates are explained by feature contributions" "learned" \
    "$(jq -r '.candidates[0].evidence[0].kind' "$TMP/out")"
check_eq "contributions name features" "1" \
    "$(jq '[.candidates[0].evidence[0].data.contributions[].feature | type == "string"] | all | if . then 1 else 0 end' "$TMP/out")"
cp "$TMP/out" "$TMP/r1"
"$ATTN" route --repo $R --pr 350 --router learned --config "$TMP/cfg.json" --json >"$TMP/r2"
check_eq "routes are identical on rerun" "" "$(cmp "$TMP/r1" "$TMP/r2")"
jq '.training.examples = 1' "$TMP/m1.json" >"$TMP/bad.json"
echo "{\"model\": \"$TMP/bad.json\"}" >"$TMP/cfgbad.json"
check_fails "an edited model is refused" 2 "does not match its hash" \
    "$ATTN" route --repo $R --pr 350 --router learned --config "$TMP/cfgbad.json"

# --- eval run trains it on the past ------------------------------------------------
echo '{"train": {"min_examples": 20}}' >"$TMP/lcfg.json"
check "eval run trains the learned router walk-forward" "$ATTN" eval run --repo $R \
    --router popularity --router learned --config learned="$TMP/lcfg.json" \
    --from 2023-05-01T00:00:00Z --end-at 2023-07-01T00:00:00Z --learned-retrain-days 30 \
    --learned-train-days 120 --bootstrap 50 --quiet --json
run=$(jq -r .run_dir "$TMP/out")
check_eq "learned_fit.json lists a block per 30 days" "3" "$(jq '.blocks | length' "$run/learned_fit.json")"
check_eq "each block trained before its start" "1" \
    "$(jq '[.blocks[] | select(.hash) | .training.until == .from] | all | if . then 1 else 0 end' "$run/learned_fit.json")"
check_eq "the config names the models by hash" "3" \
    "$(jq '[.routers[] | select(.name == "learned") | .config.models[].hash] | length' "$run/manifest.json")"
check_eq "the report shows the global feature importance" "1" \
    "$(grep -c '^- learned: feature importance (total gain share, mean over 3 models): ' "$run/report.md")"
check_eq "the models are stored by hash" "3" "$(ls "$DIR/models" | grep -c '^learned-')"
"$ATTN" eval run --repo $R --router popularity --router learned --config learned="$TMP/lcfg.json" \
    --from 2023-05-01T00:00:00Z --end-at 2023-07-01T00:00:00Z --learned-retrain-days 30 \
    --learned-train-days 120 --bootstrap 50 --quiet --json >"$TMP/out2" 2>&1
check_eq "a rerun gives the same run" "$(jq -r .run_id "$TMP/out")" "$(jq -r .run_id "$TMP/out2")"
# With a spare core, while XGBoost trains, the hybrid is fitted (eval/run.c:
# side_fit) and the first PRs' learned features are computed (eval/learn.c:
# ahead): the run is the one a single thread writes.
for j in 1 2; do
    check "eval the hybrid and the learned router, --jobs $j" "$ATTN" eval run --repo $R \
        --router hybrid --router learned --router stewards --config learned="$TMP/lcfg.json" \
        --from 2023-05-01T00:00:00Z --end-at 2023-07-01T00:00:00Z --learned-retrain-days 30 \
        --learned-train-days 120 --hybrid-train-days 120 --bootstrap 20 --run-id fits --force \
        --jobs $j --quiet --json
    rm -rf "$TMP/fits$j"; cp -r "$DIR/eval/fits" "$TMP/fits$j"
done
check_eq "the hybrid was fitted" "hybrid" "$(jq -r .router "$TMP/fits2/hybrid_fit.json")"
check_eq "--jobs 2 fits and routes as --jobs 1 does" "" "$(diff -r "$TMP/fits1" "$TMP/fits2" 2>&1 | head -3)"
check_fails "a bad --learned-retrain-days" 2 "learned-retrain-days" "$ATTN" eval run --repo $R \
    --router learned --from 2023-05-01T00:00:00Z --end-at 2023-07-01T00:00:00Z --learned-retrain-days x

done_testing
