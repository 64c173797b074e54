/*
 * quality.h - quality gates and promotion of an experiment run
 * (reference §7.6-7.7, with the defects of §15.16 fixed).
 *
 * Both read only the run's own artifacts (per_pr.jsonl, the per-PR truth and
 * routes/<router> entries through eval/pack.h, and report.json's object), so they
 * can be recomputed from a finished run directory and they cannot see
 * anything the evaluation did not record.
 *
 * ---- Gates (gates.json) -----------------------------------------------------
 * {"thresholds": spec.gates, "all_pass": bool,
 *  "gates": {id: {"value": x | null, "pass": bool, "note": string?, ...}}}
 *   G1_truth_window_consistency  share of (PR, policy) labels with
 *       window_end > cutoff; pass when 1.0 (vacuous 1.0 when there are none).
 *   G2_truth_policy_schema       every PR has a label for every spec policy,
 *       each with status and diagnostics; value = share that do; pass at 1.0.
 *   G3_unknown_ingestion_gap_rate  primary policy's unknown_ingestion_gap
 *       count / PRs (report truth_coverage); pass when <= unknown_max.
 *   G4_ownership_availability    share of PRs whose codeowners route had at
 *       least one candidate; pass when >= availability_min. When codeowners
 *       is not routed: value null, pass, note "codeowners not routed" (never
 *       the reference's 0/0 -> 0.0 failure). 0 PRs: value null, pass.
 *   G5_router_unavailable_rate   (router, PR) slots whose route is missing
 *       from per_pr.jsonl or has no candidates array / slots; pass when <=
 *       unavailable_max. Also reports empty_candidates_rate per router
 *       (an empty route is an answer, not an outage).
 *   G6_deterministic_reproducibility  every hybrid router used one config
 *       hash for every PR (its routes/hybrid entry); value = the number of
 *       distinct hashes (null when hybrid is not routed); pass when <= 1.
 * Thresholds come from the spec, never from router names.
 *
 * ---- Promotion (promotion.json) --------------------------------------------
 * Candidate vs baseline router of the spec on the rows whose primary truth
 * is observed and where both routers returned candidates. Per row rr = 1 /
 * rank (0 unranked) and hit@1; delta = candidate - baseline; the interval is
 * attn_bootstrap_paired_diff with the spec's bootstrap seed and resamples
 * (1000 when the spec says 0: a decision needs an interval).
 * promote iff n >= min_n, delta_mrr >= min_delta_mrr, ci95 lo > 0, every gate
 * passes, and delta_hit_at_1 >= -max_hit1_drop. Output:
 * {"eligible", "promote", "primary_policy", "baseline_router",
 *  "candidate_router", "n", "delta_mrr", "ci95": [lo, hi] | null,
 *  "delta_hit_at_1", "criteria": {...}, "checks": {...}, "reasons": [...]}.
 * eligible is false (and promote false) when the spec names no pair.
 */
#ifndef ATTN_EXP_QUALITY_H
#define ATTN_EXP_QUALITY_H

#include <jansson.h>
#include "exp/spec.h"
#include "util/error.h"

/* per_pr.jsonl of dir as an array of objects (new reference). */
int attn_quality_load_per_pr(const char *dir, json_t **out, attn_error *err);

int attn_quality_gates(const char *dir, const json_t *per_pr, const json_t *report,
                       const attn_spec *spec, json_t **out, attn_error *err);

int attn_quality_promotion(const json_t *per_pr, const attn_spec *spec, int gates_pass,
                           json_t **out, attn_error *err);

#endif
