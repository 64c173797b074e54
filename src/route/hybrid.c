/*
 * hybrid.c - the `hybrid` router (SPEC §7): a fusion of the other routers,
 * with weights that can be fitted on PRs before a cohort (route/hybrid.h).
 *
 * Owns: running the component routers for a PR, fusing their rankings, and
 * fitting the linear weights. Must never: include itself, see anything the
 * components may not see (they get the same query, so the same cutoff), or
 * let the fitting touch PRs the caller did not hand it. It replaces the
 * original hybrid_ranker, whose score was an ad hoc "10 x sources" bonus
 * over the union and whose stewards weight was dead (reference §6.7, §15.12).
 *
 * Config (all keys, with defaults):
 *   method            "linear"  "linear": sum over components of
 *                               weight * score / (the component's top score
 *                               for this PR); "rrf" (reciprocal rank fusion):
 *                               sum of weight / (rrf_k + rank), rank 1-based
 *   components        {"codeowners": 0.5, "mentions": 0.5, "path_similarity": 0.8,
 *                      "popularity": 0.1, "review_requests": 1.5, "stewards": 1.0}
 *                               weight (>= 0) per component router; 0 leaves
 *                               the component out (it is not even run); at
 *                               least one must be > 0
 *   component_configs {}        {name: config object} for a component, as
 *                               attn_router_new takes it. Components run with
 *                               availability and load OFF unless their config
 *                               here sets "availability" / "load": the hybrid
 *                               applies its own (the common keys), so they
 *                               would otherwise count twice
 *   rrf_k             60        > 0
 *   component_top_k   10        whole number >= 1: candidates asked of each
 *                               component. 10 is the eval's default top_k,
 *                               so an evaluation that also runs a component
 *                               alone (same config) computes it once
 *                               (router.h, memo); 50 gave the same MRR
 *                               within 0.001 on rust-clippy and synthetic
 *                               histories, at half the speed
 *   confidence.high   0.3, confidence.medium 0.1: margins (top1 - top2) / top1
 *   fitted            null      provenance written by attn_hybrid_fit
 *                               ({n, from, to, objective, grid}); not read
 *                               for scoring, but part of the config hash
 *
 * Result: the fused candidates with evidence {kind:"hybrid", data:{method,
 * parts:{router: contribution}, kinds:{router: [the component's evidence
 * kinds]}}}; a note "weights_hash=<sha256 of the canonical components
 * object>", and one per component that returned nothing. risk: the lowest
 * risk among the components that support the top candidate; "high" when
 * there is none. Only the fused candidates router.c can need are handed
 * over (shortlist.h). Cost: the components' (each asked for
 * component_top_k) plus the fusion; bench_route: about 1,900 PRs/s per core
 * with the default components over a 10,000-PR synthetic history.
 */
#include "route/hybrid.h"
#include "util/num.h"
#include "util/alloc.h"
#include "route/shortlist.h"
#include "util/json.h"
#include "util/time.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char DEFAULT_CONFIG[] =
    "{\"method\": \"linear\","
    " \"components\": {\"codeowners\": 0.5, \"mentions\": 0.5, \"path_similarity\": 0.8,"
    " \"popularity\": 0.1, \"review_requests\": 1.5, \"stewards\": 1.0},"
    " \"component_configs\": {},"
    " \"rrf_k\": 60,"
    " \"component_top_k\": 10,"
    " \"confidence\": {\"high\": 0.3, \"medium\": 0.1},"
    " \"fitted\": null}";

static const double GRID[] = {0, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5};
#define GRID_N (sizeof(GRID) / sizeof(GRID[0]))
#define FIT_MAX_PASSES 20

size_t attn_hybrid_grid(const double **values)
{
    *values = GRID;
    return GRID_N;
}

typedef struct {
    char *name;
    double weight;
    attn_router *r;          /* NULL when left out (weight 0, or unregistered in a fit) */
} hy_comp;

typedef struct {
    int rrf;
    double rrf_k;
    int top_k;
    double conf_high, conf_medium;
    hy_comp *comps;          /* in name order */
    size_t n;
    char weights_hash[65];
    attn_shortlist_rules rules;
} hy_state;

/* ---- fusion core --------------------------------------------------------------- */

typedef struct {
    char *key;               /* type ':' lower(name) */
    const char *type, *name;
    size_t part;             /* index into the parts */
    size_t rank;             /* 1-based */
    double contrib;
    const json_t *evidence;
} hy_item;

typedef struct {
    size_t first, count;     /* items[first .. first+count) */
    const char *type, *name;
    double score;
} hy_fused;

static void items_free(hy_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i].key);
    free(items);
}

static int item_cmp(const void *pa, const void *pb)
{
    const hy_item *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    if (c)
        return c;
    if (a->part != b->part)
        return a->part < b->part ? -1 : 1;
    return a->rank < b->rank ? -1 : a->rank > b->rank;
}

static int fused_cmp(const void *pa, const void *pb)
{
    const hy_fused *a = pa, *b = pb;
    int c;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if ((c = strcmp(a->type, b->type)))
        return c;
    if ((c = strcasecmp(a->name, b->name)))
        return c;
    return strcmp(a->name, b->name);
}

/* Collect every (candidate, part) contribution and group them by target.
 * *items is sorted by (key, part, rank); *fused by the final order. */
static void fuse_core(int rrf, double rrf_k, const attn_hybrid_part *parts, size_t n_parts,
                     hy_item **items_out, size_t *n_items_out, hy_fused **fused_out,
                     size_t *n_fused_out)
{
    hy_item *items = NULL;
    hy_fused *fused = NULL;
    size_t n_items = 0, cap = 0, n_fused = 0;

    for (size_t p = 0; p < n_parts; p++) {
        const json_t *cands = json_object_get(parts[p].result, "candidates"), *c;
        double max = 0;
        size_t j;
        if (!(parts[p].weight > 0))
            continue;
        json_array_foreach(cands, j, c) {
            double s = json_number_value(json_object_get(c, "score"));
            if (s > max)
                max = s;
        }
        if (!rrf && !(max > 0))
            continue;
        json_array_foreach(cands, j, c) {
            const json_t *t = json_object_get(c, "target");
            const char *type = attn_json_str(t, "type"), *name = attn_json_str(t, "name");
            double s = json_number_value(json_object_get(c, "score"));
            double contrib = rrf ? parts[p].weight / (rrf_k + (double)(j + 1))
                                 : parts[p].weight * s / max;
            size_t lt, ln;
            char *key;
            if (!type || !name || !*name || !(contrib > 0))
                continue;
            ATTN_ALLOC_GROW(items, n_items + 1, cap);
            lt = strlen(type);
            ln = strlen(name);
            key = attn_xmalloc(attn_st_add(lt + ln, 2));
            memcpy(key, type, lt);
            key[lt] = ':';
            for (size_t k = 0; k < ln; k++)
                key[lt + 1 + k] = (char)tolower((unsigned char)name[k]);
            key[lt + 1 + ln] = 0;
            items[n_items].key = key;
            items[n_items].type = type;
            items[n_items].name = name;
            items[n_items].part = p;
            items[n_items].rank = j + 1;
            items[n_items].contrib = contrib;
            items[n_items].evidence = json_object_get(c, "evidence");
            n_items++;
        }
    }
    if (n_items)
        qsort(items, n_items, sizeof(*items), item_cmp);
    fused = attn_xcalloc(n_items ? n_items : 1, sizeof(*fused));
    for (size_t i = 0; i < n_items; i++) {
        if (i == 0 || strcmp(items[i].key, items[i - 1].key)) {
            hy_fused *f = &fused[n_fused++];
            f->first = i;
            f->count = 0;
            f->type = items[i].type;
            f->name = items[i].name;
            f->score = 0;
        }
        fused[n_fused - 1].count++;
        fused[n_fused - 1].score += items[i].contrib;
    }
    if (n_fused > 1)
        qsort(fused, n_fused, sizeof(*fused), fused_cmp);
    *items_out = items;
    *n_items_out = n_items;
    *fused_out = fused;
    *n_fused_out = n_fused;
}

static double round6(double x) { return x == 0 ? 0 : attn_round_sig(x, 6); }

/* {parts{name: contribution}, kinds{name: [kinds]}} of one fused target.
 * Names and kinds come from parsed JSON (valid UTF-8), so only memory can
 * make jansson fail here. */
static void fused_detail(const hy_item *items, const hy_fused *f, const attn_hybrid_part *parts,
                         json_t **parts_out, json_t **kinds_out)
{
    json_t *po = attn_xcheck(json_object()), *ko = attn_xcheck(json_object());
    for (size_t i = f->first; i < f->first + f->count; i++) {
        const hy_item *it = &items[i];
        const char *pname = parts[it->part].name;
        json_t *kinds, *ev;
        size_t k;
        if (json_object_get(po, pname))
            continue;   /* a component lists a target once; keep its best rank */
        kinds = attn_xcheck(json_array());
        attn_xcheck_rc(json_object_set_new_nocheck(po, pname, json_real(round6(it->contrib))));
        attn_xcheck_rc(json_object_set_new_nocheck(ko, pname, kinds));
        json_array_foreach(it->evidence, k, ev) {
            const char *kind = attn_json_str(ev, "kind");
            const json_t *have;
            size_t h;
            int dup = 0;
            if (!kind)
                continue;
            json_array_foreach(kinds, h, have)
                dup |= strcmp(json_string_value(have), kind) == 0;
            if (!dup)
                attn_xcheck_rc(json_array_append_new(kinds, json_string_nocheck(kind)));
        }
    }
    *parts_out = po;
    *kinds_out = ko;
}

int attn_hybrid_fuse(const char *method, double rrf_k, const attn_hybrid_part *parts, size_t n,
                     json_t **out, attn_error *err)
{
    hy_item *items = NULL;
    hy_fused *fused = NULL;
    size_t n_items = 0, n_fused = 0;
    json_t *arr;
    int rrf;

    *out = NULL;
    if (!method || (strcmp(method, "linear") && strcmp(method, "rrf")))
        return attn_error_set(err, ATTN_EINVAL, "hybrid: method must be \"linear\" or \"rrf\"");
    rrf = strcmp(method, "rrf") == 0;
    if (rrf && !(rrf_k > 0))
        return attn_error_set(err, ATTN_EINVAL, "hybrid: rrf_k must be > 0");
    fuse_core(rrf, rrf_k, parts, n, &items, &n_items, &fused, &n_fused);
    arr = attn_xcheck(json_array());
    for (size_t i = 0; i < n_fused; i++) {
        json_t *po, *ko;
        fused_detail(items, &fused[i], parts, &po, &ko);
        attn_xcheck_rc(json_array_append_new(
            arr, attn_json_obj("target",
                               attn_json_obj("type", json_string(fused[i].type), "name",
                                             json_string(fused[i].name), NULL),
                               "score", json_real(fused[i].score), "parts", po, "kinds", ko,
                               NULL)));
    }
    items_free(items, n_items);
    free(fused);
    *out = arr;
    return 0;
}

/* ---- configuration ---------------------------------------------------------------- */

static void hy_free(void *p)
{
    hy_state *st = p;
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++) {
        free(st->comps[i].name);
        attn_router_free(st->comps[i].r);
    }
    free(st->comps);
    free(st);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The component's config: the user's, with availability and load off
 * unless the user set them. */
static json_t *component_config(const json_t *user)
{
    json_t *c = attn_xcheck(user ? json_deep_copy(user) : json_object());
    if (!json_object_get(c, "availability"))
        attn_xcheck_rc(json_object_set_new(c, "availability",
                                           json_pack("{s:i}", "inactive_days", 0)));
    if (!json_object_get(c, "load"))
        attn_xcheck_rc(json_object_set_new(c, "load", json_pack("{s:i}", "max_open_requests", 0)));
    return c;
}

/*
 * Validate a merged config and build the state. for_fit: instantiate every
 * registered component, including weight-0 ones (the fit may turn them on),
 * and leave unregistered weight-0 ones out.
 */
static int hy_setup(const json_t *config, const attn_route_ctx *ctx, int for_fit, hy_state **out,
                    attn_error *err)
{
    hy_state *st = attn_xcalloc(1, sizeof(*st));
    const json_t *comps = json_object_get(config, "components");
    const json_t *cconf = json_object_get(config, "component_configs");
    const json_t *v;
    const char *method = attn_json_str(config, "method"), *k, **names = NULL;
    size_t n = 0;
    double any = 0;
    int rc = 0;

    if (!method || (strcmp(method, "linear") && strcmp(method, "rrf"))) {
        rc = attn_error_set(err, ATTN_EINVAL, "hybrid config: method must be \"linear\" or \"rrf\"");
        goto done;
    }
    st->rrf = strcmp(method, "rrf") == 0;
    v = json_object_get(config, "rrf_k");
    if (!json_is_number(v) || !(json_number_value(v) > 0) || !isfinite(json_number_value(v))) {
        rc = attn_error_set(err, ATTN_EINVAL, "hybrid config: rrf_k must be a number > 0");
        goto done;
    }
    st->rrf_k = json_number_value(v);
    v = json_object_get(config, "component_top_k");
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 100000) {
        rc = attn_error_set(err, ATTN_EINVAL,
                            "hybrid config: component_top_k must be a whole number in [1, 100000]");
        goto done;
    }
    st->top_k = (int)json_integer_value(v);
    v = json_object_get(config, "confidence");
    st->conf_high = json_number_value(json_object_get(v, "high"));
    st->conf_medium = json_number_value(json_object_get(v, "medium"));
    if (!json_is_number(json_object_get(v, "high")) || !(st->conf_high >= 0) ||
        !json_is_number(json_object_get(v, "medium")) || !(st->conf_medium >= 0) ||
        st->conf_medium > st->conf_high) {
        rc = attn_error_set(err, ATTN_EINVAL, "hybrid config: confidence.high and "
                            "confidence.medium must be numbers >= 0 with medium <= high");
        goto done;
    }
    v = json_object_get(config, "fitted");
    if (v && !json_is_null(v) && !json_is_object(v)) {
        rc = attn_error_set(err, ATTN_EINVAL, "hybrid config: fitted must be null or an object");
        goto done;
    }
    if (!json_is_object(comps) || !json_object_size(comps)) {
        rc = attn_error_set(err, ATTN_EINVAL, "hybrid config: components must be a non-empty "
                            "object of router name -> weight");
        goto done;
    }
    if (cconf && !json_is_object(cconf)) {
        rc = attn_error_set(err, ATTN_EINVAL, "hybrid config: component_configs must be an object");
        goto done;
    }
    json_object_foreach((json_t *)cconf, k, v) {
        if (!json_object_get(comps, k)) {
            rc = attn_error_set(err, ATTN_EINVAL, "hybrid config: component_configs.%s names no "
                                "component (the components are the keys of \"components\")", k);
            goto done;
        }
        if (!json_is_object(v)) {
            rc = attn_error_set(err, ATTN_EINVAL,
                                "hybrid config: component_configs.%s must be an object", k);
            goto done;
        }
    }
    names = attn_xcalloc(json_object_size(comps), sizeof(*names));
    st->comps = attn_xcalloc(json_object_size(comps), sizeof(*st->comps));
    json_object_foreach((json_t *)comps, k, v) {
        double w = json_number_value(v);
        if (!strcmp(k, "hybrid")) {
            rc = attn_error_set(err, ATTN_EINVAL,
                                "hybrid config: components.hybrid: a hybrid cannot include itself");
            goto done;
        }
        if (!json_is_number(v) || !(w >= 0) || !isfinite(w)) {
            rc = attn_error_set(err, ATTN_EINVAL,
                                "hybrid config: components.%s must be a number >= 0", k);
            goto done;
        }
        any += w;
        names[n++] = k;
    }
    if (!(any > 0)) {
        rc = attn_error_set(err, ATTN_EINVAL,
                            "hybrid config: components: every weight is 0; set at least one > 0");
        goto done;
    }
    qsort(names, n, sizeof(*names), str_cmp);
    for (size_t i = 0; i < n; i++) {
        hy_comp *c = &st->comps[st->n];
        const attn_router_def *def = NULL;
        attn_error ferr;
        json_t *cc;
        char label[256];
        double w = json_number_value(json_object_get(comps, names[i]));
        if (!(w > 0) && !for_fit)
            continue;
        if (attn_router_find(names[i], &def, &ferr)) {
            if (!(w > 0))
                continue;
            rc = attn_error_set(err, ATTN_EINVAL, "hybrid config: components.%s: %s", names[i],
                                ferr.msg);
            goto done;
        }
        if (def == &attn_router_hybrid) {
            rc = attn_error_set(err, ATTN_EINVAL, "hybrid config: components.%s: a hybrid "
                                "cannot include itself", names[i]);
            goto done;
        }
        c->name = attn_xstrdup(names[i]);
        cc = component_config(json_object_get(cconf, names[i]));
        c->weight = w;
        st->n++;
        snprintf(label, sizeof(label), "hybrid component_configs.%s", names[i]);
        rc = attn_router_new(def, cc, label, ctx, &c->r, err);
        json_decref(cc);
        if (rc) {
            attn_error_wrap(err, "hybrid config: component %s", names[i]);
            goto done;
        }
    }
    if ((rc = attn_json_hash(comps, st->weights_hash, err)))
        goto done;
    attn_shortlist_rules_read(config, &st->rules);
done:
    free(names);
    if (rc) {
        hy_free(st);
        return rc;
    }
    *out = st;
    return 0;
}

static int hy_init(const json_t *config, const attn_route_ctx *ctx, void **state, attn_error *err)
{
    hy_state *st = NULL;
    int rc = hy_setup(config, ctx, 0, &st, err);
    if (!rc)
        *state = st;
    return rc;
}

/* ---- routing ---------------------------------------------------------------------- */

/* Route every instantiated component; results[i] for comps[i] (NULL when left out). */
static int run_components(const hy_state *st, const attn_route_ctx *ctx, const attn_route_query *q,
                          json_t **results, attn_error *err)
{
    attn_route_query cq = *q;
    cq.top_k = st->top_k;
    for (size_t i = 0; i < st->n; i++) {
        int rc;
        results[i] = NULL;
        if (!st->comps[i].r)
            continue;
        if ((rc = attn_router_route(st->comps[i].r, ctx, &cq, &results[i], err))) {
            for (size_t j = 0; j < i; j++)
                json_decref(results[j]);
            return attn_error_wrap(err, "hybrid component %s", st->comps[i].name);
        }
    }
    return 0;
}

static int risk_level(const char *r)
{
    return !r ? 3 : !strcmp(r, "low") ? 0 : !strcmp(r, "medium") ? 1 : 2;
}

static int hy_route(void *state, const attn_route_ctx *ctx, const attn_route_query *q,
                    attn_route_result *res, attn_error *err)
{
    hy_state *st = state;
    json_t **results = attn_xcalloc(st->n ? st->n : 1, sizeof(*results));
    attn_hybrid_part *parts = attn_xcalloc(st->n ? st->n : 1, sizeof(*parts));
    hy_item *items = NULL;
    hy_fused *fused = NULL;
    size_t n_items = 0, n_fused = 0, n_emit, need;
    const char *method = st->rrf ? "rrf" : "linear";
    int rc = 0;

    if ((rc = run_components(st, ctx, q, results, err)))
        goto done;
    for (size_t i = 0; i < st->n; i++) {
        parts[i].name = st->comps[i].name;
        parts[i].weight = st->comps[i].weight;
        parts[i].result = results[i];
    }
    fuse_core(st->rrf, st->rrf_k, parts, st->n, &items, &n_items, &fused, &n_fused);
    /* Only what router.c can need gets evidence (shortlist.h). */
    need = attn_shortlist_need(q);
    n_emit = n_fused;
    for (size_t i = 0, n_safe = 0; need && i < n_fused; i++)
        if (attn_shortlist_safe_target(&st->rules, ctx->activity, q, fused[i].type,
                                       fused[i].name) &&
            ++n_safe == need) {
            double bound = fused[i].score * (1 - 1e-9);
            for (n_emit = i + 1; n_emit < n_fused && fused[n_emit].score >= bound; n_emit++)
                ;
            break;
        }
    for (size_t i = 0; i < n_emit; i++) {
        attn_cand *c = attn_result_cand(res, fused[i].type, fused[i].name);
        json_t *po = NULL, *ko = NULL;
        if (!c)
            continue;
        fused_detail(items, &fused[i], parts, &po, &ko);
        attn_cand_evidence(c, "hybrid",
                           attn_json_obj("method", json_string(method), "parts", po, "kinds", ko,
                                         NULL));
        attn_cand_set_score(c, fused[i].score);
    }
    attn_result_note(res, "weights_hash=%s", st->weights_hash);
    for (size_t i = 0; i < st->n; i++)
        if (results[i] && json_array_size(json_object_get(results[i], "candidates")) == 0)
            attn_result_note(res, "component %s returned no candidates", st->comps[i].name);
    attn_result_confidence_margins(res, st->conf_high, st->conf_medium);
    if (n_fused) {
        int best = 3;
        for (size_t i = fused[0].first; i < fused[0].first + fused[0].count; i++) {
            int r = risk_level(attn_json_str(parts[items[i].part].result, "risk"));
            if (r < best)
                best = r;
        }
        attn_result_set_risk(res, best == 0 ? "low" : best == 1 ? "medium" : "high");
    } else {
        attn_result_set_risk(res, "high");
        attn_result_note(res, "no candidates: no component ranked anyone");
    }
done:
    items_free(items, n_items);
    free(fused);
    if (results)
        for (size_t i = 0; i < st->n; i++)
            json_decref(results[i]);
    free(results);
    free(parts);
    return rc;
}

const attn_router_def attn_router_hybrid = {
    "hybrid",
    "hybrid.v1",
    "fusion of the other routers (linear with fitted weights, or reciprocal rank fusion)",
    DEFAULT_CONFIG,
    hy_init,
    hy_route,
    hy_free,
};

/* ---- fitting ------------------------------------------------------------------------ */

/* Cached features of one example: per candidate, the normalized score of
 * each component (score / the component's top score), the candidate's
 * position in (type, name) order for ties, and whether it is a truth target. */
typedef struct {
    size_t n;                /* candidates */
    double *feat;            /* n * n_comps */
    size_t *ord;
    unsigned char *truth;
} fit_example;

static int is_target(const json_t *targets, const char *type, const char *name)
{
    const json_t *t;
    size_t i;
    json_array_foreach(targets, i, t) {
        const char *tt = attn_json_str(t, "type"), *tn = attn_json_str(t, "name");
        if (tt && tn && !strcmp(tt, type) && !strcasecmp(tn, name))
            return 1;
    }
    return 0;
}

typedef struct {
    const hy_fused *f;
    size_t idx;
} name_ord;

static int name_ord_cmp(const void *pa, const void *pb)
{
    const name_ord *a = pa, *b = pb;
    int c;
    if ((c = strcmp(a->f->type, b->f->type)))
        return c;
    if ((c = strcasecmp(a->f->name, b->f->name)))
        return c;
    return strcmp(a->f->name, b->f->name);
}

static int featurize(const hy_state *st, const attn_route_ctx *ctx, const attn_hybrid_example *ex,
                     fit_example *fe, attn_error *err)
{
    json_t **results = attn_xcalloc(st->n ? st->n : 1, sizeof(*results));
    attn_hybrid_part *parts = attn_xcalloc(st->n ? st->n : 1, sizeof(*parts));
    attn_route_query q;
    hy_item *items = NULL;
    hy_fused *fused = NULL;
    name_ord *no = NULL;
    size_t n_items = 0, n_fused = 0;
    int rc = 0;

    memset(fe, 0, sizeof(*fe));
    q.pr_number = ex->pr_number;
    q.as_of = ex->cutoff;
    q.top_k = st->top_k;
    q.snapshot = ex->snapshot;
    if ((rc = run_components(st, ctx, &q, results, err)))
        goto done;
    for (size_t i = 0; i < st->n; i++) {
        parts[i].name = st->comps[i].name;
        parts[i].weight = 1.0;   /* contributions are the normalized scores */
        parts[i].result = results[i];
    }
    fuse_core(0, 1, parts, st->n, &items, &n_items, &fused, &n_fused);
    fe->n = n_fused;
    fe->feat = attn_xcalloc(attn_st_mult(n_fused ? n_fused : 1, st->n ? st->n : 1),
                            sizeof(*fe->feat));
    fe->ord = attn_xcalloc(n_fused ? n_fused : 1, sizeof(*fe->ord));
    fe->truth = attn_xcalloc(n_fused ? n_fused : 1, 1);
    no = attn_xcalloc(n_fused ? n_fused : 1, sizeof(*no));
    for (size_t c = 0; c < n_fused; c++) {
        no[c].f = &fused[c];
        no[c].idx = c;
        fe->truth[c] = (unsigned char)is_target(ex->targets, fused[c].type, fused[c].name);
        for (size_t i = fused[c].first; i < fused[c].first + fused[c].count; i++) {
            double *slot = &fe->feat[c * st->n + items[i].part];
            if (items[i].contrib > *slot)
                *slot = items[i].contrib;
        }
    }
    qsort(no, n_fused, sizeof(*no), name_ord_cmp);
    for (size_t c = 0; c < n_fused; c++)
        fe->ord[no[c].idx] = c;
done:
    free(no);
    items_free(items, n_items);
    free(fused);
    if (results)
        for (size_t i = 0; i < st->n; i++)
            json_decref(results[i]);
    free(results);
    free(parts);
    return rc;
}

/* Reciprocal rank of the first truth target under weights w (0 when none
 * has a positive fused score). scratch holds fe->n doubles. */
static double reciprocal_rank(const fit_example *fe, size_t n_comps, const double *w,
                              double *scratch)
{
    long t = -1;
    size_t above = 0;
    for (size_t c = 0; c < fe->n; c++) {
        double s = 0;
        for (size_t j = 0; j < n_comps; j++)
            s += w[j] * fe->feat[c * n_comps + j];
        scratch[c] = s;
        if (fe->truth[c] && s > 0 &&
            (t < 0 || s > scratch[t] || (s == scratch[t] && fe->ord[c] < fe->ord[t])))
            t = (long)c;
    }
    if (t < 0)
        return 0;
    for (size_t c = 0; c < fe->n; c++)
        if (scratch[c] > scratch[t] || (scratch[c] == scratch[t] && fe->ord[c] < fe->ord[t]))
            above++;
    return 1.0 / (double)(above + 1);
}

static double mrr(const fit_example *fx, size_t n, size_t n_comps, const double *w, double *scratch)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += reciprocal_rank(&fx[i], n_comps, w, scratch);
    return n ? sum / (double)n : 0;
}

static double snap(double w)
{
    size_t best = 0;
    for (size_t g = 1; g < GRID_N; g++)
        if (fabs(GRID[g] - w) < fabs(GRID[best] - w))
            best = g;   /* strict: a tie keeps the smaller value */
    return GRID[best];
}

int attn_hybrid_fit(const attn_route_ctx *ctx, const json_t *base_config, const attn_hybrid_example *ex,
                    size_t n, json_t **fitted_config, attn_error *err)
{
    attn_router *base = NULL;
    hy_state *st = NULL;
    fit_example *fx = NULL;
    json_t *cfg = NULL, *comps, *grid, *fitted;
    double *w = NULL, *scratch = NULL, obj;
    size_t max_c = 1;
    int64_t from = 0, to = 0;
    char t1[ATTN_TIME_BUFSZ], t2[ATTN_TIME_BUFSZ];
    int rc;

    *fitted_config = NULL;
    if (!n || !ex)
        return attn_error_set(err, ATTN_EINVAL, "hybrid fit: no training examples (pick PRs "
                              "created before the cohort)");
    /* Validate and merge the base config exactly as a router would. */
    if ((rc = attn_router_new(&attn_router_hybrid, base_config, "hybrid fit base", ctx, &base,
                              err)))
        return rc;
    cfg = attn_xcheck(json_deep_copy(attn_router_config(base)));
    attn_router_free(base);
    if ((rc = hy_setup(cfg, ctx, 1, &st, err)))
        goto done;
    fx = attn_xcalloc(n, sizeof(*fx));
    w = attn_xcalloc(st->n ? st->n : 1, sizeof(*w));
    for (size_t i = 0; i < n; i++) {
        if (!json_is_object(ex[i].snapshot)) {
            rc = attn_error_set(err, ATTN_EINVAL, "hybrid fit: example %zu (#%lld) has no "
                                "snapshot", i, (long long)ex[i].pr_number);
            goto done;
        }
        if ((rc = featurize(st, ctx, &ex[i], &fx[i], err))) {
            attn_error_wrap(err, "hybrid fit: example #%lld", (long long)ex[i].pr_number);
            goto done;
        }
        if (fx[i].n > max_c)
            max_c = fx[i].n;
        if (i == 0 || ex[i].cutoff < from)
            from = ex[i].cutoff;
        if (i == 0 || ex[i].cutoff > to)
            to = ex[i].cutoff;
    }
    scratch = attn_xmalloc(max_c * sizeof(*scratch));

    /* Coordinate ascent: components in name order, every grid value, the
     * best MRR wins and ties go to the smaller weight; stop after a pass
     * that changes nothing. */
    for (size_t j = 0; j < st->n; j++)
        w[j] = snap(st->comps[j].weight);
    {
        int all_zero = 1;
        for (size_t j = 0; j < st->n; j++)
            all_zero &= w[j] == 0;
        if (all_zero && st->n)
            w[0] = 1;   /* weights that small snap to 0; start somewhere rankable */
    }
    obj = mrr(fx, n, st->n, w, scratch);
    for (int pass = 0; pass < FIT_MAX_PASSES; pass++) {
        int changed = 0;
        for (size_t j = 0; j < st->n; j++) {
            double keep = w[j], best_w = -1, best_obj = -1;
            int others = 0;
            for (size_t o = 0; o < st->n; o++)
                others |= o != j && w[o] > 0;
            for (size_t g = 0; g < GRID_N; g++) {
                double m;
                if (GRID[g] == 0 && !others)
                    continue;   /* all weights 0 would rank nobody */
                w[j] = GRID[g];
                m = mrr(fx, n, st->n, w, scratch);
                if (m > best_obj + 1e-12) {
                    best_obj = m;
                    best_w = GRID[g];
                }
            }
            w[j] = best_w;
            if (best_w != keep)
                changed = 1;
            obj = best_obj;
        }
        if (!changed)
            break;
    }

    /* Every component of the base keeps its key; left-out ones keep their
     * weight (hy_setup checked that components is an object). */
    comps = attn_xcheck(json_deep_copy(json_object_get(cfg, "components")));
    attn_xcheck_rc(json_object_set_new(cfg, "components", comps));
    for (size_t j = 0; j < st->n; j++)
        json_object_set_new(comps, st->comps[j].name, json_real(w[j]));
    grid = attn_xcheck(json_array());
    for (size_t g = 0; g < GRID_N; g++)
        json_array_append_new(grid, json_real(GRID[g]));
    fitted = attn_xcheck(json_pack("{s:I, s:s, s:s, s:f, s:o}", "n", (json_int_t)n, "from",
                                   attn_time_format(from, t1), "to", attn_time_format(to, t2),
                                   "objective", round6(obj), "grid", grid));
    attn_xcheck_rc(json_object_set_new(cfg, "fitted", fitted));
    attn_xcheck_rc(json_object_set_new(cfg, "method", json_string("linear")));
    *fitted_config = cfg;
    cfg = NULL;
done:
    if (fx)
        for (size_t i = 0; i < n; i++) {
            free(fx[i].feat);
            free(fx[i].ord);
            free(fx[i].truth);
        }
    free(fx);
    free(w);
    free(scratch);
    hy_free(st);
    json_decref(cfg);
    return rc;
}
