/*
 * path_similarity.c - the `path_similarity` router (SPEC §7): RevFinder
 * (Thongtanunam et al., SANER 2015): people who reviewed PRs whose files look
 * like this PR's files.
 *
 * Owns: the file-path similarity and the candidate scores. Must never: look
 * at activity after the cutoff (only index entries with
 * cutoff - lookback_days <= t <= cutoff are read), or let a result depend on
 * what its caches hold (they only memoize pure functions of the index).
 *
 * The model. A path is its list of '/'-separated components. For a file f of
 * this PR and a file g of a past PR, with |f| and |g| components, each
 * comparison method gives a value in [0, 1]:
 *   lcp       longest common prefix of components / max(|f|, |g|)
 *   lcsuffix  longest common suffix of components / max(|f|, |g|)
 *   lcsubstr  longest common contiguous run of components / max(|f|, |g|)
 *   lcsubseq  longest common subsequence of components / max(|f|, |g|)
 * The similarity of this PR (files F) to a past PR (files G) under method m is
 *   sim_m = sum over f in F, g in G of m(f, g) / (|F| * |G|),
 * where G is what the activity index attributes to the reviewer's fact: the
 * files of the past PR's head at the time of that fact (never a later head).
 * A reviewer's past PRs are the PRs other than this one on which they have a
 * fact of the configured kinds in the window; per (reviewer, past PR) the
 * latest such fact with known files counts once. The past PRs considered are
 * the max_past_prs most recent ones (by their latest qualifying fact), which
 * bounds the cost on long histories.
 *   score_m(r) = sum over r's past PRs p of decay(p) * sim_m(p), with
 *   decay = 0.5^(age of the fact / half_life_days), or 1 when half_life_days
 *   is 0 (RevFinder does not decay).
 * The methods are combined like this (config "combine"):
 *   "sum"   score = sum_m w_m * score_m / sum_m w_m (a weighted mean, so a
 *           past PR contributes its combined similarity in [0, 1]);
 *   "borda" RevFinder's Borda count: per method, the reviewers with
 *           score_m > 0 are ranked (ties share the better rank) and get
 *           (number ranked - rank) points; score = sum_m w_m * points_m.
 * The default is "sum": its scores keep the similarity's magnitude, which the
 * hybrid router's linear fusion uses, while "borda" reproduces the paper.
 *
 * Config (all keys, with defaults):
 *   lookback_days   365   > 0; how far back past reviews count
 *   max_past_prs    2000  >= 1 (integer); the most recent past PRs used
 *   half_life_days  0     >= 0; age decay of a past PR's contribution (0: off)
 *   kinds.review, kinds.review_comment, kinds.comment
 *                   true, true, false; which facts count as reviewing a PR
 *                   (at least one true)
 *   methods.lcp, methods.lcsuffix, methods.lcsubstr, methods.lcsubseq
 *                   1.0 each, >= 0 (at least one > 0): method weights
 *   combine         "sum" | "borda"
 *   confidence.high 0.3, confidence.medium 0.1: margins (top1 - top2) / top1
 *
 * Result: user candidates with evidence {kind:"similar_prs", data:{prs:[up to
 * 3 of {number, similarity} (combined similarity, 4 decimals), most similar
 * first], n_prs: how many past PRs of theirs counted}}. risk: "high" with no candidate (or no changed files),
 * "low" when the top candidate reviewed a PR of combined similarity >= 0.5,
 * else "medium".
 *
 * Cost: paths and their components are interned once (integer comparisons),
 * the file sets of index entries are compiled once, and per PR each distinct
 * past path is compared with the PR's files once (once per directory for
 * the paths whose last component none of the PR's files has: path_sim), so
 * a route costs O(facts on the recent PRs + distinct recent paths * |F| *
 * depth^2); routers that share the caches and route the same PR with the
 * same settings share one walk over the facts (walk_reusable), and with
 * another half_life_days replay its contributions (walk_same_facts); only the
 * candidates router.c can need get evidence (shortlist.h). bench_route:
 * about 3,500 PRs/s per core over a 10,000-PR synthetic history.
 */
#include "route/path_similarity.h"
#include "route/router.h"
#include "route/shortlist.h"
#include "util/alloc.h"
#include "util/hashmap.h"
#include "util/json.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { M_LCP, M_LCSUFFIX, M_LCSUBSTR, M_LCSUBSEQ, NM };
_Static_assert(NM == 4, "set_sim sums the four methods in locals");
static const char *const METHOD_NAMES[NM] = {"lcp", "lcsuffix", "lcsubstr", "lcsubseq"};

#define EVIDENCE_PRS 3
#define MAX_DEPTH 256            /* components compared per path (deeper ones are ignored) */
#define LOW_RISK_SIMILARITY 0.5

static const char DEFAULT_CONFIG[] =
    "{\"lookback_days\": 365, \"max_past_prs\": 2000, \"half_life_days\": 0,"
    " \"kinds\": {\"review\": true, \"review_comment\": true, \"comment\": false},"
    " \"methods\": {\"lcp\": 1.0, \"lcsuffix\": 1.0, \"lcsubstr\": 1.0, \"lcsubseq\": 1.0},"
    " \"combine\": \"sum\","
    " \"confidence\": {\"high\": 0.3, \"medium\": 0.1}}";

/* ---- state -------------------------------------------------------------- */

typedef struct {
    uint32_t off, n;
} span;

/* A path's components: a span of comp_pool (or cur_comps) and its comp_sig. */
typedef struct {
    uint32_t off, n;
    uint64_t sig;
} pspan;

#define NO_DIR UINT32_MAX

/* An activity fact as step 2 of a route reads it. */
typedef struct {
    int64_t t;
    uint32_t user;
    int32_t set;                  /* its file-set id, -1 not compiled yet */
    uint8_t mask;                 /* ATTN_ACT_MASK(kind), 0 for a bot's */
} ps_pos;

typedef struct {
    int64_t pr_number;
    double sim;
} past_pr;

typedef struct {
    double lookback_days, half_life_days;
    long max_past_prs;
    unsigned kind_mask;
    double w[NM], w_sum;
    int borda;
    double conf_high, conf_medium;
} ps_config;

/* Caches over one activity index (pure functions of it) and per-route
 * scratch (stamped with gen instead of cleared). The similarities of past
 * paths and file sets to the PR's files (path_sim, set_sim) are stamped with
 * fgen instead, which moves only when the PR's files or the method weights
 * change: the routers that share the cache (cache_acquire) and route the
 * same PR one after the other, like the standalone router and the hybrid's
 * component, compute them once. */
typedef struct {
    const attn_activity *act;
    uint64_t act_id;              /* attn_activity_build_id */
    int refs;                     /* router states holding it */
    size_t n_entries;
    attn_strtab comps;            /* path component -> id */
    attn_strtab paths;            /* full path -> id */
    attn_strtab dirs;             /* a path's components but the last -> id */
    pspan *path_comps;            /* path id -> span in comp_pool */
    /* path id -> id in dirs (NO_DIR: cut at MAX_DEPTH) and, with a dir, its
     * last component's id: side by side, set_sim reads both per path */
    struct path_dir {
        uint32_t dir, last;
    } *path_dir;
    size_t cap_path_comps;
    int32_t *comp_pool;
    size_t n_comp_pool, cap_comp_pool;
    span *sets;                   /* set id -> span in set_pool (path ids) */
    size_t n_sets, cap_sets;
    const void **set_keys;        /* the index's path-array pointer of each set */
    size_t cap_set_keys;
    uint32_t *set_pool;
    size_t n_set_pool, cap_set_pool;
    attn_map64 set_ix;            /* the index's path-array pointer -> set id */
    uint32_t *order;              /* entries sorted by (pr_id, index) */
    uint32_t *entry_group;        /* entry -> PR group */
    uint32_t *group_start;        /* group -> first position in order (+ sentinel) */
    int64_t *group_number;        /* group -> its PR's number (one load, not two
                                     scattered ones: profile) */
    size_t n_groups;
    /* The entries' fields step 2 of a route reads, by position in order: a
     * past PR's facts side by side instead of scattered over the index
     * (profile: loading each entry's time was a fifth of a route), and a
     * fact's fields in one cache line instead of four arrays'. */
    ps_pos *pos;
    uint8_t *entry_mask;          /* entry -> ATTN_ACT_MASK(kind), 0 for a bot's: one
                                     test per entry in a route */

    uint32_t gen, fgen;
    int32_t *memo_comps;          /* the files and weights path/set_sim were made for */
    size_t cap_memo_comps;
    pspan *memo_files;
    size_t n_memo_files, cap_memo_files;
    double memo_w[NM];
    int memo_valid;
    uint32_t *group_stamp;
    uint32_t *path_stamp;
    size_t cap_path_stamp;
    double *path_sim;             /* path id * NM: sum over the PR's files */
    uint32_t *set_stamp;
    size_t cap_set_stamp;
    double *set_sim;              /* set id * NM */
    uint32_t *comp_stamp;         /* fgen: the component is one of the PR's files' */
    size_t cap_comp_stamp;
    uint32_t *dir_stamp;
    size_t cap_dir_stamp;
    double *dir_sim;              /* dir id * NM: path_sim of its paths whose last
                                     component is none of the PR's files' */
    uint32_t *user_stamp, *user_pr_stamp;
    double *user_score;           /* user * NM */
    past_pr *user_top;            /* user * EVIDENCE_PRS */
    uint32_t *user_n_prs;
    uint32_t *touched;            /* users with a contribution this route */
    attn_shortlist_row *rows;     /* scored users this route */
    size_t n_users;
    uint32_t *picked;             /* recent PR groups this route */
    /* The last walk (steps 1 and 2 of ps_score) and what it depended on:
     * the standalone router, the hybrid's component and the learned
     * router's feature route the same PR one after the other with the same
     * settings, and the second and third reuse the first's walk. */
    int walk_valid;
    uint32_t walk_fgen;
    int64_t walk_as_of, walk_pr, walk_from;
    long walk_max;
    unsigned walk_kinds;
    double walk_half_life;
    size_t walk_n_touched;
    /* Its contributions in walk order: a route that differs only in
     * half_life_days (the hybrid's component, by default) replays them with
     * its own decay instead of walking the facts again. */
    struct contrib {
        uint32_t user, set;
        int64_t t, number;
    } *contrib;
    size_t n_contrib, cap_contrib;
    int32_t *cur_comps;           /* the PR's files: component ids (-1 unknown) */
    size_t cap_cur_comps;
    /* Where each of the PR's components sits in each of its files: row
     * comp_row[x] of cur_mask holds, per file f, the bits i with
     * component i of f == x (row 0: no component, all zero). Built per
     * file set when not too large (use_masks), so comparing a past path
     * with every file reads one row per component instead of comparing
     * all pairs of components (profile). */
    uint32_t *comp_row;
    size_t cap_comp_row;
    uint64_t *cur_mask;
    size_t cap_cur_mask;
    int use_masks;
    /* With the match table: a PR file whose last component matches none of
     * a past path's compares with it exactly like the other such files of
     * its directory (every method is a function of the matches and the
     * lengths), so path_sim compares one of them and adds that result for
     * the rest. sib[f] is the first file of f's directory; sib_delta[f]
     * (NM values) its result for the past path of generation sib_gen. */
    uint32_t *sib, *sib_stamp, sib_gen;
    double *sib_delta;
    size_t cap_sib;
    attn_map64 sib_ix;
    uint32_t *gmark;              /* component id: == sib_gen when in the past path */
    size_t cap_gmark;
    pspan *cur_files;
    size_t n_cur_files, cap_cur_files;
    uint32_t dp[2][MAX_DEPTH + 1];
    const double *w;              /* the config's method weights */
} ps_cache;

typedef struct {
    ps_config cfg;
    attn_shortlist_rules rules;   /* availability/load settings (shortlist.h) */
    ps_cache *cache;              /* NULL until the first route */
} ps_state;

static int cfg_err(attn_error *err, const char *key, const char *what)
{
    return attn_error_set(err, ATTN_EINVAL, "path_similarity config: %s %s", key, what);
}

static const json_t *cfg_get(const json_t *config, const char *obj, const char *key)
{
    const json_t *o = obj ? json_object_get(config, obj) : config;
    return json_is_object(o) ? json_object_get(o, key) : NULL;
}

static int cfg_number(const json_t *config, const char *obj, const char *key, const char *path,
                      double min, int strict, double *out, attn_error *err)
{
    const json_t *v = cfg_get(config, obj, key);
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return cfg_err(err, path, "must be a number");
    *out = json_number_value(v);
    if (strict ? !(*out > min) : !(*out >= min))
        return attn_error_set(err, ATTN_EINVAL, "path_similarity config: %s must be %s %g", path,
                              strict ? ">" : ">=", min);
    return 0;
}

static void cache_free(ps_cache *c)
{
    if (!c)
        return;
    attn_strtab_free(&c->comps);
    attn_strtab_free(&c->paths);
    attn_strtab_free(&c->dirs);
    free(c->path_comps);
    free(c->path_dir);
    free(c->comp_pool);
    free(c->pos);
    free(c->sets);
    free(c->set_keys);
    free(c->set_pool);
    attn_map64_free(&c->set_ix);
    free(c->order);
    free(c->entry_group);
    free(c->group_start);
    free(c->group_number);
    free(c->entry_mask);
    free(c->group_stamp);
    free(c->path_stamp);
    free(c->path_sim);
    free(c->set_stamp);
    free(c->set_sim);
    free(c->comp_stamp);
    free(c->dir_stamp);
    free(c->dir_sim);
    free(c->user_stamp);
    free(c->user_pr_stamp);
    free(c->user_score);
    free(c->user_top);
    free(c->user_n_prs);
    free(c->touched);
    free(c->rows);
    free(c->picked);
    free(c->contrib);
    free(c->cur_comps);
    free(c->cur_files);
    free(c->comp_row);
    free(c->cur_mask);
    free(c->sib);
    free(c->sib_stamp);
    free(c->sib_delta);
    free(c->gmark);
    attn_map64_free(&c->sib_ix);
    free(c->memo_comps);
    free(c->memo_files);
    free(c);
}

/* The caches in use, one per (index handle, build): a handle serves one
 * thread at a time (activity.h), so a cache does too. */
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static ps_cache **reg;
static size_t reg_n, reg_cap;

static ps_cache *cache_new(const attn_activity *act, const double *w);

/* The cache for act, shared with the other routers using it. */
static ps_cache *cache_acquire(const attn_activity *act, const double *w)
{
    uint64_t id = attn_activity_build_id(act);
    ps_cache *c = NULL;
    pthread_mutex_lock(&reg_mu);
    for (size_t i = 0; i < reg_n && !c; i++)
        if (reg[i]->act == act && reg[i]->act_id == id)
            c = reg[i];
    if (!c) {
        c = cache_new(act, w);
        c->act_id = id;
        ATTN_ALLOC_GROW(reg, reg_n + 1, reg_cap);
        reg[reg_n++] = c;
    }
    c->refs++;
    pthread_mutex_unlock(&reg_mu);
    return c;
}

static void cache_release(ps_cache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&reg_mu);
    if (--c->refs == 0) {
        for (size_t i = 0; i < reg_n; i++)
            if (reg[i] == c) {
                reg[i] = reg[--reg_n];
                break;
            }
        cache_free(c);
    }
    if (!reg_n) {
        free(reg);
        reg = NULL;
        reg_cap = 0;
    }
    pthread_mutex_unlock(&reg_mu);
}

static void ps_free(void *p)
{
    ps_state *st = p;
    if (!st)
        return;
    cache_release(st->cache);
    free(st);
}

static int ps_init(const json_t *config, const attn_route_ctx *ctx, void **state, attn_error *err)
{
    ps_state *st = attn_xcalloc(1, sizeof(*st));
    ps_config *cf;
    const json_t *v;
    const char *combine;
    double mp;
    int rc;
    static const char *const KINDS[ATTN_ACT_NKINDS] = {"review", "review_comment", "comment"};
    (void)ctx;

    cf = &st->cfg;
    if ((rc = cfg_number(config, NULL, "lookback_days", "lookback_days", 0, 1, &cf->lookback_days,
                         err)) ||
        (rc = cfg_number(config, NULL, "half_life_days", "half_life_days", 0, 0,
                         &cf->half_life_days, err)) ||
        (rc = cfg_number(config, "confidence", "high", "confidence.high", 0, 0, &cf->conf_high,
                         err)) ||
        (rc = cfg_number(config, "confidence", "medium", "confidence.medium", 0, 0,
                         &cf->conf_medium, err)))
        goto fail;
    if (cf->lookback_days > 36500) {
        rc = cfg_err(err, "lookback_days", "must be <= 36500");
        goto fail;
    }
    if (cf->conf_medium > cf->conf_high) {
        rc = cfg_err(err, "confidence.medium", "must be <= confidence.high");
        goto fail;
    }
    v = json_object_get(config, "max_past_prs");
    mp = json_is_number(v) ? json_number_value(v) : -1;
    if (!json_is_integer(v) || mp < 1 || mp > 1e7) {
        rc = cfg_err(err, "max_past_prs", "must be a whole number in [1, 10000000]");
        goto fail;
    }
    cf->max_past_prs = (long)mp;
    for (int k = 0; k < ATTN_ACT_NKINDS; k++) {
        char path[64];
        snprintf(path, sizeof(path), "kinds.%s", KINDS[k]);
        v = cfg_get(config, "kinds", KINDS[k]);
        if (!json_is_boolean(v)) {
            rc = cfg_err(err, path, "must be true or false");
            goto fail;
        }
        if (json_is_true(v))
            cf->kind_mask |= ATTN_ACT_MASK(k);
    }
    if (!cf->kind_mask) {
        rc = cfg_err(err, "kinds", "must enable at least one of review, review_comment, comment");
        goto fail;
    }
    for (int m = 0; m < NM; m++) {
        char path[64];
        snprintf(path, sizeof(path), "methods.%s", METHOD_NAMES[m]);
        if ((rc = cfg_number(config, "methods", METHOD_NAMES[m], path, 0, 0, &cf->w[m], err)))
            goto fail;
        cf->w_sum += cf->w[m];
    }
    if (!(cf->w_sum > 0)) {
        rc = cfg_err(err, "methods", "must give at least one method a weight > 0");
        goto fail;
    }
    combine = attn_json_str(config, "combine");
    if (!combine || (strcmp(combine, "sum") && strcmp(combine, "borda"))) {
        rc = cfg_err(err, "combine", "must be \"sum\" or \"borda\"");
        goto fail;
    }
    cf->borda = strcmp(combine, "borda") == 0;
    attn_shortlist_rules_read(config, &st->rules);
    *state = st;
    return 0;
fail:
    ps_free(st);
    return rc;
}

/* ---- caches ---------------------------------------------------------------- */

typedef struct {
    int64_t pr_id;
    uint32_t idx;
} pr_key;

static int pr_key_cmp(const void *pa, const void *pb)
{
    const pr_key *a = pa, *b = pb;
    if (a->pr_id != b->pr_id)
        return a->pr_id < b->pr_id ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Caches for one index: the entries grouped by PR (time order kept inside a
 * group) and the per-user scratch. */
static ps_cache *cache_new(const attn_activity *act, const double *w)
{
    size_t n, g = 0;
    const attn_act_entry *e = attn_activity_entries(act, &n);
    ps_cache *c;
    pr_key *keys;
    size_t n1 = n ? n : 1, u1;

    /* Entry ids are 32-bit: an index that outgrows them is out of memory. */
    if (n >= UINT32_MAX)
        attn_xcheck(NULL);
    c = attn_xcalloc(1, sizeof(*c));
    c->act = act;
    c->w = w;
    c->n_entries = n;
    c->n_users = attn_activity_user_count(act);
    u1 = c->n_users + 1;
    c->order = attn_xmalloc(attn_st_mult(n1, sizeof(*c->order)));
    c->entry_group = attn_xmalloc(attn_st_mult(n1, sizeof(*c->entry_group)));
    c->pos = attn_xcalloc(n1, sizeof(*c->pos));
    c->group_start = attn_xmalloc(attn_st_mult(n + 1, sizeof(*c->group_start)));
    c->group_number = attn_xmalloc(attn_st_mult(n + 1, sizeof(*c->group_number)));
    c->user_stamp = attn_xcalloc(u1, sizeof(*c->user_stamp));
    c->user_pr_stamp = attn_xcalloc(u1, sizeof(*c->user_pr_stamp));
    c->user_score = attn_xcalloc(attn_st_mult(u1, NM), sizeof(*c->user_score));
    c->user_top = attn_xcalloc(attn_st_mult(u1, EVIDENCE_PRS), sizeof(*c->user_top));
    c->user_n_prs = attn_xcalloc(u1, sizeof(*c->user_n_prs));
    c->touched = attn_xcalloc(u1, sizeof(*c->touched));
    c->rows = attn_xcalloc(u1, sizeof(*c->rows));
    c->entry_mask = attn_xmalloc(n1);
    keys = attn_xmalloc(attn_st_mult(n1, sizeof(*keys)));
    for (size_t i = 0; i < n; i++) {
        keys[i].pr_id = e[i].pr_id;
        keys[i].idx = (uint32_t)i;
        c->entry_mask[i] = attn_activity_user_is_bot(act, (size_t)e[i].user)
                               ? 0
                               : (uint8_t)ATTN_ACT_MASK(e[i].kind);
    }
    qsort(keys, n, sizeof(*keys), pr_key_cmp);
    for (size_t i = 0; i < n; i++) {
        c->order[i] = keys[i].idx;
        c->pos[i].set = -1;
        c->pos[i].t = e[keys[i].idx].t;
        c->pos[i].user = (uint32_t)e[keys[i].idx].user;
        c->pos[i].mask = c->entry_mask[keys[i].idx];
        if (i == 0 || keys[i].pr_id != keys[i - 1].pr_id) {
            c->group_number[g] = e[keys[i].idx].pr_number;
            c->group_start[g++] = (uint32_t)i;
        }
        c->entry_group[keys[i].idx] = (uint32_t)(g - 1);
    }
    free(keys);
    c->group_start[g] = (uint32_t)n;
    c->n_groups = g;
    c->group_stamp = attn_xcalloc(g + 1, sizeof(*c->group_stamp));
    c->picked = attn_xmalloc(attn_st_mult(g + 1, sizeof(*c->picked)));
    return c;
}

/* Append path's interned component ids to *pool (adding new components when
 * add is set; otherwise an unknown component becomes -1, which equals no
 * past component); the number of components appended. */
static uint32_t path_components(ps_cache *c, const char *path, int add, int32_t **pool,
                                size_t *len, size_t *cap)
{
    const char *p = path;
    uint32_t n = 0;
    while (*p) {
        const char *s = p;
        while (*p && *p != '/')
            p++;
        if (p > s && n < MAX_DEPTH) {
            long id = attn_strtab_id(&c->comps, s, (size_t)(p - s), add);
            ATTN_ALLOC_GROW(*pool, *len + 1, *cap);
            (*pool)[(*len)++] = (int32_t)id;
            n++;
        }
        if (*p == '/')
            p++;
    }
    return n;
}

/* A 64-bit signature of a path's component ids: two paths that share a
 * component share a bit, so disjoint signatures mean no common component. */
static uint64_t comp_sig(const int32_t *a, uint32_t m)
{
    uint64_t s = 0;
    for (uint32_t i = 0; i < m; i++)
        s |= 1ULL << (((uint32_t)a[i] * 0x9E3779B1u) >> 26);
    return s;
}

static uint32_t intern_path(ps_cache *c, const char *path)
{
    uint32_t id = (uint32_t)attn_strtab_id(&c->paths, path, strlen(path), 1), n;
    if (id < c->cap_path_comps && c->path_comps[id].n != UINT32_MAX)
        return id;
    if (id >= c->cap_path_comps) {
        size_t old = c->cap_path_comps;
        ATTN_ALLOC_GROW(c->path_comps, (size_t)id + 1, c->cap_path_comps);
        c->path_dir = attn_xrealloc(c->path_dir,
                                    attn_st_mult(c->cap_path_comps, sizeof(*c->path_dir)));
        for (size_t k = old; k < c->cap_path_comps; k++)
            c->path_comps[k].n = UINT32_MAX;
    }
    c->path_comps[id].off = (uint32_t)c->n_comp_pool;
    n = path_components(c, path, 1, &c->comp_pool, &c->n_comp_pool, &c->cap_comp_pool);
    c->path_comps[id].n = n;
    c->path_comps[id].sig = comp_sig(c->comp_pool + c->path_comps[id].off, n);
    c->path_dir[id].dir = NO_DIR;
    if (n >= 1 && n < MAX_DEPTH) {
        /* the directory as text of its component ids: exact, whatever the
         * path's spelling ("a//b/c" and "a/b/c" are one directory) */
        char key[8 * MAX_DEPTH + 1];
        const int32_t *comp = c->comp_pool + c->path_comps[id].off;
        for (uint32_t k = 0; k + 1 < n; k++)
            snprintf(key + 8 * k, 9, "%08x", (uint32_t)comp[k]);
        c->path_dir[id].dir = (uint32_t)attn_strtab_id(&c->dirs, key, 8 * (size_t)(n - 1), 1);
        c->path_dir[id].last = (uint32_t)comp[n - 1];
    }
    return id;
}

/* The file set an entry is attributed to, compiled on first use. Entries
 * that share the index's path array share the set. */
static void size_scratch(ps_cache *c);

static long entry_set(ps_cache *c, size_t pos)
{
    const char *const *paths = NULL;
    const void *key;
    size_t np;
    uint32_t known;
    long id;

    size_t i = c->order[pos];
    if (c->pos[pos].set >= 0)
        return c->pos[pos].set;
    np = attn_activity_entry_paths(c->act, i, &paths);
    key = np ? (const void *)paths : NULL;
    if ((known = attn_map64_get(&c->set_ix, (uint64_t)(uintptr_t)key)) != ATTN_MAP64_NONE)
        return c->pos[pos].set = (int32_t)known;
    ATTN_ALLOC_GROW(c->sets, c->n_sets + 1, c->cap_sets);
    ATTN_ALLOC_GROW(c->set_keys, c->n_sets + 1, c->cap_set_keys);
    id = (long)c->n_sets;
    c->sets[id].off = (uint32_t)c->n_set_pool;
    c->sets[id].n = 0;
    for (size_t k = 0; k < np; k++) {
        uint32_t pid = intern_path(c, paths[k]);
        ATTN_ALLOC_GROW(c->set_pool, c->n_set_pool + 1, c->cap_set_pool);
        c->set_pool[c->n_set_pool++] = pid;
        c->sets[id].n++;
    }
    c->set_keys[id] = key;
    c->n_sets++;
    attn_map64_put(&c->set_ix, (uint64_t)(uintptr_t)key, (uint32_t)id);
    size_scratch(c);   /* the memo arrays grow with the new set, paths, dirs */
    return c->pos[pos].set = (int32_t)id;
}

/* ---- similarity -------------------------------------------------------------- */

/* The comparisons of one pair of paths (component ids), added to acc[NM],
 * by dynamic programming: any lengths up to MAX_DEPTH. */
#define SMALL_PATH 64   /* components: paths this short use the fused tables */

static void compare_dp(ps_cache *c, const int32_t *a, uint32_t m, const int32_t *b, uint32_t n,
                       double *acc)
{
    uint32_t k, mx = m > n ? m : n, best;
    if (!mx)
        return;
    if (c->w[M_LCP] > 0) {
        for (k = 0; k < m && k < n && a[k] == b[k]; k++)
            ;
        acc[M_LCP] += (double)k / mx;
    }
    if (c->w[M_LCSUFFIX] > 0) {
        for (k = 0; k < m && k < n && a[m - 1 - k] == b[n - 1 - k]; k++)
            ;
        acc[M_LCSUFFIX] += (double)k / mx;
    }
    if (!(c->w[M_LCSUBSTR] > 0) && !(c->w[M_LCSUBSEQ] > 0))
        return;
    if (m == n && !memcmp(a, b, m * sizeof(*a))) {
        /* The same path (a common case: files touched again and again):
         * every method is m / m = 1, without the two tables. */
        if (c->w[M_LCSUBSTR] > 0)
            acc[M_LCSUBSTR] += 1.0;
        if (c->w[M_LCSUBSEQ] > 0)
            acc[M_LCSUBSEQ] += 1.0;
        return;
    }
    if (n < SMALL_PATH) {
        /* Both tables in one pass over the pairs, on the stack (profile: this
         * function was 42% of a 4-router eval of rust-clippy). */
        uint32_t r0[SMALL_PATH], r1[SMALL_PATH], q0[SMALL_PATH], q1[SMALL_PATH];
        uint32_t *sp = r0, *sc = r1, *qp = q0, *qc = q1, *t;
        best = 0;
        memset(r0, 0, (n + 1) * sizeof(*r0));
        memset(q0, 0, (n + 1) * sizeof(*q0));
        for (uint32_t i = 1; i <= m; i++) {
            const int32_t ai = a[i - 1];
            sc[0] = qc[0] = 0;
            for (uint32_t j = 1; j <= n; j++) {
                if (ai == b[j - 1]) {
                    sc[j] = sp[j - 1] + 1;
                    qc[j] = qp[j - 1] + 1;
                    if (sc[j] > best)
                        best = sc[j];
                } else {
                    sc[j] = 0;
                    qc[j] = qp[j] > qc[j - 1] ? qp[j] : qc[j - 1];
                }
            }
            t = sp, sp = sc, sc = t;
            t = qp, qp = qc, qc = t;
        }
        if (c->w[M_LCSUBSTR] > 0)
            acc[M_LCSUBSTR] += (double)best / mx;
        if (c->w[M_LCSUBSEQ] > 0)
            acc[M_LCSUBSEQ] += (double)qp[n] / mx;
        return;
    }
    if (c->w[M_LCSUBSTR] > 0) {
        uint32_t *prev = c->dp[0], *cur = c->dp[1], *t;
        best = 0;
        memset(prev, 0, (n + 1) * sizeof(*prev));
        for (uint32_t i = 1; i <= m; i++) {
            cur[0] = 0;
            for (uint32_t j = 1; j <= n; j++) {
                cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : 0;
                if (cur[j] > best)
                    best = cur[j];
            }
            t = prev;
            prev = cur;
            cur = t;
        }
        acc[M_LCSUBSTR] += (double)best / mx;
    }
    if (c->w[M_LCSUBSEQ] > 0) {
        uint32_t *prev = c->dp[0], *cur = c->dp[1], *t;
        memset(prev, 0, (n + 1) * sizeof(*prev));
        for (uint32_t i = 1; i <= m; i++) {
            cur[0] = 0;
            for (uint32_t j = 1; j <= n; j++)
                cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1
                                              : (prev[j] > cur[j - 1] ? prev[j] : cur[j - 1]);
            t = prev;
            prev = cur;
            cur = t;
        }
        acc[M_LCSUBSEQ] += (double)prev[n] / mx;
    }
}

/* Bits set in x, without libgcc's table-driven call that
 * __builtin_popcountll becomes on a baseline x86-64 target (profile). */
static inline uint32_t popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (uint32_t)((x * 0x0101010101010101ULL) >> 56);
}

/*
 * The same four integers as compare_dp, bit-parallel over a's positions
 * (m, n < 64; profile: compare_dp was 39% of the 4-router rust-clippy eval).
 * M[j] has bit i set when a[i] == b[j]. The common prefix and suffix read
 * the diagonals of M; the longest common subsequence is Allison-Dix /
 * Hyyro's V' = (V + (V & M)) | (V & ~M), whose zero bits count it; the
 * longest common substring keeps R[k], the positions where a run of k
 * matches ends in the current column (a run grows by at most one per
 * column, so only R[1 .. best + 1] are live). Integers only, so the sums
 * are bit for bit those of compare_dp.
 */
static void compare_matches(const ps_cache *c, const uint64_t *M, uint32_t m, uint32_t n,
                            double *acc)
{
    uint64_t R[SMALL_PATH + 1], V;
    const uint64_t full = (1ULL << m) - 1;
    uint32_t k, mn = m < n ? m : n, mx = m > n ? m : n, best = 0, lcs;
    if (c->w[M_LCP] > 0) {
        for (k = 0; k < mn && (M[k] >> k & 1); k++)
            ;
        acc[M_LCP] += (double)k / mx;
    }
    if (c->w[M_LCSUFFIX] > 0) {
        for (k = 0; k < mn && (M[n - 1 - k] >> (m - 1 - k) & 1); k++)
            ;
        acc[M_LCSUFFIX] += (double)k / mx;
    }
    if (!(c->w[M_LCSUBSTR] > 0) && !(c->w[M_LCSUBSEQ] > 0))
        return;
    V = full;
    /* R[1 .. best + 1] are written before they are read: no clearing
     * (profile: clearing R was an eighth of this function) */
    for (uint32_t j = 0; j < n; j++) {
        uint64_t u = V & M[j];
        V = ((V + u) | (V - u)) & full;
        for (k = best + 1; k >= 2; k--)
            R[k] = (R[k - 1] << 1) & M[j];
        R[1] = M[j];
        if (best < mn && R[best + 1])
            best++;
    }
    lcs = m - popcount64(V);
    if (c->w[M_LCSUBSTR] > 0)
        acc[M_LCSUBSTR] += (double)best / mx;
    if (c->w[M_LCSUBSEQ] > 0)
        acc[M_LCSUBSEQ] += (double)lcs / mx;
}

/* M[j] has bit i set when a[i] == b[j] (m, n < SMALL_PATH). */
static void compare_bits(const ps_cache *c, const int32_t *a, uint32_t m, const int32_t *b,
                         uint32_t n, double *acc)
{
    uint64_t M[SMALL_PATH], any = 0;
    for (uint32_t j = 0; j < n; j++) {
        uint64_t mj = 0;
        for (uint32_t i = 0; i < m; i++)
            mj |= (uint64_t)(a[i] == b[j]) << i;
        M[j] = mj;
        any |= mj;
    }
    if (any)   /* nothing in common: every method adds 0 */
        compare_matches(c, M, m, n, acc);
}

/* The comparisons of one pair of paths, added to acc[NM]; sa and sb are
 * their comp_sig. A pair with no common component adds 0 to every method
 * (acc + 0.0 == acc for the non-negative sums here), so it is skipped. */
static void compare(ps_cache *c, const int32_t *a, uint32_t m, uint64_t sa, const int32_t *b,
                    uint32_t n, uint64_t sb, double *acc)
{
    if (!(sa & sb) || !m || !n)
        return;
    if (m < SMALL_PATH && n < SMALL_PATH)
        compare_bits(c, a, m, b, n, acc);
    else
        compare_dp(c, a, m, b, n, acc);
}

/* Sum over the PR's files f of method(f, past path pid), memoized per route.
 * A past path whose last component is none of the PR's files' components
 * compares like any other such path of its directory: that component
 * matches nothing, and every method is a function of which components match
 * (and of the lengths, the same in one directory). So those paths share one
 * sum per directory, bit for bit the one each would get alone (profile: the
 * comparisons were 30% of the 4-router rust-clippy eval, whose 5,110 paths
 * sit in 334 directories). */
/* Where path pid's sum lives this route: its directory's slot when its last
 * component is none of the PR's files' (see path_sim), else its own; *stamp
 * is the slot's stamp, fgen once the slot is filled. */
static inline double *sim_slot(ps_cache *c, uint32_t pid, uint32_t **stamp)
{
    struct path_dir pd = c->path_dir[pid];
    if (pd.dir != NO_DIR && c->comp_stamp[pd.last] != c->fgen) {
        *stamp = &c->dir_stamp[pd.dir];
        return c->dir_sim + (size_t)pd.dir * NM;
    }
    *stamp = &c->path_stamp[pid];
    return c->path_sim + (size_t)pid * NM;
}

static const double *path_sim(ps_cache *c, uint32_t pid)
{
    const pspan *g = &c->path_comps[pid];
    const int32_t *b;
    const uint64_t *row[SMALL_PATH];
    size_t nf;
    int use_rows;
    uint32_t *stamp;
    double *acc = sim_slot(c, pid, &stamp);
    if (*stamp == c->fgen)
        return acc;
    *stamp = c->fgen;
    memset(acc, 0, NM * sizeof(*acc));
    /* with the match table, a short path's match bits against a short file
     * are one row per component; compare() takes every other pair (set up
     * only past the memo checks: most calls end there) */
    b = c->comp_pool + g->off;
    nf = c->n_cur_files;
    use_rows = c->use_masks && g->n < SMALL_PATH;
    if (use_rows && ++c->sib_gen == 0) {
        memset(c->sib_stamp, 0, nf * sizeof(*c->sib_stamp));
        memset(c->gmark, 0, c->cap_gmark * sizeof(*c->gmark));
        c->sib_gen = 1;
    }
    if (use_rows)
        for (uint32_t j = 0; j < g->n; j++) {
            row[j] = c->cur_mask +
                     (b[j] >= 0 && c->comp_stamp[b[j]] == c->fgen ? c->comp_row[b[j]] : 0) * nf;
            if (b[j] >= 0)
                c->gmark[b[j]] = c->sib_gen;
        }
    for (size_t f = 0; f < nf; f++) {
        const pspan *a = &c->cur_files[f];
        uint64_t M[SMALL_PATH], any = 0;
        int32_t last;
        if (!use_rows || a->n >= SMALL_PATH) {
            compare(c, c->cur_comps + a->off, a->n, a->sig, b, g->n, g->sig, acc);
            continue;
        }
        if (!(a->sig & g->sig) || !a->n)
            continue;
        last = c->cur_comps[a->off + a->n - 1];
        if (c->sib_stamp[c->sib[f]] == c->sib_gen && (last < 0 || c->gmark[last] != c->sib_gen)) {
            /* a sibling's result is there and this name is not in the
             * past path: the same bits, no need to read them */
            const double *dl = c->sib_delta + (size_t)c->sib[f] * NM;
            for (int m = 0; m < NM; m++)
                acc[m] += dl[m];
            continue;
        }
        for (uint32_t j = 0; j < g->n; j++)
            any |= M[j] = row[j][f];
        if (!any)
            continue;
        if (!(any >> (a->n - 1) & 1)) {
            /* the last component unmatched: the directory's shared result
             * (its values are compare_matches' own, added in file order) */
            uint32_t r = c->sib[f];
            double *dl = c->sib_delta + (size_t)r * NM;
            if (c->sib_stamp[r] != c->sib_gen) {
                c->sib_stamp[r] = c->sib_gen;
                memset(dl, 0, NM * sizeof(*dl));
                compare_matches(c, M, a->n, g->n, dl);
            }
            for (int m = 0; m < NM; m++)
                acc[m] += dl[m];
            continue;
        }
        compare_matches(c, M, a->n, g->n, acc);
    }
    return acc;
}

/* sim_m of the PR against a compiled file set, memoized per route. */
static const double *set_sim(ps_cache *c, uint32_t sid)
{
    double *acc = c->set_sim + (size_t)sid * NM;
    const span *s = &c->sets[sid];
    if (c->set_stamp[sid] == c->fgen)
        return acc;
    c->set_stamp[sid] = c->fgen;
    /* the sums in locals (registers), each in set order as before */
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (uint32_t k = 0; k < s->n; k++) {
        /* path_sim's memo check (sim_slot) first, here: most paths were compared
         * already this route (profile: 7M calls for 150k comparisons), and
         * most of them share their directory's */
        uint32_t pid = c->set_pool[s->off + k], *stamp;
        const double *p = sim_slot(c, pid, &stamp);
        if (*stamp != c->fgen)
            p = path_sim(c, pid);
        a0 += p[0];
        a1 += p[1];
        a2 += p[2];
        a3 += p[3];
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    for (int m = 0; m < NM; m++)
        acc[m] /= (double)c->n_cur_files * (double)s->n;
    return acc;
}

/* A stamp array (zeroed when grown: no stale stamp can match) and, when sim
 * is given, its NM similarities per slot, for at least need slots. */
static void grow_stamps(uint32_t **stamp, size_t *cap, size_t need, double **sim)
{
    size_t old = *cap, c = old;
    if (need <= old)
        return;
    ATTN_ALLOC_GROW(*stamp, need, c);
    memset(*stamp + old, 0, (c - old) * sizeof(**stamp));
    *cap = c;
    if (sim)
        *sim = attn_xrealloc(*sim, attn_st_mult(c, NM * sizeof(double)));
}

/* Make the memo arrays as large as the caches grew. */
static void size_scratch(ps_cache *c)
{
    grow_stamps(&c->dir_stamp, &c->cap_dir_stamp, c->dirs.n, &c->dir_sim);
    grow_stamps(&c->comp_stamp, &c->cap_comp_stamp, c->comps.n, NULL);
    grow_stamps(&c->comp_row, &c->cap_comp_row, c->comps.n, NULL);
    grow_stamps(&c->gmark, &c->cap_gmark, c->comps.n, NULL);
    grow_stamps(&c->path_stamp, &c->cap_path_stamp, c->paths.n, &c->path_sim);
    grow_stamps(&c->set_stamp, &c->cap_set_stamp, c->n_sets, &c->set_sim);
}

/* The PR's own files as component ids. Their components are interned like
 * past ones (the table only grows by components never seen before, and ids
 * are only compared for equality, so results do not depend on what was
 * routed earlier). */
static void current_files(ps_cache *c, const json_t *snapshot)
{
    const json_t *files = json_object_get(snapshot, "changed_files"), *f;
    size_t i, n_comp = 0;
    c->n_cur_files = 0;
    json_array_foreach(files, i, f) {
        const char *path = attn_json_str(f, "path");
        uint32_t n;
        size_t off = n_comp;
        if (!path || !*path)
            continue;
        n = path_components(c, path, 1, &c->cur_comps, &n_comp, &c->cap_cur_comps);
        if (!n)
            continue;
        ATTN_ALLOC_GROW(c->cur_files, c->n_cur_files + 1, c->cap_cur_files);
        c->cur_files[c->n_cur_files].off = (uint32_t)off;
        c->cur_files[c->n_cur_files].n = n;
        c->cur_files[c->n_cur_files].sig = comp_sig(c->cur_comps + off, n);
        c->n_cur_files++;
    }
}

static double combined(const ps_config *cf, const double *sim)
{
    double s = 0;
    for (int m = 0; m < NM; m++)
        s += cf->w[m] * sim[m];
    return s / cf->w_sum;
}

/* Keep a user's EVIDENCE_PRS most similar past PRs (similarity desc, then
 * the higher PR number); have = how many were offered before. */
static void top_insert(past_pr *top, uint32_t have, int64_t number, double sim)
{
    uint32_t n = have < EVIDENCE_PRS ? have : EVIDENCE_PRS, k;
    past_pr x = {number, sim};
    if (n == EVIDENCE_PRS) {
        const past_pr *last = &top[EVIDENCE_PRS - 1];
        if (sim < last->sim || (sim == last->sim && number < last->pr_number))
            return;
        n--;
    }
    for (k = n; k > 0; k--) {
        const past_pr *p = &top[k - 1];
        if (p->sim > sim || (p->sim == sim && p->pr_number > number))
            break;
        top[k] = *p;
    }
    top[k] = x;
}

typedef struct {
    double score;
    uint32_t slot;       /* position in touched[] */
} borda_item;

static int borda_cmp(const void *pa, const void *pb)
{
    const borda_item *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->slot < b->slot ? -1 : a->slot > b->slot;
}

/* RevFinder's Borda count over the methods: points[slot] for each touched user. */
static void borda(const ps_config *cf, const ps_cache *c, size_t n_touched, double *points)
{
    borda_item *it = attn_xmalloc(attn_st_mult(n_touched ? n_touched : 1, sizeof(*it)));
    for (size_t i = 0; i < n_touched; i++)
        points[i] = 0;
    for (int m = 0; m < NM; m++) {
        size_t n = 0, rank = 0;
        if (!(cf->w[m] > 0))
            continue;
        for (size_t i = 0; i < n_touched; i++) {
            double s = c->user_score[(size_t)c->touched[i] * NM + m];
            if (s > 0) {
                it[n].score = s;
                it[n++].slot = (uint32_t)i;
            }
        }
        qsort(it, n, sizeof(*it), borda_cmp);
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && it[i].score != it[i - 1].score)
                rank = i;   /* ties share the better rank */
            points[it[i].slot] += cf->w[m] * (double)(n - rank);
        }
    }
    free(it);
}

static double round4(double x)
{
    return round(x * 1e4) / 1e4;
}

static void next_gen(ps_cache *c)
{
    if (++c->gen != 0)
        return;
    /* The stamps wrapped: clear them so no stale stamp can match. */
    memset(c->group_stamp, 0, (c->n_groups + 1) * sizeof(*c->group_stamp));
    memset(c->user_stamp, 0, (c->n_users + 1) * sizeof(*c->user_stamp));
    memset(c->user_pr_stamp, 0, (c->n_users + 1) * sizeof(*c->user_pr_stamp));
    c->gen = 1;
}

/* sib[f]: the first of the PR's files in f's directory (the same number
 * of components, the same ones but the last). Unknown components (-1)
 * compare equal here: they match nothing, so they give the same bits. */
static void siblings(ps_cache *c)
{
    size_t nf = c->n_cur_files, cap;
    ATTN_ALLOC_GROW(c->sib, nf, c->cap_sib);
    cap = c->cap_sib;
    c->sib_stamp = attn_xrealloc(c->sib_stamp, attn_st_mult(cap, sizeof(*c->sib_stamp)));
    c->sib_delta = attn_xrealloc(c->sib_delta, attn_st_mult(attn_st_mult(cap, NM),
                                                            sizeof(*c->sib_delta)));
    /* (sib_gen only grows, so no mark of gmark is stale: the stamps are
     * cleared because the slots change meaning) */
    memset(c->sib_stamp, 0, cap * sizeof(*c->sib_stamp));
    attn_map64_free(&c->sib_ix);
    for (size_t f = 0; f < nf; f++) {
        const pspan *a = &c->cur_files[f];
        const int32_t *x = c->cur_comps + a->off;
        uint64_t h = attn_hash_bytes(x, (a->n - 1) * sizeof(*x)) ^ attn_hash_u64(a->n);
        uint32_t r = attn_map64_get(&c->sib_ix, h);
        c->sib[f] = (uint32_t)f;
        if (r == ATTN_MAP64_NONE) {
            attn_map64_put(&c->sib_ix, h, (uint32_t)f);
        } else if (c->cur_files[r].n == a->n &&
                   !memcmp(c->cur_comps + c->cur_files[r].off, x, (a->n - 1) * sizeof(*x))) {
            c->sib[f] = r;
        }   /* else a hash collision: f keeps a slot of its own */
    }
}

/* Keep path_sim and set_sim when this route's files (cur_*) and method
 * weights are those they were computed for; otherwise start over. */
static void files_gen(ps_cache *c, const double *w)
{
    size_t n_rows = 0, n_masks, nc = c->n_cur_files ? (size_t)c->cur_files[c->n_cur_files - 1].off +
                                     c->cur_files[c->n_cur_files - 1].n
                               : 0;
    if (c->memo_valid && c->n_memo_files == c->n_cur_files &&
        !memcmp(c->memo_w, w, sizeof(c->memo_w)) &&
        !memcmp(c->memo_files, c->cur_files, c->n_cur_files * sizeof(*c->cur_files)) &&
        !memcmp(c->memo_comps, c->cur_comps, nc * sizeof(*c->cur_comps)))
        return;
    ATTN_ALLOC_GROW(c->memo_files, c->n_cur_files, c->cap_memo_files);
    ATTN_ALLOC_GROW(c->memo_comps, nc, c->cap_memo_comps);
    if (c->n_cur_files)
        memcpy(c->memo_files, c->cur_files, c->n_cur_files * sizeof(*c->cur_files));
    if (nc)
        memcpy(c->memo_comps, c->cur_comps, nc * sizeof(*c->cur_comps));
    c->n_memo_files = c->n_cur_files;
    memcpy(c->memo_w, w, sizeof(c->memo_w));
    c->memo_valid = 1;
    if (++c->fgen == 0) {
        c->walk_valid = 0;   /* its fgen could come round again */
        memset(c->path_stamp, 0, c->cap_path_stamp * sizeof(*c->path_stamp));
        memset(c->set_stamp, 0, c->cap_set_stamp * sizeof(*c->set_stamp));
        memset(c->comp_stamp, 0, c->cap_comp_stamp * sizeof(*c->comp_stamp));
        memset(c->dir_stamp, 0, c->cap_dir_stamp * sizeof(*c->dir_stamp));
        c->fgen = 1;
    }
    /* The PR's components, for path_sim (all interned by current_files). */
    size_scratch(c);
    for (size_t k = 0; k < nc; k++)
        if (c->cur_comps[k] >= 0 && c->comp_stamp[c->cur_comps[k]] != c->fgen) {
            c->comp_stamp[c->cur_comps[k]] = c->fgen;
            c->comp_row[c->cur_comps[k]] = (uint32_t)++n_rows;
        }
    /* the match rows, when they take at most 8 MiB */
    n_masks = (n_rows + 1) * c->n_cur_files;
    c->use_masks = n_masks <= ((size_t)1 << 20);
    if (!c->use_masks)
        return;
    ATTN_ALLOC_GROW(c->cur_mask, n_masks, c->cap_cur_mask);
    memset(c->cur_mask, 0, n_masks * sizeof(*c->cur_mask));
    siblings(c);
    for (size_t f = 0; f < c->n_cur_files; f++) {
        const pspan *a = &c->cur_files[f];
        for (uint32_t i = 0; i < a->n && a->n < SMALL_PATH; i++) {
            int32_t x = c->cur_comps[a->off + i];
            if (x >= 0)
                c->cur_mask[(size_t)c->comp_row[x] * c->n_cur_files + f] |= 1ULL << i;
        }
    }
}

/* Does the cache's last walk pick the past PRs and facts this route would?
 * (Then only its decay, half_life_days, can differ.) */
static int walk_same_facts(const ps_cache *c, const ps_config *cf, const attn_route_query *q,
                           int64_t from)
{
    return c->walk_valid && c->walk_fgen == c->fgen && c->walk_as_of == q->as_of &&
           c->walk_pr == q->pr_number && c->walk_from == from &&
           c->walk_max == cf->max_past_prs && c->walk_kinds == cf->kind_mask;
}

/* Is the cache's last walk the one this route would make? */
static int walk_reusable(const ps_cache *c, const ps_config *cf, const attn_route_query *q,
                         int64_t from)
{
    return walk_same_facts(c, cf, q, from) && c->walk_half_life == cf->half_life_days;
}

/* One reviewer's contribution of a past PR: score_m += decay * sim_m, and
 * the PR among their most similar ones (the evidence). */
static void contribute(ps_cache *c, const ps_config *cf, const attn_route_query *q,
                       const struct contrib *x, size_t *n_touched)
{
    const double *sim;
    double d = 1;
    size_t u = x->user;
    if (c->user_stamp[u] != c->gen) {
        c->user_stamp[u] = c->gen;
        memset(c->user_score + u * NM, 0, NM * sizeof(double));
        c->user_n_prs[u] = 0;
        c->touched[(*n_touched)++] = (uint32_t)u;
    }
    sim = set_sim(c, x->set);
    if (cf->half_life_days > 0)
        d = pow(0.5, (double)(q->as_of - x->t) / (cf->half_life_days * 86400.0));
    for (int m = 0; m < NM; m++)
        c->user_score[u * NM + m] += d * sim[m];
    top_insert(c->user_top + u * EVIDENCE_PRS, c->user_n_prs[u], x->number, combined(cf, sim));
    c->user_n_prs[u]++;
}

/* The first position in [lo, hi) whose fact is after as_of (hi when none). */
static uint32_t after_cutoff(const ps_pos *p, uint32_t lo, uint32_t hi, int64_t as_of)
{
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p[mid].t <= as_of)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The past PRs of step 2 are scattered over the index, and each one's facts
 * are found through its group_start: two cache misses one after the other.
 * Asking for them some PRs ahead lets the misses overlap (the walk's time
 * was mostly spent waiting on them). */
#define PREFETCH_AHEAD 16
static void prefetch_group(const ps_cache *c, size_t k, size_t n_picked)
{
    if (k + 2 * PREFETCH_AHEAD < n_picked)
        __builtin_prefetch(&c->group_start[c->picked[k + 2 * PREFETCH_AHEAD]]);
    if (k + PREFETCH_AHEAD < n_picked) {
        uint32_t g = c->picked[k + PREFETCH_AHEAD], last = c->group_start[g + 1] - 1;
        __builtin_prefetch(&c->group_number[g]);
        __builtin_prefetch(&c->pos[last]);
    }
}

/*
 * Steps 1 and 2 of a route, and the scores: c->rows[0..*n_rows) gets the
 * users with a score > 0, in no particular order, and each user's most
 * similar past PRs are kept too (user_top, the evidence; the scores never
 * depend on them). *n_rows is 0 when the PR has no changed files
 * (c->n_cur_files tells).
 */
static int ps_score(ps_state *st, const attn_route_ctx *ctx, const attn_route_query *q,
                    size_t *n_rows, attn_error *err)
{
    const ps_config *cf = &st->cfg;
    ps_cache *c = st->cache;
    attn_activity *act = ctx->activity;
    const attn_act_entry *e;
    size_t n, first, last, n_picked = 0, n_touched = 0;
    int64_t from = q->as_of - (int64_t)llround(cf->lookback_days * 86400.0);
    double *points = NULL;

    *n_rows = 0;
    if (!act)
        return attn_error_set(err, ATTN_EINVAL, "path_similarity: no activity index in the context");
    e = attn_activity_entries(act, &n);
    if (!c || c->act != act || c->act_id != attn_activity_build_id(act) || c->n_entries != n) {
        /* First use, or a different index: the caches for it. */
        cache_release(c);
        c = st->cache = cache_acquire(act, cf->w);
    }
    c->w = cf->w;
    current_files(c, q->snapshot);
    if (!c->n_cur_files)
        return 0;
    files_gen(c, cf->w);
    if (walk_reusable(c, cf, q, from)) {
        n_touched = c->walk_n_touched;
        goto scores;
    }
    if (walk_same_facts(c, cf, q, from)) {
        /* the same contributions in the same order, with this decay: bit
         * for bit what walking again would give */
        next_gen(c);
        for (size_t i = 0; i < c->n_contrib; i++)
            contribute(c, cf, q, &c->contrib[i], &n_touched);
        goto walked;
    }
    c->walk_valid = 0;
    c->n_contrib = 0;
    next_gen(c);

    /* 1. The most recent past PRs: walk the window backwards. */
    attn_activity_slice(act, from, q->as_of, &first, &last);
    for (size_t i = last; i > first && n_picked < (size_t)cf->max_past_prs; i--) {
        const attn_act_entry *x = &e[i - 1];
        uint32_t g = c->entry_group[i - 1];
        if (c->group_stamp[g] == c->gen || !(cf->kind_mask & c->entry_mask[i - 1]) ||
            x->pr_number == q->pr_number)
            continue;
        c->group_stamp[g] = c->gen;
        c->picked[n_picked++] = g;
    }

    /* 2. Per past PR, each reviewer's latest qualifying fact with known files. */
    for (size_t k = 0; k < n_picked; k++) {
        uint32_t g = c->picked[k];
        prefetch_group(c, k, n_picked);
        /* the group's entries are one PR's */
        int64_t number = c->group_number[g];
        uint32_t lo = c->group_start[g], pos = c->group_start[g + 1];
        /* A group's facts are in time order: those after the cutoff are
         * found by bisection (a PR active after it has many), and the walk
         * stops at the first before the window. */
        if (c->pos[pos - 1].t > q->as_of)
            pos = after_cutoff(c->pos, lo, pos - 1, q->as_of);
        for (; pos > lo; pos--) {
            int64_t t = c->pos[pos - 1].t;
            size_t u = c->pos[pos - 1].user;
            struct contrib *x;
            long sid;
            if (t < from)
                break;
            if (!(cf->kind_mask & c->pos[pos - 1].mask))
                continue;
            if (c->user_stamp[u] == c->gen && c->user_pr_stamp[u] == (uint32_t)(k + 1))
                continue;   /* a later fact of this reviewer on this PR already counted */
            sid = entry_set(c, pos - 1);
            if (c->sets[sid].n == 0)
                continue;   /* files unknown for this fact: an earlier one may know them */
            ATTN_ALLOC_GROW(c->contrib, c->n_contrib + 1, c->cap_contrib);
            x = &c->contrib[c->n_contrib++];
            x->user = (uint32_t)u;
            x->set = (uint32_t)sid;
            x->t = t;
            x->number = number;
            contribute(c, cf, q, x, &n_touched);
            c->user_pr_stamp[u] = (uint32_t)(k + 1);
        }
    }

walked:
    c->walk_valid = 1;
    c->walk_fgen = c->fgen;
    c->walk_as_of = q->as_of;
    c->walk_pr = q->pr_number;
    c->walk_from = from;
    c->walk_max = cf->max_past_prs;
    c->walk_kinds = cf->kind_mask;
    c->walk_half_life = cf->half_life_days;
    c->walk_n_touched = n_touched;

scores:
    /* 3. Scores. */
    if (cf->borda && n_touched) {
        points = attn_xmalloc(attn_st_mult(n_touched, sizeof(*points)));
        borda(cf, c, n_touched, points);
    }
    for (size_t k = 0; k < n_touched; k++) {
        size_t u = c->touched[k];
        double score = points ? points[k] : combined(cf, c->user_score + u * NM);
        if (score > 0) {
            c->rows[*n_rows].user = (uint32_t)u;
            c->rows[(*n_rows)++].score = score;
        }
    }
    free(points);
    return 0;
}

static int ps_route(void *state, const attn_route_ctx *ctx, const attn_route_query *q,
                    attn_route_result *res, attn_error *err)
{
    ps_state *st = state;
    const ps_config *cf = &st->cfg;
    ps_cache *c;
    attn_activity *act = ctx->activity;
    const char *author = attn_json_str(q->snapshot, "author");
    size_t n_rows, n_emit;
    long best = -1;
    int rc;

    if ((rc = ps_score(st, ctx, q, &n_rows, err)))
        return rc;
    c = st->cache;
    attn_result_confidence_margins(res, cf->conf_high, cf->conf_medium);
    if (!c->n_cur_files) {
        attn_result_set_risk(res, "high");
        attn_result_note(res, "no candidates: no changed files known at the cutoff");
        return 0;
    }

    /* Evidence for the candidates router.c can need (shortlist.h). */
    attn_shortlist_sort(c->rows, n_rows);
    n_emit = attn_shortlist_cut(&st->rules, act, q, c->rows, n_rows);
    for (size_t k = 0; k < n_emit; k++) {
        size_t u = c->rows[k].user;
        const past_pr *top = c->user_top + u * EVIDENCE_PRS;
        uint32_t nt = c->user_n_prs[u] < EVIDENCE_PRS ? c->user_n_prs[u] : EVIDENCE_PRS;
        json_t *prs = attn_xcheck(json_array());
        attn_cand *cand;
        for (uint32_t j = 0; j < nt; j++)
            json_array_append_new(prs, attn_json_obj("number", json_integer(top[j].pr_number),
                                                     "similarity", json_real(round4(top[j].sim)),
                                                     NULL));
        cand = attn_result_cand(res, "user", attn_activity_user_login(act, u));
        if (!cand) {
            json_decref(prs);
            continue;
        }
        attn_cand_evidence(cand, "similar_prs",
                           attn_json_obj("prs", prs, "n_prs", json_integer(c->user_n_prs[u]),
                                         NULL));
        attn_cand_set_score(cand, c->rows[k].score);
    }
    /* The best candidate other than the author decides the risk. */
    for (size_t k = 0; k < n_rows && best < 0; k++)
        if (!author || strcasecmp(author, attn_activity_user_login(act, c->rows[k].user)))
            best = (long)c->rows[k].user;
    if (best < 0) {
        attn_result_set_risk(res, "high");
        attn_result_note(res, "no candidates: no reviews of PRs with known files in the %g "
                         "days before the cutoff", cf->lookback_days);
        return 0;
    }
    attn_result_set_risk(res, c->user_n_prs[best] &&
                                      c->user_top[(size_t)best * EVIDENCE_PRS].sim >=
                                          LOW_RISK_SIMILARITY
                                  ? "low"
                                  : "medium");
    return 0;
}

int attn_path_similarity_scores(void *state, const attn_route_ctx *ctx,
                                const attn_route_query *q, const attn_shortlist_row **rows,
                                size_t *n, attn_error *err)
{
    ps_state *st = state;
    int rc = ps_score(st, ctx, q, n, err);
    *rows = rc || !*n ? NULL : st->cache->rows;
    return rc;
}

void attn_path_similarity(const char *const *f, size_t nf, const char *const *g, size_t ng,
                          double out[ATTN_PATHSIM_NMETHODS])
{
    static const double all[NM] = {1, 1, 1, 1};
    ps_cache *c = attn_xcalloc(1, sizeof(*c));
    size_t n_comp = 0, n_files = 0;

    for (int m = 0; m < NM; m++)
        out[m] = 0;
    c->w = all;
    /* The same code path as routing: G's paths interned, F's looked up. */
    for (size_t j = 0; j < ng; j++)
        intern_path(c, g[j]);
    for (size_t i = 0; i < nf; i++) {
        size_t off = n_comp;
        uint32_t n = path_components(c, f[i], 0, &c->cur_comps, &n_comp, &c->cap_cur_comps);
        if (!n)
            continue;   /* as when routing: a path without components is no file */
        ATTN_ALLOC_GROW(c->cur_files, n_files + 1, c->cap_cur_files);
        c->cur_files[n_files].off = (uint32_t)off;
        c->cur_files[n_files].sig = comp_sig(c->cur_comps + off, n);
        c->cur_files[n_files++].n = n;
    }
    c->n_cur_files = n_files;
    if (n_files && ng) {
        for (size_t j = 0; j < ng; j++) {
            long pid = attn_strtab_id(&c->paths, g[j], strlen(g[j]), 0);
            double acc[NM] = {0, 0, 0, 0};
            for (size_t i = 0; i < n_files; i++)
                compare(c, c->cur_comps + c->cur_files[i].off, c->cur_files[i].n,
                        c->cur_files[i].sig, c->comp_pool + c->path_comps[pid].off,
                        c->path_comps[pid].n, c->path_comps[pid].sig, acc);
            for (int m = 0; m < NM; m++)
                out[m] += acc[m];
        }
        for (int m = 0; m < NM; m++)
            out[m] /= (double)n_files * (double)ng;
    }
    cache_free(c);
}

const attn_router_def attn_router_path_similarity = {
    "path_similarity",
    "path_similarity.v1",
    "RevFinder: reviewers of past PRs whose file paths resemble this PR's",
    DEFAULT_CONFIG,
    ps_init,
    ps_route,
    ps_free,
};
