/*
 * activity.c - the activity index (see activity.h).
 *
 * Owns: loading review and comment facts for one repository, attributing
 * them to the files of the head that was active when they happened, the
 * review-request workload per user, and the prefix sums that answer decayed
 * sums in O(log n).
 *
 * Must never: read a mutable "latest" column for a time-dependent fact. The
 * entity columns read are ids, numbers, created_at/submitted_at, logins and
 * user types; a review's approval is its state at submission (the
 * review_content_intervals row opened by review.submitted), so a later
 * dismissal cannot reach back; reviews.state is read only when that row is
 * missing. Must never let an answer for a window depend on facts after the
 * window's end: entries are ordered by time with ties broken by immutable
 * ids, and everything a query uses (posting lists, anchors, prefix sums, the
 * "would overflow" decision) is computed in that order from the start, so
 * appending later facts leaves the numbers of every earlier window bit for
 * bit the same.
 *
 * Layout: entries sorted by (t, pr_id, user_id, kind, id); keys (one per
 * user, per (user, path) and per (user, area)) own posting lists of entry
 * indices, grouped by kind and increasing within a kind. Because entry
 * indices increase with time, a window is first turned into a global index
 * range [g0, g1) and then found in a posting list by comparing integers.
 */
#include "history/activity.h"

#include "util/num.h"
#include "util/alloc.h"
#include "util/hashmap.h"
#include "util/buf.h"
#include "util/time.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- SQL ------------------------------------------------------------------------ */

static const char SQL_PRS[] =
    "SELECT id, number, created_at, user_id FROM pull_requests WHERE repo_id = ?1 ORDER BY id";
/* The approval is the state recorded at submission; reviews.state (which a
 * dismissal rewrites to DISMISSED) is only the fallback. */
static const char SQL_REVIEWS[] =
    "SELECT r.id, r.pull_request_id, r.user_id, r.submitted_at,"
    " COALESCE((SELECT c.state FROM review_content_intervals c WHERE c.review_id = r.id"
    "           AND c.start_at = r.submitted_at ORDER BY c.id LIMIT 1), r.state)"
    " FROM reviews r JOIN pull_requests p ON p.id = r.pull_request_id"
    " WHERE p.repo_id = ?1 AND r.submitted_at IS NOT NULL AND r.user_id IS NOT NULL";
/* Diff comments (comment_type 'review' or tied to a review) and conversation
 * comments of PRs. A conversation comment names its PR directly or only the
 * PR's issue; comments on plain issues join no PR and are left out. */
static const char SQL_COMMENTS[] =
    "SELECT c.id, p.id, c.user_id, c.created_at,"
    " (c.comment_type = 'review' OR c.review_id IS NOT NULL)"
    " FROM comments c JOIN pull_requests p ON p.id = c.pull_request_id"
    " WHERE p.repo_id = ?1 AND c.user_id IS NOT NULL AND c.created_at IS NOT NULL"
    " UNION ALL "
    "SELECT c.id, p.id, c.user_id, c.created_at,"
    " (c.comment_type = 'review' OR c.review_id IS NOT NULL)"
    " FROM comments c JOIN pull_requests p ON p.issue_id = c.issue_id"
    " WHERE c.pull_request_id IS NULL AND p.repo_id = ?1 AND c.user_id IS NOT NULL"
    " AND c.created_at IS NOT NULL";
/* Each head interval with the files stored for its sha (none: one NULL row). */
static const char SQL_HEADS[] =
    "SELECT i.pull_request_id, i.id, i.start_at, i.end_at, f.path"
    " FROM pull_request_head_intervals i JOIN pull_requests p ON p.id = i.pull_request_id"
    " LEFT JOIN pull_request_files f ON f.repo_id = p.repo_id"
    "  AND f.pull_request_id = i.pull_request_id AND f.head_sha = i.head_sha"
    " WHERE p.repo_id = ?1 ORDER BY i.pull_request_id, i.start_at, i.id, f.path";
/* Requests naming a user (with a users row, so the user has a login). */
static const char SQL_REQUESTS[] =
    "SELECT r.pull_request_id, r.reviewer_id, r.start_at, r.end_at"
    " FROM pull_request_review_request_intervals r"
    " JOIN pull_requests p ON p.id = r.pull_request_id JOIN users u ON u.id = r.reviewer_id"
    " WHERE p.repo_id = ?1 AND r.reviewer_type = 'user'"
    " ORDER BY r.pull_request_id, r.start_at, r.id";
/* Open/closed facts of a PR: its issue's state intervals and its own events. */
static const char SQL_ISSUE_STATES[] =
    "SELECT p.id, s.start_at, s.state = 'open' FROM issue_state_intervals s"
    " JOIN pull_requests p ON p.issue_id = s.issue_id"
    " WHERE p.repo_id = ?1 ORDER BY p.id, s.start_at, s.id";
static const char SQL_PR_EVENTS[] =
    "SELECT e.subject_id, e.occurred_at, e.event_type FROM events e"
    " JOIN pull_requests p ON p.id = e.subject_id"
    " WHERE p.repo_id = ?1 AND e.subject_type = 'pull_request' AND e.event_type IN"
    " ('pull_request.opened', 'pull_request.reopened', 'pull_request.closed',"
    "  'pull_request.merged')"
    " ORDER BY e.subject_id, e.occurred_at, e.id";
static const char SQL_USERS[] = "SELECT id, login, type FROM users ORDER BY id";

/* ---- small containers --------------------------------------------------------- */

#define NK ATTN_ACT_NKINDS
#define NONE UINT32_MAX
/* Largest exponent (in half-lives past a key's first fact) kept in a prefix
 * sum: 2^960 times up to 2^32 terms still fits a double. */
#define EXP_LIMIT 960.0
#define MAX_CACHES 8
#define MAX_SHARED_CACHES 32     /* half-lives kept once views share the index */
#define DAY 86400.0

/* Strings that live as long as the index, allocated in blocks. */
typedef struct arena_blk {
    struct arena_blk *next;
    size_t used, cap;
    char data[];
} arena_blk;

static char *arena_strdup(arena_blk **head, const char *s)
{
    size_t len = strlen(s) + 1;
    arena_blk *b = *head;
    if (!b || b->cap - b->used < len) {
        size_t cap = len > 65536 ? len : 65536;
        b = attn_xmalloc(attn_st_add(sizeof(*b), cap));
        b->next = *head;
        b->used = 0;
        b->cap = cap;
        *head = b;
    }
    memcpy(b->data + b->used, s, len);
    b->used += len;
    return b->data + b->used - len;
}

static void arena_free(arena_blk *b)
{
    while (b) {
        arena_blk *n = b->next;
        free(b);
        b = n;
    }
}


/* Hash tables: util/hashmap.h (attn_map64: uint64 -> uint32). */
typedef attn_map64 map64;

/* Interned strings: id -> string, string -> id (by hash). */
typedef struct {
    const char **s;
    size_t n, cap;
    map64 by_hash;     /* hash -> first id with that hash; collisions chain via next */
    uint32_t *next;
    size_t next_cap;
} strtab;

static uint32_t strtab_find(const strtab *t, const char *s)
{
    uint32_t id = attn_map64_get(&t->by_hash, attn_hash_str(s));
    while (id != NONE && strcmp(t->s[id], s))
        id = t->next[id];
    return id;
}

static int strtab_intern(strtab *t, arena_blk **ar, const char *s, uint32_t *out)
{
    uint64_t h = attn_hash_str(s);
    uint32_t first = attn_map64_get(&t->by_hash, h), id;
    for (id = first; id != NONE; id = t->next[id])
        if (!strcmp(t->s[id], s)) {
            *out = id;
            return 0;
        }
    if (t->n >= NONE - 1)
        return ATTN_ECORRUPT;   /* ids are uint32 */
    ATTN_ALLOC_GROW(t->s, t->n + 1, t->cap);
    ATTN_ALLOC_GROW(t->next, t->n + 1, t->next_cap);
    t->s[t->n] = arena_strdup(ar, s);
    t->next[t->n] = first;
    attn_map64_put(&t->by_hash, h, (uint32_t)t->n);
    *out = (uint32_t)t->n++;
    return 0;
}

static void strtab_free(strtab *t)
{
    free(t->s);
    free(t->next);
    attn_map64_free(&t->by_hash);
}

/* ---- the index ---------------------------------------------------------------- */

typedef struct {
    int64_t id;
    const char *login;          /* "" when the users row has none */
    int bot;
} act_user;

/* A posting-list owner: postings of kind k are post[off[k] .. off[k+1]). */
typedef struct {
    uint32_t off[NK + 1];
    int64_t anchor;             /* time of the key's first fact */
} act_key;

/* A shared, sorted path set and its areas. */
typedef struct {
    uint32_t off, n;            /* into ppool / pidpool */
    uint32_t aoff, an;          /* into aidpool */
} act_pset;

typedef struct {
    double h;                   /* half-life in seconds */
    double *pre;                /* parallel to post: running sum within the sublist */
    unsigned long long used;
} act_prefix;

/* The prefix sums of an index and its views. Alone, an index keeps
 * MAX_CACHES of them, least recently used out. Once shared, entries are only
 * added (under mu, published by the release store of n) and never moved or
 * freed, so readers scan e[0 .. n) without a lock; past MAX_SHARED_CACHES a
 * half-life's sums are computed for the one query and dropped. A prefix sum
 * is a pure function of the index and h, so answers never depend on which
 * path was taken. */
typedef struct {
    act_prefix e[MAX_SHARED_CACHES];
    atomic_int n;
    int shared;
    unsigned long long clock;
    pthread_mutex_t mu;
} act_prefixes;

/* Values derived from an index and shared by its views
 * (attn_activity_derived): one per kind, made under mu. */
#define MAX_DERIVED 4
typedef struct {
    const attn_act_derived_kind *kind[MAX_DERIVED];
    void *value[MAX_DERIVED];
    int n;
    pthread_mutex_t mu;
} act_derived;

struct attn_activity {
    const attn_area_map *areas;
    arena_blk *arena;

    attn_act_entry *e;
    size_t n;
    int32_t *eset;              /* path set of each entry, -1 when none */
    uint32_t *eauth;            /* dense id of each entry's PR author, NONE when unknown */
    map64 author_ids;           /* PR author user id -> dense id */
    uint32_t nauthors;

    act_user *users;
    size_t nu;
    uint32_t *by_id;            /* user indices ordered by id */

    strtab paths, area_names;
    uint32_t *path_area;        /* area id of each path id */
    act_pset *sets;
    size_t nsets, sets_cap;
    const char **ppool;
    uint32_t *pidpool, *aidpool;
    size_t npp, pp_cap, nap, ap_cap;

    act_key *keys;              /* 0 .. nu-1: users; then (user, path), (user, area),
                                   (user, PR author) */
    size_t nkeys, keys_cap;
    uint32_t *post;
    size_t npost;
    map64 upath, uarea, uauthor;

    act_prefixes *pc;           /* the base's, for a view */
    act_derived *dv;            /* the base's, for a view */
    uint64_t build_id;          /* distinct for every build in the process */
    const attn_activity *base;  /* NULL, or the index this view reads */

    /* last window slice (the candidate sweep asks the same window often) */
    int sl_valid;
    int64_t sl_from, sl_to;
    size_t sl_first, sl_last;
    /* per key and kind: where the last sum found its window's ends in the
     * posting list (cohorts are routed in time order, so the next window's
     * ends are near: key_sum searches from there); zeros until used, so
     * only the pages of keys summed take memory */
    uint32_t *key_hint;

    size_t *rq_off;             /* per user: starts/ends in [rq_off[u], rq_off[u+1]) */
    int64_t *rq_start, *rq_end;

    attn_buf area_buf;
};

/* ---- helpers for building ------------------------------------------------------- */

typedef struct {
    int64_t id, number, created_at;
    int64_t author;             /* pull_requests.user_id (immutable), ATTN_NULL_I64 if none */
    uint32_t hi_first, hi_n;    /* head intervals */
} act_pr;

typedef struct {
    int64_t start, end;         /* end INT64_MAX when open */
    int32_t set;
} act_head;

typedef struct {
    int64_t t, pr_id, user_id, src_id;
    uint8_t kind, approved;
} raw_entry;

typedef struct {
    int64_t pr_id, t;
    int src;                    /* 0 created_at, 1 issue state, 2 PR event */
    uint32_t seq;
    int what;                   /* 0 close, 1 open, 2 merge */
} transition;

typedef struct {
    int64_t pr_id, user_id, start, end;
} raw_request;

typedef struct builder {
    attn_activity *a;
    sqlite3 *db;
    int64_t repo_id;
    attn_error *err;
    act_pr *prs;
    size_t nprs;
    act_head *heads;
    size_t nheads, heads_cap;
    raw_entry *raw;
    size_t nraw, raw_cap;
    raw_request *req;
    size_t nreq, req_cap;
    transition *tr;
    size_t ntr, tr_cap;
    uint32_t *tmp_pids;
    size_t ntmp, tmp_cap;
    /* A second connection's part (attn_activity_build_with): the reviews
     * and comments (in its raw) and the issue state rows (in its tr); and
     * the PR event rows (in events' tr), read by whichever connection was
     * done with its own part first. */
    struct builder *side, *events;
} builder;

/* Ids and offsets are uint32 to halve the index; a history past that is refused. */
static int too_large(builder *b)
{
    return attn_error_set(b->err, ATTN_ECORRUPT,
                          "activity index: more than 2^32 - 2 distinct strings or keys");
}

static int prepare(builder *b, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(b->db, sql, -1, st, NULL) != SQLITE_OK) {
        attn_error_set(b->err, ATTN_EDB, "activity index: %s", sqlite3_errmsg(b->db));
        sqlite3_finalize(*st);
        *st = NULL;
        return ATTN_EDB;
    }
    sqlite3_bind_int64(*st, 1, b->repo_id);
    return 0;
}

/* SQLITE_ROW, SQLITE_DONE, or ATTN_EDB with the message set. */
static int next_row(builder *b, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return rc;
    attn_error_set(b->err, ATTN_EDB, "activity index: %s", sqlite3_errmsg(b->db));
    return ATTN_EDB;
}

static int64_t col_i64(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? ATTN_NULL_I64
                                                     : sqlite3_column_int64(st, i);
}

static act_pr *find_pr(builder *b, int64_t id)
{
    size_t lo = 0, hi = b->nprs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->prs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < b->nprs && b->prs[lo].id == id ? &b->prs[lo] : NULL;
}

static int load_prs(builder *b)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;
    if ((rc = prepare(b, SQL_PRS, &st)))
        return rc;
    while ((rc = next_row(b, st)) == SQLITE_ROW) {
        ATTN_ALLOC_GROW(b->prs, b->nprs + 1, cap);
        act_pr *p = &b->prs[b->nprs++];
        p->id = sqlite3_column_int64(st, 0);
        p->number = sqlite3_column_int64(st, 1);
        p->created_at = col_i64(st, 2);
        p->author = col_i64(st, 3);
        p->hi_first = p->hi_n = 0;
    }
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
}

/* Close the path set being collected (b->tmp_pids) for PR p: an empty set is
 * -1; a set equal to one of p's earlier sets is shared. */
static int finish_set(builder *b, size_t pr_first_set, int32_t *out)
{
    attn_activity *a = b->a;
    size_t n = b->ntmp;
    *out = -1;
    if (!n)
        return 0;
    for (size_t s = pr_first_set; s < a->nsets; s++) {
        if (a->sets[s].n == n &&
            !memcmp(a->pidpool + a->sets[s].off, b->tmp_pids, n * sizeof(uint32_t))) {
            *out = (int32_t)s;
            return 0;
        }
    }
    if (a->nsets >= INT32_MAX || a->npp + n >= NONE)
        return attn_error_set(b->err, ATTN_ECORRUPT, "activity index: too many file sets");
    ATTN_ALLOC_GROW(a->sets, a->nsets + 1, a->sets_cap);
    ATTN_ALLOC_GROW(a->pidpool, a->npp + n, a->pp_cap);
    a->sets[a->nsets].off = (uint32_t)a->npp;
    a->sets[a->nsets].n = (uint32_t)n;
    memcpy(a->pidpool + a->npp, b->tmp_pids, n * sizeof(uint32_t));
    a->npp += n;
    *out = (int32_t)a->nsets++;
    return 0;
}

/* Store the head interval collected so far (its path set in b->tmp_pids). */
static int flush_head(builder *b, act_pr *pr, size_t pr_first_set, act_head *cur)
{
    int rc;
    if ((rc = finish_set(b, pr_first_set, &cur->set)))
        return rc;
    ATTN_ALLOC_GROW(b->heads, b->nheads + 1, b->heads_cap);
    b->heads[b->nheads++] = *cur;
    if (pr)
        pr->hi_n++;
    return 0;
}

static int load_heads(builder *b)
{
    attn_activity *a = b->a;
    sqlite3_stmt *st = NULL;
    int64_t cur_iv = 0, cur_pr = ATTN_NULL_I64;
    act_pr *pr = NULL;
    size_t pr_first_set = 0;
    act_head cur = {0, 0, -1};
    int rc, have = 0;

    if ((rc = prepare(b, SQL_HEADS, &st)))
        return rc;
    while ((rc = next_row(b, st)) == SQLITE_ROW) {
        int64_t iv = sqlite3_column_int64(st, 1);
        if (have && iv != cur_iv) {
            if ((rc = flush_head(b, pr, pr_first_set, &cur)))
                break;
            have = 0;
        }
        if (!have) {
            int64_t pr_id = sqlite3_column_int64(st, 0);
            if (pr_id != cur_pr) {
                cur_pr = pr_id;
                if ((pr = find_pr(b, pr_id)))
                    pr->hi_first = (uint32_t)b->nheads;
                pr_first_set = a->nsets;
            }
            cur_iv = iv;
            cur.start = sqlite3_column_int64(st, 2);
            cur.end = sqlite3_column_type(st, 3) == SQLITE_NULL ? INT64_MAX
                                                                : sqlite3_column_int64(st, 3);
            cur.set = -1;
            b->ntmp = 0;
            have = 1;
        }
        if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
            uint32_t pid;
            if (strtab_intern(&a->paths, &a->arena, (const char *)sqlite3_column_text(st, 4),
                              &pid)) {
                rc = attn_error_set(b->err, ATTN_ECORRUPT, "activity index: too many paths");
                break;
            }
            ATTN_ALLOC_GROW(b->tmp_pids, b->ntmp + 1, b->tmp_cap);
            b->tmp_pids[b->ntmp++] = pid;
        }
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        rc = have ? flush_head(b, pr, pr_first_set, &cur) : 0;
    return rc;
}

static int add_raw(builder *b, int64_t t, int64_t pr_id, int64_t user_id, int64_t src_id,
                   int kind, int approved)
{
    ATTN_ALLOC_GROW(b->raw, b->nraw + 1, b->raw_cap);
    raw_entry *r = &b->raw[b->nraw++];
    r->t = t;
    r->pr_id = pr_id;
    r->user_id = user_id;
    r->src_id = src_id;
    r->kind = (uint8_t)kind;
    r->approved = (uint8_t)approved;
    return 0;
}

static int load_reviews(builder *b)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = prepare(b, SQL_REVIEWS, &st)))
        return rc;
    while ((rc = next_row(b, st)) == SQLITE_ROW) {
        const unsigned char *state = sqlite3_column_text(st, 4);
        if ((rc = add_raw(b, sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 1),
                          sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 0),
                          ATTN_ACT_REVIEW, state && !strcmp((const char *)state, "APPROVED"))))
            break;
    }
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
}

/* The order raw entries arrive in does not matter: build_entries sorts them
 * on keys no two facts share. */
static int load_comments(builder *b)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = prepare(b, SQL_COMMENTS, &st)))
        return rc;
    while ((rc = next_row(b, st)) == SQLITE_ROW) {
        int review = sqlite3_column_int(st, 4) != 0;
        if ((rc = add_raw(b, sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 1),
                          sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 0),
                          review ? ATTN_ACT_REVIEW_COMMENT : ATTN_ACT_COMMENT, 0)))
            break;
    }
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
}

/* The reviews and the comments: read here, or by the side and appended. */
static int load_entries(builder *b)
{
    int rc;
    if (!b->side)
        return (rc = load_reviews(b)) ? rc : load_comments(b);
    ATTN_ALLOC_GROW(b->raw, b->nraw + b->side->nraw, b->raw_cap);
    if (b->side->nraw)
        memcpy(b->raw + b->nraw, b->side->raw, b->side->nraw * sizeof(*b->raw));
    b->nraw += b->side->nraw;
    return 0;
}

static int cmp_raw(const void *x, const void *y)
{
    const raw_entry *p = x, *q = y;
    if (p->t != q->t)
        return p->t < q->t ? -1 : 1;
    if (p->pr_id != q->pr_id)
        return p->pr_id < q->pr_id ? -1 : 1;
    if (p->user_id != q->user_id)
        return p->user_id < q->user_id ? -1 : 1;
    if (p->kind != q->kind)
        return p->kind < q->kind ? -1 : 1;
    if (p->src_id != q->src_id)
        return p->src_id < q->src_id ? -1 : 1;
    return 0;
}

static int load_requests(builder *b)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = prepare(b, SQL_REQUESTS, &st)))
        return rc;
    while ((rc = next_row(b, st)) == SQLITE_ROW) {
        ATTN_ALLOC_GROW(b->req, b->nreq + 1, b->req_cap);
        raw_request *r = &b->req[b->nreq++];
        r->pr_id = sqlite3_column_int64(st, 0);
        r->user_id = sqlite3_column_int64(st, 1);
        r->start = sqlite3_column_int64(st, 2);
        r->end = sqlite3_column_type(st, 3) == SQLITE_NULL ? INT64_MAX
                                                           : sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
}

/* ---- users ---------------------------------------------------------------------- */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* ASCII case-insensitive compare (logins are ASCII; no locale). */
static int ci_cmp(const char *x, const char *y)
{
    for (;; x++, y++) {
        int p = lower((unsigned char)*x), q = lower((unsigned char)*y);
        if (p != q || !p)
            return p - q;
    }
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t p = *(const int64_t *)x, q = *(const int64_t *)y;
    return p < q ? -1 : p > q;
}

static int cmp_user(const void *x, const void *y)
{
    const act_user *p = x, *q = y;
    int c = ci_cmp(p->login, q->login);
    if (!c)
        c = strcmp(p->login, q->login);
    if (!c)
        c = p->id < q->id ? -1 : p->id > q->id;
    return c;
}

/* by_id sorting needs the users array; qsort has no context, so sort pairs. */
typedef struct {
    int64_t id;
    uint32_t idx;
} id_idx;

static int cmp_id_idx(const void *x, const void *y)
{
    return cmp_i64(x, y);
}

static int build_users(builder *b)
{
    attn_activity *a = b->a;
    size_t nid = b->nraw + b->nreq, nd = 0, k = 0;
    int64_t *ids = attn_xmalloc(attn_st_mult(nid ? nid : 1, sizeof(*ids)));
    id_idx *pairs = NULL;
    sqlite3_stmt *st = NULL;
    int rc = 0;

    for (size_t i = 0; i < b->nraw; i++)
        ids[k++] = b->raw[i].user_id;
    for (size_t i = 0; i < b->nreq; i++)
        ids[k++] = b->req[i].user_id;
    qsort(ids, nid, sizeof(*ids), cmp_i64);
    for (size_t i = 0; i < nid; i++)
        if (!nd || ids[nd - 1] != ids[i])
            ids[nd++] = ids[i];
    if (nd >= INT32_MAX) {
        free(ids);
        return attn_error_set(b->err, ATTN_ECORRUPT, "activity index: too many users");
    }
    a->users = attn_xcalloc(nd ? nd : 1, sizeof(*a->users));
    for (size_t i = 0; i < nd; i++) {
        a->users[i].id = ids[i];
        a->users[i].login = "";
    }
    a->nu = nd;
    /* merge with the users table (both ordered by id) */
    if ((rc = prepare(b, SQL_USERS, &st))) {
        free(ids);
        return rc;
    }
    k = 0;
    while (k < nd && (rc = next_row(b, st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *login = (const char *)sqlite3_column_text(st, 1);
        const char *type = (const char *)sqlite3_column_text(st, 2);
        while (k < nd && ids[k] < id)
            k++;
        if (k < nd && ids[k] == id) {
            if (login)
                a->users[k].login = arena_strdup(&a->arena, login);
            a->users[k].bot = attn_is_bot(login, type);
            k++;
        }
    }
    sqlite3_finalize(st);
    free(ids);
    if (rc < 0)
        return rc;
    qsort(a->users, nd, sizeof(*a->users), cmp_user);
    pairs = attn_xmalloc(attn_st_mult(nd ? nd : 1, sizeof(*pairs)));
    a->by_id = attn_xmalloc(attn_st_mult(nd ? nd : 1, sizeof(*a->by_id)));
    for (size_t i = 0; i < nd; i++) {
        pairs[i].id = a->users[i].id;
        pairs[i].idx = (uint32_t)i;
    }
    qsort(pairs, nd, sizeof(*pairs), cmp_id_idx);
    for (size_t i = 0; i < nd; i++)
        a->by_id[i] = pairs[i].idx;
    free(pairs);
    return 0;
}

long attn_activity_find_user(const attn_activity *a, int64_t user_id)
{
    size_t lo = 0, hi = a->nu;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->users[a->by_id[mid]].id < user_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < a->nu && a->users[a->by_id[lo]].id == user_id ? (long)a->by_id[lo] : -1;
}

long attn_activity_find_login(const attn_activity *a, const char *login)
{
    size_t lo = 0, hi = a->nu;
    if (!login)
        return -1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ci_cmp(a->users[mid].login, login) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < a->nu && !ci_cmp(a->users[lo].login, login) ? (long)lo : -1;
}

/* ---- entries, attribution and areas --------------------------------------------- */

/* The path set of the head of pr active at t: the latest-starting interval
 * with start <= t < end (ties: the later row), as the as-of reader picks. */
static int32_t set_at(builder *b, const act_pr *pr, int64_t t)
{
    int32_t set = -1;
    int found = 0;
    if (!pr)
        return -1;
    for (uint32_t i = pr->hi_first; i < pr->hi_first + pr->hi_n; i++) {
        const act_head *h = &b->heads[i];
        if (h->start <= t && t < h->end) {
            set = h->set;
            found = 1;
        }
    }
    return found ? set : -1;
}

static int build_entries(builder *b)
{
    attn_activity *a = b->a;
    if (b->nraw >= NONE)
        return attn_error_set(b->err, ATTN_ECORRUPT, "activity index: too many facts");
    if (b->nraw)
        qsort(b->raw, b->nraw, sizeof(*b->raw), cmp_raw);
    a->n = b->nraw;
    a->e = attn_xcalloc(a->n ? a->n : 1, sizeof(*a->e));
    a->eset = attn_xmalloc(attn_st_mult(a->n ? a->n : 1, sizeof(*a->eset)));
    a->eauth = attn_xmalloc(attn_st_mult(a->n ? a->n : 1, sizeof(*a->eauth)));
    for (size_t i = 0; i < a->n; i++) {
        const raw_entry *r = &b->raw[i];
        const act_pr *pr = find_pr(b, r->pr_id);
        attn_act_entry *e = &a->e[i];
        e->t = r->t;
        e->pr_id = r->pr_id;
        e->pr_number = pr ? pr->number : ATTN_NULL_I64;
        e->user = (int32_t)attn_activity_find_user(a, r->user_id);
        e->kind = r->kind;
        e->approved = r->approved;
        a->eset[i] = set_at(b, pr, r->t);
        a->eauth[i] = NONE;
        if (pr && pr->author != ATTN_NULL_I64) {
            uint32_t id = attn_map64_get(&a->author_ids, (uint64_t)pr->author);
            if (id == NONE) {
                id = a->nauthors++;
                attn_map64_put(&a->author_ids, (uint64_t)pr->author, id);
            }
            a->eauth[i] = id;
        }
    }
    return 0;
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t p = *(const uint32_t *)x, q = *(const uint32_t *)y;
    return p < q ? -1 : p > q;
}

static void build_areas(builder *b)
{
    attn_activity *a = b->a;
    attn_buf buf = ATTN_BUF_INIT;
    size_t np = a->paths.n;

    a->path_area = attn_xmalloc(attn_st_mult(np ? np : 1, sizeof(*a->path_area)));
    for (size_t p = 0; p < np; p++) {
        attn_area_of(a->areas, a->paths.s[p], &buf);
        /* cannot fail: there are no more areas than paths, whose ids fit */
        strtab_intern(&a->area_names, &a->arena, attn_buf_cstr(&buf), &a->path_area[p]);
    }
    attn_buf_free(&buf);
    /* string pointers for the sets, and each set's distinct areas */
    a->ppool = attn_xmalloc(attn_st_mult(a->npp ? a->npp : 1, sizeof(*a->ppool)));
    for (size_t i = 0; i < a->npp; i++)
        a->ppool[i] = a->paths.s[a->pidpool[i]];
    for (size_t s = 0; s < a->nsets; s++) {
        act_pset *ps = &a->sets[s];
        size_t start = a->nap, n = 0;
        ATTN_ALLOC_GROW(a->aidpool, a->nap + ps->n, a->ap_cap);
        for (uint32_t j = 0; j < ps->n; j++)
            a->aidpool[start + j] = a->path_area[a->pidpool[ps->off + j]];
        qsort(a->aidpool + start, ps->n, sizeof(uint32_t), cmp_u32);
        for (uint32_t j = 0; j < ps->n; j++)
            if (!n || a->aidpool[start + n - 1] != a->aidpool[start + j])
                a->aidpool[start + n++] = a->aidpool[start + j];
        ps->aoff = (uint32_t)start;
        ps->an = (uint32_t)n;
        a->nap = start + n;
    }
}

/* ---- keys and postings ----------------------------------------------------------- */

static uint64_t pair_key(uint32_t u, uint32_t id)
{
    return (uint64_t)u << 32 | id;
}

/* The key for (u, id) in m, created (anchored at t) when absent. */
static int key_for(attn_activity *a, map64 *m, uint32_t u, uint32_t id, int64_t t,
                   uint32_t *out)
{
    uint32_t k = attn_map64_get(m, pair_key(u, id));
    if (k == NONE) {
        if (a->nkeys >= NONE - 1)
            return ATTN_ECORRUPT;   /* keys are uint32 */
        ATTN_ALLOC_GROW(a->keys, a->nkeys + 1, a->keys_cap);
        k = (uint32_t)a->nkeys++;
        memset(&a->keys[k], 0, sizeof(a->keys[k]));
        a->keys[k].anchor = t;
        attn_map64_put(m, pair_key(u, id), k);
    }
    *out = k;
    return 0;
}

/* Visit every (key, kind) posting of entry i: pass 0 counts into off[kind+1]
 * (creating keys), pass 1 writes through the cursors in off[kind]. */
static int post_entry(attn_activity *a, size_t i, int pass)
{
    const attn_act_entry *e = &a->e[i];
    uint32_t u = (uint32_t)e->user, k;
    int32_t s = a->eset[i];
    size_t nk = 1 + (s >= 0 ? a->sets[s].n + a->sets[s].an : 0);

    if (a->eauth[i] != NONE) {
        if (key_for(a, &a->uauthor, u, a->eauth[i], e->t, &k))
            return ATTN_ECORRUPT;
        if (pass == 0)
            a->keys[k].off[e->kind + 1]++;
        else
            a->post[a->keys[k].off[e->kind]++] = (uint32_t)i;
    }
    for (size_t j = 0; j < nk; j++) {
        if (j == 0) {
            k = u;
        } else if (j <= a->sets[s].n) {
            if (key_for(a, &a->upath, u, a->pidpool[a->sets[s].off + j - 1], e->t, &k))
                return ATTN_ECORRUPT;
        } else {
            if (key_for(a, &a->uarea, u, a->aidpool[a->sets[s].aoff + j - 1 - a->sets[s].n],
                        e->t, &k))
                return ATTN_ECORRUPT;
        }
        if (pass == 0)
            a->keys[k].off[e->kind + 1]++;
        else
            a->post[a->keys[k].off[e->kind]++] = (uint32_t)i;
    }
    return 0;
}

static int build_postings(builder *b)
{
    attn_activity *a = b->a;
    size_t total = 0;

    ATTN_ALLOC_GROW(a->keys, a->nu ? a->nu : 1, a->keys_cap);
    memset(a->keys, 0, a->nu * sizeof(*a->keys));
    a->nkeys = a->nu;
    for (size_t i = 0; i < a->n; i++) {
        act_key *uk = &a->keys[a->e[i].user];
        if (!uk->off[1] && !uk->off[2] && !uk->off[3])
            uk->anchor = a->e[i].t;
        if (post_entry(a, i, 0))
            return too_large(b);
    }
    /* counts -> starting offsets (off[k] = start of kind k) */
    for (size_t k = 0; k < a->nkeys; k++) {
        act_key *key = &a->keys[k];
        uint32_t c[NK];
        for (int j = 0; j < NK; j++)
            c[j] = key->off[j + 1];
        for (int j = 0; j < NK; j++) {
            key->off[j] = (uint32_t)total;
            total += c[j];
            if (total >= NONE)
                return attn_error_set(b->err, ATTN_ECORRUPT,
                                      "activity index: too many postings");
        }
        key->off[NK] = (uint32_t)total;
    }
    a->npost = total;
    a->post = attn_xmalloc(attn_st_mult(total ? total : 1, sizeof(*a->post)));
    for (size_t i = 0; i < a->n; i++)
        if (post_entry(a, i, 1))
            return too_large(b);
    /* the cursors now sit at the end of each kind; shift back to starts */
    for (size_t k = 0; k < a->nkeys; k++) {
        act_key *key = &a->keys[k];
        for (int j = NK; j > 0; j--)
            key->off[j] = key->off[j - 1];
        key->off[0] = k ? a->keys[k - 1].off[NK] : 0;
    }
    return 0;
}

/* ---- review-request workload ----------------------------------------------------- */

static int add_tr(builder *b, int64_t pr_id, int64_t t, int src, int what)
{
    ATTN_ALLOC_GROW(b->tr, b->ntr + 1, b->tr_cap);
    transition *x = &b->tr[b->ntr];
    x->pr_id = pr_id;
    x->t = t;
    x->src = src;
    x->seq = (uint32_t)b->ntr;
    x->what = what;
    b->ntr++;
    return 0;
}

static int cmp_tr(const void *x, const void *y)
{
    const transition *p = x, *q = y;
    if (p->pr_id != q->pr_id)
        return p->pr_id < q->pr_id ? -1 : 1;
    if (p->t != q->t)
        return p->t < q->t ? -1 : 1;
    if (p->src != q->src)
        return p->src - q->src;
    return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* The issue state and PR event rows of the transitions. */
static int load_state_rows(builder *b)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = prepare(b, SQL_ISSUE_STATES, &st)))
        return rc;
    while ((rc = next_row(b, st)) == SQLITE_ROW)
        if ((rc = add_tr(b, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), 1,
                         sqlite3_column_int(st, 2) ? 1 : 0)))
            break;
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
}

static int load_event_rows(builder *b)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = prepare(b, SQL_PR_EVENTS, &st)))
        return rc;
    while ((rc = next_row(b, st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 2);
        int what = !strcmp(type, "pull_request.merged")   ? 2
                   : !strcmp(type, "pull_request.closed") ? 0
                                                          : 1;
        if ((rc = add_tr(b, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), 2, what)))
            break;
    }
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
}

static int load_transition_rows(builder *b)
{
    int rc = load_state_rows(b);
    return rc ? rc : load_event_rows(b);
}

/* Each PR's created_at, then its state and event rows (read here or by the
 * side, numbered on in row order either way), sorted. */
static int load_transitions(builder *b)
{
    int rc = 0;
    for (size_t i = 0; i < b->nprs && !rc; i++)
        if (b->prs[i].created_at != ATTN_NULL_I64)
            rc = add_tr(b, b->prs[i].id, b->prs[i].created_at, 0, 1);
    if (rc)
        return rc;
    if (!b->side) {
        if ((rc = load_transition_rows(b)))
            return rc;
    } else {
        for (size_t i = 0; i < b->side->ntr && !rc; i++) {
            const transition *x = &b->side->tr[i];
            rc = add_tr(b, x->pr_id, x->t, x->src, x->what);
        }
        for (size_t i = 0; b->events && i < b->events->ntr && !rc; i++) {
            const transition *x = &b->events->tr[i];
            rc = add_tr(b, x->pr_id, x->t, x->src, x->what);
        }
        if (rc)
            return rc;
    }
    if (b->ntr)
        qsort(b->tr, b->ntr, sizeof(*b->tr), cmp_tr);
    return 0;
}

typedef struct {
    uint32_t u;
    int64_t v;
} user_time;

static int cmp_user_time(const void *x, const void *y)
{
    const user_time *p = x, *q = y;
    if (p->u != q->u)
        return p->u < q->u ? -1 : 1;
    return p->v < q->v ? -1 : p->v > q->v;
}

/* Effective request pieces: each request interval intersected with the open
 * pieces of its PR. "Open" follows the PR's state facts in time order: open
 * from created_at, then each issue state interval's state at its start and
 * each PR opened/reopened/closed event; a merge closes for good. Ties at one
 * instant: created_at, issue states, PR events, each in row order. */
static int build_requests(builder *b)
{
    attn_activity *a = b->a;
    user_time *starts = NULL, *ends = NULL;
    size_t n = 0, cap = 0, cap2 = 0, ti = 0;
    int rc = 0;

    if (b->nreq && (rc = load_transitions(b)))
        return rc;
    for (size_t r = 0; r < b->nreq && !rc;) {
        int64_t pr_id = b->req[r].pr_id;
        size_t r_end = r;
        while (r_end < b->nreq && b->req[r_end].pr_id == pr_id)
            r_end++;
        while (ti < b->ntr && b->tr[ti].pr_id < pr_id)
            ti++;
        /* walk the PR's transitions into open pieces [ps, pe) */
        int open = 0, merged = 0;
        int64_t ps = 0;
        size_t tj = ti;
        for (;;) {
            int at_end = tj >= b->ntr || b->tr[tj].pr_id != pr_id;
            int64_t pe = INT64_MAX;
            int close_piece = 0;
            if (at_end) {
                close_piece = open;
            } else {
                const transition *x = &b->tr[tj++];
                int now_open;
                if (merged)
                    continue;
                if (x->what == 2)
                    merged = 1;
                now_open = x->what == 1;
                if (now_open && !open) {
                    open = 1;
                    ps = x->t;
                } else if (!now_open && open) {
                    open = 0;
                    pe = x->t;
                    close_piece = 1;
                }
            }
            if (close_piece && ps < pe) {
                for (size_t q = r; q < r_end; q++) {
                    int64_t lo = b->req[q].start > ps ? b->req[q].start : ps;
                    int64_t hi = b->req[q].end < pe ? b->req[q].end : pe;
                    long u = attn_activity_find_user(a, b->req[q].user_id);
                    if (lo >= hi || u < 0)
                        continue;
                    ATTN_ALLOC_GROW(starts, n + 1, cap);
                    ATTN_ALLOC_GROW(ends, n + 1, cap2);
                    starts[n].u = ends[n].u = (uint32_t)u;
                    starts[n].v = lo;
                    ends[n].v = hi;
                    n++;
                }
            }
            if (at_end || rc)
                break;
        }
        ti = tj;
        r = r_end;
    }
    if (!rc) {
        a->rq_off = attn_xcalloc(a->nu + 1, sizeof(*a->rq_off));
        a->rq_start = attn_xmalloc(attn_st_mult(n ? n : 1, sizeof(*a->rq_start)));
        a->rq_end = attn_xmalloc(attn_st_mult(n ? n : 1, sizeof(*a->rq_end)));
    }
    if (!rc) {
        if (n) {
            qsort(starts, n, sizeof(*starts), cmp_user_time);
            qsort(ends, n, sizeof(*ends), cmp_user_time);
        }
        for (size_t i = 0; i < n; i++) {
            a->rq_off[starts[i].u + 1]++;
            a->rq_start[i] = starts[i].v;
            a->rq_end[i] = ends[i].v;
        }
        for (size_t u = 0; u < a->nu; u++)
            a->rq_off[u + 1] += a->rq_off[u];
    }
    free(starts);
    free(ends);
    return rc;
}

/* ---- build / free ----------------------------------------------------------------- */

void attn_activity_free(attn_activity *a)
{
    if (!a)
        return;
    if (a->base) {
        /* a view owns only its per-thread scratch */
        attn_buf_free(&a->area_buf);
        free(a->key_hint);
        free(a);
        return;
    }
    free(a->e);
    free(a->eset);
    free(a->users);
    free(a->by_id);
    strtab_free(&a->paths);
    strtab_free(&a->area_names);
    free(a->path_area);
    free(a->sets);
    free(a->ppool);
    free(a->pidpool);
    free(a->aidpool);
    free(a->keys);
    free(a->post);
    free(a->key_hint);
    attn_map64_free(&a->upath);
    attn_map64_free(&a->uarea);
    attn_map64_free(&a->uauthor);
    attn_map64_free(&a->author_ids);
    free(a->eauth);
    if (a->pc) {
        for (int i = 0; i < atomic_load(&a->pc->n); i++)
            free(a->pc->e[i].pre);
        pthread_mutex_destroy(&a->pc->mu);
        free(a->pc);
    }
    if (a->dv) {
        for (int i = 0; i < a->dv->n; i++)
            a->dv->kind[i]->unref(a->dv->value[i]);
        pthread_mutex_destroy(&a->dv->mu);
        free(a->dv);
    }
    free(a->rq_off);
    free(a->rq_start);
    free(a->rq_end);
    attn_buf_free(&a->area_buf);
    arena_free(a->arena);
    free(a);
}

/* The PR event rows, read by whichever connection is done first (claim). */
typedef struct {
    builder b;
    attn_error err;
    int rc;
    atomic_int claim;
} events_part;

typedef struct {
    builder b;
    attn_error err;
    int rc;
    events_part *ev;
} side_part;

/* Read the PR event rows on db unless the other connection claimed them. */
static void claim_events(events_part *ev, sqlite3 *db, int64_t repo_id)
{
    if (atomic_exchange(&ev->claim, 1))
        return;
    ev->b.db = db;
    ev->b.repo_id = repo_id;
    ev->b.err = &ev->err;
    ev->rc = load_event_rows(&ev->b);
}

static void *side_main(void *arg)
{
    side_part *p = arg;
    /* the comments too: the PRs, heads and requests read meanwhile took
     * longer than the reviews and the issue states (profile); then the PR
     * events, if the PRs, heads and requests are still being read */
    if (!(p->rc = load_reviews(&p->b)) && !(p->rc = load_comments(&p->b)) &&
        !(p->rc = load_state_rows(&p->b)))
        claim_events(p->ev, p->b.db, p->b.repo_id);
    return NULL;
}

int attn_activity_build(attn_store *s, int64_t repo_id, const attn_area_map *areas,
                        attn_activity **out, attn_error *err)
{
    return attn_activity_build_with(s, NULL, repo_id, areas, out, err);
}

int attn_activity_build_with(attn_store *s, attn_store *helper, int64_t repo_id,
                             const attn_area_map *areas, attn_activity **out, attn_error *err)
{
    builder b;
    attn_activity *a;
    side_part side;
    events_part ev;
    pthread_t tid;
    int rc, started = 0;

    *out = NULL;
    a = attn_xcalloc(1, sizeof(*a));
    a->areas = areas;
    {
        static atomic_ullong builds;
        a->build_id = atomic_fetch_add(&builds, 1) + 1;
    }
    a->pc = attn_xcalloc(1, sizeof(*a->pc));
    atomic_init(&a->pc->n, 0);
    pthread_mutex_init(&a->pc->mu, NULL);
    a->dv = attn_xcalloc(1, sizeof(*a->dv));
    pthread_mutex_init(&a->dv->mu, NULL);
    memset(&b, 0, sizeof(b));
    b.a = a;
    b.db = attn_store_db(s);
    b.repo_id = repo_id;
    b.err = err;
    memset(&side, 0, sizeof(side));
    memset(&ev, 0, sizeof(ev));
    atomic_init(&ev.claim, 0);
    if (helper) {
        /* the side reads what needs no PR list; the rest is read here meanwhile */
        side.b.db = attn_store_db(helper);
        side.b.repo_id = repo_id;
        side.b.err = &side.err;
        side.ev = &ev;
        started = !pthread_create(&tid, NULL, side_main, &side);
    }
    if (!(rc = load_prs(&b)) && !(rc = load_heads(&b)) && !(rc = load_requests(&b)) && started) {
        claim_events(&ev, b.db, repo_id);
        pthread_join(tid, NULL);
        started = 0;
        if ((rc = side.rc))
            *err = side.err;
        else if ((rc = ev.rc))
            *err = ev.err;
        else {
            b.side = &side.b;
            b.events = &ev.b;
        }
    }
    if (started)
        pthread_join(tid, NULL);
    if (!rc && !(rc = load_entries(&b)) && !(rc = build_users(&b)) && !(rc = build_entries(&b))) {
        build_areas(&b);
        if (!(rc = build_postings(&b)))
            rc = build_requests(&b);
    }
    free(side.b.raw);
    free(side.b.tr);
    free(ev.b.tr);
    free(b.prs);
    free(b.heads);
    free(b.raw);
    free(b.req);
    free(b.tr);
    free(b.tmp_pids);
    if (rc) {
        attn_activity_free(a);
        return rc;
    }
    /* the id pool is only needed while building keys */
    free(a->pidpool);
    a->pidpool = NULL;
    *out = a;
    return 0;
}

/* ---- queries -------------------------------------------------------------------- */

size_t attn_activity_user_count(const attn_activity *a)
{
    return a->nu;
}

const char *attn_activity_user_login(const attn_activity *a, size_t u)
{
    return u < a->nu ? a->users[u].login : NULL;
}

int64_t attn_activity_user_id(const attn_activity *a, size_t u)
{
    return u < a->nu ? a->users[u].id : ATTN_NULL_I64;
}

int attn_activity_user_is_bot(const attn_activity *a, size_t u)
{
    return u < a->nu && a->users[u].bot;
}

const attn_act_entry *attn_activity_entries(const attn_activity *a, size_t *n)
{
    *n = a->n;
    return a->e;
}

/* First entry index with t >= from (upper = 0) or t > from (upper = 1). */
static size_t bound(const attn_activity *a, int64_t t, int upper)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->e[mid].t < t || (upper && a->e[mid].t == t))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void attn_activity_slice(const attn_activity *a, int64_t from, int64_t to, size_t *first,
                         size_t *last)
{
    if (from > to) {
        *first = *last = bound(a, from, 0);
        return;
    }
    *first = bound(a, from, 0);
    *last = bound(a, to, 1);
}

static void cached_slice(attn_activity *a, int64_t from, int64_t to, size_t *g0, size_t *g1)
{
    if (!a->sl_valid || a->sl_from != from || a->sl_to != to) {
        attn_activity_slice(a, from, to, &a->sl_first, &a->sl_last);
        a->sl_from = from;
        a->sl_to = to;
        a->sl_valid = 1;
    }
    *g0 = a->sl_first;
    *g1 = a->sl_last;
}

size_t attn_activity_entry_paths(const attn_activity *a, size_t i, const char *const **paths)
{
    int32_t s = i < a->n ? a->eset[i] : -1;
    if (s < 0) {
        *paths = NULL;
        return 0;
    }
    *paths = a->ppool + a->sets[s].off;
    return a->sets[s].n;
}

/* First position in post[lo, hi) holding an entry index >= g. */
static uint32_t post_bound(const uint32_t *post, uint32_t lo, uint32_t hi, size_t g)
{
    return (uint32_t)attn_lower_u32(post, lo, hi, g);
}

/* Half-lives from anchor to t. One expression for building and querying, so
 * both make the same overflow decision. */
static double halves(int64_t t, int64_t anchor, double h)
{
    return ((double)t - (double)anchor) / h;
}

/* s * 2^-x for x >= 0, with the power split so a tiny result rounds once. */
static double scale_down(double s, double x)
{
    double fl = floor(x);
    if (fl > 4000.0)
        return 0.0;
    return ldexp(s * exp2(fl - x), -(int)fl);
}

/* The prefix sums for half-life h (seconds). Within each (key, kind) list
 * they run in time order and stop at the first fact beyond EXP_LIMIT
 * half-lives from the key's anchor, so every value depends only on the facts
 * before it. */
static double *prefix_compute(const attn_activity *a, double h)
{
    double *pre = attn_xcalloc(a->npost ? a->npost : 1, sizeof(*pre));
    for (size_t k = 0; k < a->nkeys; k++) {
        const act_key *key = &a->keys[k];
        for (int kind = 0; kind < NK; kind++) {
            double run = 0.0;
            for (uint32_t j = key->off[kind]; j < key->off[kind + 1]; j++) {
                double x = halves(a->e[a->post[j]].t, key->anchor, h);
                if (x > EXP_LIMIT)
                    break;
                run += exp2(x);
                pre[j] = run;
            }
        }
    }
    return pre;
}

/* The prefix sums for h, cached (act_prefixes). *tmp is set when the caller
 * must free them after the query (a shared cache that is full). */
/* The prefix sums for half-life h made already, or NULL (never makes one):
 * the lock-free look of prefix_for, and what a prefetch may read. */
static const double *prefix_made(const act_prefixes *pc, double h)
{
    int n = atomic_load_explicit(&pc->n, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (pc->e[i].h == h)
            return pc->e[i].pre;
    return NULL;
}

static const double *prefix_for(attn_activity *a, double h, int *tmp)
{
    act_prefixes *pc = a->pc;
    const double *made;
    double *pre;
    int n;
    *tmp = 0;
    if (pc->shared) {
        if ((made = prefix_made(pc, h)))
            return made;
        pthread_mutex_lock(&pc->mu);
        n = atomic_load_explicit(&pc->n, memory_order_relaxed);
        for (int i = 0; i < n; i++)
            if (pc->e[i].h == h) {
                pthread_mutex_unlock(&pc->mu);
                return pc->e[i].pre;
            }
        pre = prefix_compute(a, h);
        if (n < MAX_SHARED_CACHES) {
            pc->e[n].h = h;
            pc->e[n].pre = pre;
            atomic_store_explicit(&pc->n, n + 1, memory_order_release);
        } else {
            *tmp = 1;
        }
        pthread_mutex_unlock(&pc->mu);
        return pre;
    }
    n = atomic_load_explicit(&pc->n, memory_order_relaxed);
    for (int i = 0; i < n; i++)
        if (pc->e[i].h == h) {
            pc->e[i].used = ++pc->clock;
            return pc->e[i].pre;
        }
    if (n >= MAX_CACHES) {
        int lru = 0;                 /* evict the least recently used */
        for (int i = 1; i < n; i++)
            if (pc->e[i].used < pc->e[lru].used)
                lru = i;
        free(pc->e[lru].pre);
        pc->e[lru] = pc->e[--n];
    }
    pc->e[n].h = h;
    pc->e[n].pre = pre = prefix_compute(a, h);
    pc->e[n].used = ++pc->clock;
    atomic_store_explicit(&pc->n, n + 1, memory_order_relaxed);
    return pre;
}

void *attn_activity_derived(const attn_activity *a, const attn_act_derived_kind *kind, void *arg)
{
    const attn_activity *b = a->base ? a->base : a;
    act_derived *dv = b->dv;
    void *v = NULL;
    int i;
    if (!dv)
        return NULL;
    pthread_mutex_lock(&dv->mu);
    for (i = 0; i < dv->n && dv->kind[i] != kind; i++)
        ;
    if (i < dv->n) {
        kind->ref(v = dv->value[i]);
    } else if (dv->n == MAX_DERIVED) {
        v = kind->make(b, arg);          /* no room: the caller's alone */
    } else if ((v = kind->make(b, arg))) {
        dv->kind[dv->n] = kind;
        dv->value[dv->n++] = v;
        kind->ref(v);
    }
    pthread_mutex_unlock(&dv->mu);
    return v;
}

uint64_t attn_activity_build_id(const attn_activity *a)
{
    return a->build_id;
}

void attn_activity_share(attn_activity *a)
{
    attn_activity *b = a->base ? (attn_activity *)a->base : a;
    b->pc->shared = 1;
}

attn_activity *attn_activity_view(const attn_activity *a)
{
    attn_activity *v = attn_xmalloc(sizeof(*v));
    const attn_activity *b = a->base ? a->base : a;
    *v = *b;
    v->base = b;
    v->sl_valid = 0;
    v->key_hint = NULL;
    v->area_buf = (attn_buf)ATTN_BUF_INIT;
    return v;
}

/* The ends of a user's windows are most often at or next to their hints:
 * ask for those places in every kind's list and prefix at once, so that
 * their cache misses overlap instead of following each other. */
void attn_activity_user_prefetch(const attn_activity *a, size_t u, const attn_act_window *w)
{
    const double *pre = NULL;
    const uint32_t *hint;
    const act_key *key;
    if (u >= a->nu || !a->key_hint)
        return;
    if (w->half_life_days > 0)   /* only sums made already: a prefetch computes nothing */
        pre = prefix_made(a->pc, w->half_life_days * DAY);
    hint = a->key_hint + u * 2 * NK;
    key = &a->keys[u];
    for (int kind = 0; kind < NK; kind++) {
        if (w->weight[kind] == 0.0 || key->off[kind] == key->off[kind + 1])
            continue;
        for (int end = 0; end < 2; end++) {
            uint32_t j = hint[2 * kind + end];
            __builtin_prefetch(&a->post[j]);
            if (pre && j > 0)
                __builtin_prefetch(&pre[j - 1]);
        }
    }
}

static double key_sum(attn_activity *a, const act_key *key, const attn_act_window *w)
{
    size_t g0, g1;
    int decay = w->half_life_days > 0;
    double h = w->half_life_days * DAY, acc = 0.0, x_to;
    const double *pre = NULL;
    uint32_t *hint;
    int tmp = 0;

    if (w->from > w->to)
        return 0.0;
    cached_slice(a, w->from, w->to, &g0, &g1);
    if (g0 == g1)
        return 0.0;
    if (!a->key_hint)   /* zeros: each hint starts at its list's start (clamped) */
        a->key_hint = attn_xcalloc(attn_st_mult(a->nkeys ? a->nkeys : 1, 2 * NK),
                                    sizeof(*a->key_hint));
    hint = a->key_hint + (size_t)(key - a->keys) * 2 * NK;
    if ((size_t)(key - a->keys) < a->nu)
        attn_activity_user_prefetch(a, (size_t)(key - a->keys), w);
    for (int kind = 0; kind < NK; kind++) {
        double wk = w->weight[kind];
        uint32_t lo = key->off[kind], hi = key->off[kind + 1], j0, j1;
        if (wk == 0.0 || lo == hi)
            continue;
        j0 = (uint32_t)attn_lower_u32_from(a->post, lo, hi, g0, hint[2 * kind]);
        j1 = (uint32_t)attn_lower_u32_from(a->post, j0, hi, g1, hint[2 * kind + 1]);
        hint[2 * kind] = j0;
        hint[2 * kind + 1] = j1;
        if (j0 == j1)
            continue;
        if (!decay) {
            acc += wk * (double)(j1 - j0);
            continue;
        }
        if (!pre)
            pre = prefix_for(a, h, &tmp);
        /* The window's facts are at most w->to: when w->to is within the
         * prefix's reach of the anchor, so is the last of them, and its
         * time (a load that misses the cache) need not be read. */
        x_to = halves(w->to, key->anchor, h);
        if (pre && (x_to <= EXP_LIMIT ||
                    halves(a->e[a->post[j1 - 1]].t, key->anchor, h) <= EXP_LIMIT)) {
            double sum = pre[j1 - 1] - (j0 > lo ? pre[j0 - 1] : 0.0);
            acc += wk * scale_down(sum, x_to);
        } else {
            /* beyond what a double can hold from this anchor: sum the window */
            double sum = 0.0;
            for (uint32_t j = j0; j < j1; j++)
                sum += exp2(-halves(w->to, a->e[a->post[j]].t, h));
            acc += wk * sum;
        }
    }
    if (tmp)
        free((double *)pre);
    return acc;
}

double attn_activity_user_sum(attn_activity *a, size_t u, const attn_act_window *w)
{
    return u < a->nu ? key_sum(a, &a->keys[u], w) : 0.0;
}

uint32_t attn_activity_path_id(const attn_activity *a, const char *path)
{
    return path ? strtab_find(&a->paths, path) : NONE;
}

uint32_t attn_activity_area_id(const attn_activity *a, const char *area)
{
    return area ? strtab_find(&a->area_names, area) : NONE;
}

void attn_act_pr_keys_clear(attn_act_pr_keys *k)
{
    attn_strtab_clear(&k->paths);
    attn_strtab_clear(&k->areas);
    k->n_path_ids = 0;
}

void attn_act_pr_keys_add(attn_act_pr_keys *k, attn_activity *a, const char *path)
{
    size_t before = k->paths.n;
    uint32_t id;
    const char *area;
    if (!path || !*path)
        return;
    /* Changed files are unique in a snapshot; the check keeps hand-made
     * snapshots from counting a path twice. */
    attn_strtab_id(&k->paths, path, strlen(path), 1);
    if (k->paths.n == before)
        return;
    ATTN_ALLOC_GROW(k->path_ids, k->n_path_ids + 1, k->cap_path_ids);
    if ((id = attn_activity_path_id(a, path)) != NONE)
        k->path_ids[k->n_path_ids++] = id;
    area = attn_activity_area_of(a, path);   /* scratch text: the table copies it */
    attn_strtab_id(&k->areas, area, strlen(area), 1);
}

void attn_act_pr_keys_finish(attn_act_pr_keys *k, const attn_activity *a)
{
    ATTN_ALLOC_GROW(k->area_ids, k->areas.n + 1, k->cap_area_ids);
    for (size_t i = 0; i < k->areas.n; i++)
        k->area_ids[i] = attn_activity_area_id(a, attn_strtab_at(&k->areas, i));
}

void attn_act_pr_keys_free(attn_act_pr_keys *k)
{
    attn_strtab_free(&k->paths);
    attn_strtab_free(&k->areas);
    free(k->path_ids);
    free(k->area_ids);
    memset(k, 0, sizeof(*k));
}

double attn_activity_user_path_id_sum(attn_activity *a, size_t u, uint32_t pid,
                                      const attn_act_window *w)
{
    uint32_t k;
    if (u >= a->nu || pid == NONE ||
        (k = attn_map64_get(&a->upath, pair_key((uint32_t)u, pid))) == NONE)
        return 0.0;
    return key_sum(a, &a->keys[k], w);
}

double attn_activity_user_area_id_sum(attn_activity *a, size_t u, uint32_t aid,
                                      const attn_act_window *w)
{
    uint32_t k;
    if (u >= a->nu || aid == NONE ||
        (k = attn_map64_get(&a->uarea, pair_key((uint32_t)u, aid))) == NONE)
        return 0.0;
    return key_sum(a, &a->keys[k], w);
}

double attn_activity_user_path_sum(attn_activity *a, size_t u, const char *path,
                                   const attn_act_window *w)
{
    return attn_activity_user_path_id_sum(a, u, attn_activity_path_id(a, path), w);
}

double attn_activity_user_area_sum(attn_activity *a, size_t u, const char *area,
                                   const attn_act_window *w)
{
    return attn_activity_user_area_id_sum(a, u, attn_activity_area_id(a, area), w);
}

double attn_activity_user_author_sum(attn_activity *a, size_t u, int64_t author_id,
                                     const attn_act_window *w)
{
    uint32_t aid, k;
    if (u >= a->nu || author_id == ATTN_NULL_I64 ||
        (aid = attn_map64_get(&a->author_ids, (uint64_t)author_id)) == NONE ||
        (k = attn_map64_get(&a->uauthor, pair_key((uint32_t)u, aid))) == NONE)
        return 0.0;
    return key_sum(a, &a->keys[k], w);
}

size_t attn_activity_user_count_in(const attn_activity *a, size_t u, unsigned mask,
                                   int64_t from, int64_t to)
{
    size_t g0, g1, n = 0;
    if (u >= a->nu || from > to)
        return 0;
    attn_activity_slice(a, from, to, &g0, &g1);
    for (int kind = 0; kind < NK; kind++) {
        const act_key *key = &a->keys[u];
        if (!(mask & ATTN_ACT_MASK(kind)))
            continue;
        uint32_t j0 = post_bound(a->post, key->off[kind], key->off[kind + 1], g0);
        n += post_bound(a->post, j0, key->off[kind + 1], g1) - j0;
    }
    return n;
}

int64_t attn_activity_user_last_at(const attn_activity *a, size_t u, int64_t t)
{
    size_t g1;
    int64_t best = -1;
    if (u >= a->nu)
        return ATTN_NULL_I64;
    g1 = bound(a, t, 1);
    for (int kind = 0; kind < NK; kind++) {
        const act_key *key = &a->keys[u];
        uint32_t j = post_bound(a->post, key->off[kind], key->off[kind + 1], g1);
        if (j > key->off[kind] && (int64_t)a->post[j - 1] > best)
            best = a->post[j - 1];
    }
    return best < 0 ? ATTN_NULL_I64 : a->e[best].t;
}

/* Entries of v[lo, hi) (sorted) that are <= t. */
static size_t count_le(const int64_t *v, size_t lo, size_t hi, int64_t t)
{
    size_t l = lo;
    while (l < hi) {
        size_t mid = l + (hi - l) / 2;
        if (v[mid] <= t)
            l = mid + 1;
        else
            hi = mid;
    }
    return l - lo;
}

size_t attn_activity_user_open_requests(const attn_activity *a, size_t u, int64_t t)
{
    if (u >= a->nu)
        return 0;
    /* active = started at or before t minus ended at or before t (ends are
     * exclusive; every piece has start < end) */
    return count_le(a->rq_start, a->rq_off[u], a->rq_off[u + 1], t) -
           count_le(a->rq_end, a->rq_off[u], a->rq_off[u + 1], t);
}

const char *attn_activity_area_of(attn_activity *a, const char *path)
{
    uint32_t pid;
    if (!path)
        return NULL;
    if ((pid = strtab_find(&a->paths, path)) != NONE)
        return a->area_names.s[a->path_area[pid]];
    attn_area_of(a->areas, path, &a->area_buf);
    return attn_buf_cstr(&a->area_buf);
}

size_t attn_activity_bytes(const attn_activity *a)
{
    size_t n = sizeof(*a);
    for (const arena_blk *b = a->arena; b; b = b->next)
        n += sizeof(*b) + b->cap;
    n += a->n * (sizeof(*a->e) + sizeof(*a->eset));
    n += a->nu * (sizeof(*a->users) + sizeof(*a->by_id) + sizeof(*a->rq_off));
    n += a->paths.cap * sizeof(char *) + a->paths.next_cap * sizeof(uint32_t) +
         a->paths.by_hash.cap * 12 + a->paths.n * sizeof(uint32_t);
    n += a->area_names.cap * sizeof(char *) + a->area_names.next_cap * sizeof(uint32_t) +
         a->area_names.by_hash.cap * 12;
    n += a->sets_cap * sizeof(*a->sets) + a->npp * sizeof(*a->ppool) +
         a->ap_cap * sizeof(*a->aidpool);
    n += a->keys_cap * sizeof(*a->keys) + a->npost * sizeof(*a->post);
    n += (a->upath.cap + a->uarea.cap) * 12;
    n += (size_t)atomic_load(&a->pc->n) * a->npost * sizeof(double);
    n += a->rq_off ? a->rq_off[a->nu] * 2 * sizeof(int64_t) : 0;
    return n;
}
