/*
 * cutoff.h - cutoff policies (SPEC §1, §8): the instant at which a
 * prediction for a PR is made.
 *
 * Policies (version "v1" each; the canonical id is what manifests record):
 *   created_at          the PR's created_at.
 *   created_at+<N>[smhd] created_at plus N (a bare number is seconds). The id
 *                       is canonical: the offset is written in the largest
 *                       unit that divides it ("created_at+90" -> "created_at+90s",
 *                       "created_at+120m" -> "created_at+2h"); an offset of 0
 *                       is the policy "created_at" itself.
 *   ready_for_review    the first instant t >= created_at at which the PR is
 *                       not a draft, read from pull_request_draft_intervals:
 *                       t is "not a draft" when an interval with is_draft = 0
 *                       is active at t (start <= t < end; zero-length
 *                       intervals are active at no t). A PR with no draft
 *                       interval at all was never recorded as a draft, so its
 *                       cutoff is created_at. A PR whose intervals never say
 *                       "not a draft" at or after created_at gets no cutoff:
 *                       ATTN_CUTOFF_NONE (leave it out of the cohort).
 *
 * Owns: parsing policy text and resolving a PR's cutoff. Must never read a
 * mutable "latest" column (pull_requests.draft is the final flag, not the flag
 * at any instant): created_at comes from attn_asof_pr_created_at and draft
 * state from intervals only.
 */
#ifndef ATTN_EVAL_CUTOFF_H
#define ATTN_EVAL_CUTOFF_H

#include <stdint.h>
#include <jansson.h>
#include "store/store.h"
#include "util/error.h"

#define ATTN_CUTOFF_POLICY_VERSION "v1"

/* Returned by the resolvers when the policy gives this PR no cutoff (a PR
 * that is still a draft under ready_for_review); the message says why. */
#define ATTN_CUTOFF_NONE ATTN_ECONFLICT

typedef enum {
    ATTN_CUTOFF_CREATED_AT = 0,
    ATTN_CUTOFF_CREATED_AT_PLUS,
    ATTN_CUTOFF_READY_FOR_REVIEW
} attn_cutoff_kind;

typedef struct {
    attn_cutoff_kind kind;
    int64_t offset_seconds;     /* > 0 for created_at+N, else 0 */
    char id[48];                /* canonical id, see above */
} attn_cutoff_policy;

/* Parse "created_at", "created_at+<N>[smhd]" or "ready_for_review".
 * ATTN_EINVAL names the text and lists the valid forms. */
int attn_cutoff_policy_parse(const char *text, attn_cutoff_policy *out, attn_error *err);

/* {"id": id, "version": "v1", "params": {"offset_seconds": N}} (params is {}
 * for created_at and ready_for_review). New reference; NULL when out of memory. */
json_t *attn_cutoff_policy_json(const attn_cutoff_policy *p);

/* SHA-256 hex of the canonical JSON above. */
int attn_cutoff_policy_hash(const attn_cutoff_policy *p, char hex[65], attn_error *err);

/* A resolver keeps its prepared statements for a cohort (one per store). */
typedef struct attn_cutoff_resolver attn_cutoff_resolver;
int attn_cutoff_resolver_open(attn_store *s, int64_t repo_id, attn_cutoff_resolver **out,
                              attn_error *err);
void attn_cutoff_resolver_free(attn_cutoff_resolver *r);

/* The cutoff of PR pr_number under policy: 0 with *cutoff set;
 * ATTN_ENOTFOUND for an unknown PR; ATTN_CUTOFF_NONE as described above
 * (*cutoff = ATTN_NULL_I64 in both failure cases). */
int attn_cutoff_resolver_get(attn_cutoff_resolver *r, int64_t pr_number,
                             const attn_cutoff_policy *policy, int64_t *cutoff, attn_error *err);

/* The same with a resolver opened and freed for the one call. */
int attn_cutoff_resolve(attn_store *s, int64_t repo_id, int64_t pr_number,
                        const attn_cutoff_policy *policy, int64_t *cutoff, attn_error *err);

#endif
