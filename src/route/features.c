/*
 * features.c - candidate pool and features of the `learned` router (see
 * features.h for the list and the rules). Owns the feature computation only;
 * must never read past q->as_of: activity queries all end at the cutoff, the
 * one backward scan walks index entries with t <= as_of, and the component
 * routers obey the same rule (router.h).
 */
#include "route/features.h"
#include "route/fact_index.h"
#include "route/path_similarity.h"
#include "route/result_internal.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/num.h"
#include "util/sort.h"
#include "util/user.h"
#include "util/version.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DAY 86400

static const char *const NAMES[ATTN_FEAT_N] = {
    "pop_hl7", "pop_hl30", "pop_hl180", "reviews_7d", "reviews_30d", "reviews_180d",
    "days_since_review", "days_since_active", "author_affinity", "author_last_reviewer",
    "author_review_share", "path_sim_score", "path_sim_rr", "stewards_score", "stewards_rr",
    "file_activity", "area_activity", "codeowners_rr", "mentioned", "requested",
    "open_requests", "hour_fit", "weekday_fit", "pop_rr", "review_share_30d",
    "reviews_since_last", "author_prs_365d", "reviewers_30d", "active_days_30d"};

enum {
    F_POP7, F_POP30, F_POP180, F_REV7, F_REV30, F_REV180, F_SINCE_REVIEW, F_SINCE_ACTIVE,
    F_AUTHOR_AFF, F_AUTHOR_LAST, F_AUTHOR_SHARE, F_PATH_SCORE, F_PATH_RR, F_STEW_SCORE,
    F_STEW_RR, F_FILE_ACT, F_AREA_ACT, F_OWNERS_RR, F_MENTIONED, F_REQUESTED, F_OPEN_REQ,
    F_HOUR_FIT, F_WEEKDAY_FIT, F_POP_RR, F_SHARE30, F_SINCE_LAST, F_AUTHOR_PRS, F_REVIEWERS30,
    F_ACTIVE_DAYS
};

/* The component routers, in the order their ranks break pool ties. */
enum { C_POP, C_PATH, C_STEW, C_OWNERS, C_MENTIONS, C_REQUESTS, NC };
static const char *const COMPONENTS[NC] = {"popularity", "path_similarity", "stewards",
                                           "codeowners", "mentions", "review_requests"};

typedef struct {
    int64_t pr_id, author_id, created_at;
} pr_author;

/* A component router driven directly: its own scoring (def->route) without
 * router.c's result JSON, which the features never needed (see comp_route). */
typedef struct {
    const attn_router_def *def;
    json_t *config;          /* merged defaults; kept alive: init may borrow from it */
    void *state;
} comp_router;

struct comp_cand;
struct pool_item;

/*
 * What every features object of one history reads and none changes: the PR
 * authors and the fact index. Made once per activity index and shared by
 * its views (attn_activity_derived), where each router instance, training
 * lane and worker used to build its own (about 65 ms each on a 50,000-PR
 * history, four of them one after another before an evaluation routes).
 */
typedef struct feat_base {
    atomic_int refs;
    attn_fact_index *facts;  /* the activity entries per user (fact_index.h) */
    pr_author *authors;      /* sorted by pr_id */
    pr_author *by_author;    /* the same rows sorted by (author_id, created_at) */
    size_t n_authors;
} feat_base;

struct attn_features {
    int max_cands;
    comp_router comp[NC];
    /* per-PR scratch, kept across PRs (allocating it anew was a visible
     * share of a route) */
    struct comp_cand *cands;
    size_t cap_cands;
    struct pool_item *items, *items2, **order;
    size_t cap_items, cap_items2, cap_order;
    feat_base *base;         /* a reference: the activity index shares it */
    uint8_t *bot;            /* per activity user: router.c's bot rule (rule 1) */
    long *slot;              /* per activity user: candidate slot or -1 */
    size_t n_users;
    uint32_t *hint;          /* per activity user, HINTS fact index hints (see scan) */
};

/* The fact index's hints (fact_index.h) of one user: one per window scan
 * counts in, hour and weekday buckets each their own. */
enum {
    H_FACTS = 0,
    H_DAYS30 = H_FACTS + ATTN_FACT_HINT,
    H_REVIEWS = H_DAYS30 + ATTN_FACT_HINT,      /* the year, 7, 30, 180 days */
    H_HOUR = H_REVIEWS + 4 * ATTN_FACT_HINT,    /* 24 of them */
    H_WDAY = H_HOUR + 24 * ATTN_FACT_HINT,      /* 7 */
    HINTS = H_WDAY + 7 * ATTN_FACT_HINT
};

const char *attn_feat_name(size_t i) { return i < ATTN_FEAT_N ? NAMES[i] : NULL; }

json_t *attn_feat_names_json(void)
{
    json_t *a = attn_xcheck(json_array());
    for (size_t i = 0; i < ATTN_FEAT_N; i++)
        attn_xcheck_rc(json_array_append_new(a, attn_xcheck(json_string(NAMES[i]))));
    return a;
}

static const attn_act_derived_kind FEAT_BASE;

void attn_features_free(attn_features *f)
{
    if (!f)
        return;
    for (int c = 0; c < NC; c++) {
        if (f->comp[c].state && f->comp[c].def->free)
            f->comp[c].def->free(f->comp[c].state);
        json_decref(f->comp[c].config);
    }
    free(f->cands);
    free(f->items);
    free(f->items2);
    free(f->order);
    if (f->base)
        FEAT_BASE.unref(f->base);
    free(f->bot);
    free(f->slot);
    free(f->hint);
    free(f);
}

static int ba_cmp(const void *a, const void *b);

static int pa_cmp(const void *a, const void *b)
{
    const pr_author *x = a, *y = b;
    return x->pr_id < y->pr_id ? -1 : x->pr_id > y->pr_id;
}

/* pull_requests.user_id never changes after a PR is created, so reading it
 * for PRs that have activity at or before the cutoff leaks nothing. */
static int load_authors(feat_base *f, const attn_route_ctx *ctx, attn_error *err)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    if (sqlite3_prepare_v2(attn_store_db(ctx->store),
                           "SELECT id, user_id, created_at FROM pull_requests WHERE repo_id = ? "
                           "ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return attn_error_set(err, ATTN_EDB, "reading PR authors: %s",
                              sqlite3_errmsg(attn_store_db(ctx->store)));
    sqlite3_bind_int64(st, 1, ctx->repo_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        ATTN_ALLOC_GROW(f->authors, f->n_authors + 1, cap);
        f->authors[f->n_authors].pr_id = sqlite3_column_int64(st, 0);
        f->authors[f->n_authors].author_id = sqlite3_column_type(st, 1) == SQLITE_NULL
                                                 ? ATTN_NULL_I64
                                                 : sqlite3_column_int64(st, 1);
        f->authors[f->n_authors].created_at = sqlite3_column_int64(st, 2);
        f->n_authors++;
    }
    sqlite3_finalize(st);
    qsort(f->authors, f->n_authors, sizeof(*f->authors), pa_cmp);
    f->by_author = attn_xmalloc(attn_st_mult(f->n_authors ? f->n_authors : 1, sizeof(*f->by_author)));
    if (f->n_authors)
        memcpy(f->by_author, f->authors, f->n_authors * sizeof(*f->authors));
    qsort(f->by_author, f->n_authors, sizeof(*f->by_author), ba_cmp);
    return 0;
}

/* PRs by author created in (from, to]: created_at never changes, and a PR
 * created after the cutoff is outside the range. */
static size_t prs_by(const feat_base *f, int64_t author, int64_t from, int64_t to)
{
    size_t lo = 0, hi = f->n_authors, a, b;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const pr_author *p = &f->by_author[mid];
        if (p->author_id < author || (p->author_id == author && p->created_at <= from))
            lo = mid + 1;
        else
            hi = mid;
    }
    a = lo;
    hi = f->n_authors;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const pr_author *p = &f->by_author[mid];
        if (p->author_id < author || (p->author_id == author && p->created_at <= to))
            lo = mid + 1;
        else
            hi = mid;
    }
    b = lo;
    return b - a;
}

static int ba_cmp(const void *a, const void *b)
{
    const pr_author *x = a, *y = b;
    if (x->author_id != y->author_id)
        return x->author_id < y->author_id ? -1 : 1;
    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? -1 : 1;
    return x->pr_id < y->pr_id ? -1 : x->pr_id > y->pr_id;
}

static int64_t author_of(const feat_base *f, int64_t pr_id)
{
    pr_author key = {pr_id, 0, 0}, *hit;
    hit = bsearch(&key, f->authors, f->n_authors, sizeof(key), pa_cmp);
    return hit ? hit->author_id : ATTN_NULL_I64;
}

/* router.c's common rules (availability, load), off: what attn_router_new
 * merges under every router's defaults, so a component driven directly gets
 * the config it would get from attn_router_new(def, NULL). */
static const char COMMON_OFF[] =
    "{\"availability\": {\"inactive_days\": 0, \"factor\": 0.5},"
    " \"load\": {\"max_open_requests\": 0}}";

static int comp_init(comp_router *c, const char *name, const attn_route_ctx *ctx, attn_error *err)
{
    json_t *common = NULL;
    int rc;
    if ((rc = attn_router_find(name, &c->def, err)) ||
        (rc = attn_json_parse(c->def->default_config, strlen(c->def->default_config), name,
                              &c->config, err)) ||
        (rc = attn_json_parse(COMMON_OFF, strlen(COMMON_OFF), "common", &common, err)))
        goto out;
    attn_xcheck_rc(json_object_update_missing(c->config, common));   /* both objects */
    if (c->def->init && (rc = c->def->init(c->config, ctx, &c->state, err)))
        attn_error_wrap(err, "learned features: %s", name);
out:
    json_decref(common);
    return rc;
}

/* The fact index, with each entry's PR author (fact_index.h). */
static int index_entries(feat_base *f, const attn_route_ctx *ctx, attn_error *err)
{
    size_t n;
    const attn_act_entry *e = attn_activity_entries(ctx->activity, &n);
    int64_t *author = attn_xmalloc(attn_st_mult(n ? n : 1, sizeof(*author)));
    for (size_t i = 0; i < n; i++)
        author[i] = author_of(f, e[i].pr_id);
    int rc = attn_fact_index_new(ctx->activity, author, &f->facts, err);
    free(author);
    return rc;
}

/* feat_base's make (attn_activity_derived): the caller's context, and how
 * reading the authors or building the index failed. */
typedef struct {
    const attn_route_ctx *ctx;
    attn_error *err;
    int rc;
} base_arg;

static void base_unref(void *v)
{
    feat_base *b = v;
    if (atomic_fetch_sub(&b->refs, 1) != 1)
        return;
    attn_fact_index_free(b->facts);
    free(b->authors);
    free(b->by_author);
    free(b);
}

static void *base_make(const attn_activity *a, void *arg)
{
    base_arg *m = arg;
    feat_base *b = attn_xcalloc(1, sizeof(*b));
    (void)a;   /* m->ctx->activity is a or a view of it: the same entries */
    atomic_init(&b->refs, 1);
    if ((m->rc = load_authors(b, m->ctx, m->err)) || (m->rc = index_entries(b, m->ctx, m->err))) {
        base_unref(b);
        return NULL;
    }
    return b;
}

static void base_ref(void *v) { atomic_fetch_add(&((feat_base *)v)->refs, 1); }

static const attn_act_derived_kind FEAT_BASE = {base_make, base_ref, base_unref};

int attn_features_new(const attn_route_ctx *ctx, int max_candidates, attn_features **out,
                      attn_error *err)
{
    attn_features *f;
    int rc;
    *out = NULL;
    if (max_candidates < 1)
        return attn_error_set(err, ATTN_EINVAL, "max_candidates must be >= 1");
    if (!ctx->activity)
        return attn_error_set(err, ATTN_EINVAL, "the learned features need the activity index");
    f = attn_xcalloc(1, sizeof(*f));
    f->max_cands = max_candidates;
    /* popularity and stewards are scored here (pop_rows, stew_rows) */
    for (int c = 0; c < NC; c++)
        if (c != C_POP && c != C_STEW && (rc = comp_init(&f->comp[c], COMPONENTS[c], ctx, err)))
            goto fail;
    {
        base_arg m = {ctx, err, 0};
        if (!(f->base = attn_activity_derived(ctx->activity, &FEAT_BASE, &m))) {
            rc = m.rc ? m.rc : attn_error_set(err, ATTN_EINVAL, "learned features: no index");
            goto fail;
        }
    }
    f->n_users = attn_activity_user_count(ctx->activity);
    f->slot = attn_xmalloc(attn_st_mult(f->n_users ? f->n_users : 1, sizeof(*f->slot)));
    f->bot = attn_xmalloc(f->n_users ? f->n_users : 1);
    f->hint = attn_xcalloc(attn_st_mult(f->n_users ? f->n_users : 1, HINTS), sizeof(*f->hint));
    for (size_t u = 0; u < f->n_users; u++) {
        const char *login = attn_activity_user_login(ctx->activity, u);
        f->slot[u] = -1;
        f->bot[u] = (login && attn_is_bot(login, NULL)) ||
                    attn_activity_user_is_bot(ctx->activity, u);
    }
    *out = f;
    return 0;
fail:
    attn_features_free(f);
    return rc;
}

void attn_feat_set_free(attn_feat_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->login[i]);
    free(s->login);
    free(s->x);
    memset(s, 0, sizeof(*s));
}

/* ---- the components' rankings ------------------------------------------------ */

/* One candidate of a component, after router.c's rules. */
typedef struct comp_cand {
    const char *name;        /* borrowed from the component's result or the index */
    double score;
    int team;
    long user;               /* the activity user whose login name is, or -1: unknown */
} comp_cand;

/* router.c's order (candidates.h rule 5): score desc, team before user, then
 * the name case-insensitively, then bytewise. */
static int comp_cmp(const void *a, const void *b)
{
    const comp_cand *x = a, *y = b;
    int c;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->team != y->team)
        return x->team ? -1 : 1;
    if ((c = strcasecmp(x->name, y->name)))
        return c;
    return strcmp(x->name, y->name);
}

/* 0 for zeros and non-finite values, as the features always had */
static double round_sig(double v, int digits) { return v == 0 ? 0 : attn_round_sig(v, digits); }

/* candidates.c's round_score: results compare scores printed with 12
 * significant digits (0 for non-finite scores). */
static double round12(double x) { return round_sig(x, 12); }

static int is_bot_login(const attn_route_ctx *ctx, const char *name)
{
    long u;
    if (attn_is_bot(name, NULL))
        return 1;
    u = attn_activity_find_login(ctx->activity, name);
    return u >= 0 && attn_activity_user_is_bot(ctx->activity, (size_t)u);
}

/*
 * What attn_result_finish would list of a component's candidates c[0..n),
 * without its JSON: rule 1 (the author and bots out), rule 4 (scores <= 0
 * out), scores rounded to 12 digits, rule 5's order, cut at top_k. Rules 2
 * and 3 are off (COMMON_OFF) and no component keeps zero scores. Rounding is
 * monotone, so sorting by the raw score first and rounding only the top
 * top_k, plus any that round to the same value as the last of them, gives
 * the list rounding all would.
 */
static size_t comp_finish(const attn_features *f, comp_cand *c, size_t n_in,
                          const attn_route_ctx *ctx, const char *author, size_t top_k)
{
    size_t n = 0, m, sorted;
    for (size_t i = 0; i < n_in; i++) {
        if (!c[i].team && ((author && !strcasecmp(c[i].name, author)) ||
                           (c[i].user >= 0 ? f->bot[c[i].user] : is_bot_login(ctx, c[i].name))))
            continue;
        if (!(c[i].score > 0))
            continue;
        c[n++] = c[i];
    }
    /* sorted: c[0, sorted) is in order, the rest not (and not rounded) */
    sorted = n < top_k + 1 ? n : top_k + 1;
    attn_heap_top(c, n, sorted, sizeof(*c), comp_cmp);
    m = n < top_k ? n : top_k;
    for (size_t i = 0; i < m; i++)
        c[i].score = round12(c[i].score);
    while (m && m < n) {
        double r;
        if (m == sorted) {   /* the next in order among the rest */
            attn_heap_top(c + sorted, n - sorted, 1, sizeof(*c), comp_cmp);
            sorted++;
        }
        r = round12(c[m].score);
        if (r != c[m - 1].score)
            break;
        c[m++].score = r;
    }
    /* rounding only reorders where it made scores equal; mostly it did not */
    for (size_t i = 1; i < m; i++)
        if (comp_cmp(&c[i - 1], &c[i]) > 0) {
            attn_heap_sort(c, m, sizeof(*c), comp_cmp);
            break;
        }
    return m < top_k ? m : top_k;
}

/* The candidates of a component's result (names borrowed from it). */
static size_t comp_collect(attn_route_result *res, comp_cand **buf, size_t *cap)
{
    size_t count = attn_result_count(res);
    ATTN_ALLOC_GROW(*buf, count + 1, *cap);
    for (size_t i = 0; i < count; i++) {
        attn_cand *c = attn_result_at(res, i);
        (*buf)[i].name = attn_cand_name(c);
        (*buf)[i].score = attn_cand_score(c);
        (*buf)[i].team = strcmp(attn_cand_type(c), "user") != 0;
        (*buf)[i].user = -1;
    }
    return count;
}

/*
 * popularity with its default config, scored here rather than through the
 * router: the same sums in the same order (popularity.c), without evidence
 * the features never read. test_route_learned compares the two.
 */
static size_t pop_rows(const attn_route_ctx *ctx, const attn_route_query *q, comp_cand **buf,
                       size_t *cap)
{
    attn_activity *a = ctx->activity;
    attn_act_window w = {q->as_of - (int64_t)llround(180 * 86400.0), q->as_of, 30, {1, 0, 0}};
    size_t n = 0, nu = attn_activity_user_count(a);
    ATTN_ALLOC_GROW(*buf, nu + 1, *cap);
    for (size_t u = 0; u < nu; u++) {
        const char *login = attn_activity_user_login(a, u);
        double score;
        if (!login || !*login || attn_activity_user_is_bot(a, u))
            continue;
        if (!((score = attn_activity_user_sum(a, u, &w)) > 0))
            continue;
        (*buf)[n].name = login;
        (*buf)[n].score = score;
        (*buf)[n].user = (long)u;
        (*buf)[n++].team = 0;
    }
    return n;
}

/* path_similarity's scores without its result (path_similarity.h): the
 * rows its route would list before router.c's rules, named as it names
 * them. */
static int path_rows(attn_features *f, const attn_route_ctx *ctx, const attn_route_query *q,
                     comp_cand **buf, size_t *cap, size_t *m, attn_error *err)
{
    const attn_shortlist_row *rows;
    size_t n;
    int rc;
    *m = 0;
    if ((rc = attn_path_similarity_scores(f->comp[C_PATH].state, ctx, q, &rows, &n, err)))
        return rc;
    ATTN_ALLOC_GROW(*buf, n + 1, *cap);
    for (size_t i = 0; i < n; i++) {
        const char *login = attn_activity_user_login(ctx->activity, rows[i].user);
        if (!login || !*login)
            continue;
        (*buf)[*m].name = login;
        (*buf)[*m].score = rows[i].score;
        (*buf)[*m].user = (long)rows[i].user;
        (*buf)[(*m)++].team = 0;
    }
    return 0;
}

/* The ids of the n paths (or areas) the activity index knows, in order:
 * a new array of *n_out. */
static uint32_t *known_ids(const attn_activity *act, const char *const *s, size_t n, int areas,
                           size_t *n_out)
{
    uint32_t *ids = attn_xmalloc(attn_st_mult(n + 1, sizeof(*ids)));
    *n_out = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t id = areas ? attn_activity_area_id(act, s[k]) : attn_activity_path_id(act, s[k]);
        if (id != ATTN_ACT_NO_ID)
            ids[(*n_out)++] = id;
    }
    return ids;
}

/* The PR as stewards sees it (attn_act_pr_keys). */
static void stew_pr_init(attn_activity *act, const json_t *snapshot, attn_act_pr_keys *sp)
{
    const json_t *fi;
    size_t i;
    memset(sp, 0, sizeof(*sp));
    json_array_foreach(json_object_get(snapshot, "changed_files"), i, fi)
        attn_act_pr_keys_add(sp, act, attn_json_str(fi, "path"));
    attn_act_pr_keys_finish(sp, act);
}

/*
 * stewards with its default config (stewards.c), scored for every user of
 * its pool: the router prunes users whose bound cannot reach its top_k,
 * which by its contract changes nothing in the list router.c keeps; the sums
 * and the score expression are the router's, term for term.
 */
static size_t stew_rows(const attn_route_ctx *ctx, const attn_route_query *q, comp_cand **buf,
                        size_t *cap)
{
    attn_activity *a = ctx->activity;
    attn_act_window w = {q->as_of - (int64_t)llround(180 * 86400.0), q->as_of, 30, {1.0, 0.4, 0.2}};
    attn_act_window wa = {q->as_of - (int64_t)llround(365 * 86400.0), q->as_of, 180,
                          {1.0, 0.4, 0.2}};
    int64_t author_id = attn_json_i64(q->snapshot, "author_id", ATTN_NULL_I64);
    size_t n = 0, nu = attn_activity_user_count(a);
    attn_act_pr_keys sp;
    stew_pr_init(a, q->snapshot, &sp);
    ATTN_ALLOC_GROW(*buf, nu + 1, *cap);
    for (size_t u = 0; u < nu; u++) {
        const char *login = attn_activity_user_login(a, u);
        double total, area = 0, file = 0, author, score;
        if (attn_activity_user_is_bot(a, u) || !login || !*login)
            continue;
        if (!((total = attn_activity_user_sum(a, u, &w)) > 0))
            continue;
        for (size_t k = 0; k < sp.areas.n; k++)
            if (sp.area_ids[k] != ATTN_ACT_NO_ID)
                area += attn_activity_user_area_id_sum(a, u, sp.area_ids[k], &w);
        for (size_t k = 0; k < sp.n_path_ids; k++)
            file += attn_activity_user_path_id_sum(a, u, sp.path_ids[k], &w);
        author = author_id != ATTN_NULL_I64 ? attn_activity_user_author_sum(a, u, author_id, &wa)
                                            : 0;
        score = 1.0 * area + 0.5 * file + 0.2 * total + 0.5 * author;
        if (!(score > 0))
            continue;
        (*buf)[n].name = login;
        (*buf)[n].score = score;
        (*buf)[n].user = (long)u;
        (*buf)[n++].team = 0;
    }
    attn_act_pr_keys_free(&sp);
    return n;
}

/* ---- the candidate pool ----------------------------------------------------- */

typedef struct pool_item {
    const char *login;      /* borrowed from a component result or the index */
    double best_rr;
    double rr[NC], score[NC];
} pool_item;

static int pool_cmp(const void *a, const void *b)
{
    const pool_item *x = *(const pool_item *const *)a, *y = *(const pool_item *const *)b;
    int c;
    if (x->best_rr != y->best_rr)
        return x->best_rr > y->best_rr ? -1 : 1;
    if ((c = strcasecmp(x->login, y->login)))
        return c;
    return strcmp(x->login, y->login);
}

/* Per-PR work; the buffers are the features' scratch (attn_features). */
typedef struct {
    attn_route_result *res[NC];
    comp_cand *cands;
    size_t cap_cands;
    pool_item *items, *items2, **order;   /* items2, order: for the cut */
    size_t n, cap_items, cap_items2, cap_order;
} pr_work;

static void pool_add(pr_work *w, const char *login, int comp, size_t rank, double score)
{
    size_t i;
    pool_item *it;
    for (i = 0; i < w->n; i++)
        if (!strcasecmp(w->items[i].login, login))
            break;
    if (i == w->n) {
        ATTN_ALLOC_GROW(w->items, w->n + 1, w->cap_items);
        memset(&w->items[i], 0, sizeof(pool_item));
        w->items[i].login = login;
        w->n++;
    }
    it = &w->items[i];
    if (it->rr[comp] == 0) {
        it->rr[comp] = 1.0 / (double)rank;
        it->score[comp] = score;
        if (it->rr[comp] > it->best_rr)
            it->best_rr = it->rr[comp];
    }
}

/* Route every component for q and gather the pool (features.h: best
 * reciprocal rank, then login; cut at max_candidates). */
static int build_pool(attn_features *f, const attn_route_ctx *ctx, const attn_route_query *q,
                      pr_work *w, attn_error *err)
{
    attn_route_query cq = *q;
    const char *author = attn_json_str(q->snapshot, "author");
    cq.top_k = f->max_cands;
    w->n = 0;
    for (int c = 0; c < NC; c++) {
        size_t m, rank = 0;
        int rc;
        if (c == C_POP) {
            m = pop_rows(ctx, q, &w->cands, &w->cap_cands);
        } else if (c == C_STEW) {
            m = stew_rows(ctx, q, &w->cands, &w->cap_cands);
        } else if (c == C_PATH) {
            if ((rc = path_rows(f, ctx, q, &w->cands, &w->cap_cands, &m, err))) {
                attn_error_wrap(err, "learned features: %s", COMPONENTS[c]);
                return rc;
            }
        } else {
            w->res[c] = attn_result_new();
            if ((rc = f->comp[c].def->route(f->comp[c].state, ctx, &cq, w->res[c], err))) {
                attn_error_wrap(err, "learned features: %s", COMPONENTS[c]);
                return rc;
            }
            m = comp_collect(w->res[c], &w->cands, &w->cap_cands);
        }
        m = comp_finish(f, w->cands, m, ctx, author, (size_t)f->max_cands);
        for (size_t j = 0; j < m; j++)
            if (!w->cands[j].team)
                pool_add(w, w->cands[j].name, c, ++rank, w->cands[j].score);
    }
    /* the items are sorted through pointers (they are 112 bytes), and the
     * first max_cands copied in that order */
    ATTN_ALLOC_GROW(w->order, w->n + 1, w->cap_order);
    ATTN_ALLOC_GROW(w->items2, w->n + 1, w->cap_items2);
    for (size_t i = 0; i < w->n; i++)
        w->order[i] = &w->items[i];
    attn_heap_top(w->order, w->n, (size_t)f->max_cands, sizeof(*w->order), pool_cmp);
    if (w->n > (size_t)f->max_cands)
        w->n = (size_t)f->max_cands;
    for (size_t i = 0; i < w->n; i++)
        w->items2[i] = *w->order[i];
    {
        pool_item *t = w->items;
        size_t ct = w->cap_items;
        w->items = w->items2;
        w->cap_items = w->cap_items2;
        w->items2 = t;
        w->cap_items2 = ct;
    }
    return 0;
}

/* ---- the features ----------------------------------------------------------- */

typedef struct {
    int64_t last_review, last_active;
    size_t rev7, rev30, rev180, facts, hour_ok, wday_ok, author_reviews, since_last, days30;
    int seen_review;
} scan_acc;

/* What one PR shares across its candidates. */
typedef struct {
    int64_t author_id;
    long last_author;        /* user of the latest review on the author's PRs, or -1 */
    size_t author_total, rev30_total, rev_total, reviewers30;
    float author_prs;
    const char **paths;      /* the changed files' paths, in snapshot order (borrowed) */
    size_t n_paths;
    char *areas[64];         /* their distinct areas, first seen first (owned) */
    size_t n_areas;
    /* the activity index's ids of the paths and areas it knows, in that
     * order (the others' sums are 0): resolved once, not once per user */
    uint32_t *path_ids, *area_ids;
    size_t n_path_ids, n_area_ids;
} pr_shared;

/* First entry index in [first, last) with t > t: entries are in time order. */
static size_t after(const attn_route_ctx *ctx, int64_t t, int64_t as_of, size_t first)
{
    size_t a, b;
    attn_activity_slice(ctx->activity, t + 1, as_of, &a, &b);
    return a > first ? a : first;
}

/* The counts over the facts in [as_of - 365 d, as_of], for the PR and for
 * each candidate slot, read from the fact index (fact_index.h): the numbers
 * a pass over those facts from the newest back would count. */
static void scan(attn_features *f, const attn_route_ctx *ctx, const attn_route_query *q,
                 scan_acc *acc, const long *users, size_t n, pr_shared *p)
{
    const attn_fact_index *x = f->base->facts;
    const attn_act_entry *e = attn_activity_entries(ctx->activity, &(size_t){0});
    const int32_t *on;
    size_t first, last, i7, i30, i180, n_on;
    int h0 = attn_fact_hour(q->as_of), w0 = attn_fact_wday(q->as_of);
    attn_activity_slice(ctx->activity, q->as_of - 365 * (int64_t)DAY, q->as_of, &first, &last);
    i7 = after(ctx, q->as_of - 7 * (int64_t)DAY, q->as_of, first);
    i30 = after(ctx, q->as_of - 30 * (int64_t)DAY, q->as_of, first);
    i180 = after(ctx, q->as_of - 180 * (int64_t)DAY, q->as_of, first);
    p->rev_total = attn_fact_reviews(x, first, last);
    p->rev30_total = attn_fact_reviews(x, i30, last);
    p->reviewers30 = attn_fact_reviewers(x, i30, last);
    /* others' reviews on the author's PRs: the latest one's reviewer, and each
     * candidate's share */
    n_on = attn_fact_on_author(x, p->author_id, first, last, &on);
    p->author_total = n_on;
    p->last_author = -1;
    for (size_t k = n_on; k-- > 0;) {
        int32_t u = on[k];
        long s = u >= 0 && (size_t)u < f->n_users ? f->slot[u] : -1;
        if (p->last_author < 0)
            p->last_author = u;
        if (s >= 0 && (size_t)s < n)
            acc[s].author_reviews++;
    }
    for (size_t i = 0; i < n; i++) {
        scan_acc *a = &acc[i];
        size_t u = (size_t)users[i], lf, lr;
        /* a user named by two candidates counts for the slot that holds them */
        if (users[i] < 0 || u >= f->n_users || f->slot[u] != (long)i)
            continue;
        uint32_t *h = f->hint + u * HINTS;
        if ((a->facts = attn_fact_user(x, u, first, last, &lf, h + H_FACTS)))
            a->last_active = e[lf].t;
        a->days30 = attn_fact_user_days(x, u, i30, last, h + H_DAYS30);
        for (int d = -2; d <= 2; d++) {
            int hr = (h0 + d + 24) % 24;
            a->hour_ok += attn_fact_user_hour(x, u, hr, first, last,
                                              h + H_HOUR + hr * ATTN_FACT_HINT);
        }
        a->wday_ok = attn_fact_user_wday(x, u, w0, first, last, h + H_WDAY + w0 * ATTN_FACT_HINT);
        if (attn_fact_user_reviews(x, u, first, last, &lr, h + H_REVIEWS)) {
            a->seen_review = 1;
            a->last_review = e[lr].t;
            a->since_last = attn_fact_reviews(x, lr + 1, last);
        }
        a->rev7 = attn_fact_user_reviews(x, u, i7, last, &lr, h + H_REVIEWS + ATTN_FACT_HINT);
        a->rev30 = attn_fact_user_reviews(x, u, i30, last, &lr, h + H_REVIEWS + 2 * ATTN_FACT_HINT);
        a->rev180 =
            attn_fact_user_reviews(x, u, i180, last, &lr, h + H_REVIEWS + 3 * ATTN_FACT_HINT);
    }
}

static double decayed(attn_activity *act, size_t u, int64_t as_of, double hl, double days,
                      int reviews_only)
{
    attn_act_window w = {as_of - (int64_t)(days * DAY), as_of, hl, {1, 0, 0}};
    if (!reviews_only) {
        w.weight[ATTN_ACT_REVIEW_COMMENT] = 1;
        w.weight[ATTN_ACT_COMMENT] = 1;
    }
    return attn_activity_user_sum(act, u, &w);
}

/* The PR's changed files and their distinct areas (at most 64; a path
 * listed twice counts twice, as it always has). */
static void pr_files(attn_activity *act, const json_t *snapshot, pr_shared *p)
{
    const json_t *files = json_object_get(snapshot, "changed_files"), *fi;
    size_t i;
    p->paths = attn_xmalloc(attn_st_mult(json_array_size(files) + 1, sizeof(*p->paths)));
    p->n_paths = p->n_areas = 0;
    json_array_foreach(files, i, fi) {
        const char *path = attn_json_str(fi, "path"), *area;
        int dup = 0;
        if (!path)
            continue;
        p->paths[p->n_paths++] = path;
        if (!(area = attn_activity_area_of(act, path)))
            continue;
        for (size_t k = 0; k < p->n_areas && !dup; k++)
            dup = !strcmp(p->areas[k], area);
        if (!dup && p->n_areas < 64)
            p->areas[p->n_areas++] = attn_xstrdup(area);
    }
    p->path_ids = known_ids(act, p->paths, p->n_paths, 0, &p->n_path_ids);
    p->area_ids = known_ids(act, (const char *const *)p->areas, p->n_areas, 1, &p->n_area_ids);
}

static void pr_shared_free(pr_shared *p)
{
    for (size_t k = 0; k < p->n_areas; k++)
        free(p->areas[k]);
    free(p->paths);
    free(p->path_ids);
    free(p->area_ids);
}

static void fill_row(const attn_route_ctx *ctx, const attn_route_query *q, const pr_shared *p,
                     const pool_item *it, long u, const scan_acc *a, float *x)
{
    attn_activity *act = ctx->activity;
    x[F_PATH_SCORE] = (float)it->score[C_PATH];
    x[F_PATH_RR] = (float)it->rr[C_PATH];
    x[F_STEW_SCORE] = (float)it->score[C_STEW];
    x[F_STEW_RR] = (float)it->rr[C_STEW];
    x[F_OWNERS_RR] = (float)it->rr[C_OWNERS];
    x[F_MENTIONED] = it->rr[C_MENTIONS] > 0;
    x[F_REQUESTED] = it->rr[C_REQUESTS] > 0;
    x[F_POP_RR] = (float)it->rr[C_POP];
    x[F_SINCE_ACTIVE] = 3650;
    x[F_SINCE_REVIEW] = 365;
    x[F_SINCE_LAST] = (float)p->rev_total;
    x[F_REVIEWERS30] = (float)p->reviewers30;
    x[F_AUTHOR_PRS] = p->author_prs;
    if (u < 0)
        return;
    x[F_ACTIVE_DAYS] = (float)a->days30;
    x[F_POP7] = (float)decayed(act, (size_t)u, q->as_of, 7, 365, 1);
    x[F_POP30] = (float)decayed(act, (size_t)u, q->as_of, 30, 365, 1);
    x[F_POP180] = (float)decayed(act, (size_t)u, q->as_of, 180, 365, 1);
    x[F_REV7] = (float)a->rev7;
    x[F_REV30] = (float)a->rev30;
    x[F_REV180] = (float)a->rev180;
    if (a->seen_review) {
        x[F_SINCE_REVIEW] = (float)((double)(q->as_of - a->last_review) / DAY);
        x[F_SINCE_LAST] = (float)a->since_last;
    }
    /* The scan saw the last fact in the 365 d window; older ones need the index. */
    {
        int64_t la = a->last_active != ATTN_NULL_I64
                         ? a->last_active
                         : attn_activity_user_last_at(act, (size_t)u, q->as_of);
        if (la != ATTN_NULL_I64)
            x[F_SINCE_ACTIVE] = (float)((double)(q->as_of - la) / DAY);
    }
    if (p->author_id != ATTN_NULL_I64) {
        attn_act_window w = {q->as_of - 730 * (int64_t)DAY, q->as_of, 180, {1, 1, 1}};
        x[F_AUTHOR_AFF] = (float)attn_activity_user_author_sum(act, (size_t)u, p->author_id, &w);
    }
    x[F_AUTHOR_LAST] = p->last_author == u;
    x[F_AUTHOR_SHARE] =
        p->author_total ? (float)((double)a->author_reviews / (double)p->author_total) : 0;
    {
        attn_act_window w = {q->as_of - 730 * (int64_t)DAY, q->as_of, 180, {1, 1, 1}};
        double file = 0, area = 0;
        for (size_t k = 0; k < p->n_path_ids; k++)
            file += attn_activity_user_path_id_sum(act, (size_t)u, p->path_ids[k], &w);
        for (size_t k = 0; k < p->n_area_ids; k++)
            area += attn_activity_user_area_id_sum(act, (size_t)u, p->area_ids[k], &w);
        x[F_FILE_ACT] = (float)file;
        x[F_AREA_ACT] = (float)area;
    }
    x[F_OPEN_REQ] = (float)attn_activity_user_open_requests(act, (size_t)u, q->as_of);
    if (a->facts) {
        x[F_HOUR_FIT] = (float)((double)a->hour_ok / (double)a->facts);
        x[F_WEEKDAY_FIT] = (float)((double)a->wday_ok / (double)a->facts);
    }
    x[F_SHARE30] = p->rev30_total ? (float)((double)a->rev30 / (double)p->rev30_total) : 0;
}

int attn_features_compute(attn_features *f, const attn_route_ctx *ctx, const attn_route_query *q,
                          attn_feat_set *out, attn_error *err)
{
    pr_work w;
    pr_shared p;
    scan_acc *acc;
    long *users;
    size_t n;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&w, 0, sizeof(w));
    w.cands = f->cands;
    w.cap_cands = f->cap_cands;
    w.items = f->items;
    w.cap_items = f->cap_items;
    w.items2 = f->items2;
    w.cap_items2 = f->cap_items2;
    w.order = f->order;
    w.cap_order = f->cap_order;
    if ((rc = build_pool(f, ctx, q, &w, err)))
        goto out;
    n = w.n;
    out->login = attn_xcalloc(n ? n : 1, sizeof(*out->login));
    out->x = attn_xcalloc(attn_st_mult(n ? n : 1, ATTN_FEAT_N), sizeof(*out->x));
    out->n = n;
    acc = attn_xcalloc(n ? n : 1, sizeof(*acc));
    users = attn_xcalloc(n ? n : 1, sizeof(*users));
    for (size_t i = 0; i < n; i++) {
        acc[i].last_active = acc[i].last_review = ATTN_NULL_I64;
    }
    for (size_t i = 0; i < n; i++) {
        out->login[i] = attn_xstrdup(w.items[i].login);
        users[i] = attn_activity_find_login(ctx->activity, w.items[i].login);
        if (users[i] >= 0 && (size_t)users[i] < f->n_users)
            f->slot[users[i]] = (long)i;
    }
    memset(&p, 0, sizeof(p));
    p.author_id = attn_json_i64(q->snapshot, "author_id", ATTN_NULL_I64);
    if (p.author_id != ATTN_NULL_I64)
        p.author_prs = (float)prs_by(f->base, p.author_id, q->as_of - 365 * (int64_t)DAY, q->as_of);
    scan(f, ctx, q, acc, users, n, &p);
    pr_files(ctx->activity, q->snapshot, &p);
    for (size_t i = 0; i < n; i++) {
        if (users[i] >= 0 && (size_t)users[i] < f->n_users)
            f->slot[users[i]] = -1;
        fill_row(ctx, q, &p, &w.items[i], users[i], &acc[i], out->x + i * ATTN_FEAT_N);
    }
    pr_shared_free(&p);
    free(acc);
    free(users);
out:
    for (int c = 0; c < NC; c++)
        attn_result_free(w.res[c]);
    f->cands = w.cands;
    f->cap_cands = w.cap_cands;
    f->items = w.items;
    f->cap_items = w.cap_items;
    f->items2 = w.items2;
    f->cap_items2 = w.cap_items2;
    f->order = w.order;
    f->cap_order = w.cap_order;
    return rc;
}

double attn_feat_round6(double v) { return round_sig(v, 6); }

int attn_features_max_candidates(const attn_features *f) { return f->max_cands; }

const attn_feat_set *attn_feat_ahead_find(const attn_feat_ahead *a, int64_t pr_number,
                                          int64_t as_of, int max_cands)
{
    size_t lo = 0, hi;
    if (!a || a->max_cands != max_cands)
        return NULL;
    for (hi = a->n; lo < hi;) {
        size_t mid = lo + (hi - lo) / 2;
        const attn_feat_pre *m = &a->e[mid];
        if (m->as_of < as_of || (m->as_of == as_of && m->pr_number < pr_number))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < a->n && a->e[lo].as_of == as_of && a->e[lo].pr_number == pr_number ? &a->e[lo].fs
                                                                                   : NULL;
}

void attn_feat_ahead_free(attn_feat_ahead *a)
{
    for (size_t i = 0; i < a->n; i++)
        attn_feat_set_free(&a->e[i].fs);
    free(a->e);
    memset(a, 0, sizeof(*a));
}

/* Plain constructors, not json_pack: this runs for every route, about a
 * thousand values each. */
json_t *attn_feat_set_json(const attn_feat_set *s)
{
    json_t *o = json_object(), *names = attn_feat_names_json(), *cands = json_array();
    if (!o || !names || !cands) {
        json_decref(o);
        json_decref(names);
        json_decref(cands);
        return NULL;
    }
    if (json_object_set_new(o, "version", json_string(ATTN_FEAT_VERSION)) |
        json_object_set_new(o, "names", names) | json_object_set_new(o, "candidates", cands)) {
        json_decref(o);
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++) {
        json_t *x = json_array(), *c = json_object();
        int bad = !x || !c;
        for (size_t k = 0; !bad && k < ATTN_FEAT_N; k++)
            bad = json_array_append_new(x, json_real(attn_feat_round6(s->x[i * ATTN_FEAT_N + k])));
        if (bad || json_object_set_new(c, "login", json_string(s->login[i]))) {
            json_decref(x);
            json_decref(c);
            json_decref(o);
            return NULL;
        }
        /* the _new setters take (and on failure free) their value */
        if (json_object_set_new(c, "x", x)) {
            json_decref(c);
            json_decref(o);
            return NULL;
        }
        if (json_array_append_new(cands, c)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* attn_feat_round6(v) as put_real writes it: the rounding already has the
 * digits, so no search for the shortest form (profile: that search was
 * most of writing the table). */
static int put_feature(attn_buf *out, double v, attn_error *err)
{
    int64_t mant;
    int k;
    double x = v == 0 ? 0 : attn_round_sig_parts(v, 6, &mant, &k);   /* round_sig's */
    if (v == 0 || mant < 0)
        return attn_json_put_real(out, x, err);
    attn_json_put_decimal(out, x < 0, (uint64_t)mant, k);
    return 0;
}

/* Keys in canonical (byte) order: candidate_gen_version, candidates, model,
 * names, version; in a candidate, login then x. */
int attn_feat_set_canonical(const attn_feat_set *s, const char *model, attn_buf *out,
                            attn_error *err)
{
    static const char CGV[] = ATTN_CANDIDATE_GEN_VERSION;
    int rc = 0;
    attn_buf_puts(out, "{\"candidate_gen_version\":");
    attn_json_put_string(out, CGV, sizeof(CGV) - 1);
    attn_buf_puts(out, ",\"candidates\":[");
    for (size_t i = 0; i < s->n && !rc; i++) {
        attn_buf_puts(out, i ? ",{\"login\":" : "{\"login\":");
        attn_json_put_string(out, s->login[i], strlen(s->login[i]));
        attn_buf_puts(out, ",\"x\":[");
        for (size_t k = 0; k < ATTN_FEAT_N && !rc; k++) {
            if (k)
                attn_buf_putc(out, ',');
            rc = put_feature(out, s->x[i * ATTN_FEAT_N + k], err);
        }
        attn_buf_puts(out, "]}");
    }
    attn_buf_puts(out, "]");
    if (model) {
        attn_buf_puts(out, ",\"model\":");
        attn_json_put_string(out, model, strlen(model));
    }
    attn_buf_puts(out, ",\"names\":[");
    for (size_t k = 0; k < ATTN_FEAT_N; k++) {
        if (k)
            attn_buf_putc(out, ',');
        attn_json_put_string(out, NAMES[k], strlen(NAMES[k]));
    }
    attn_buf_puts(out, "],\"version\":");
    attn_json_put_string(out, ATTN_FEAT_VERSION, strlen(ATTN_FEAT_VERSION));
    attn_buf_putc(out, '}');
    return rc;
}
