/*
 * candidates.c - the candidate list a router fills, and the common rules
 * applied to every router's output (see candidates.h for the rules).
 *
 * Owns: candidate identity (type + case-folded name), scores, evidence, the
 * final order and the result JSON. Must never: consult anything later than
 * the query's cutoff (availability and load ask the activity index with
 * q->as_of), or depend on insertion order for the final order.
 */
#include "route/candidates.h"
#include "route/result_internal.h"
#include "util/num.h"
#include "util/alloc.h"
#include "util/hashmap.h"
#include "util/json.h"
#include "util/sort.h"
#include "util/time.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct attn_cand {
    char *type;
    char *name;
    char *key;          /* type ':' lower(name): the identity */
    double score;
    json_t *evidence;   /* array, created on first use */
    int demoted;        /* load rule: sorts below every non-demoted candidate */
    int64_t open_requests; /* -1 when unknown (teams, users without index entry) */
};

struct attn_route_result {
    attn_cand **c;
    size_t n, cap;
    attn_imap by_key;   /* key -> index into c */
    const char *risk, *confidence;
    json_t *notes;
    json_t *artifacts;  /* NULL, or {entry: json} for eval's per-PR entries */
    json_t *artifact_text; /* NULL, or {entry: canonical text} likewise */
    int keep_zero;
    int have_margins;
    double margin_high, margin_med;
    json_t *extra;      /* top-level keys a router attached (attn_result_attach) */
};

attn_route_result *attn_result_new(void)
{
    attn_route_result *r = attn_xcalloc(1, sizeof(*r));
    r->notes = attn_xcheck(json_array());
    return r;
}

static void cand_free(attn_cand *c)
{
    if (!c)
        return;
    free(c->type);
    free(c->name);
    free(c->key);
    json_decref(c->evidence);
    free(c);
}

void attn_result_free(attn_route_result *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->n; i++)
        cand_free(res->c[i]);
    free(res->c);
    attn_imap_free(&res->by_key);
    json_decref(res->notes);
    json_decref(res->extra);
    json_decref(res->artifacts);
    json_decref(res->artifact_text);
    free(res);
}

void attn_result_attach(attn_route_result *res, const char *key, json_t *v)
{
    if (!res->extra)
        res->extra = attn_xcheck(json_object());
    attn_xcheck_rc(json_object_set_new(res->extra, key, v));
}

static char *make_key(const char *type, const char *name)
{
    size_t lt = strlen(type), ln = strlen(name);
    char *k = attn_xmalloc(attn_st_add(lt + 2, ln));
    memcpy(k, type, lt);
    k[lt] = ':';
    for (size_t i = 0; i < ln; i++)
        k[lt + 1 + i] = (char)tolower((unsigned char)name[i]);
    k[lt + 1 + ln] = 0;
    return k;
}

typedef struct {
    const attn_route_result *res;
    const char *key;
} key_probe;

static int key_eq(const void *ctx, size_t i)
{
    const key_probe *p = ctx;
    return !strcmp(p->res->c[i]->key, p->key);
}

static attn_cand *lookup(const attn_route_result *res, const char *key, uint64_t h)
{
    key_probe p = {res, key};
    size_t i = attn_imap_find(&res->by_key, h, key_eq, &p);
    return i == ATTN_IMAP_NONE ? NULL : res->c[i];
}

attn_cand *attn_result_find(attn_route_result *res, const char *type, const char *name)
{
    char *key = make_key(type, name);
    attn_cand *c = lookup(res, key, attn_hash_str(key));
    free(key);
    return c;
}

attn_cand *attn_result_cand(attn_route_result *res, const char *type, const char *name)
{
    attn_cand *c;
    char *key;
    uint64_t h;

    if (!type || !name || !*name || !attn_utf8_valid(type))
        return NULL;
    key = make_key(type, name);
    h = attn_hash_str(key);
    if ((c = lookup(res, key, h))) {
        free(key);
        return c;
    }
    ATTN_ALLOC_GROW(res->c, res->n + 1, res->cap);
    c = attn_xcalloc(1, sizeof(*c));
    c->key = key;
    c->type = attn_xstrdup(type);
    c->name = attn_xstrdup(name);
    c->open_requests = -1;
    attn_imap_add(&res->by_key, h, res->n);
    res->c[res->n++] = c;
    return c;
}

size_t attn_result_count(const attn_route_result *res) { return res->n; }
attn_cand *attn_result_at(attn_route_result *res, size_t i) { return i < res->n ? res->c[i] : NULL; }
double attn_cand_score(const attn_cand *c) { return c->score; }
void attn_cand_set_score(attn_cand *c, double score) { c->score = score; }
void attn_cand_add_score(attn_cand *c, double delta) { c->score += delta; }
const char *attn_cand_type(const attn_cand *c) { return c->type; }
const char *attn_cand_name(const attn_cand *c) { return c->name; }

void attn_cand_evidence(attn_cand *c, const char *kind, json_t *data)
{
    json_t *e;
    if (!data)
        data = attn_xcheck(json_object());
    if (!c->evidence)
        c->evidence = attn_xcheck(json_array());
    /* plain constructors: json_pack's format parsing showed in every route,
     * and so did checking the literal keys and kind */
    e = attn_xcheck(json_object());
    attn_xcheck_rc(json_object_set_new_nocheck(e, "kind", attn_xcheck(json_string_nocheck(kind))));
    attn_xcheck_rc(json_object_set_new_nocheck(e, "data", data));
    attn_xcheck_rc(json_array_append_new(c->evidence, e));
}

void attn_result_set_risk(attn_route_result *res, const char *risk) { res->risk = risk; }
void attn_result_set_confidence(attn_route_result *res, const char *c) { res->confidence = c; }
void attn_result_keep_zero(attn_route_result *res) { res->keep_zero = 1; }

void attn_result_confidence_margins(attn_route_result *res, double high, double med)
{
    res->have_margins = 1;
    res->margin_high = high;
    res->margin_med = med;
}

void attn_result_note(attn_route_result *res, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (attn_utf8_valid(buf))
        attn_xcheck_rc(json_array_append_new(res->notes, attn_xcheck(json_string(buf))));
}

/* Scores are printed with 12 significant digits, so two summation orders of
 * the same terms give the same bytes. */
static double round_score(double x) { return attn_round_sig(x, 12); }

/* Scores are rounded (round_score) before sorting, so the order is the
 * order of the printed values. */
static int cand_cmp(const void *pa, const void *pb)
{
    const attn_cand *a = *(const attn_cand *const *)pa, *b = *(const attn_cand *const *)pb;
    double sa = a->score, sb = b->score;
    int c;
    if (a->demoted != b->demoted)
        return a->demoted - b->demoted;
    if (sa != sb)
        return sa > sb ? -1 : 1;
    if ((c = strcmp(a->type, b->type)))   /* "team" < "user" */
        return c;
    if ((c = strcasecmp(a->name, b->name)))
        return c;
    return strcmp(a->name, b->name);
}

/* u: the user's activity-index id, or -1 */
static int is_bot_user(const attn_route_ctx *ctx, const char *name, long u)
{
    if (attn_is_bot(name, NULL))
        return 1;
    return u >= 0 && attn_activity_user_is_bot(ctx->activity, (size_t)u);
}

/* Users the snapshot already requests: their request on this PR is not
 * "other" load. */
static int requested_here(const json_t *snap, const char *name)
{
    const json_t *r;
    size_t i;
    json_array_foreach(json_object_get(snap, "review_requests"), i, r) {
        const char *t = json_string_value(json_object_get(r, "type"));
        const char *n = json_string_value(json_object_get(r, "name"));
        if (t && n && !strcmp(t, "user") && !strcasecmp(n, name))
            return 1;
    }
    return 0;
}

static void apply_rules(attn_route_result *res, const attn_route_ctx *ctx, const attn_route_query *q,
                       const attn_result_rules *rules, size_t *removed_author, size_t *removed_bots)
{
    const char *author = json_string_value(json_object_get(q->snapshot, "author"));
    size_t w = 0;
    for (size_t i = 0; i < res->n; i++) {
        attn_cand *c = res->c[i];
        int user = !strcmp(c->type, "user");
        long u = -1;
        if (user && author && !strcasecmp(c->name, author)) {
            (*removed_author)++;
            cand_free(c);
            continue;
        }
        if (user && ctx->activity)   /* one lookup for the bot check and the rules */
            u = attn_activity_find_login(ctx->activity, c->name);
        if (user && is_bot_user(ctx, c->name, u)) {
            (*removed_bots)++;
            cand_free(c);
            continue;
        }
        if (user && rules->inactive_days > 0) {
            int64_t last = u >= 0 ? attn_activity_user_last_at(ctx->activity, (size_t)u, q->as_of)
                                  : ATTN_NULL_I64;
            if (last == ATTN_NULL_I64 || (double)(q->as_of - last) > rules->inactive_days * 86400.0) {
                char ts[32];
                c->score *= rules->inactive_factor;
                attn_cand_evidence(c, "availability",
                                   attn_xcheck(json_pack("{s:o, s:f}", "last_active_at",
                                                         last == ATTN_NULL_I64
                                                             ? json_null()
                                                             : json_string(attn_time_format(last, ts)),
                                                         "inactive_days", rules->inactive_days)));
            }
        }
        if (user) {
            int64_t open = 0;
            if (u >= 0) {
                open = (int64_t)attn_activity_user_open_requests(ctx->activity, (size_t)u, q->as_of);
                if (open > 0 && requested_here(q->snapshot, c->name))
                    open--;
            }
            c->open_requests = open;
            if (rules->max_open_requests > 0 && open >= rules->max_open_requests) {
                c->demoted = 1;
                attn_cand_evidence(c, "load",
                                   attn_xcheck(json_pack("{s:I, s:i}", "open_requests",
                                                         (json_int_t)open, "max_open_requests",
                                                         (int)rules->max_open_requests)));
            }
        }
        if (!res->keep_zero && !(c->score > 0)) {
            cand_free(c);
            continue;
        }
        res->c[w++] = c;
    }
    res->n = w;
}

static const char *margin_confidence(const attn_route_result *res)
{
    double top, second, m;
    if (!res->n)
        return "low";
    top = res->c[0]->score;
    second = res->n > 1 ? res->c[1]->score : 0.0;
    if (!(top > 0))
        return "low";
    m = (top - second) / top;
    if (m >= res->margin_high)
        return "high";
    if (m >= res->margin_med)
        return "medium";
    return "low";
}

json_t *attn_result_finish(attn_route_result *res, const attn_route_ctx *ctx,
                           const attn_route_query *q, const attn_result_rules *rules)
{
    size_t removed_author = 0, removed_bots = 0, n;
    json_t *o, *cands, *work;
    char ts[32];
    int64_t with_open = 0, open_sum = 0;

    size_t router_notes = json_array_size(res->notes);

    apply_rules(res, ctx, q, rules, &removed_author, &removed_bots);
    for (size_t i = 0; i < res->n; i++)
        res->c[i]->score = round_score(res->c[i]->score);
    n = q->top_k > 0 && (size_t)q->top_k < res->n ? (size_t)q->top_k : res->n;
    /* Only the first n are listed, and the confidence reads the first two:
     * the rest need no order (the result is freed after). */
    attn_heap_top(res->c, res->n, n < 2 ? 2 : n, sizeof(*res->c), cand_cmp);
    if (removed_author)
        attn_result_note(res, "author removed from candidates");
    if (removed_bots)
        attn_result_note(res, "%zu bot candidate%s removed", removed_bots,
                         removed_bots == 1 ? "" : "s");
    /* An empty answer is high risk whatever the router expected before the
     * common rules removed its candidates. */
    if (!n) {
        res->risk = "high";
        if (!router_notes)
            attn_result_note(res, "no candidates");
    }
    if (res->have_margins)
        res->confidence = margin_confidence(res);

    cands = attn_xcheck(json_array());
    work = attn_xcheck(json_object());
    for (size_t i = 0; i < n; i++) {
        attn_cand *c = res->c[i];
        /* A name that is not UTF-8 (a CODEOWNERS owner) cannot be written:
         * it keeps its place in top_k but is left out, as it always was. */
        int named = attn_utf8_valid(c->name);
        if (named) {
            /* built by hand: json_pack's format parsing was most of this
             * loop (profile) */
            json_t *x = attn_xcheck(json_object()), *t = attn_xcheck(json_object());
            /* both checked already (here and in attn_result_cand) */
            attn_xcheck_rc(json_object_set_new_nocheck(
                t, "type", attn_xcheck(json_string_nocheck(c->type))));
            attn_xcheck_rc(json_object_set_new_nocheck(
                t, "name", attn_xcheck(json_string_nocheck(c->name))));
            attn_xcheck_rc(json_object_set_new_nocheck(x, "target", t));
            attn_xcheck_rc(json_object_set_new_nocheck(
                x, "score", attn_xcheck(json_real(round_score(c->score)))));
            attn_xcheck_rc(json_object_set_new_nocheck(
                x, "evidence",
                c->evidence ? json_incref(c->evidence) : attn_xcheck(json_array())));
            attn_xcheck_rc(json_array_append_new(cands, x));
        }
        if (c->open_requests >= 0) {
            if (named)
                attn_xcheck_rc(json_object_set_new_nocheck(
                    work, c->name, attn_xcheck(json_integer(c->open_requests))));
            open_sum += c->open_requests;
            with_open += c->open_requests > 0;
        }
    }
    o = attn_json_obj(
        "repo", json_string(ctx->repo), "pr_number", json_integer(q->pr_number), "as_of",
        json_string(attn_time_format(q->as_of, ts)), "top_k", json_integer(q->top_k), "risk",
        json_string(res->risk ? res->risk : "low"), "confidence",
        json_string(res->confidence ? res->confidence : "unknown"), "notes",
        json_incref(res->notes), "candidates", cands, "workload",
        attn_json_obj("open_requests", work, "open_requests_total", json_integer(open_sum),
                      "candidates_with_open_requests", json_integer(with_open), NULL),
        NULL);
    if (res->extra)
        attn_xcheck_rc(json_object_update(o, res->extra));
    if (res->artifacts)
        attn_xcheck_rc(json_object_set(o, "_artifacts", res->artifacts));
    if (res->artifact_text)
        attn_xcheck_rc(json_object_set(o, "_artifact_text", res->artifact_text));
    return o;
}

void attn_result_artifact(attn_route_result *res, const char *entry, json_t *v)
{
    if (!res->artifacts)
        res->artifacts = attn_xcheck(json_object());
    attn_xcheck_rc(json_object_set_new(res->artifacts, entry, v));
}

void attn_result_artifact_text(attn_route_result *res, const char *entry, const char *text,
                               size_t len)
{
    if (!res->artifact_text)
        res->artifact_text = attn_xcheck(json_object());
    /* canonical text is ASCII or checked UTF-8 already */
    attn_xcheck_rc(json_object_set_new(res->artifact_text, entry,
                                       attn_xcheck(json_stringn_nocheck(text, len))));
}
