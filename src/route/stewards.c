/*
 * stewards.c - the `stewards` router (SPEC §7): people who recently worked in
 * the PR's areas and on its files.
 *
 * Owns: the stewards scoring. For every non-bot user with any activity in
 * [cutoff - pool.lookback_days, cutoff] it reads three decayed sums from the
 * activity index, all over [cutoff - decay.lookback_days, cutoff] with
 * weight[kind] * 0.5^(age / half_life):
 *   area  = sum over the DISTINCT areas of the PR's changed files of the
 *           user's activity attributed to that area (attn_activity_area_of:
 *           routing/area_overrides.json or the first path segment);
 *   file  = sum over the PR's changed files of the user's activity on
 *           exactly that path;
 *   total = all of the user's activity;
 *   author = the user's activity on earlier PRs by this PR's author
 *           (reviewer-author affinity: authors tend to go back to the
 *           reviewers who know their work);
 *   score = weights.area * area + weights.file * file + weights.total * total
 *           + weights.author * author
 * Users with total < min_activity are dropped. Must never: read anything
 * after the cutoff (every window ends at q->as_of), or need a boundary
 * artifact (the original aborted a whole evaluation when one was missing,
 * reference §15.9: areas here always come from ctx->areas or the default).
 *
 * Config (all keys, with defaults; numbers may be integers or reals):
 *   decay.half_life_days   30    > 0; activity half-life
 *   decay.lookback_days    180   > 0; the window the sums cover
 *   event_weights.review   1.0   >= 0; a submitted review
 *   event_weights.review_comment 0.4  >= 0; a diff comment
 *   event_weights.comment  0.2   >= 0; a comment in a PR conversation
 *   weights.area           1.0   >= 0; activity in the PR's areas
 *   weights.file           0.5   >= 0; activity on the PR's files (these
 *                                facts also count in their area: a file
 *                                match is rewarded on top of the area)
 *   weights.total          0.2   >= 0; all activity (a prior for busy
 *                                reviewers when nobody knows the area)
 *   weights.author         0.5   >= 0; activity on the author's earlier PRs
 *   author_decay.half_life_days 180  > 0; affinity outlasts recent activity,
 *   author_decay.lookback_days  365  > 0; so it has its own, longer window
 *   pool.lookback_days     180   > 0; who is a candidate at all
 *   min_activity           0.0   >= 0; drop users whose total is below this
 *   confidence.high        0.3   margin (top1 - top2) / top1 for "high"
 *   confidence.medium      0.1   margin for "medium" (<= high)
 * At least one weight must be > 0.
 *
 * Result: user candidates, evidence {kind:"activity", data:{area, file,
 * total, areas:[up to 3 of the PR's areas the user was most active in],
 * half_life_days, lookback_days}} with sums rounded to 6 significant digits.
 * risk: "low" when the best candidate (other than the author) has activity
 * in the PR's areas, "medium" when only total activity supports it, "high"
 * with no candidate.
 *
 * Cost per PR: one pass over the users reading each total (O(log n) index
 * lookups); then, largest totals first, the area and file sums (O(areas +
 * files) lookups) only while a user's total could still reach the top_k
 * (a fact counts at most once per area and per file, which bounds the
 * score). Scratch space lives in the state and is reused, and only the
 * candidates router.c can need get evidence (about top_k of them, see
 * shortlist.h), so a PR allocates little more than its result. bench_route:
 * about 7,500 PRs/s per core over a 10,000-PR synthetic history.
 */
#include "route/router.h"
#include "util/num.h"
#include "util/alloc.h"
#include "route/shortlist.h"
#include "util/hashmap.h"
#include "util/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STEWARDS_EVIDENCE_AREAS 3

static const char DEFAULT_CONFIG[] =
    "{\"decay\": {\"half_life_days\": 30, \"lookback_days\": 180},"
    " \"event_weights\": {\"review\": 1.0, \"review_comment\": 0.4, \"comment\": 0.2},"
    " \"weights\": {\"area\": 1.0, \"file\": 0.5, \"total\": 0.2, \"author\": 0.5},"
    " \"author_decay\": {\"half_life_days\": 180, \"lookback_days\": 365},"
    " \"pool\": {\"lookback_days\": 180},"
    " \"min_activity\": 0.0,"
    " \"confidence\": {\"high\": 0.3, \"medium\": 0.1}}";

/* Each user's sums, filled in for the users scored this route. */
typedef struct user_sums {
    double area, file, total, author;
} user_sums;

typedef struct {
    double half_life_days, lookback_days, pool_lookback_days, min_activity;
    double author_half_life_days, author_lookback_days;
    double event_weight[ATTN_ACT_NKINDS];
    double w_area, w_file, w_total, w_author;
    double conf_high, conf_medium;

    /* Per-PR scratch, reused across PRs. */
    /* The PR's distinct paths and areas with the index's ids (the paths and
     * areas it does not know sum to 0), resolved once per PR instead of once
     * per user. */
    attn_act_pr_keys keys;
    double *area_sum;           /* one user's activity per area (evidence) */
    size_t cap_area_sum;
    attn_shortlist_row *rows;   /* scored users */
    size_t cap_rows;
    attn_shortlist_row *order;  /* active users by total */
    size_t cap_order;
    double *floor;              /* the best top_k scores of safe users, descending */
    size_t cap_floor;
    struct user_sums *sums;     /* per user index */
    size_t cap_sums;
    attn_shortlist_rules rules; /* availability/load settings (shortlist.h) */
} stewards_state;

/* Read config[obj][key] (or config[key] when obj is NULL) as a number. */
static int cfg_num(const json_t *config, const char *obj, const char *key, double *out,
                   attn_error *err)
{
    const json_t *o = obj ? json_object_get(config, obj) : config;
    const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    if (!json_is_number(v))
        return attn_error_set(err, ATTN_EINVAL, "stewards config: %s%s%s must be a number",
                              obj ? obj : "", obj ? "." : "", key);
    *out = json_number_value(v);
    if (!isfinite(*out))
        return attn_error_set(err, ATTN_EINVAL, "stewards config: %s%s%s must be finite",
                              obj ? obj : "", obj ? "." : "", key);
    return 0;
}

static int cfg_range(const json_t *config, const char *obj, const char *key, double *out,
                     int strictly_positive, attn_error *err)
{
    int rc = cfg_num(config, obj, key, out, err);
    if (rc)
        return rc;
    if (strictly_positive ? !(*out > 0) : !(*out >= 0))
        return attn_error_set(err, ATTN_EINVAL, "stewards config: %s%s%s must be %s", obj ? obj : "",
                              obj ? "." : "", key, strictly_positive ? "> 0" : ">= 0");
    return 0;
}

static void stewards_free(void *p)
{
    stewards_state *st = p;
    if (!st)
        return;
    attn_act_pr_keys_free(&st->keys);
    free(st->area_sum);
    free(st->rows);
    free(st->order);
    free(st->floor);
    free(st->sums);
    free(st);
}

static int stewards_init(const json_t *config, const attn_route_ctx *ctx, void **state,
                         attn_error *err)
{
    stewards_state *st = attn_xcalloc(1, sizeof(*st));
    int rc;
    (void)ctx;
    if ((rc = cfg_range(config, "decay", "half_life_days", &st->half_life_days, 1, err)) ||
        (rc = cfg_range(config, "decay", "lookback_days", &st->lookback_days, 1, err)) ||
        (rc = cfg_range(config, "event_weights", "review", &st->event_weight[ATTN_ACT_REVIEW], 0,
                        err)) ||
        (rc = cfg_range(config, "event_weights", "review_comment",
                        &st->event_weight[ATTN_ACT_REVIEW_COMMENT], 0, err)) ||
        (rc = cfg_range(config, "event_weights", "comment", &st->event_weight[ATTN_ACT_COMMENT],
                        0, err)) ||
        (rc = cfg_range(config, "weights", "area", &st->w_area, 0, err)) ||
        (rc = cfg_range(config, "weights", "file", &st->w_file, 0, err)) ||
        (rc = cfg_range(config, "weights", "total", &st->w_total, 0, err)) ||
        (rc = cfg_range(config, "weights", "author", &st->w_author, 0, err)) ||
        (rc = cfg_range(config, "author_decay", "half_life_days", &st->author_half_life_days, 1,
                        err)) ||
        (rc = cfg_range(config, "author_decay", "lookback_days", &st->author_lookback_days, 1,
                        err)) ||
        (rc = cfg_range(config, "pool", "lookback_days", &st->pool_lookback_days, 1, err)) ||
        (rc = cfg_range(config, NULL, "min_activity", &st->min_activity, 0, err)) ||
        (rc = cfg_range(config, "confidence", "high", &st->conf_high, 0, err)) ||
        (rc = cfg_range(config, "confidence", "medium", &st->conf_medium, 0, err))) {
        stewards_free(st);
        return rc;
    }
    if (st->w_area == 0 && st->w_file == 0 && st->w_total == 0 && st->w_author == 0) {
        stewards_free(st);
        return attn_error_set(err, ATTN_EINVAL,
                              "stewards config: weights.area, weights.file, weights.total and "
                              "weights.author are all 0; set at least one > 0");
    }
    if (st->event_weight[0] == 0 && st->event_weight[1] == 0 && st->event_weight[2] == 0) {
        stewards_free(st);
        return attn_error_set(err, ATTN_EINVAL,
                              "stewards config: every event_weights entry is 0; set at least "
                              "one > 0");
    }
    if (st->conf_medium > st->conf_high) {
        stewards_free(st);
        return attn_error_set(err, ATTN_EINVAL,
                              "stewards config: confidence.medium must be <= confidence.high");
    }
    /* Huge lookbacks would overflow the conversion to seconds. */
    if (st->lookback_days > 36500 || st->pool_lookback_days > 36500 ||
        st->author_lookback_days > 36500) {
        stewards_free(st);
        return attn_error_set(err, ATTN_EINVAL, "stewards config: %s must be <= 36500",
                              st->lookback_days > 36500        ? "decay.lookback_days"
                              : st->pool_lookback_days > 36500 ? "pool.lookback_days"
                                                               : "author_decay.lookback_days");
    }
    attn_shortlist_rules_read(config, &st->rules);
    *state = st;
    return 0;
}

/* Rounded to 6 significant digits so evidence reads well and does not carry
 * the last bits of the summation. */
static double round6(double x) { return x == 0 ? 0 : attn_round_sig(x, 6); }


static const char *area_at(const stewards_state *st, size_t i)
{
    return attn_strtab_at(&st->keys.areas, i);
}

/* Collect the PR's distinct paths and distinct areas into the scratch, with
 * the ids of those the activity index knows. */
static void collect_pr(stewards_state *st, attn_activity *act, const json_t *snapshot)
{
    const json_t *f;
    size_t i;
    attn_act_pr_keys_clear(&st->keys);
    json_array_foreach(json_object_get(snapshot, "changed_files"), i, f)
        attn_act_pr_keys_add(&st->keys, act, attn_json_str(f, "path"));
    attn_act_pr_keys_finish(&st->keys, act);
    ATTN_ALLOC_GROW(st->area_sum, st->keys.areas.n + 1, st->cap_area_sum);
}

/* Evidence for one user: the sums and the PR areas they were most active in. */
static json_t *evidence(const stewards_state *st, double area, double file, double total,
                        double author)
{
    json_t *areas = attn_xcheck(json_array()), *data;
    unsigned char used[64];
    size_t picked = 0;

    memset(used, 0, sizeof(used));
    /* Selection of the top few by (activity desc, name asc); PRs touch few
     * areas, and only the first 64 are considered for the list. */
    while (picked < STEWARDS_EVIDENCE_AREAS) {
        long best = -1;
        for (size_t k = 0; k < st->keys.areas.n && k < sizeof(used); k++) {
            if (used[k] || !(st->area_sum[k] > 0))
                continue;
            if (best < 0 || st->area_sum[k] > st->area_sum[best] ||
                (st->area_sum[k] == st->area_sum[best] &&
                 strcmp(area_at(st, k), area_at(st, (size_t)best)) < 0))
                best = (long)k;
        }
        if (best < 0)
            break;
        used[best] = 1;
        json_array_append_new(areas, json_string(area_at(st, (size_t)best)));
        picked++;
    }
    data = attn_json_obj("area", json_real(round6(area)), "file", json_real(round6(file)), "total",
                         json_real(round6(total)), "author", json_real(round6(author)), "areas",
                         areas, "half_life_days", json_real(st->half_life_days), "lookback_days",
                         json_real(st->lookback_days), NULL);
    return data;
}

/* Insert score into the descending list v of at most k; returns its new length. */
static size_t floor_insert(double *v, size_t n, size_t k, double score)
{
    size_t i;
    if (n == k && !(score > v[n - 1]))
        return n;
    if (n < k)
        n++;
    for (i = n - 1; i > 0 && v[i - 1] < score; i--)
        v[i] = v[i - 1];
    v[i] = score;
    return n;
}

static int64_t days_to_seconds(double days)
{
    return (int64_t)llround(days * 86400.0);
}


static int stewards_route(void *state, const attn_route_ctx *ctx, const attn_route_query *q,
                          attn_route_result *res, attn_error *err)
{
    stewards_state *st = state;
    attn_activity *act = ctx->activity;
    attn_act_window w, wa;
    const char *author = attn_json_str(q->snapshot, "author");
    int64_t author_id = attn_json_i64(q->snapshot, "author_id", ATTN_NULL_I64);
    int64_t pool_from = q->as_of - days_to_seconds(st->pool_lookback_days);
    size_t nu, n_pool = 0, n_rows = 0, n_order = 0, n_floor, n_emit, need;
    double bound;
    int with_author;
    long best = -1;

    if (!act)
        return attn_error_set(err, ATTN_EINVAL, "stewards: no activity index in the context");
    nu = attn_activity_user_count(act);
    collect_pr(st, act, q->snapshot);
    ATTN_ALLOC_GROW(st->rows, nu + 1, st->cap_rows);
    ATTN_ALLOC_GROW(st->order, nu + 1, st->cap_order);
    ATTN_ALLOC_GROW(st->floor, attn_shortlist_need(q) + 1, st->cap_floor);
    ATTN_ALLOC_GROW(st->sums, nu + 1, st->cap_sums);
    w.from = q->as_of - days_to_seconds(st->lookback_days);
    w.to = q->as_of;
    w.half_life_days = st->half_life_days;
    memcpy(w.weight, st->event_weight, sizeof(w.weight));
    wa = w;
    wa.from = q->as_of - days_to_seconds(st->author_lookback_days);
    wa.half_life_days = st->author_half_life_days;

    bound = st->w_total + st->w_area * (double)st->keys.areas.n +
            st->w_file * (double)st->keys.paths.n;
    with_author = st->w_author > 0 && author_id != ATTN_NULL_I64;

    /* 1. Every active user's total (one pass over the users). */
    for (size_t u = 0; u < nu; u++) {
        user_sums *sm = &st->sums[u];
        attn_activity_user_prefetch(act, u + 4, &w);
        if (attn_activity_user_is_bot(act, u))
            continue;
        sm->total = attn_activity_user_sum(act, u, &w);
        if (!(sm->total > 0))
            continue;   /* no scored activity: area and file activity are parts of it */
        /* A scored fact lies in the decay window; when the pool window
         * contains that window, the user is in the pool without asking. */
        if (st->pool_lookback_days < st->lookback_days &&
            attn_activity_user_count_in(act, u, ATTN_ACT_ALL, pool_from, q->as_of) == 0)
            continue;
        n_pool++;
        if (sm->total < st->min_activity)
            continue;
        /* An upper bound of the user's score (see 2.). */
        st->order[n_order].user = (uint32_t)u;
        st->order[n_order++].score =
            sm->total * bound + (with_author ? st->w_author * attn_activity_user_sum(act, u, &wa)
                                             : 0.0);
    }

    /*
     * 2. Scores, largest upper bounds first. A fact counts at most once per
     * area and once per file, so area <= n_areas * total and file <= n_files
     * * total, and the author term is at most the user's whole activity in
     * the author window: once top_k (at least 2) users no common rule can
     * lower (shortlist.h) score above the next bound, nobody after it can
     * reach the top_k, and its sums are not needed.
     */
    attn_shortlist_sort(st->order, n_order);
    need = attn_shortlist_need(q);
    n_floor = 0;
    for (size_t i = 0; i < n_order; i++) {
        size_t u = st->order[i].user;
        user_sums *sm = &st->sums[u];
        double score;
        if (need && n_floor == need && st->order[i].score < st->floor[n_floor - 1] * (1 - 1e-9))
            break;
        sm->area = sm->file = 0;
        /* Needed even when weights.area is 0: the risk uses it. */
        /* (a path or area the index does not know adds 0: skipped) */
        for (size_t k = 0; k < st->keys.areas.n; k++)
            if (st->keys.area_ids[k] != ATTN_ACT_NO_ID)
                sm->area += attn_activity_user_area_id_sum(act, u, st->keys.area_ids[k], &w);
        if (st->w_file > 0)
            for (size_t k = 0; k < st->keys.n_path_ids; k++)
                sm->file += attn_activity_user_path_id_sum(act, u, st->keys.path_ids[k], &w);
        sm->author = with_author ? attn_activity_user_author_sum(act, u, author_id, &wa) : 0;
        score = st->w_area * sm->area + st->w_file * sm->file + st->w_total * sm->total +
                st->w_author * sm->author;
        if (!(score > 0))
            continue;
        st->rows[n_rows].user = (uint32_t)u;
        st->rows[n_rows++].score = score;
        if (need && attn_shortlist_safe(&st->rules, act, q, (uint32_t)u))
            n_floor = floor_insert(st->floor, n_floor, need, score);
    }

    /* 3. Hand over the best ones router.c can need (shortlist.h), with evidence. */
    attn_shortlist_sort(st->rows, n_rows);
    n_emit = attn_shortlist_cut(&st->rules, act, q, st->rows, n_rows);
    for (size_t i = 0; i < n_emit; i++) {
        size_t u = st->rows[i].user;
        const user_sums *sm = &st->sums[u];
        attn_cand *c = attn_result_cand(res, "user", attn_activity_user_login(act, u));
        for (size_t k = 0; k < st->keys.areas.n; k++)
            st->area_sum[k] = attn_activity_user_area_id_sum(act, u, st->keys.area_ids[k], &w);
        if (!c)
            continue;
        attn_cand_evidence(c, "activity", evidence(st, sm->area, sm->file, sm->total, sm->author));
        attn_cand_set_score(c, st->rows[i].score);
    }
    /* The best candidate other than the author decides the risk. */
    for (size_t i = 0; i < n_rows && best < 0; i++)
        if (!author || strcasecmp(author, attn_activity_user_login(act, st->rows[i].user)))
            best = (long)st->rows[i].user;

    attn_result_confidence_margins(res, st->conf_high, st->conf_medium);
    if (best < 0) {
        attn_result_set_risk(res, "high");
        /* Count the pool for the note only now (the loop skipped users
         * without scored activity). */
        n_pool = 0;
        for (size_t u = 0; u < nu; u++)
            n_pool += !attn_activity_user_is_bot(act, u) &&
                      attn_activity_user_count_in(act, u, ATTN_ACT_ALL, pool_from, q->as_of) > 0;
        if (n_pool == 0)
            attn_result_note(res, "no candidates: no non-bot activity in the %g days before "
                             "the cutoff", st->pool_lookback_days);
        else
            attn_result_note(res, "no candidates: %zu active users, none with scored activity "
                             "in the last %g days", n_pool, st->lookback_days);
        return 0;
    }
    if (st->keys.paths.n == 0)
        attn_result_note(res, "no changed files known at the cutoff: ranked by total activity");
    attn_result_set_risk(res, st->sums[best].area > 0 ? "low" : "medium");
    return 0;
}

const attn_router_def attn_router_stewards = {
    "stewards",
    "stewards.v2",
    "people active in the PR's areas and files (decayed reviews and comments)",
    DEFAULT_CONFIG,
    stewards_init,
    stewards_route,
    stewards_free,
};
