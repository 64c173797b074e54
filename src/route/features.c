/*
 * features.c - candidate pool and features of the `learned` router (see
 * features.h for the list and the rules). Owns the feature computation only;
 * must never read past q->as_of: activity queries all end at the cutoff, the
 * one backward scan walks index entries with t <= as_of, and the component
 * routers obey the same rule (router.h).
 */
#include "route/features.h"
#include "util/json.h"

#include <math.h>
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

struct attn_features {
    int max_cands;
    attn_router *comp[NC];
    pr_author *authors;      /* sorted by pr_id */
    pr_author *by_author;    /* the same rows sorted by (author_id, created_at) */
    size_t n_authors;
    long *slot;              /* per activity user: candidate slot or -1 */
    unsigned *stamp;         /* per activity user: last scan that counted them */
    unsigned gen;
    size_t n_users;
};

const char *attn_feat_name(size_t i) { return i < ATTN_FEAT_N ? NAMES[i] : NULL; }

json_t *attn_feat_names_json(void)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < ATTN_FEAT_N; i++)
        if (json_array_append_new(a, json_string(NAMES[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

void attn_features_free(attn_features *f)
{
    if (!f)
        return;
    for (int c = 0; c < NC; c++)
        attn_router_free(f->comp[c]);
    free(f->authors);
    free(f->by_author);
    free(f->slot);
    free(f->stamp);
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
static int load_authors(attn_features *f, const attn_route_ctx *ctx, attn_error *err)
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
        if (f->n_authors == cap) {
            size_t nc = cap ? cap * 2 : 256;
            pr_author *n = realloc(f->authors, nc * sizeof(*n));
            if (!n) {
                sqlite3_finalize(st);
                return attn_error_set(err, ATTN_ENOMEM, "out of memory reading PR authors");
            }
            f->authors = n;
            cap = nc;
        }
        f->authors[f->n_authors].pr_id = sqlite3_column_int64(st, 0);
        f->authors[f->n_authors].author_id = sqlite3_column_type(st, 1) == SQLITE_NULL
                                                 ? ATTN_NULL_I64
                                                 : sqlite3_column_int64(st, 1);
        f->authors[f->n_authors].created_at = sqlite3_column_int64(st, 2);
        f->n_authors++;
    }
    sqlite3_finalize(st);
    qsort(f->authors, f->n_authors, sizeof(*f->authors), pa_cmp);
    if (!(f->by_author = malloc((f->n_authors ? f->n_authors : 1) * sizeof(*f->by_author))))
        return attn_error_set(err, ATTN_ENOMEM, "out of memory reading PR authors");
    if (f->n_authors)
        memcpy(f->by_author, f->authors, f->n_authors * sizeof(*f->authors));
    qsort(f->by_author, f->n_authors, sizeof(*f->by_author), ba_cmp);
    return 0;
}

/* PRs by author created in (from, to]: created_at never changes, and a PR
 * created after the cutoff is outside the range. */
static size_t prs_by(const attn_features *f, int64_t author, int64_t from, int64_t to)
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

static int64_t author_of(const attn_features *f, int64_t pr_id)
{
    pr_author key = {pr_id, 0, 0}, *hit;
    hit = bsearch(&key, f->authors, f->n_authors, sizeof(key), pa_cmp);
    return hit ? hit->author_id : ATTN_NULL_I64;
}

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
    if (!(f = calloc(1, sizeof(*f))))
        return attn_error_set(err, ATTN_ENOMEM, "out of memory creating the feature extractor");
    f->max_cands = max_candidates;
    for (int c = 0; c < NC; c++) {
        const attn_router_def *d;
        if ((rc = attn_router_find(COMPONENTS[c], &d, err)) ||
            (rc = attn_router_new(d, NULL, "learned features", ctx, &f->comp[c], err)))
            goto fail;
    }
    if ((rc = load_authors(f, ctx, err)))
        goto fail;
    f->n_users = attn_activity_user_count(ctx->activity);
    if (!(f->slot = malloc((f->n_users ? f->n_users : 1) * sizeof(*f->slot))) ||
        !(f->stamp = calloc(f->n_users ? f->n_users : 1, sizeof(*f->stamp)))) {
        rc = attn_error_set(err, ATTN_ENOMEM, "out of memory creating the feature extractor");
        goto fail;
    }
    for (size_t u = 0; u < f->n_users; u++)
        f->slot[u] = -1;
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

/* ---- the candidate pool ----------------------------------------------------- */

typedef struct {
    const char *login;      /* borrowed from a component result */
    double best_rr;
    double rr[NC], score[NC];
} pool_item;

static int pool_cmp(const void *a, const void *b)
{
    const pool_item *x = a, *y = b;
    int c;
    if (x->best_rr != y->best_rr)
        return x->best_rr > y->best_rr ? -1 : 1;
    if ((c = strcasecmp(x->login, y->login)))
        return c;
    return strcmp(x->login, y->login);
}

static int pool_add(pool_item **items, size_t *n, size_t *cap, const char *login, int comp,
                    size_t rank, double score)
{
    size_t i;
    for (i = 0; i < *n; i++)
        if (!strcasecmp((*items)[i].login, login))
            break;
    if (i == *n) {
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 64;
            pool_item *ni = realloc(*items, nc * sizeof(*ni));
            if (!ni)
                return ATTN_ENOMEM;
            *items = ni;
            *cap = nc;
        }
        memset(&(*items)[i], 0, sizeof(pool_item));
        (*items)[i].login = login;
        (*n)++;
    }
    if ((*items)[i].rr[comp] == 0) {
        (*items)[i].rr[comp] = 1.0 / (double)rank;
        (*items)[i].score[comp] = score;
        if ((*items)[i].rr[comp] > (*items)[i].best_rr)
            (*items)[i].best_rr = (*items)[i].rr[comp];
    }
    return 0;
}

/* ---- the features ----------------------------------------------------------- */

typedef struct {
    int64_t last_review, last_active, last_day;
    size_t rev7, rev30, rev180, facts, hour_ok, wday_ok, author_reviews, since_last, days30;
    int seen_review;
} scan_acc;

static int hour_of(int64_t t) { return (int)(((t % DAY) + DAY) % DAY / 3600); }
static int wday_of(int64_t t) { return (int)((((t / DAY) + 4) % 7 + 7) % 7); } /* 1970-01-01: Thu */

/* One backward pass over the facts in [as_of - 365 d, as_of]. */
static void scan(attn_features *f, const attn_route_ctx *ctx, const attn_route_query *q,
                 int64_t author_id, scan_acc *acc, size_t n, long *last_author_reviewer,
                 size_t *author_total, size_t *reviews30_total, size_t *reviews_total,
                 size_t *reviewers30)
{
    size_t first, last, n_entries, reviews_seen = 0;
    const attn_act_entry *e = attn_activity_entries(ctx->activity, &n_entries);
    int h0 = hour_of(q->as_of), w0 = wday_of(q->as_of);
    attn_activity_slice(ctx->activity, q->as_of - 365 * (int64_t)DAY, q->as_of, &first, &last);
    *last_author_reviewer = -1;
    *author_total = *reviews30_total = *reviewers30 = 0;
    if (++f->gen == 0) {
        memset(f->stamp, 0, f->n_users * sizeof(*f->stamp));
        f->gen = 1;
    }
    for (size_t i = last; i-- > first;) {
        const attn_act_entry *x = &e[i];
        long s = x->user >= 0 && (size_t)x->user < f->n_users ? f->slot[x->user] : -1;
        int review = x->kind == ATTN_ACT_REVIEW;
        int64_t pa = review && author_id != ATTN_NULL_I64 ? author_of(f, x->pr_id) : ATTN_NULL_I64;
        int on_author = pa != ATTN_NULL_I64 && pa == author_id &&
                        attn_activity_user_id(ctx->activity, (size_t)x->user) != author_id;
        if (on_author) {
            (*author_total)++;
            if (*last_author_reviewer < 0)
                *last_author_reviewer = x->user;
        }
        if (review && x->t > q->as_of - 30 * (int64_t)DAY) {
            (*reviews30_total)++;
            if (x->user >= 0 && (size_t)x->user < f->n_users && f->stamp[x->user] != f->gen) {
                f->stamp[x->user] = f->gen;
                (*reviewers30)++;
            }
        }
        if (s >= 0 && (size_t)s < n) {
            scan_acc *a = &acc[s];
            int dh = abs(hour_of(x->t) - h0);
            if (a->last_active == ATTN_NULL_I64)
                a->last_active = x->t;
            a->facts++;
            if (x->t > q->as_of - 30 * (int64_t)DAY && x->t / DAY != a->last_day) {
                a->last_day = x->t / DAY;
                a->days30++;
            }
            a->hour_ok += dh <= 2 || dh >= 22;
            a->wday_ok += wday_of(x->t) == w0;
            if (review) {
                if (!a->seen_review) {
                    a->seen_review = 1;
                    a->last_review = x->t;
                    a->since_last = reviews_seen;
                }
                a->rev7 += x->t > q->as_of - 7 * (int64_t)DAY;
                a->rev30 += x->t > q->as_of - 30 * (int64_t)DAY;
                a->rev180 += x->t > q->as_of - 180 * (int64_t)DAY;
                a->author_reviews += on_author;
            }
        }
        reviews_seen += review;
    }
    *reviews_total = reviews_seen;
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

/* The PR's changed files and their distinct areas (borrowed / copied strings). */
static double files_and_areas(attn_activity *act, size_t u, const json_t *snapshot, int64_t as_of,
                              double *area_sum)
{
    attn_act_window w = {as_of - 730 * (int64_t)DAY, as_of, 180, {1, 1, 1}};
    const json_t *files = json_object_get(snapshot, "changed_files"), *fi;
    char *seen[64];
    size_t n_seen = 0, i;
    double file_sum = 0;
    *area_sum = 0;
    json_array_foreach(files, i, fi) {
        const char *path = attn_json_str(fi, "path"), *area;
        int dup = 0;
        if (!path)
            continue;
        file_sum += attn_activity_user_path_sum(act, u, path, &w);
        if (!(area = attn_activity_area_of(act, path)))
            continue;
        for (size_t k = 0; k < n_seen && !dup; k++)
            dup = !strcmp(seen[k], area);
        if (dup || n_seen == 64)
            continue;
        if (!(seen[n_seen] = strdup(area)))
            break;
        *area_sum += attn_activity_user_area_sum(act, u, seen[n_seen], &w);
        n_seen++;
    }
    for (size_t k = 0; k < n_seen; k++)
        free(seen[k]);
    return file_sum;
}

static int route_components(attn_features *f, const attn_route_ctx *ctx,
                            const attn_route_query *q, json_t **res, attn_error *err)
{
    attn_route_query cq = *q;
    cq.top_k = f->max_cands;
    for (int c = 0; c < NC; c++) {
        int rc = attn_router_route(f->comp[c], ctx, &cq, &res[c], err);
        if (rc) {
            attn_error_wrap(err, "learned features: %s", COMPONENTS[c]);
            return rc;
        }
    }
    return 0;
}

static void fill_row(attn_features *f, const attn_route_ctx *ctx, const attn_route_query *q,
                     const pool_item *it, long u, const scan_acc *a, float *x, long last_author,
                     size_t author_total, size_t rev30_total, size_t rev_total, size_t reviewers30)
{
    attn_activity *act = ctx->activity;
    int64_t author_id = attn_json_i64(q->snapshot, "author_id", ATTN_NULL_I64);
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
    x[F_SINCE_LAST] = (float)rev_total;
    x[F_REVIEWERS30] = (float)reviewers30;
    if (author_id != ATTN_NULL_I64)
        x[F_AUTHOR_PRS] = (float)prs_by(f, author_id, q->as_of - 365 * (int64_t)DAY, q->as_of);
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
    {
        int64_t la = attn_activity_user_last_at(act, (size_t)u, q->as_of);
        if (la != ATTN_NULL_I64)
            x[F_SINCE_ACTIVE] = (float)((double)(q->as_of - la) / DAY);
    }
    if (author_id != ATTN_NULL_I64) {
        attn_act_window w = {q->as_of - 730 * (int64_t)DAY, q->as_of, 180, {1, 1, 1}};
        x[F_AUTHOR_AFF] = (float)attn_activity_user_author_sum(act, (size_t)u, author_id, &w);
    }
    x[F_AUTHOR_LAST] = last_author == u;
    x[F_AUTHOR_SHARE] = author_total ? (float)((double)a->author_reviews / (double)author_total) : 0;
    {
        double area = 0;
        x[F_FILE_ACT] = (float)files_and_areas(act, (size_t)u, q->snapshot, q->as_of, &area);
        x[F_AREA_ACT] = (float)area;
    }
    x[F_OPEN_REQ] = (float)attn_activity_user_open_requests(act, (size_t)u, q->as_of);
    if (a->facts) {
        x[F_HOUR_FIT] = (float)((double)a->hour_ok / (double)a->facts);
        x[F_WEEKDAY_FIT] = (float)((double)a->wday_ok / (double)a->facts);
    }
    x[F_SHARE30] = rev30_total ? (float)((double)a->rev30 / (double)rev30_total) : 0;
}

static int build_pool(attn_features *f, json_t **res, pool_item **items, size_t *n)
{
    size_t cap = 0;
    *items = NULL;
    *n = 0;
    for (int c = 0; c < NC; c++) {
        const json_t *cands = json_object_get(res[c], "candidates"), *cd;
        size_t j, rank = 0;
        json_array_foreach(cands, j, cd) {
            const json_t *t = json_object_get(cd, "target");
            const char *type = attn_json_str(t, "type"), *name = attn_json_str(t, "name");
            if (!type || strcmp(type, "user") || !name || !*name)
                continue;
            if (pool_add(items, n, &cap, name, c, ++rank,
                         json_number_value(json_object_get(cd, "score"))))
                return ATTN_ENOMEM;
        }
    }
    if (*n)
        qsort(*items, *n, sizeof(**items), pool_cmp);
    if (*n > (size_t)f->max_cands)
        *n = (size_t)f->max_cands;
    return 0;
}

int attn_features_compute(attn_features *f, const attn_route_ctx *ctx, const attn_route_query *q,
                          attn_feat_set *out, attn_error *err)
{
    json_t *res[NC] = {0};
    pool_item *items = NULL;
    scan_acc *acc = NULL;
    long *users = NULL, last_author;
    size_t n = 0, author_total, rev30_total, rev_total, reviewers30;
    int64_t author_id = attn_json_i64(q->snapshot, "author_id", ATTN_NULL_I64);
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = route_components(f, ctx, q, res, err)))
        goto out;
    if (build_pool(f, res, &items, &n))
        goto oom;
    out->login = calloc(n ? n : 1, sizeof(*out->login));
    out->x = calloc((n ? n : 1) * ATTN_FEAT_N, sizeof(*out->x));
    acc = calloc(n ? n : 1, sizeof(*acc));
    users = calloc(n ? n : 1, sizeof(*users));
    if (!out->login || !out->x || !acc || !users)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        if (!(out->login[i] = strdup(items[i].login)))
            goto oom;
        out->n = i + 1;
        users[i] = attn_activity_find_login(ctx->activity, items[i].login);
        acc[i].last_active = acc[i].last_review = ATTN_NULL_I64;
        acc[i].last_day = INT64_MIN;
        if (users[i] >= 0 && (size_t)users[i] < f->n_users)
            f->slot[users[i]] = (long)i;
    }
    scan(f, ctx, q, author_id, acc, n, &last_author, &author_total, &rev30_total, &rev_total,
         &reviewers30);
    for (size_t i = 0; i < n; i++) {
        if (users[i] >= 0 && (size_t)users[i] < f->n_users)
            f->slot[users[i]] = -1;
        fill_row(f, ctx, q, &items[i], users[i], &acc[i], out->x + i * ATTN_FEAT_N, last_author,
                 author_total, rev30_total, rev_total, reviewers30);
    }
    goto out;
oom:
    rc = attn_error_set(err, ATTN_ENOMEM, "out of memory computing the learned features");
    for (size_t i = 0; users && i < n; i++)
        if (users[i] >= 0 && (size_t)users[i] < f->n_users)
            f->slot[users[i]] = -1;
out:
    for (int c = 0; c < NC; c++)
        json_decref(res[c]);
    free(items);
    free(acc);
    free(users);
    return rc;
}

static double round6(double v)
{
    char b[32];
    if (v == 0 || !isfinite(v))
        return 0;
    snprintf(b, sizeof(b), "%.6g", v);
    return strtod(b, NULL);
}

json_t *attn_feat_set_json(const attn_feat_set *s)
{
    json_t *o = json_pack("{s:s, s:o, s:[]}", "version", ATTN_FEAT_VERSION, "names",
                          attn_feat_names_json(), "candidates");
    json_t *cands = o ? json_object_get(o, "candidates") : NULL;
    for (size_t i = 0; cands && i < s->n; i++) {
        json_t *x = json_array();
        for (size_t k = 0; x && k < ATTN_FEAT_N; k++)
            json_array_append_new(x, json_real(round6(s->x[i * ATTN_FEAT_N + k])));
        if (!x || json_array_append_new(cands, json_pack("{s:s, s:o}", "login", s->login[i], "x", x))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}
