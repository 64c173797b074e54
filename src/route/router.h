/*
 * router.h - the router interface and registry (SPEC §7).
 *
 * A router ranks candidate reviewers (users or teams) for one PR at one
 * cutoff. It sees only the as-of snapshot of the PR and the shared read-only
 * context below, whose queries all take the cutoff explicitly, so nothing
 * after the cutoff can reach it.
 *
 * Life cycle: attn_router_find(name) -> attn_router_new(def, config JSON or
 * NULL, ctx) validates and merges the config with the router's documented
 * defaults (unknown keys are errors), computes the config hash, and keeps
 * per-router state (caches) across PRs -> attn_router_route() per PR ->
 * attn_router_free().
 *
 * Result JSON (canonical, sorted keys when dumped):
 *   {router, router_version, config_hash, repo, pr_number, as_of, top_k,
 *    risk: low|medium|high, confidence: low|medium|high|unknown,
 *    notes: [string...],
 *    candidates: [{target:{type:user|team, name}, score, evidence:[{kind, data}]}],
 *    workload: {candidates_with_open_requests, open_requests_top_k}}  (see candidates.h)
 * Ordering is total and deterministic: score desc, then type, then name
 * (case-insensitive, then bytewise). The author and bots never appear.
 */
#ifndef ATTN_ROUTE_ROUTER_H
#define ATTN_ROUTE_ROUTER_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "history/activity.h"
#include "history/asof.h"
#include "ownership/area.h"
#include "ownership/roster.h"
#include "route/candidates.h"
#include "store/store.h"
#include "util/error.h"

typedef struct attn_route_memo attn_route_memo;
typedef struct attn_feat_ahead attn_feat_ahead;   /* route/features.h */

/* Read-only context shared by all routers of one process (one repo). */
typedef struct {
    attn_store *store;
    int64_t repo_id;
    const char *repo;            /* "owner/name" */
    const char *repo_dir;        /* DATA/github/<o>/<r> (pinned files, routing/) */
    attn_asof_reader *reader;    /* snapshots of other PRs, if a router needs them */
    attn_activity *activity;     /* built over the whole history; query with cutoffs */
    const attn_area_map *areas;  /* routing/area_overrides.json or NULL (default areas) */
    const attn_roster *roster;   /* routing/team_roster.json or NULL */
    attn_route_memo *memo;       /* NULL, or results shared between routers (below) */
    int artifact_text;           /* an evaluation: optional per-PR entries may come
                                  * as their canonical text (candidates.h) */
    const attn_feat_ahead *feat_ahead;  /* NULL, or the learned router's features of
                                         * PRs computed ahead (features.h) */
} attn_route_ctx;

/* One routing question. */
typedef struct {
    int64_t pr_number;
    int64_t as_of;
    int top_k;
    const json_t *snapshot;      /* attn_asof_pr_snapshot() at as_of (borrowed) */
} attn_route_query;

typedef struct attn_router attn_router;

/* What a built-in router provides. */
typedef struct attn_router_def {
    const char *name;            /* "stewards" */
    const char *version;         /* "stewards.v1": bump when scoring changes */
    const char *summary;         /* one line for `attn route --list` */
    /* Documented defaults as a JSON object text; a user config is merged over
     * it (objects recursively) and may not add keys it does not have. */
    const char *default_config;
    /* Validate the merged config and build state; messages name the key. */
    int (*init)(const json_t *config, const attn_route_ctx *ctx, void **state, attn_error *err);
    /* Fill res->candidates via the attn_cands API (candidates.h) and set
     * risk/confidence/notes. */
    int (*route)(void *state, const attn_route_ctx *ctx, const attn_route_query *q,
                 attn_route_result *res, attn_error *err);
    void (*free)(void *state);
} attn_router_def;

/* Registry of built-ins, in name order. */
size_t attn_router_count(void);
const attn_router_def *attn_router_at(size_t i);
/* ATTN_EINVAL naming the valid routers when name is unknown. */
int attn_router_find(const char *name, const attn_router_def **out, attn_error *err);

/* Instantiate with config (a JSON object, or NULL for the defaults).
 * config_label names the source in messages (a file path). */
int attn_router_new(const attn_router_def *def, const json_t *config, const char *config_label,
                    const attn_route_ctx *ctx, attn_router **out, attn_error *err);
/* Same, loading the config from a JSON file (NULL path: defaults). */
int attn_router_new_from_file(const attn_router_def *def, const char *path,
                              const attn_route_ctx *ctx, attn_router **out, attn_error *err);
void attn_router_free(attn_router *r);

const attn_router_def *attn_router_def_of(const attn_router *r);
/* The effective (merged) config and its hash: SHA-256 hex of its canonical JSON. */
const json_t *attn_router_config(const attn_router *r);
const char *attn_router_config_hash(const attn_router *r);

/* Route one PR; *out is the result JSON above (new reference). Treat it as
 * read-only: with a memo in ctx it may be shared with other callers. */
int attn_router_route(attn_router *r, const attn_route_ctx *ctx, const attn_route_query *q,
                      json_t **out, attn_error *err);

/*
 * Optional hooks of a few routers (kept out of attn_router_def so the other
 * routers' definitions stay as they are); registry.c lists them.
 * prefetch: called by eval on upcoming PRs (a bounded look-ahead, in PR
 * order, each PR once) before routing them one by one, so slow remote work
 * (LLM requests) runs concurrently; route() must give the same result with
 * or without it. prefetch_active (optional): 0 when prefetching would do
 * nothing for this instance (an LLM router with its cache off), so eval need not prepare
 * queries for it; absent means active. describe: run-level facts
 * {"manifest": {deterministic inputs, e.g. the prompt bundle},
 *  "stats": {how the run was computed, e.g. cache hits}}.
 */
typedef struct {
    const attn_router_def *def;
    int (*prefetch)(void *state, const attn_route_ctx *ctx, const attn_route_query *qs, size_t n,
                    attn_error *err);
    json_t *(*describe)(void *state);
    int opt_in;   /* 1: needs an outside service, so never in "every router" defaults */
    int (*prefetch_active)(void *state);
} attn_router_hooks;
const attn_router_hooks *attn_router_hooks_of(const attn_router_def *def); /* NULL: none */
extern const attn_router_hooks attn_router_llm_rerank_hooks;

/* The hooks above; a router without them: 0 / NULL. */
int attn_router_prefetch(attn_router *r, const attn_route_ctx *ctx, const attn_route_query *qs,
                         size_t n, attn_error *err);
int attn_router_has_prefetch(const attn_router *r);
/* Has a prefetch hook that would do something now (prefetch_active above). */
int attn_router_prefetch_active(const attn_router *r);
int attn_router_opt_in(const attn_router_def *def);
json_t *attn_router_describe(attn_router *r);

/*
 * A memo of results for one PR at a time. An evaluation asks the hybrid's
 * components the same question it asks those routers alone: a result depends
 * only on the router, its config (hash), the snapshot and the cutoff, so
 * with a memo in ctx attn_router_route answers a repeated question from it.
 * Entries are keyed by router, config hash, PR, cutoff, top_k and snapshot
 * identity; an entry holds a reference to its snapshot, so a snapshot freed
 * by its caller can never be mistaken for a new one at the same address.
 * Clear the memo per PR to bound its memory.
 */
attn_route_memo *attn_route_memo_new(void);
void attn_route_memo_clear(attn_route_memo *m);
void attn_route_memo_free(attn_route_memo *m);
/* Questions answered from the memo since it was created. */
size_t attn_route_memo_hits(const attn_route_memo *m);

/* The built-ins (one file each in route/). */
extern const attn_router_def attn_router_mentions;
extern const attn_router_def attn_router_review_requests;
extern const attn_router_def attn_router_codeowners;
extern const attn_router_def attn_router_popularity;
extern const attn_router_def attn_router_stewards;
extern const attn_router_def attn_router_path_similarity;
extern const attn_router_def attn_router_hybrid;
extern const attn_router_def attn_router_llm_rerank;
extern const attn_router_def attn_router_learned;

#endif
