/*
 * spec.c - experiment specs: building, hashing and validation (spec.h).
 *
 * Owns: the spec file format. Must never: accept a spec whose hash does not
 * match its content, accept a key it does not know (a misspelled threshold
 * would silently run with the default), or hash a file path.
 */
#include "exp/spec.h"
#include "eval/cutoff.h"
#include "eval/truth.h"
#include "route/router.h"
#include "util/alloc.h"
#include "util/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const DEFAULT_TRUTH[] = {"first_response", "first_approval"};
static const int DEFAULT_KS[] = {1, 3, 5, 10};

void attn_spec_params_init(attn_spec_params *p)
{
    memset(p, 0, sizeof(*p));
    p->resamples = -1;
    p->hybrid_train_days = -1;
}

int attn_spec_kind_valid(const char *kind)
{
    return kind && (!strcmp(kind, "baseline") || !strcmp(kind, "experimental") ||
                    !strcmp(kind, "ab_control") || !strcmp(kind, "ab_treatment"));
}

static int has_router(const attn_spec_params *p, const char *name)
{
    for (size_t i = 0; i < p->n_routers; i++)
        if (!strcmp(p->routers[i].name, name))
            return 1;
    return 0;
}

/*
 * The promotion pair when the spec names none: the candidate is hybrid when
 * present (else the last router), the baseline popularity when present (else
 * the first other router). Never hybrid as the default baseline: with routers
 * "hybrid, stewards" the pair used to come out as hybrid -> stewards, and the
 * demo then advised against promoting stewards over hybrid, a comparison
 * nobody asked for. *cand stays NULL when there is no second router.
 */
static void default_pair(const attn_spec_params *p, const char **base, const char **cand)
{
    if (!*cand && !*base)
        *cand = has_router(p, "hybrid") ? "hybrid" : p->routers[p->n_routers - 1].name;
    if (!*base) {
        if (has_router(p, "popularity") && strcmp(*cand, "popularity"))
            *base = "popularity";
        for (size_t i = 0; !*base && i < p->n_routers; i++)
            if (strcmp(p->routers[i].name, *cand))
                *base = p->routers[i].name;
        if (!*base) { /* one router: no pair */
            *base = *cand;
            *cand = NULL;
        }
        return;
    }
    if (!*cand) {
        if (has_router(p, "hybrid") && strcmp(*base, "hybrid"))
            *cand = "hybrid";
        else if (strcmp(p->routers[p->n_routers - 1].name, *base))
            *cand = p->routers[p->n_routers - 1].name;
    }
}

int attn_spec_build(const attn_spec_params *p, json_t **out, attn_error *err)
{
    json_t *doc, *truth, *routers, *ks, *tags;
    const char *base = p->baseline_router, *cand = p->candidate_router;
    int top_k = p->top_k > 0 ? p->top_k : 10;
    char hash[65];
    attn_spec *chk = NULL;
    int rc;

    *out = NULL;
    if (!p->repo || !p->cohort_hash)
        return attn_error_set(err, ATTN_EINVAL, "an experiment spec needs a repo and a cohort hash");
    if (!p->n_routers)
        return attn_error_set(err, ATTN_EINVAL, "an experiment spec needs at least one router");
    default_pair(p, &base, &cand);
    truth = attn_xcheck(json_array());
    routers = attn_xcheck(json_array());
    ks = attn_xcheck(json_array());
    tags = attn_xcheck(json_array());
    doc = attn_xcheck(json_object());
    json_object_set_new(doc, "truth", truth);
    json_object_set_new(doc, "routers", routers);
    json_object_set_new(doc, "ks", ks);
    json_object_set_new(doc, "tags", tags);
    if (p->truth && p->n_truth) {
        for (size_t i = 0; i < p->n_truth; i++) {
            attn_truth_policy pol;
            if ((rc = attn_truth_policy_parse(p->truth[i], &pol, err))) {
                json_decref(doc);
                return attn_error_wrap(err, "truth policy '%s'", p->truth[i]);
            }
            json_array_append_new(truth, json_string(pol.spec));
        }
    } else {
        for (size_t i = 0; i < 2; i++) {
            attn_truth_policy pol;
            attn_truth_policy_parse(DEFAULT_TRUTH[i], &pol, err);
            json_array_append_new(truth, json_string(pol.spec));
        }
    }
    for (size_t i = 0; i < p->n_routers; i++)
        json_array_append_new(routers,
                              json_pack("{s:s, s:O}", "name", p->routers[i].name, "config",
                                        p->routers[i].config ? p->routers[i].config : json_null()));
    if (p->ks && p->n_ks) {
        for (size_t i = 0; i < p->n_ks; i++)
            json_array_append_new(ks, json_integer(p->ks[i]));
    } else {
        for (size_t i = 0; i < 4; i++)
            if (DEFAULT_KS[i] <= top_k)
                json_array_append_new(ks, json_integer(DEFAULT_KS[i]));
    }
    for (size_t i = 0; i < p->n_tags; i++)
        json_array_append_new(tags, json_string(p->tags[i]));
    json_object_set_new(doc, "kind", json_string("experiment_spec"));
    json_object_set_new(doc, "version", json_string(ATTN_SPEC_VERSION));
    json_object_set_new(doc, "repo", json_string(p->repo));
    json_object_set_new(doc, "cohort",
                        p->cohort_path ? json_pack("{s:s, s:s}", "hash", p->cohort_hash, "path",
                                                   p->cohort_path)
                                       : json_pack("{s:s}", "hash", p->cohort_hash));
    json_object_set_new(doc, "cutoff_policy",
                        json_string(p->cutoff_policy ? p->cutoff_policy : "created_at"));
    json_object_set_new(doc, "top_k", json_integer(top_k));
    json_object_set_new(doc, "bootstrap",
                        json_pack("{s:i, s:I}", "resamples", p->resamples >= 0 ? p->resamples : 1000,
                                  "seed", (json_int_t)(p->has_seed ? p->seed : 42)));
    json_object_set_new(doc, "hybrid_train_days",
                        json_integer(p->hybrid_train_days >= 0 ? p->hybrid_train_days : 90));
    json_object_set_new(doc, "run_kind", json_string(p->run_kind ? p->run_kind : "experimental"));
    json_object_set_new(doc, "experiment_id",
                        p->experiment_id ? json_string(p->experiment_id) : json_null());
    json_object_set_new(doc, "notes", json_string(p->notes ? p->notes : ""));
    json_object_set_new(doc, "gates",
                        json_pack("{s:f, s:f, s:f}", "unknown_max", 0.03, "availability_min", 0.90,
                                  "unavailable_max", 0.02));
    json_object_set_new(doc, "promotion",
                        json_pack("{s:o, s:o, s:i, s:f, s:f}", "baseline_router",
                                  cand ? json_string(base) : json_null(), "candidate_router",
                                  cand ? json_string(cand) : json_null(), "min_n", 100,
                                  "min_delta_mrr", 0.01, "max_hit1_drop", 0.01));
    if ((rc = attn_spec_compute_hash(doc, hash, err))) {
        json_decref(doc);
        return rc;
    }
    json_object_set_new(doc, "hash", json_string(hash));
    /* The same checks a loaded spec gets, so init never writes a spec that
     * run would refuse. */
    if ((rc = attn_spec_from_json(doc, "the new spec", NULL, &chk, err))) {
        json_decref(doc);
        return rc;
    }
    attn_spec_free(chk);
    *out = doc;
    return 0;
}

int attn_spec_compute_hash(const json_t *spec, char hex[65], attn_error *err)
{
    json_t *copy = attn_xcheck(json_deep_copy(spec)), *c;
    int rc;
    json_object_del(copy, "hash");
    if ((c = json_object_get(copy, "cohort")) && json_is_object(c))
        json_object_del(c, "path");
    rc = attn_json_hash(copy, hex, err);
    json_decref(copy);
    return rc;
}

/* Every key of obj must be in allowed (NULL-terminated). */
static int check_keys(const json_t *obj, const char *const *allowed, const char *what,
                      const char *where, attn_error *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        size_t i;
        for (i = 0; allowed[i]; i++)
            if (!strcmp(k, allowed[i]))
                break;
        if (!allowed[i])
            return attn_error_set(err, ATTN_EINVAL,
                                  "%s: unknown key '%s' in %s (allowed: see exp/spec.h); remove "
                                  "it or recreate the spec with `attn experiment init`",
                                  what, k, where);
    }
    return 0;
}

static int need(const json_t *obj, const char *key, int (*is)(const json_t *), const char *type,
                const char *what, const char *where, const json_t **out, attn_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || !is(v))
        return attn_error_set(err, ATTN_EINVAL, "%s: %s.%s must be %s", what, where, key, type);
    *out = v;
    return 0;
}

static int is_object(const json_t *v) { return json_is_object(v); }
static int is_array(const json_t *v) { return json_is_array(v); }
static int is_string(const json_t *v) { return json_is_string(v); }
static int is_integer(const json_t *v) { return json_is_integer(v); }
static int is_number(const json_t *v) { return json_is_number(v); }
static int is_string_or_null(const json_t *v) { return json_is_string(v) || json_is_null(v); }

static int get_rate(const json_t *obj, const char *key, const char *what, const char *where,
                    double *out, attn_error *err)
{
    const json_t *v = NULL;
    int rc = need(obj, key, is_number, "a number from 0 to 1", what, where, &v, err);
    if (rc)
        return rc;
    *out = json_number_value(v);
    if (!(*out >= 0 && *out <= 1))
        return attn_error_set(err, ATTN_EINVAL, "%s: %s.%s must be a number from 0 to 1", what,
                              where, key);
    return 0;
}

static int spec_router_index(const attn_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_routers; i++)
        if (!strcmp(s->routers[i].name, name))
            return (int)i;
    return -1;
}

/* A field the spec must have, of the given type, or return the error. */
#define NEED(obj, key, pred, type, where, dst)                                 \
    do {                                                                       \
        int rc_ = need(obj, key, pred, type, what, where, &(dst), err);       \
        if (rc_)                                                               \
            return rc_;                                                        \
    } while (0)

/* kind, version, known keys and a hash that matches the content. */
static int check_header(const json_t *v, const char *what, char actual[65], attn_error *err)
{
    static const char *const TOP[] = {"kind", "version", "repo", "cohort", "cutoff_policy",
                                      "truth", "routers", "top_k", "ks", "bootstrap",
                                      "hybrid_train_days", "run_kind", "experiment_id", "tags",
                                      "notes", "gates", "promotion", "hash", NULL};
    const char *kind, *version, *h;
    int rc;

    if (!json_is_object(v))
        return attn_error_set(err, ATTN_EINVAL, "%s: an experiment spec is a JSON object", what);
    kind = attn_json_str(v, "kind");
    version = attn_json_str(v, "version");
    if (!kind || strcmp(kind, "experiment_spec"))
        return attn_error_set(err, ATTN_EINVAL,
                              "%s: not an experiment spec (kind is '%s', want 'experiment_spec')",
                              what, kind ? kind : "missing");
    if (!version || strcmp(version, ATTN_SPEC_VERSION))
        return attn_error_set(err, ATTN_EINVAL, "%s: spec version '%s' is not %s", what,
                              version ? version : "missing", ATTN_SPEC_VERSION);
    if ((rc = check_keys(v, TOP, what, "the spec", err)))
        return rc;
    if (!(h = attn_json_str(v, "hash")))
        return attn_error_set(err, ATTN_EINVAL, "%s: the spec has no hash", what);
    if ((rc = attn_spec_compute_hash(v, actual, err)))
        return rc;
    if (strcmp(actual, h))
        return attn_error_set(err, ATTN_EINVAL,
                              "%s: hash mismatch (the file says %.12s..., its content hashes to "
                              "%.12s...): the spec was edited after it was created; recreate it "
                              "with `attn experiment init`",
                              what, h, actual);
    return 0;
}

/* repo, cohort and cutoff_policy: which PRs, and when each is routed. */
static int parse_cohort(attn_spec *s, const json_t *v, const char *what, const char *repo,
                        attn_error *err)
{
    static const char *const COHORT[] = {"hash", "path", NULL};
    const json_t *x = NULL, *y = NULL;
    attn_cutoff_policy cp;
    int rc;

    NEED(v, "repo", is_string, "a string", "spec", x);
    s->repo = json_string_value(x);
    if (repo && strcmp(repo, s->repo))
        return attn_error_set(err, ATTN_EINVAL, "%s: the spec is for %s, not %s", what, s->repo,
                              repo);
    NEED(v, "cohort", is_object, "an object", "spec", x);
    if ((rc = check_keys(x, COHORT, what, "cohort", err)))
        return rc;
    NEED(x, "hash", is_string, "a string", "cohort", y);
    s->cohort_hash = json_string_value(y);
    if (strlen(s->cohort_hash) != 64)
        return attn_error_set(err, ATTN_EINVAL, "%s: cohort.hash must be 64 hex digits", what);
    s->cohort_path = attn_json_str(x, "path");
    NEED(v, "cutoff_policy", is_string, "a string", "spec", x);
    s->cutoff_policy = json_string_value(x);
    if ((rc = attn_cutoff_policy_parse(s->cutoff_policy, &cp, err))) {
        attn_error_wrap(err, "%s: cutoff_policy", what);
        return rc;
    }
    return 0;
}

static int parse_truth(attn_spec *s, const json_t *v, const char *what, attn_error *err)
{
    const json_t *x = NULL, *e;
    size_t i;
    int rc;

    NEED(v, "truth", is_array, "a non-empty array of policy specs", "spec", x);
    if (!json_array_size(x) || json_array_size(x) > ATTN_SPEC_MAX_TRUTH)
        return attn_error_set(err, ATTN_EINVAL, "%s: truth must list 1 to %d policies", what,
                              ATTN_SPEC_MAX_TRUTH);
    json_array_foreach(x, i, e) {
        attn_truth_policy pol;
        if (!json_is_string(e))
            return attn_error_set(err, ATTN_EINVAL, "%s: truth[%zu] must be a string", what, i);
        if ((rc = attn_truth_policy_parse(json_string_value(e), &pol, err))) {
            attn_error_wrap(err, "%s: truth[%zu]", what, i);
            return rc;
        }
        s->truth[s->n_truth++] = json_string_value(e);
    }
    return 0;
}

static int parse_routers(attn_spec *s, const json_t *v, const char *what, attn_error *err)
{
    static const char *const ROUTER[] = {"name", "config", NULL};
    const json_t *x = NULL, *y = NULL, *e;
    size_t i;
    int rc;

    NEED(v, "routers", is_array, "a non-empty array", "spec", x);
    if (!json_array_size(x) || json_array_size(x) > ATTN_SPEC_MAX_ROUTERS)
        return attn_error_set(err, ATTN_EINVAL, "%s: routers must list 1 to %d routers", what,
                              ATTN_SPEC_MAX_ROUTERS);
    json_array_foreach(x, i, e) {
        const attn_router_def *def;
        const json_t *cfg;
        char where[64];
        snprintf(where, sizeof(where), "routers[%zu]", i);
        if (!json_is_object(e))
            return attn_error_set(err, ATTN_EINVAL, "%s: %s must be an object", what, where);
        if ((rc = check_keys(e, ROUTER, what, where, err)))
            return rc;
        NEED(e, "name", is_string, "a router name", where, y);
        if ((rc = attn_router_find(json_string_value(y), &def, err))) {
            attn_error_wrap(err, "%s: %s", what, where);
            return rc;
        }
        cfg = json_object_get(e, "config");
        if (cfg && !json_is_object(cfg) && !json_is_null(cfg))
            return attn_error_set(err, ATTN_EINVAL, "%s: %s.config must be an object or null",
                                  what, where);
        if (spec_router_index(s, json_string_value(y)) >= 0)
            return attn_error_set(err, ATTN_EINVAL, "%s: router '%s' is listed twice", what,
                                  json_string_value(y));
        s->routers[s->n_routers].name = json_string_value(y);
        s->routers[s->n_routers++].config = json_is_object(cfg) ? cfg : NULL;
    }
    return 0;
}

/* top_k, ks, bootstrap and hybrid_train_days: how the routers are scored. */
static int parse_scoring(attn_spec *s, const json_t *v, const char *what, attn_error *err)
{
    static const char *const BOOT[] = {"resamples", "seed", NULL};
    const json_t *x = NULL, *y = NULL, *e;
    size_t i;
    int rc;

    NEED(v, "top_k", is_integer, "an integer", "spec", x);
    if (json_integer_value(x) < 1 || json_integer_value(x) > 1000)
        return attn_error_set(err, ATTN_EINVAL, "%s: top_k must be from 1 to 1000", what);
    s->top_k = (int)json_integer_value(x);
    NEED(v, "ks", is_array, "an array of integers", "spec", x);
    if (!json_array_size(x) || json_array_size(x) > ATTN_SPEC_MAX_KS)
        return attn_error_set(err, ATTN_EINVAL, "%s: ks must list 1 to %d values", what,
                              ATTN_SPEC_MAX_KS);
    json_array_foreach(x, i, e) {
        if (!json_is_integer(e) || json_integer_value(e) < 1 ||
            json_integer_value(e) > s->top_k)
            return attn_error_set(err, ATTN_EINVAL,
                                  "%s: ks[%zu] must be an integer from 1 to top_k (%d)", what, i,
                                  s->top_k);
        s->ks[s->n_ks++] = (int)json_integer_value(e);
    }
    NEED(v, "bootstrap", is_object, "an object", "spec", x);
    if ((rc = check_keys(x, BOOT, what, "bootstrap", err)))
        return rc;
    NEED(x, "resamples", is_integer, "an integer", "bootstrap", y);
    if (json_integer_value(y) < 0 || json_integer_value(y) > 100000)
        return attn_error_set(err, ATTN_EINVAL,
                              "%s: bootstrap.resamples must be from 0 to 100000", what);
    s->resamples = (int)json_integer_value(y);
    NEED(x, "seed", is_integer, "an integer", "bootstrap", y);
    if (json_integer_value(y) < 0)
        return attn_error_set(err, ATTN_EINVAL, "%s: bootstrap.seed must be >= 0", what);
    s->seed = (uint64_t)json_integer_value(y);
    NEED(v, "hybrid_train_days", is_integer, "an integer", "spec", x);
    if (json_integer_value(x) < 0 || json_integer_value(x) > 3650)
        return attn_error_set(err, ATTN_EINVAL, "%s: hybrid_train_days must be from 0 to 3650",
                              what);
    s->hybrid_train_days = (int)json_integer_value(x);
    return 0;
}

/* run_kind, experiment_id, tags and notes: what the run is recorded as. */
static int parse_labels(attn_spec *s, const json_t *v, const char *what, attn_error *err)
{
    const json_t *x = NULL, *e;
    size_t i;

    NEED(v, "run_kind", is_string, "a string", "spec", x);
    s->run_kind = json_string_value(x);
    if (!attn_spec_kind_valid(s->run_kind))
        return attn_error_set(err, ATTN_EINVAL,
                              "%s: run_kind '%s' is not baseline, experimental, ab_control or "
                              "ab_treatment",
                              what, s->run_kind);
    NEED(v, "experiment_id", is_string_or_null, "a string or null", "spec", x);
    s->experiment_id = json_string_value(x);
    if ((!strcmp(s->run_kind, "ab_control") || !strcmp(s->run_kind, "ab_treatment")) &&
        !s->experiment_id)
        return attn_error_set(err, ATTN_EINVAL,
                              "%s: an %s run needs an experiment_id linking it to its pair", what,
                              s->run_kind);
    NEED(v, "tags", is_array, "an array of strings", "spec", x);
    json_array_foreach(x, i, e) if (!json_is_string(e))
        return attn_error_set(err, ATTN_EINVAL, "%s: tags[%zu] must be a string", what, i);
    NEED(v, "notes", is_string, "a string", "spec", x);
    s->notes = json_string_value(x);
    return 0;
}

/* gates and promotion: the thresholds a run and a promotion are judged by. */
static int parse_thresholds(attn_spec *s, const json_t *v, const char *what, attn_error *err)
{
    static const char *const GATES[] = {"unknown_max", "availability_min", "unavailable_max",
                                        NULL};
    static const char *const PROMO[] = {"baseline_router", "candidate_router", "min_n",
                                        "min_delta_mrr", "max_hit1_drop", NULL};
    const json_t *x = NULL, *y = NULL;
    int rc;

    NEED(v, "gates", is_object, "an object", "spec", x);
    if ((rc = check_keys(x, GATES, what, "gates", err)) ||
        (rc = get_rate(x, "unknown_max", what, "gates", &s->gates.unknown_max, err)) ||
        (rc = get_rate(x, "availability_min", what, "gates", &s->gates.availability_min, err)) ||
        (rc = get_rate(x, "unavailable_max", what, "gates", &s->gates.unavailable_max, err)))
        return rc;
    NEED(v, "promotion", is_object, "an object", "spec", x);
    if ((rc = check_keys(x, PROMO, what, "promotion", err)) ||
        (rc = get_rate(x, "min_delta_mrr", what, "promotion", &s->promotion.min_delta_mrr, err)) ||
        (rc = get_rate(x, "max_hit1_drop", what, "promotion", &s->promotion.max_hit1_drop, err)))
        return rc;
    NEED(x, "min_n", is_integer, "an integer", "promotion", y);
    if (json_integer_value(y) < 1)
        return attn_error_set(err, ATTN_EINVAL, "%s: promotion.min_n must be >= 1", what);
    s->promotion.min_n = (long)json_integer_value(y);
    NEED(x, "baseline_router", is_string_or_null, "a router name or null", "promotion", y);
    s->promotion.baseline_router = json_string_value(y);
    NEED(x, "candidate_router", is_string_or_null, "a router name or null", "promotion", y);
    s->promotion.candidate_router = json_string_value(y);
    if (!s->promotion.baseline_router != !s->promotion.candidate_router)
        return attn_error_set(err, ATTN_EINVAL,
                              "%s: promotion names both baseline_router and candidate_router, or "
                              "neither",
                              what);
    if (s->promotion.baseline_router) {
        const char *names[2] = {s->promotion.baseline_router, s->promotion.candidate_router};
        for (int k = 0; k < 2; k++)
            if (spec_router_index(s, names[k]) < 0)
                return attn_error_set(err, ATTN_EINVAL,
                                      "%s: promotion router '%s' is not one of the spec's routers",
                                      what, names[k]);
        if (!strcmp(names[0], names[1]))
            return attn_error_set(err, ATTN_EINVAL,
                                  "%s: promotion compares a router with itself ('%s')", what,
                                  names[0]);
    }
    return 0;
}
#undef NEED

int attn_spec_from_json(const json_t *v, const char *what, const char *repo, attn_spec **out,
                        attn_error *err)
{
    char actual[65];
    attn_spec *s;
    int rc;

    *out = NULL;
    if ((rc = check_header(v, what, actual, err)))
        return rc;
    s = attn_xcalloc(1, sizeof(*s));
    s->doc = attn_xcheck(json_deep_copy(v));
    v = s->doc;
    snprintf(s->hash, sizeof(s->hash), "%s", attn_json_str(v, "hash"));
    if ((rc = parse_cohort(s, v, what, repo, err)) || (rc = parse_truth(s, v, what, err)) ||
        (rc = parse_routers(s, v, what, err)) || (rc = parse_scoring(s, v, what, err)) ||
        (rc = parse_labels(s, v, what, err)) || (rc = parse_thresholds(s, v, what, err))) {
        attn_spec_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int attn_spec_load(const char *path, const char *repo, attn_spec **out, attn_error *err)
{
    json_t *v = NULL;
    int rc;
    *out = NULL;
    if ((rc = attn_json_load_file(path, &v, err)))
        return rc;
    rc = attn_spec_from_json(v, path, repo, out, err);
    json_decref(v);
    return rc;
}

void attn_spec_free(attn_spec *s)
{
    if (!s)
        return;
    json_decref(s->doc);
    free(s);
}
