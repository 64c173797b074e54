/*
 * router.c - the router registry, configuration, and the call that turns a
 * router's scoring into a result (router.h).
 *
 * Owns: merging a user config over a router's
 * documented defaults, rejecting unknown keys, the config hash, and the
 * common configuration every router shares:
 *
 *   "availability": {"inactive_days": 0, "factor": 0.5}
 *   "load": {"max_open_requests": 0}
 *
 * (both off by default; see candidates.h for what they do). Must never: let
 * a config key through that no code reads (the original system silently
 * ignored misspelt keys), or make a result depend on anything but the
 * router, its config, the snapshot and history up to the cutoff.
 */
#include "route/router.h"
#include "util/alloc.h"
#include "route/result_internal.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/time.h"
#include "util/version.h"

#include <stdlib.h>
#include <string.h>

static const char COMMON_DEFAULTS[] =
    "{\"availability\": {\"inactive_days\": 0, \"factor\": 0.5},"
    " \"load\": {\"max_open_requests\": 0}}";

struct attn_router {
    const attn_router_def *def;
    json_t *config;
    char hash[65];
    void *state;
    attn_result_rules rules;
};

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "true or false";
    default: return "null";
    }
}

static int same_kind(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return 1;
    if (json_is_boolean(a) && json_is_boolean(b))
        return 1;
    return json_typeof(a) == json_typeof(b);
}

/*
 * Merge user over dflt (dflt is modified). Every user key must exist in the
 * defaults with the same kind of value, except under an object whose default
 * is empty ({}): that is a free-form map (e.g. per-component configs), and a
 * default of null accepts any value.
 */
static int merge(json_t *dflt, const json_t *user, const char *prefix, const char *what,
                 attn_error *err)
{
    const char *k;
    json_t *uv;
    int free_form = json_object_size(dflt) == 0;
    json_object_foreach((json_t *)user, k, uv) {
        json_t *dv = json_object_get(dflt, k);
        char path[256];
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k);
        if (!dv && !free_form) {
            attn_buf known = ATTN_BUF_INIT;
            const char *kk;
            json_t *vv;
            int rc;
            json_object_foreach(dflt, kk, vv)
                attn_buf_printf(&known, "%s%s", attn_buf_cstr(&known)[0] ? ", " : "", kk);
            rc = attn_error_set(err, ATTN_EINVAL, "%s: unknown key '%s' (known here: %s)", what,
                                path, attn_buf_cstr(&known));
            attn_buf_free(&known);
            return rc;
        }
        if (dv && !json_is_null(dv) && !same_kind(dv, uv))
            return attn_error_set(err, ATTN_EINVAL, "%s: '%s' must be %s, not %s", what, path,
                                  type_name(dv), type_name(uv));
        if (dv && json_is_object(dv) && json_object_size(dv)) {
            int rc = merge(dv, uv, path, what, err);
            if (rc)
                return rc;
            continue;
        }
        attn_xcheck_rc(json_object_set(dflt, k, (json_t *)uv));
    }
    return 0;
}

static int read_rules(const json_t *cfg, attn_result_rules *r, const char *what, attn_error *err)
{
    const json_t *a = json_object_get(cfg, "availability"), *l = json_object_get(cfg, "load");
    r->inactive_days = json_number_value(json_object_get(a, "inactive_days"));
    r->inactive_factor = json_number_value(json_object_get(a, "factor"));
    r->max_open_requests = (long)json_number_value(json_object_get(l, "max_open_requests"));
    if (r->inactive_days < 0)
        return attn_error_set(err, ATTN_EINVAL, "%s: availability.inactive_days must be >= 0", what);
    if (r->inactive_factor < 0 || r->inactive_factor > 1)
        return attn_error_set(err, ATTN_EINVAL, "%s: availability.factor must be in [0, 1]", what);
    if (json_number_value(json_object_get(l, "max_open_requests")) < 0 ||
        !json_is_integer(json_object_get(l, "max_open_requests")))
        return attn_error_set(err, ATTN_EINVAL,
                              "%s: load.max_open_requests must be a whole number >= 0", what);
    return 0;
}

int attn_router_new(const attn_router_def *def, const json_t *config, const char *config_label,
                    const attn_route_ctx *ctx, attn_router **out, attn_error *err)
{
    attn_router *r;
    json_t *common = NULL;
    char what[512];
    int rc;

    *out = NULL;
    snprintf(what, sizeof(what), "%s config%s%s%s", def->name, config_label ? " (" : "",
             config_label ? config_label : "", config_label ? ")" : "");
    if (config && !json_is_object(config))
        return attn_error_set(err, ATTN_EINVAL, "%s: must be a JSON object", what);
    r = attn_xcalloc(1, sizeof(*r));
    r->def = def;
    if ((rc = attn_json_parse(def->default_config, strlen(def->default_config), def->name,
                              &r->config, err)) ||
        (rc = attn_json_parse(COMMON_DEFAULTS, strlen(COMMON_DEFAULTS), "common", &common, err)))
        goto fail;
    attn_xcheck_rc(json_object_update_missing(r->config, common));   /* both objects */
    if (config && (rc = merge(r->config, config, "", what, err)))
        goto fail;
    if ((rc = read_rules(r->config, &r->rules, what, err)) ||
        (rc = attn_json_hash(r->config, r->hash, err)))
        goto fail;
    if (def->init && (rc = def->init(r->config, ctx, &r->state, err))) {
        if (!strstr(err->msg, def->name))
            attn_error_wrap(err, "%s", what);
        goto fail;
    }
    json_decref(common);
    *out = r;
    return 0;
fail:
    json_decref(common);
    attn_router_free(r);
    return rc;
}

int attn_router_new_from_file(const attn_router_def *def, const char *path,
                              const attn_route_ctx *ctx, attn_router **out, attn_error *err)
{
    json_t *cfg = NULL;
    int rc;
    if (!path)
        return attn_router_new(def, NULL, NULL, ctx, out, err);
    if ((rc = attn_json_load_file(path, &cfg, err)))
        return attn_error_wrap(err, "%s config", def->name);
    rc = attn_router_new(def, cfg, path, ctx, out, err);
    json_decref(cfg);
    return rc;
}

void attn_router_free(attn_router *r)
{
    if (!r)
        return;
    if (r->state && r->def->free)
        r->def->free(r->state);
    json_decref(r->config);
    free(r);
}

const attn_router_def *attn_router_def_of(const attn_router *r) { return r->def; }

int attn_router_prefetch(attn_router *r, const attn_route_ctx *ctx, const attn_route_query *qs,
                         size_t n, attn_error *err)
{
    const attn_router_hooks *h = attn_router_hooks_of(r->def);
    return h && h->prefetch ? h->prefetch(r->state, ctx, qs, n, err) : 0;
}

int attn_router_opt_in(const attn_router_def *def)
{
    const attn_router_hooks *h = attn_router_hooks_of(def);
    return h && h->opt_in;
}

int attn_router_has_prefetch(const attn_router *r)
{
    const attn_router_hooks *h = attn_router_hooks_of(r->def);
    return h && h->prefetch;
}

int attn_router_prefetch_active(const attn_router *r)
{
    const attn_router_hooks *h = attn_router_hooks_of(r->def);
    return h && h->prefetch && (!h->prefetch_active || h->prefetch_active(r->state));
}

json_t *attn_router_describe(attn_router *r)
{
    const attn_router_hooks *h = attn_router_hooks_of(r->def);
    return h && h->describe ? h->describe(r->state) : NULL;
}
const json_t *attn_router_config(const attn_router *r) { return r->config; }
const char *attn_router_config_hash(const attn_router *r) { return r->hash; }

/* ---- memo ------------------------------------------------------------------------- */

typedef struct {
    const attn_router_def *def;
    char hash[65];
    int64_t pr_number, as_of;
    int top_k;
    json_t *snapshot;   /* a reference held by the entry: while it lives, no
                         * other snapshot can have its address, so comparing
                         * addresses compares identities */
    json_t *result;
} memo_entry;

struct attn_route_memo {
    memo_entry *e;
    size_t n, cap, hits;
};

attn_route_memo *attn_route_memo_new(void) { return attn_xcalloc(1, sizeof(attn_route_memo)); }

void attn_route_memo_clear(attn_route_memo *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        json_decref(m->e[i].result);
        json_decref(m->e[i].snapshot);
    }
    m->n = 0;
}

void attn_route_memo_free(attn_route_memo *m)
{
    if (!m)
        return;
    attn_route_memo_clear(m);
    free(m->e);
    free(m);
}

size_t attn_route_memo_hits(const attn_route_memo *m) { return m ? m->hits : 0; }

static memo_entry *memo_find(attn_route_memo *m, const attn_router *r, const attn_route_query *q)
{
    for (size_t i = 0; i < m->n; i++) {
        memo_entry *e = &m->e[i];
        if (e->def == r->def && e->pr_number == q->pr_number && e->as_of == q->as_of &&
            e->top_k == q->top_k && e->snapshot == q->snapshot && !strcmp(e->hash, r->hash))
            return e;
    }
    return NULL;
}

/* Remember a result; failing to (out of memory) only costs a recomputation. */
static void memo_put(attn_route_memo *m, const attn_router *r, const attn_route_query *q,
                     json_t *result)
{
    memo_entry *e;
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 16;
        memo_entry *g = realloc(m->e, cap * sizeof(*g));
        if (!g)
            return;
        m->e = g;
        m->cap = cap;
    }
    e = &m->e[m->n++];
    e->def = r->def;
    memcpy(e->hash, r->hash, sizeof(e->hash));
    e->pr_number = q->pr_number;
    e->as_of = q->as_of;
    e->top_k = q->top_k;
    e->snapshot = json_incref((json_t *)q->snapshot);
    e->result = json_incref(result);
}

int attn_router_route(attn_router *r, const attn_route_ctx *ctx, const attn_route_query *q,
                      json_t **out, attn_error *err)
{
    attn_route_result *res;
    int rc;
    *out = NULL;
    if (ctx->memo) {
        memo_entry *e = memo_find(ctx->memo, r, q);
        if (e) {
            ctx->memo->hits++;
            *out = json_incref(e->result);
            return 0;
        }
    }
    res = attn_xcheck(attn_result_new());
    rc = r->def->route(r->state, ctx, q, res, err);
    if (!rc)
        *out = attn_result_finish(res, ctx, q, &r->rules);
    attn_result_free(res);
    if (rc) {
        attn_error_wrap(err, "router %s on #%lld", r->def->name, (long long)q->pr_number);
        return rc;
    }
    attn_xcheck_rc(json_object_set_new(*out, "router", json_string(r->def->name)));
    attn_xcheck_rc(json_object_set_new(*out, "router_version", json_string(r->def->version)));
    attn_xcheck_rc(json_object_set_new(*out, "config_hash", json_string(r->hash)));
    attn_xcheck_rc(json_object_set_new(*out, "candidate_gen_version",
                                       json_string(ATTN_CANDIDATE_GEN_VERSION)));
    if (ctx->memo)
        memo_put(ctx->memo, r, q, *out);
    return 0;
}
