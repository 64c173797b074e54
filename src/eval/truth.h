/*
 * truth.h - truth policies (SPEC §8): who actually acted on a PR after its
 * cutoff, under a named, versioned, hashed policy.
 *
 * Owns: policy specs (parse, canonical form, hash), the per-PR truth label
 * and the per-PR queue facts. Truth reads the future relative to the cutoff
 * by design (it is the label), but it must never be handed to a router, and
 * it must never compare instants as text: every window test below is an
 * exact integer comparison on epoch seconds.
 *
 * ---- Policies (all version "v1"; the only parameter is the window) ---------
 *
 * A spec is "<id>" or "<id>:window=<N>[smhd]" (bare number = seconds, at most
 * 3650d, and > 0). Unknown ids, unknown parameters, repeated parameters and
 * malformed values are ATTN_EINVAL with a message naming them. The window W
 * is the half-open interval (cutoff, cutoff + W]: an action exactly at the
 * cutoff is not in it (the router may have seen it), one exactly at
 * cutoff + W is.
 *
 *   first_response (W 48h): the first eligible action in the window, actions
 *     being submitted reviews (any state), diff review comments, and PR
 *     conversation comments (reference §15.13: those count too). Ties at the
 *     same second: review, then review_comment, then comment, then row id.
 *   first_approval (W 48h): the first eligible review in the window whose
 *     state at submission was APPROVED (the review.submitted event's state,
 *     so an approval dismissed later still counts; else reviews.state).
 *   merger (W 48h): the actor of the pull_request.merged event in the
 *     window, if eligible. The author merging their own PR is not eligible
 *     (the label would name nobody but the author, whom routers never rank).
 *   reviewers_until_close (W 30d): every eligible user with a submitted
 *     review in (cutoff, window_end], window_end = min(first close after the
 *     cutoff, cutoff + W); a close is pull_request.closed, pull_request.merged
 *     or issue.closed of the PR's issue with occurred_at > cutoff. Bounding
 *     by cutoff + W even for PRs that close later keeps the label final once
 *     observed: new data cannot move window_end. Multi-target.
 *   intent (W 60m): every target of pull_request.review_request.add events
 *     in the window, users and teams (a request removed later still counts:
 *     it shows intent). Users must be eligible; teams always are and are
 *     named "<repo owner login>/<team slug>". Requests at exactly the cutoff
 *     are excluded like every other window, so requests made with the PR at
 *     created_at are the router's input, not the label. Multi-target.
 *   hybrid_owner (W 48h): first_approval, then merger, then first_response,
 *     each with window W. The result is the first component whose status is
 *     not no_response: an observed component gives the label, an unknown one
 *     makes the whole label unknown (strict priority: the label must not
 *     depend on which data happened to be lost). All three no_response ->
 *     no_response.
 *
 * Eligible actor: a known user (non-NULL id and login) who is not the PR's
 * author (by user id) and not a bot (users.type 'Bot' or a login ending in
 * "[bot]", case-insensitively; the rule of attn_is_bot in activity.h).
 *
 * policy hash = SHA-256 hex of the canonical JSON of
 *   {"id": id, "params": {"window_seconds": W}, "version": "v1"}.
 *
 * ---- Status: observed | no_response | unknown_ingestion_gap ----------------
 *
 * Judged per PR (reference §15.7 was judged per repository):
 *  1. gaps: an unresolved ingestion_gaps row (resolved_at IS NULL) whose
 *     pull_request_number is this PR and whose resource is one the policy
 *     reads makes the status unknown_ingestion_gap. Resources read:
 *       first_response        reviews, review_comments, issue_comments
 *       first_approval        reviews
 *       merger                pulls, issue_events
 *       reviewers_until_close reviews, pulls, issues, issue_events
 *       intent                issue_events
 *       hybrid_owner          per component, as above
 *     Repository-level gaps (pull_request_number NULL: a lost page of a
 *     repo-wide list) cannot be tied to a PR; they are listed in
 *     diagnostics.repo_gap_resources and never change the status.
 *  2. horizon: H = the latest instant up to which the store is known to hold
 *     all of this PR's activity; NULL when nothing is known. It is the
 *     maximum of
 *       a. the start of the latest completed whole-repository ingestion run:
 *          max over qa_reports rows with summary flow "ingest" or
 *          "incremental" of created_at - ceil(duration_s). Such a run
 *          re-lists every PR and comment and re-fetches the reviews of every
 *          PR that changed, so nothing before its start is missing except
 *          what gaps record;
 *       b. the latest activity recorded on the PR itself: events on the PR
 *          and its issue, its reviews' submitted_at, its comments' created_at
 *          and updated_at (data can only be fetched after it happened);
 *       c. only when the store holds no ingestion metadata for the repository
 *          (no qa_reports and no watermarks rows: it was built by `attn load`
 *          or `attn synth` from one bundle, a snapshot of the whole
 *          repository): the latest such activity anywhere in the repository.
 *     diagnostics.horizon_source names the term that gave H ("run",
 *     "pr_activity" or "bundle"). A `pull-requests` window run alone gives
 *     no run horizon (it fetches some PRs only), so such stores fall back to
 *     (b): conservative, never wrong in the "no_response" direction.
 *  3. single-target policies (first_response, first_approval, merger):
 *     observed when an eligible action was found and its time <= H or
 *     window_end <= H; otherwise no_response when window_end <= H; otherwise
 *     unknown_ingestion_gap.
 *     set policies (reviewers_until_close, intent): the set is complete only
 *     when window_end <= H: then observed (non-empty) or no_response (empty);
 *     otherwise unknown_ingestion_gap, since the set could still grow.
 *  An unknown label has targets [] and selected null; what was seen is kept
 *  in diagnostics.partial_targets.
 *
 * ---- Result JSON (attn_truth_eval) -------------------------------------------
 *
 *   {"policy": id, "policy_version": "v1", "policy_spec": canonical spec,
 *    "policy_hash": hex, "pr_number": N, "cutoff": T, "window_end": T,
 *    "status": "observed" | "no_response" | "unknown_ingestion_gap",
 *    "targets": [{"type": "user" | "team", "name": login or "org/slug"}],
 *    "selected": {"kind": K, "at": T, "id": row id} | null,
 *    "diagnostics": {"scanned": rows read in the window,
 *                    "eligible": rows that qualified,
 *                    "gap_resources": [sorted], "repo_gap_resources": [sorted],
 *                    "horizon": T | null, "horizon_source": S | null,
 *                    "partial_targets": [targets], "chain": [...]}}
 * T = "YYYY-MM-DDTHH:MM:SSZ". K = review | review_comment | comment | merge
 * | review_request; id = reviews.id, comments.id or events.id. Targets are in
 * order of first action (time, then the tie order above), without
 * duplicates; selected is the first of them. chain is [] except for
 * hybrid_owner: [{"policy": component id, "status": its status}] for each
 * component evaluated, in order. For hybrid_owner, scanned and eligible sum
 * over the evaluated components and gap_resources is their union.
 */
#ifndef ATTN_EVAL_TRUTH_H
#define ATTN_EVAL_TRUTH_H

#include <stdint.h>
#include <jansson.h>
#include "store/store.h"
#include "util/error.h"

#define ATTN_TRUTH_POLICY_VERSION "v1"

#define ATTN_TRUTH_OBSERVED "observed"
#define ATTN_TRUTH_NO_RESPONSE "no_response"
#define ATTN_TRUTH_UNKNOWN "unknown_ingestion_gap"

typedef enum {
    ATTN_TRUTH_FIRST_RESPONSE = 0,
    ATTN_TRUTH_FIRST_APPROVAL,
    ATTN_TRUTH_MERGER,
    ATTN_TRUTH_REVIEWERS_UNTIL_CLOSE,
    ATTN_TRUTH_INTENT,
    ATTN_TRUTH_HYBRID_OWNER,
    ATTN_TRUTH_N_POLICIES
} attn_truth_kind;

typedef struct {
    attn_truth_kind kind;
    int64_t window_seconds;
    char spec[64];              /* canonical: "<id>:window=<W>", W as duration.h formats it */
    char hash[65];
} attn_truth_policy;

/* Parse a spec (grammar above) and fill spec and hash. */
int attn_truth_policy_parse(const char *text, attn_truth_policy *out, attn_error *err);
/* The same for a kind with its default window. */
int attn_truth_policy_default(attn_truth_kind kind, attn_truth_policy *out, attn_error *err);
/* "first_response", ...; NULL for an invalid kind. */
const char *attn_truth_policy_id(attn_truth_kind kind);
int64_t attn_truth_default_window(attn_truth_kind kind);
/* {"id", "params": {"window_seconds"}, "version"}: the hashed form. New reference. */
json_t *attn_truth_policy_json(const attn_truth_policy *p);

/* An evaluator for one repository: prepared statements and the
 * repository-wide facts (run horizon, bundle horizon, repo-level gaps) read
 * once, so a cohort of 10,000 PRs costs a few indexed lookups per PR. Not
 * thread-safe; use one per thread. */
typedef struct attn_truth_ctx attn_truth_ctx;
int attn_truth_ctx_open(attn_store *s, int64_t repo_id, attn_truth_ctx **out, attn_error *err);
void attn_truth_ctx_free(attn_truth_ctx *c);

/* The label of PR pr_number at cutoff under policy: *out is the result JSON
 * above (new reference). ATTN_ENOTFOUND for an unknown PR; ATTN_EINVAL for a
 * policy not made by the functions above or a cutoff that is not an instant
 * (ATTN_NULL_I64, or beyond +-2^62). */
int attn_truth_eval(attn_truth_ctx *c, int64_t pr_number, int64_t cutoff,
                    const attn_truth_policy *policy, json_t **out, attn_error *err);

/* Queue facts of a PR after its cutoff, with the eligibility rule above and
 * no upper bound: first_response_at = first eligible review, review comment
 * or conversation comment strictly after the cutoff; first_review_at = first
 * eligible submitted review strictly after the cutoff; merged_at = the
 * pull_request.merged event at any time ("merged eventually", the outcome
 * the gate correlation uses). ATTN_NULL_I64 when none. horizon is H of the
 * status rules (ATTN_NULL_I64 when unknown), so a caller can tell "no
 * response yet" from "no response before the data ends". */
typedef struct {
    int64_t first_response_at, first_review_at, merged_at, horizon;
} attn_truth_pr_facts;
int attn_truth_pr_facts_get(attn_truth_ctx *c, int64_t pr_number, int64_t cutoff,
                            attn_truth_pr_facts *out, attn_error *err);

#endif
