/*
 * popularity.c - the `popularity` router: who reviewed most, recently, in the
 * whole repository (SPEC §7). A baseline: it never looks at what the PR
 * touches (original.md §15 item 12), which its confidence says.
 *
 * Owns the popularity scoring. Must never query the activity index with a
 * window ending after q->as_of, nor read the store directly.
 *
 * Scoring. Window [as_of - lookback_days, as_of], both ends inclusive. A
 * user's score is the decayed sum of their activity in the window:
 * sum of weight[kind] * 0.5^((as_of - t) / half_life_days) (activity.h). It
 * is not normalized: the raw sum keeps scores comparable across PRs and
 * cutoffs (a fusion or a linear model over routers wants that), and ranking
 * is the same either way. The pool is every non-bot user with at least one
 * fact of a weighted kind in the window; router.c then removes the author.
 * Evidence: {kind:"popularity", data:{decayed, reviews, review_comments,
 * comments, lookback_days, half_life_days}} where the three counts are the
 * plain numbers of facts of each kind in the window (whatever the weights)
 * and decayed is the score rounded to 12 significant digits.
 *
 * Config (default_config below):
 *   lookback_days           window length in days, > 0 and <= 36500
 *   half_life_days          decay half-life in days, >= 0 (0: no decay)
 *   weights.review          weight of a submitted review (any state), 0..1e6
 *   weights.review_comment  weight of a diff comment, 0..1e6
 *   weights.comment         weight of a PR conversation comment, 0..1e6
 * At least one weight must be > 0. The defaults count reviews only ("review
 * activity"); set the others to count comments too.
 *
 * Risk: "medium" with candidates (a repo-wide ranking is a fallback, never a
 * confident answer for one PR), "high" with a note when the window holds no
 * activity. Confidence: "low" always, for the same reason.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "route/baselines.h"
#include "route/router.h"
#include "route/shortlist.h"
#include "util/alloc.h"
#include "util/json.h"

typedef struct {
    double lookback_days, half_life_days;
    double weight[ATTN_ACT_NKINDS];
    json_t *lookback_v, *half_life_v;   /* the config values, echoed in evidence */
    attn_shortlist_rules rules;         /* to hand router.c only the users it can need */
    attn_shortlist_row *rows;           /* per-PR scratch, reused */
    size_t cap_rows;
} pop_state;

static const char *NAME = "popularity";

static void pop_free(void *state)
{
    pop_state *st = state;
    if (!st)
        return;
    json_decref(st->lookback_v);
    json_decref(st->half_life_v);
    free(st->rows);
    free(st);
}

/* A bigger weight buys no ranking power and lets a score overflow to
 * infinity (1e308 ended as "out of memory"; issue 18 D10). */
#define MAX_WEIGHT 1e6

static int pop_init(const json_t *config, const attn_route_ctx *ctx, void **state,
                    attn_error *err)
{
    pop_state *st = attn_xcalloc(1, sizeof(*st));
    (void)ctx;
    if (attn_bl_number(config, NAME, "lookback_days", 0, 1, 36500, &st->lookback_days, err) ||
        attn_bl_number(config, NAME, "half_life_days", 0, 0, INFINITY, &st->half_life_days,
                       err) ||
        attn_bl_number(config, NAME, "weights.review", 0, 0, MAX_WEIGHT,
                       &st->weight[ATTN_ACT_REVIEW], err) ||
        attn_bl_number(config, NAME, "weights.review_comment", 0, 0, MAX_WEIGHT,
                       &st->weight[ATTN_ACT_REVIEW_COMMENT], err) ||
        attn_bl_number(config, NAME, "weights.comment", 0, 0, MAX_WEIGHT,
                       &st->weight[ATTN_ACT_COMMENT], err)) {
        pop_free(st);
        return ATTN_EINVAL;
    }
    if (!(st->weight[0] > 0 || st->weight[1] > 0 || st->weight[2] > 0)) {
        pop_free(st);
        return attn_error_set(err, ATTN_EINVAL,
                              "popularity config: weights: at least one of review,"
                              " review_comment, comment must be > 0");
    }
    st->lookback_v = attn_xcheck(json_deep_copy(attn_bl_get(config, "lookback_days")));
    st->half_life_v = attn_xcheck(json_deep_copy(attn_bl_get(config, "half_life_days")));
    attn_shortlist_rules_read(config, &st->rules);
    *state = st;
    return 0;
}

static int pop_route(void *state, const attn_route_ctx *ctx, const attn_route_query *q,
                     attn_route_result *res, attn_error *err)
{
    pop_state *st = state;
    attn_activity *a = ctx->activity;
    attn_act_window w;
    unsigned mask = 0;
    size_t n = 0;

    if (!a)
        return attn_error_set(err, ATTN_EINVAL, "popularity router: no activity index in the"
                              " routing context");
    memset(&w, 0, sizeof(w));
    w.to = q->as_of;
    w.from = q->as_of - (int64_t)llround(st->lookback_days * 86400.0);
    w.half_life_days = st->half_life_days;
    for (int k = 0; k < ATTN_ACT_NKINDS; k++) {
        w.weight[k] = st->weight[k];
        if (st->weight[k] > 0)
            mask |= ATTN_ACT_MASK(k);
    }

    /* Score every user (one O(log n) sum each), then build evidence only for
     * the best ones router.c can need (shortlist.h): same top_k, far less work. */
    ATTN_ALLOC_GROW(st->rows, attn_activity_user_count(a) + 1, st->cap_rows);
    for (size_t u = 0; u < attn_activity_user_count(a); u++) {
        const char *login = attn_activity_user_login(a, u);
        double score;
        if (!login || !*login || attn_activity_user_is_bot(a, u))
            continue;       /* a users row without a login cannot be named */
        /* Every kind counted has a weight > 0, so a fact in the window makes
         * the decayed sum positive. */
        score = attn_activity_user_sum(a, u, &w);
        if (!(score > 0))
            continue;
        st->rows[n].user = (uint32_t)u;
        st->rows[n++].score = score;
    }
    attn_shortlist_sort(st->rows, n);
    for (size_t i = 0, m = attn_shortlist_cut(&st->rules, a, q, st->rows, n); i < m; i++) {
        size_t u = st->rows[i].user, cnt[ATTN_ACT_NKINDS];
        attn_cand *c = attn_result_cand(res, "user", attn_activity_user_login(a, u));
        json_t *data;
        for (int k = 0; k < ATTN_ACT_NKINDS; k++)
            cnt[k] = attn_activity_user_count_in(a, u, ATTN_ACT_MASK(k), w.from, w.to);
        if (!c)
            continue;
        data = attn_json_obj("decayed", json_real(attn_bl_round12(st->rows[i].score)), "reviews",
                             json_integer(cnt[ATTN_ACT_REVIEW]), "review_comments",
                             json_integer(cnt[ATTN_ACT_REVIEW_COMMENT]), "comments",
                             json_integer(cnt[ATTN_ACT_COMMENT]), "lookback_days",
                             json_incref(st->lookback_v), "half_life_days",
                             json_incref(st->half_life_v), NULL);
        attn_cand_set_score(c, st->rows[i].score);
        attn_cand_evidence(c, "popularity", data);
    }
    (void)mask;

    attn_result_set_confidence(res, "low");
    if (attn_bl_survivors(res, ctx, q->snapshot, NULL)) {
        attn_result_set_risk(res, "medium");
    } else {
        attn_result_set_risk(res, "high");
        attn_result_note(res, n ? "no review activity in the lookback window but the author's"
                                : "no review activity in the lookback window");
    }
    return 0;
}

const attn_router_def attn_router_popularity = {
    "popularity",
    "popularity.v1",
    "decayed review activity across the repository in the lookback window (ignores the PR)",
    "{\"lookback_days\": 180, \"half_life_days\": 30,"
    " \"weights\": {\"review\": 1.0, \"review_comment\": 0.0, \"comment\": 0.0}}",
    pop_init,
    pop_route,
    pop_free,
};
