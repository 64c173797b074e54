/*
 * activity.h - who did what, where and when: the activity index routers query.
 *
 * Built once per process from the store (reviews, review comments and PR
 * conversation comments, plus review-request intervals), then queried for
 * any cutoff. Every query takes explicit instants and only counts facts whose
 * time is inside them, so an index built over the whole history answers
 * exactly as one built from the rows up to the cutoff would (the leakage
 * tests check this byte for byte).
 *
 * Cost: decayed sums per user, per (user, path) and per (user, area) are
 * answered in O(log n) from prefix sums of w * 2^(t/h), kept per half-life
 * (computed on first use, then cached). When a history spans so many
 * half-lives that 2^(t/h) would overflow a double, the index falls back to
 * summing the window directly (correct, just slower).
 *
 * Attribution: an activity on PR p at time t is attributed to the files of
 * p's head active at t (pull_request_head_intervals), never to files of a
 * head set later; when that head's file list is not stored, the activity
 * counts toward the user's total but toward no path or area.
 *
 * One index serves many threads through views (attn_activity_view): each
 * thread queries its own view, which shares the index's arrays and prefix
 * sums and keeps only its per-query scratch. An index alone is not
 * thread-safe.
 */
#ifndef ATTN_HISTORY_ACTIVITY_H
#define ATTN_HISTORY_ACTIVITY_H

#include <stddef.h>
#include <stdint.h>
#include "ownership/area.h"
#include "store/store.h"
#include "util/hashmap.h"
#include "util/user.h"
#include "util/error.h"

typedef enum {
    ATTN_ACT_REVIEW = 0,          /* a submitted review (any state) */
    ATTN_ACT_REVIEW_COMMENT = 1,  /* a diff (review) comment */
    ATTN_ACT_COMMENT = 2,         /* a comment in a PR's conversation */
    ATTN_ACT_NKINDS = 3
} attn_act_kind;

#define ATTN_ACT_MASK(k) (1u << (k))
#define ATTN_ACT_ALL 7u

/* One activity fact. Entries are ordered by (t, pr_id, user id, kind, id of
 * the review or comment): immutable keys only, so the entries up to any
 * instant come first and in the same order whatever happened later. */
typedef struct {
    int64_t t;
    int64_t pr_id;        /* pull_requests.id the activity was on */
    int64_t pr_number;
    int32_t user;         /* index into the index's user table */
    uint8_t kind;         /* attn_act_kind */
    uint8_t approved;     /* review state was APPROVED when submitted (a later
                             dismissal does not change it: read from the
                             review.submitted fact, not the latest state) */
} attn_act_entry;

/* A time window and the weights for decayed sums: facts with from <= t <= to
 * count weight[kind] * 0.5^((to - t) / (half_life_days * 86400));
 * half_life_days <= 0 means no decay. */
typedef struct {
    int64_t from, to;
    double half_life_days;
    double weight[ATTN_ACT_NKINDS];
} attn_act_window;

typedef struct attn_activity attn_activity;

/* attn_is_bot, the one bot rule, lives in util/user.h. */

/* Build from the store for repo_id. areas maps paths to areas (NULL: the
 * default area of area.h); it is borrowed and must outlive the index. */
int attn_activity_build(attn_store *s, int64_t repo_id, const attn_area_map *areas,
                        attn_activity **out, attn_error *err);
/* The same, reading part of the store on a thread of its own through helper,
 * another connection to the same file that must read the same state as s
 * (attn_store_begin_read_group). NULL helper: attn_activity_build. */
int attn_activity_build_with(attn_store *s, attn_store *helper, int64_t repo_id,
                             const attn_area_map *areas, attn_activity **out, attn_error *err);
void attn_activity_free(attn_activity *a);

/* Sharing one index between threads: attn_activity_share(a) first, while no
 * other thread uses a; then each further thread gets attn_activity_view(a)
 * (a handle for that thread alone, answering exactly as a does) and frees it
 * with attn_activity_free before a is freed. */
void attn_activity_share(attn_activity *a);
/* An id no other build in this process has (a view answers its base's): with
 * the handle's address, what caches of derived data key on, since a freed
 * index's address may be reused. */
uint64_t attn_activity_build_id(const attn_activity *a);
attn_activity *attn_activity_view(const attn_activity *a);

/* A value derived from the whole index, made once and shared by the index
 * and its views, on any thread (route/features.c: the learned features' PR
 * authors and fact index, which every router instance used to build again).
 * The first caller with a kind makes it, under a lock (the others wait);
 * each caller gets a reference of its own, and the index holds one until it
 * is freed, so either may go first. NULL when make fails (nothing is kept:
 * the next caller tries again). make returns the value with one reference,
 * the index's. At most 4 kinds per index. */
typedef struct {
    void *(*make)(const attn_activity *a, void *arg);
    void (*ref)(void *value);
    void (*unref)(void *value);
} attn_act_derived_kind;
void *attn_activity_derived(const attn_activity *a, const attn_act_derived_kind *kind, void *arg);

/* Users: every user who has activity or an open-review-request interval, in
 * login order (case-insensitive, then bytewise, then id). Indices depend on
 * the whole history; compare users across indexes by id or login. A user row
 * without a login reads as "". */
size_t attn_activity_user_count(const attn_activity *a);
const char *attn_activity_user_login(const attn_activity *a, size_t u);
int64_t attn_activity_user_id(const attn_activity *a, size_t u);
int attn_activity_user_is_bot(const attn_activity *a, size_t u);
/* Index of a user by id or by login (case-insensitive); -1 when absent. */
long attn_activity_find_user(const attn_activity *a, int64_t user_id);
long attn_activity_find_login(const attn_activity *a, const char *login);

/* Decayed sums over the window for kinds with non-zero weight. */
double attn_activity_user_sum(attn_activity *a, size_t u, const attn_act_window *w);
/* A hint that attn_activity_user_sum(a, u, w) comes soon: asks the memory
 * for what it will likely read (a sweep over users calls it some users
 * ahead). Changes no result. */
void attn_activity_user_prefetch(const attn_activity *a, size_t u, const attn_act_window *w);
double attn_activity_user_path_sum(attn_activity *a, size_t u, const char *path,
                                   const attn_act_window *w);
double attn_activity_user_area_sum(attn_activity *a, size_t u, const char *area,
                                   const attn_act_window *w);
/* The same sums for a path or area resolved once (a router sums one PR's
 * paths for many users): its id, or ATTN_ACT_NO_ID when the index has none
 * (every sum over it is then 0, so the caller can skip it). */
#define ATTN_ACT_NO_ID UINT32_MAX
uint32_t attn_activity_path_id(const attn_activity *a, const char *path);
uint32_t attn_activity_area_id(const attn_activity *a, const char *area);
double attn_activity_user_path_id_sum(attn_activity *a, size_t u, uint32_t path_id,
                                      const attn_act_window *w);
double attn_activity_user_area_id_sum(attn_activity *a, size_t u, uint32_t area_id,
                                      const attn_act_window *w);

/*
 * A PR's distinct changed paths and their distinct areas, in file order,
 * resolved against the index once (stewards, and its scores among the
 * learned router's features): path_ids holds the ids of the paths the index
 * knows, area_ids one id per area (ATTN_ACT_NO_ID where it knows none).
 * Zero-initialised is empty; _clear empties it for the next PR, keeping its
 * memory. Add each changed file's path (NULL or "" is ignored, a path added
 * before adds nothing), then call _finish.
 */
typedef struct {
    attn_strtab paths, areas;
    uint32_t *path_ids, *area_ids;
    size_t n_path_ids, cap_path_ids, cap_area_ids;
} attn_act_pr_keys;
void attn_act_pr_keys_clear(attn_act_pr_keys *k);
void attn_act_pr_keys_add(attn_act_pr_keys *k, attn_activity *a, const char *path);
void attn_act_pr_keys_finish(attn_act_pr_keys *k, const attn_activity *a);
void attn_act_pr_keys_free(attn_act_pr_keys *k);
/* Decayed sum of the user's facts on PRs authored by author_id (a users.id;
 * the PR's author column is immutable): the reviewer-author affinity. */
double attn_activity_user_author_sum(attn_activity *a, size_t u, int64_t author_id,
                                     const attn_act_window *w);
/* Plain counts of facts of the kinds in mask with from <= t <= to. */
size_t attn_activity_user_count_in(const attn_activity *a, size_t u, unsigned mask,
                                   int64_t from, int64_t to);
/* Time of the user's last fact (any kind) at or before t; ATTN_NULL_I64 if none. */
int64_t attn_activity_user_last_at(const attn_activity *a, size_t u, int64_t t);
/* Review requests naming the user (as a user) that are active at t on PRs
 * that are open at t: the workload the load-aware option looks at. A PR is
 * open from its created_at, then follows its facts in time order: the state
 * of each of its issue's state intervals from that interval's start, its own
 * pull_request.opened/reopened/closed events, and pull_request.merged, after
 * which it stays closed. Requests whose reviewer has no users row are left
 * out. */
size_t attn_activity_user_open_requests(const attn_activity *a, size_t u, int64_t t);

/* All entries in time order, and the half-open slice [*first, *last) of those
 * with from <= t <= to (binary search). */
const attn_act_entry *attn_activity_entries(const attn_activity *a, size_t *n);
void attn_activity_slice(const attn_activity *a, int64_t from, int64_t to, size_t *first,
                         size_t *last);
/* Paths (sorted, unique) the entry at index i is attributed to; 0 when none. */
size_t attn_activity_entry_paths(const attn_activity *a, size_t i, const char *const **paths);

/* Approximate heap bytes held by the index (including cached prefix sums). */
size_t attn_activity_bytes(const attn_activity *a);

/* The area of path under the map the index was built with (borrowed string,
 * valid until the next call; NULL for a NULL path). */
const char *attn_activity_area_of(attn_activity *a, const char *path);

#endif
