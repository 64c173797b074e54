/*
 * candidates.h - the result a router fills, and the rules every router's
 * output obeys (applied by router.c after the router's own scoring):
 *
 *   1. the PR's author (case-insensitive) and bots (attn_is_bot, or a bot in
 *      the activity index) are removed; a note says how many were removed;
 *   2. availability (config "availability": {"inactive_days": N, "factor": F}):
 *      a user whose last activity at or before the cutoff is more than N days
 *      old (or who has none) gets score *= F and evidence
 *      {kind:"availability", data:{last_active_at|null, inactive_days}};
 *      N = 0 turns it off;
 *   3. load ("load": {"max_open_requests": M}): a user with M or more open
 *      review requests at the cutoff is moved below every other candidate
 *      (order otherwise kept) with evidence {kind:"load", data:{open_requests}};
 *      M = 0 turns it off. Either way the result's "workload" reports the open
 *      requests of the returned users, so evaluations can show spread;
 *   4. candidates with a score <= 0 are dropped unless the router keeps them
 *      (attn_result_keep_zero);
 *   5. order: score desc, then type (team before user), then name
 *      case-insensitively, then bytewise; then truncation to top_k;
 *   6. with no candidates left the risk is "high", and a note says "no
 *      candidates" when the router left no note.
 * Scores are rounded to 12 significant digits in the JSON so results do not
 * depend on the last bits of floating-point summation order.
 */
#ifndef ATTN_ROUTE_CANDIDATES_H
#define ATTN_ROUTE_CANDIDATES_H

#include <stddef.h>
#include <jansson.h>
#include "util/error.h"

typedef struct attn_route_result attn_route_result;
typedef struct attn_cand attn_cand;

/* Find or add the candidate (type "user" or "team"; names compared
 * case-insensitively, the first spelling is kept). NULL when type or name is
 * NULL or the name is empty. */
attn_cand *attn_result_cand(attn_route_result *res, const char *type, const char *name);
/* Look up without adding; NULL when absent. */
attn_cand *attn_result_find(attn_route_result *res, const char *type, const char *name);
size_t attn_result_count(const attn_route_result *res);
attn_cand *attn_result_at(attn_route_result *res, size_t i);

double attn_cand_score(const attn_cand *c);
void attn_cand_set_score(attn_cand *c, double score);
void attn_cand_add_score(attn_cand *c, double delta);
const char *attn_cand_type(const attn_cand *c);
const char *attn_cand_name(const attn_cand *c);
/* Append evidence {kind, data}; data is stolen (NULL: {}). kind is not NULL
 * and is UTF-8: a literal, or a string read from JSON (a caller passing
 * anything else checks it first). */
void attn_cand_evidence(attn_cand *c, const char *kind, json_t *data);

/* risk: "low" | "medium" | "high"; confidence: "low" | "medium" | "high" | "unknown". */
void attn_result_set_risk(attn_route_result *res, const char *risk);
void attn_result_set_confidence(attn_route_result *res, const char *confidence);
/* Append a note (printf-style); one that is not UTF-8 (a name from a pinned
 * file, or cut at 511 bytes inside a sequence) is left out. */
void attn_result_note(attn_route_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Attach a top-level key to the result JSON (an LLM router's "llm" usage,
 * "_artifacts" for eval: pack.h); v (not NULL) is stolen. */
void attn_result_attach(attn_route_result *res, const char *key, json_t *v);
/* Attach an optional per-PR entry ("features/<router>", pack.h): the result
 * JSON gets "_artifacts": {entry: v}, which evaluations write as their own
 * entry and strip from the route. v (not NULL) is stolen. */
void attn_result_artifact(attn_route_result *res, const char *entry, json_t *v);
/* The same entry already in its canonical text (attn_json_canonical's form,
 * "candidate_gen_version" included), for an evaluation (ctx->artifact_text):
 * the result JSON gets "_artifact_text": {entry: text}, written as is. */
void attn_result_artifact_text(attn_route_result *res, const char *entry, const char *text,
                               size_t len);
/* Keep candidates whose score is <= 0 (rule 4 above). */
void attn_result_keep_zero(attn_route_result *res);
/* Confidence from the margin between the top two scores divided by the top
 * score: >= high -> "high", >= med -> "medium", else "low" (no candidate:
 * "low"). Computed after rules 1-5, so call it from the router only to set
 * the thresholds; router.c applies it when set. */
void attn_result_confidence_margins(attn_route_result *res, double high, double med);

#endif
