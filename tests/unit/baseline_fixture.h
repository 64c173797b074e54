/*
 * baseline_fixture.h - helpers for router unit tests: route one hand-built
 * snapshot through a router def (config merge and common rules included),
 * summarize candidates as text, and check config errors.
 */
#ifndef ATTN_BASELINE_FIXTURE_H
#define ATTN_BASELINE_FIXTURE_H

#include "store_fixture.h"

#include <jansson.h>
#include "route/router.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/time.h"

static inline json_t *rf_parse(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    if (!v)
        fail_msg("bad JSON in test (%s): %s", je.text, text);
    return v;
}

/* Route snapshot (JSON text) at as_of with config (JSON text or NULL). */
static inline json_t *rf_route(const attn_router_def *def, const char *config,
                               const attn_route_ctx *ctx, const char *snapshot, int64_t as_of,
                               int top_k)
{
    attn_error err;
    attn_router *r = NULL;
    json_t *cfg = config ? rf_parse(config) : NULL, *snap = rf_parse(snapshot), *out = NULL;
    attn_route_query q;
    if (attn_router_new(def, cfg, NULL, ctx, &r, &err))
        fail_msg("router %s: %s", def->name, err.msg);
    q.pr_number = json_integer_value(json_object_get(snap, "number"));
    q.as_of = as_of;
    q.top_k = top_k;
    q.snapshot = snap;
    if (attn_router_route(r, ctx, &q, &out, &err))
        fail_msg("route %s: %s", def->name, err.msg);
    attn_router_free(r);
    json_decref(cfg);
    json_decref(snap);
    return out;
}

/* "type:name=score ..." in result order (scores %.6g), or "-" when empty. */
static inline const char *rf_cands(const json_t *res, char *buf, size_t cap)
{
    const json_t *c;
    size_t i, n = 0;
    buf[0] = '\0';
    json_array_foreach(json_object_get(res, "candidates"), i, c) {
        const json_t *t = json_object_get(c, "target");
        n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s:%s=%.6g", i ? " " : "",
                              json_string_value(json_object_get(t, "type")),
                              json_string_value(json_object_get(t, "name")),
                              json_number_value(json_object_get(c, "score")));
    }
    if (!n)
        snprintf(buf, cap, "-");
    return buf;
}

#define assert_cands(res, want)                                                                \
    do {                                                                                       \
        char cb_[4096];                                                                        \
        assert_string_equal(rf_cands((res), cb_, sizeof(cb_)), (want));                        \
    } while (0)

static inline const char *rf_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "(null)";
}

/* True when some note of res contains needle. */
static inline int rf_has_note(const json_t *res, const char *needle)
{
    const json_t *n;
    size_t i;
    json_array_foreach(json_object_get(res, "notes"), i, n)
        if (strstr(json_string_value(n), needle))
            return 1;
    return 0;
}

/* The evidence array of candidate i. */
static inline const json_t *rf_evidence(const json_t *res, size_t i)
{
    return json_object_get(json_array_get(json_object_get(res, "candidates"), i), "evidence");
}

/* Evidence data #j of candidate i, checking its kind. */
static inline const json_t *rf_ev(const json_t *res, size_t i, size_t j, const char *kind)
{
    const json_t *e = json_array_get(rf_evidence(res, i), j);
    if (!e)
        fail_msg("candidate %zu has no evidence %zu", i, j);
    assert_string_equal(rf_str(e, "kind"), kind);
    return json_object_get(e, "data");
}

/* The config (JSON text) must be rejected with a message containing want. */
static inline void rf_config_fails(const attn_router_def *def, const char *config,
                                   const attn_route_ctx *ctx, const char *want)
{
    attn_error err;
    attn_router *r = NULL;
    json_t *cfg = rf_parse(config);
    attn_error_clear(&err);
    int rc = attn_router_new(def, cfg, NULL, ctx, &r, &err);
    json_decref(cfg);
    if (rc != ATTN_EINVAL || !strstr(err.msg, want))
        fail_msg("config %s: want EINVAL with '%s', got rc=%d '%s'", config, want, rc, err.msg);
    assert_null(r);
}

/* Canonical JSON text of v (caller frees). */
static inline char *rf_canon(const json_t *v)
{
    attn_buf b = ATTN_BUF_INIT;
    attn_error err;
    if (attn_json_canonical(v, &b, &err))
        fail_msg("canonical: %s", err.msg);
    return attn_buf_detach(&b);
}

#endif
