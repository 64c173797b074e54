/*
 * llm_rerank.c - the llm_rerank router: an OpenAI-compatible chat model
 * reorders the top N candidates of a base router (default hybrid), given the
 * PR snapshot at the cutoff and the candidates' evidence, under a versioned
 * prompt bundle (llm/prompt.h).
 *
 * Per PR: base result -> request (system + rendered task) -> its key (cache.h)
 * -> the answer from a prefetched call, the replay cache, or one live call
 * -> strict validation (answer.h). A valid ranking puts the ranked candidates
 * first in the model's order, the rest after in base order (scores are
 * positions, so the base order is kept exactly); anything else falls back to
 * the base ranking with a note and llm.status "invalid" (bad answer) or
 * "error" (no answer after the retries). The result carries "llm" (model,
 * prompt, status, tokens, cost, latency, key) and "_artifacts" with the
 * request and the answer.
 *
 * Cache mode: $ATTN_LLM_CACHE (live | record | replay | off; default record),
 * not a config key, so a replay has the recording's config hash and bytes.
 * Must never: send a request in replay or off mode, rank a login that was not
 * a candidate, or let the API key reach a file.
 */
#include "llm/answer.h"
#include "llm/cache.h"
#include "llm/client.h"
#include "llm/prompt.h"
#include "route/context.h"
#include "route/router.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/hashmap.h"
#include "util/json.h"
#include "util/sha256.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static const char DEFAULTS[] =
    "{\"base\": \"hybrid\", \"base_config\": {}, \"n\": 10, \"model\": \"gpt-4o-mini\","
    " \"temperature\": 0, \"max_tokens\": 512, \"prompt\": \"prompts/triage\","
    " \"base_url\": \"\", \"timeout_ms\": 30000, \"max_retries\": 3, \"retry_base_ms\": 500,"
    " \"concurrency\": 8, \"prices\": \"\"}";

typedef struct {
    char key[65];
    long status, latency_ms;
    char *body, *error;
    int from_cache;
} answer;

/* A PR prepared by prefetch: its base result and request (NULL body: no
 * candidates), so route() builds neither again. */
typedef struct {
    int64_t pr, as_of;
    int top_k;
    json_t *result, *body;
    char key[65];
} base_memo;

/* A prefetched request, submitted to the async client; the call borrows
 * body. Entries stay in the array (the index cannot drop them): a taken one
 * has freed its body and answer. */
typedef struct {
    char key[65];
    char *body;
    attn_llm_call call;
    int taken;
} pending;

/* A PR handed to the replay look-ahead thread, and what it prepared. */
typedef struct {
    int64_t pr, as_of;
    int top_k;
    json_t *snap;              /* eval's snapshot (a reference; refcounts are atomic) */
    json_t *base, *body;       /* as prepare() gives them */
    char key[65];
    int rc, cache_rc;          /* prepare's outcome; the cache lookup's (from_cache) */
    attn_error err, cache_err;
    answer a;                  /* the recorded answer when cache_rc is 0 */
    int done;                  /* set by the thread under the lock */
} rjob;

/* The replay look-ahead: in replay mode there is no network to wait for,
 * only CPU, so prefetch hands PRs to a thread with its own store connection
 * and base router (as an eval worker has), which prepares them in PR order
 * (base result, request, recorded answer) while eval routes and writes the
 * PRs before on its own thread. Only the thread touches base/env/store; the
 * router state it reads (prompt, model, cache_dir...) is fixed after init. */
typedef struct {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    attn_store *store;
    attn_route_env *env;
    attn_route_ctx ctx;
    attn_router *base;
    rjob **jobs;               /* in PR order; NULL once taken */
    size_t n, cap, next;       /* next: the first job not prepared yet */
    attn_imap ix;              /* (pr, as_of, top_k) -> jobs index */
    int stop;
} ahead;

typedef struct {
    attn_router *base;
    char *base_name, *model, *base_url, *api_key, *prices_path;
    attn_prompt *prompt;
    double temperature, price_in, price_out;
    int priced;
    long max_tokens;
    int n;
    attn_llm_mode mode;
    attn_llm_client_opts copts;
    char cache_dir[4600];
    base_memo *bm;
    size_t nbm, capbm;
    pending **pend;            /* pointers: the client holds &pend[i]->call */
    size_t npend, cappend;
    attn_imap pend_ix;         /* key -> pend index */
    attn_llm_async *async;     /* started by the first prefetch */
    char **tpl, *sys_text;     /* the rendered task cut at {{input}}; the system text */
    size_t ntpl, captpl;
    attn_buf key_pre, key_post;  /* the request key's fixed text around the user message */
    ahead *ra;                 /* replay look-ahead, started by the first prefetch */
    rjob *pre;                 /* the job route() took for its PR, until get_answer */
    long hits, misses, live_calls, prefetched;
} st;

/* ---- small helpers ---------------------------------------------------------- */

static void answer_free(answer *a)
{
    free(a->body);
    free(a->error);
}

typedef struct {
    st *s;
    const char *key;
} pend_q;

static int pend_eq(const void *ctx, size_t i)
{
    const pend_q *q = ctx;
    return !q->s->pend[i]->taken && !strcmp(q->s->pend[i]->key, q->key);
}

/* The untaken prefetched request for key, or NULL. */
static pending *pend_find(st *s, const char *key)
{
    pend_q q = {s, key};
    size_t i = attn_imap_find(&s->pend_ix, attn_hash_str(key), pend_eq, &q);
    return i == ATTN_IMAP_NONE ? NULL : s->pend[i];
}


/* A 200 answer into the replay cache. */
static int record_answer(st *s, const char *key, const char *body, long latency_ms,
                         attn_error *err)
{
    json_t *e;
    int rc;
    /* the body came over HTTP */
    if (!attn_utf8_valid(body))
        return attn_error_set(err, ATTN_EINVAL, "llm_rerank: the model's answer is not valid UTF-8");
    e = attn_xcheck(json_pack("{s:s, s:I, s:s, s:I}", "key", key, "status", (json_int_t)200,
                              "body", body, "latency_ms", (json_int_t)latency_ms));
    rc = attn_llm_cache_put(s->cache_dir, key, e, err);
    json_decref(e);
    return rc;
}

/* DATA from DATA/github/<o>/<r>. */
static void data_dir_of(const char *repo_dir, char *out, size_t cap)
{
    size_t n = strlen(repo_dir);
    snprintf(out, cap, "%s", repo_dir);
    for (int k = 0; k < 3; k++) {
        while (n > 0 && out[n - 1] == '/')
            n--;
        while (n > 0 && out[n - 1] != '/')
            n--;
    }
    while (n > 1 && out[n - 1] == '/')
        n--;
    if (n == 0)
        snprintf(out, cap, ".");
    else
        out[n] = '\0';
}

static void ahead_stop(st *s);
static void rjob_free(rjob *j);
static int render_template(st *s, attn_error *err);

/* ---- init / free ---------------------------------------------------------------- */

static void rr_free(void *state)
{
    st *s = state;
    if (!s)
        return;
    /* First, so no call still points into a pending entry and the look-ahead
     * thread no longer reads this state. */
    attn_llm_async_stop(s->async);
    ahead_stop(s);
    rjob_free(s->pre);
    attn_router_free(s->base);
    attn_prompt_free(s->prompt);
    free(s->base_name);
    free(s->model);
    free(s->base_url);
    free(s->api_key);
    free(s->prices_path);
    for (size_t i = 0; i < s->ntpl; i++)
        free(s->tpl[i]);
    free(s->tpl);
    free(s->sys_text);
    attn_buf_free(&s->key_pre);
    attn_buf_free(&s->key_post);
    for (size_t i = 0; i < s->npend; i++) {
        pending *p = s->pend[i];
        /* A run stopped early (--max-cost-usd, an error) leaves answers that
         * arrived but were not routed: they were paid for, so record them. */
        if (!p->taken && p->call.done && p->call.status == 200 && s->mode == ATTN_LLM_RECORD) {
            attn_error e;
            (void)record_answer(s, p->key, attn_buf_cstr(&p->call.response), p->call.latency_ms,
                                &e);
        }
        free(s->pend[i]->body);
        attn_buf_free(&s->pend[i]->call.response);
        free(s->pend[i]);
    }
    free(s->pend);
    attn_imap_free(&s->pend_ix);
    for (size_t i = 0; i < s->nbm; i++) {
        json_decref(s->bm[i].result);
        json_decref(s->bm[i].body);
    }
    free(s->bm);
    free(s);
}

static int num(const json_t *cfg, const char *k, double lo, double hi, double *out, attn_error *err)
{
    double v = json_number_value(json_object_get(cfg, k));
    if (!(v >= lo && v <= hi))
        return attn_error_set(err, ATTN_EINVAL, "llm_rerank config: '%s' must be from %g to %g",
                              k, lo, hi);
    *out = v;
    return 0;
}

static int init_base(st *s, const json_t *cfg, const attn_route_ctx *ctx, attn_error *err)
{
    const attn_router_def *def;
    const json_t *bc = json_object_get(cfg, "base_config");
    int rc;
    s->base_name = attn_xstrdup(attn_json_str(cfg, "base"));
    if (!strcmp(s->base_name, "llm_rerank"))
        return attn_error_set(err, ATTN_EINVAL, "llm_rerank config: 'base' cannot be llm_rerank");
    if ((rc = attn_router_find(s->base_name, &def, err)))
        return attn_error_wrap(err, "llm_rerank config 'base'");
    return attn_router_new(def, json_object_size(bc) ? bc : NULL, "llm_rerank base_config", ctx,
                           &s->base, err);
}

static int init_llm(st *s, const json_t *cfg, const attn_route_ctx *ctx, attn_error *err)
{
    const char *mode = getenv("ATTN_LLM_CACHE"), *url = attn_json_str(cfg, "base_url");
    const char *key = getenv("ATTN_LLM_API_KEY"), *prices = attn_json_str(cfg, "prices");
    char data[4400], path[4700];
    double v = 0;
    int rc;
    if ((rc = attn_llm_mode_parse(mode && *mode ? mode : "record", &s->mode, err)))
        return rc;
    if (!*url)
        url = getenv("ATTN_LLM_BASE_URL");
    if ((!url || !*url) && s->mode != ATTN_LLM_OFF)
        return attn_error_set(err, ATTN_EINVAL,
                              "llm_rerank: no endpoint; set ATTN_LLM_BASE_URL (e.g. "
                              "http://127.0.0.1:11434/v1 for Ollama) or config 'base_url', or "
                              "ATTN_LLM_CACHE=off");
    s->base_url = attn_xstrdup(url ? url : "");
    for (size_t n = strlen(s->base_url); n > 0 && s->base_url[n - 1] == '/'; n--)
        s->base_url[n - 1] = '\0';
    s->api_key = attn_xstrdup(key ? key : "");
    attn_llm_client_opts_init(&s->copts);
    s->copts.base_url = s->base_url;
    s->copts.api_key = s->api_key;
    if ((rc = num(cfg, "timeout_ms", 1, 600000, &v, err)))
        return rc;
    s->copts.timeout_ms = (long)v;
    if ((rc = num(cfg, "max_retries", 0, 10, &v, err)))
        return rc;
    s->copts.max_retries = (int)v;
    if ((rc = num(cfg, "retry_base_ms", 0, 60000, &v, err)))
        return rc;
    s->copts.retry_base_ms = (long)v;
    if ((rc = num(cfg, "concurrency", 1, 256, &v, err)))
        return rc;
    s->copts.concurrency = (int)v;
    data_dir_of(ctx->repo_dir, data, sizeof(data));
    snprintf(s->cache_dir, sizeof(s->cache_dir), "%s/llm-cache", data);
    if (*prices)
        snprintf(path, sizeof(path), "%s", prices);
    else
        snprintf(path, sizeof(path), "%s/routing/llm_prices.json", ctx->repo_dir);
    s->prices_path = attn_xstrdup(path);
    if ((rc = attn_llm_price_lookup(path, s->model, &s->price_in, &s->price_out, &s->priced, err)))
        return rc;
    if ((rc = attn_prompt_load(attn_json_str(cfg, "prompt"), &s->prompt, err)))
        return attn_error_wrap(err, "llm_rerank config 'prompt'");
    if ((rc = attn_prompt_register(data, s->prompt, 0, err)))
        return rc;
    return render_template(s, err);
}

static int rr_init(const json_t *cfg, const attn_route_ctx *ctx, void **state, attn_error *err)
{
    st *s = attn_xcalloc(1, sizeof(*s));
    double v = 0;
    int rc;
    s->model = attn_xstrdup(attn_json_str(cfg, "model"));
    if ((rc = num(cfg, "n", 1, 100, &v, err)))
        goto fail;
    s->n = (int)v;
    if ((rc = num(cfg, "temperature", 0, 2, &s->temperature, err)) ||
        (rc = num(cfg, "max_tokens", 1, 1e6, &v, err)))
        goto fail;
    s->max_tokens = (long)v;
    if (!*s->model) {
        rc = attn_error_set(err, ATTN_EINVAL, "llm_rerank config: 'model' must not be empty");
        goto fail;
    }
    if ((rc = init_base(s, cfg, ctx, err)) || (rc = init_llm(s, cfg, ctx, err)))
        goto fail;
    *state = s;
    return 0;
fail:
    rr_free(s);
    return rc;
}

/* ---- the request ------------------------------------------------------------------- */

static const char *cand_id(const json_t *c, attn_buf *b)
{
    const json_t *t = json_object_get(c, "target");
    attn_buf_clear(b);
    if (!strcmp(attn_json_str(t, "type"), "team"))
        attn_buf_puts(b, "team:");
    attn_buf_puts(b, attn_json_str(t, "name"));
    return attn_buf_cstr(b);
}

/* Evidence for the model, appended to in as canonical JSON: small data as
 * is, large data cut to 400 bytes ("data_truncated"). Each item's data is
 * serialized once: that text decides the cut and is the text that goes in.
 * An item jansson would refuse (a kind or cut that is not UTF-8) is left
 * out, as it always was. */
static int evidence_text(const json_t *ev, attn_buf *in, attn_buf *d, attn_error *err)
{
    const json_t *e;
    size_t i, n = 0;
    int rc = attn_buf_putc(in, '[');
    json_array_foreach(ev, i, e) {
        const json_t *data = json_object_get(e, "data");
        const char *kind = attn_json_str(e, "kind");
        json_t *kj = kind ? json_string(kind) : NULL, *t;
        if (rc || (kind && !kj))
            continue;
        attn_buf_clear(d);
        if (attn_json_canonical(data ? data : json_null(), d, err) == 0 && d->len <= 400) {
            if (n++)
                attn_buf_putc(in, ',');
            attn_buf_putc(in, '{');
            if (data) {
                attn_buf_puts(in, "\"data\":");
                attn_buf_put(in, d->ptr, d->len);
            }
            if (kj) {
                attn_buf_puts(in, data ? ",\"kind\":" : "\"kind\":");
                rc = attn_json_canonical(kj, in, err);
            }
            attn_buf_putc(in, '}');
        } else if ((t = json_pack("{s:s?, s:s#}", "kind", kind, "data_truncated", attn_buf_cstr(d),
                                  (int)(d->len < 400 ? d->len : 400)))) {
            if (n++)
                attn_buf_putc(in, ',');
            rc = attn_json_canonical(t, in, err);
            json_decref(t);
        }
        json_decref(kj);
    }
    return rc ? rc : attn_buf_putc(in, ']');
}

static json_t *pr_for_model(const attn_route_query *q)
{
    const json_t *snap = q->snapshot, *f;
    const char *body = attn_json_str(snap, "body");
    json_t *files = attn_xcheck(json_array());
    size_t i, blen = body ? strlen(body) : 0;
    json_array_foreach(json_object_get(snap, "changed_files"), i, f) {
        const char *p = json_is_string(f) ? json_string_value(f) : attn_json_str(f, "path");
        if (i >= 100)
            break;
        if (p)
            attn_xcheck_rc(json_array_append_new(files, attn_xcheck(json_string(p))));
    }
    /* Cut at 4000 bytes, but not inside a UTF-8 sequence (jansson refuses one). */
    if (blen > 4000)
        for (blen = 4000; blen > 0 && ((unsigned char)body[blen] & 0xC0) == 0x80; blen--)
            ;
    /* every string is the snapshot's (jansson's, so UTF-8), the body cut
     * on a sequence boundary */
    return attn_xcheck(json_pack("{s:I, s:s?, s:s#, s:s?, s:o, s:O?}", "number",
                                 (json_int_t)q->pr_number, "title", attn_json_str(snap, "title"),
                                 "body", body ? body : "", (int)blen, "author",
                                 attn_json_str(snap, "author"), "files", files, "leak_risk",
                                 json_object_get(snap, "leak_risk")));
}

/* The model's input as canonical JSON, {"candidates": [...], "pull_request":
 * {...}}, written piece by piece (keys in canonical order) so evidence is
 * serialized once; *nc: the candidates in it (0: nothing to ask). */
static int input_text(st *s, const attn_route_query *q, const json_t *cands, attn_buf *in,
                      size_t *nc, attn_error *err)
{
    attn_buf id = ATTN_BUF_INIT, d = ATTN_BUF_INIT;
    const json_t *c, *score;
    json_t *pr;
    size_t i;
    int rc = 0;
    *nc = 0;
    attn_buf_puts(in, "{\"candidates\":[");
    json_array_foreach(cands, i, c) {
        json_t *login;
        if ((int)i >= s->n || rc)
            break;
        if (!(login = json_string(cand_id(c, &id))))
            continue; /* not UTF-8: jansson refused the candidate */
        if ((*nc)++)
            attn_buf_putc(in, ',');
        attn_buf_printf(in, "{\"base_rank\":%zu", i + 1);
        if ((score = json_object_get(c, "score"))) {
            attn_buf_puts(in, ",\"base_score\":");
            rc = attn_json_canonical(score, in, err);
        }
        attn_buf_puts(in, ",\"evidence\":");
        if (!rc)
            rc = evidence_text(json_object_get(c, "evidence"), in, &d, err);
        attn_buf_puts(in, ",\"login\":");
        if (!rc)
            rc = attn_json_canonical(login, in, err);
        attn_buf_putc(in, '}');
        json_decref(login);
    }
    attn_buf_free(&id);
    attn_buf_free(&d);
    attn_buf_puts(in, "],\"pull_request\":");
    if (!rc && *nc) {
        pr = pr_for_model(q);
        rc = attn_json_canonical(pr, in, err);
        json_decref(pr);
    }
    return rc ? rc : attn_buf_putc(in, '}');
}

static void replace_all(attn_buf *out, const char *text, const char *pat, const char *with)
{
    size_t pl = strlen(pat);
    const char *p;
    while ((p = strstr(text, pat))) {
        attn_buf_put(out, text, (size_t)(p - text));
        attn_buf_puts(out, with);
        text = p + pl;
    }
    attn_buf_puts(out, text);
}

/* A stand-in for the user message while the key's fixed parts are made. */
static const char KEY_HOLE[] = "\001attn:user-content\001";

/* The request key hashes the canonical JSON of {base_url, model,
 * prompt_hash, messages, params}; all of it but the user message is the
 * same for every PR, so its text before and after that message is made
 * once (left unsplit, key_pre empty, when the stand-in is not found exactly
 * once: the key is then made whole per request). */
static int split_key(st *s, attn_error *err)
{
    attn_buf all = ATTN_BUF_INIT, hole = ATTN_BUF_INIT;
    json_t *k = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}], s:{s:f, s:I}}", "base_url",
                          s->base_url, "model", s->model, "prompt_hash", s->prompt->hash,
                          "messages", "role", "system", "content", s->sys_text, "role", "user",
                          "content", KEY_HOLE, "params", "temperature", s->temperature,
                          "max_tokens", (json_int_t)s->max_tokens);
    json_t *h = json_string(KEY_HOLE);
    const char *p;
    int rc = k && h ? 0 : attn_error_set(err, ATTN_EINVAL, "llm_rerank: the prompt is not UTF-8");
    if (!rc && !(rc = attn_json_canonical(k, &all, err)) &&
        !(rc = attn_json_canonical(h, &hole, err)) &&
        (p = strstr(attn_buf_cstr(&all), attn_buf_cstr(&hole))) &&
        !strstr(p + 1, attn_buf_cstr(&hole))) {
        attn_buf_put(&s->key_pre, all.ptr, (size_t)(p - all.ptr));
        attn_buf_puts(&s->key_post, p + hole.len);
    }
    json_decref(k);
    json_decref(h);
    attn_buf_free(&all);
    attn_buf_free(&hole);
    return rc;
}

/* The task template rendered once: the JSON sections put in, then cut at
 * each {{input}}, where the input goes (the same text as rendering it per
 * request: the input is never scanned for placeholders). */
static int render_template(st *s, attn_error *err)
{
    attn_buf sch = ATTN_BUF_INIT, ex = ATTN_BUF_INIT, sys = ATTN_BUF_INIT, t1 = ATTN_BUF_INIT,
             t2 = ATTN_BUF_INIT, task = ATTN_BUF_INIT;
    const char *p, *q;
    int rc;
    if (!(rc = attn_prompt_section_text(s->prompt, "output_schema", &sch, err)) &&
        !(rc = attn_prompt_section_text(s->prompt, "examples", &ex, err)) &&
        !(rc = attn_prompt_section_text(s->prompt, "system", &sys, err)) &&
        !(rc = attn_prompt_section_text(s->prompt, "task", &t1, err))) {
        replace_all(&t2, attn_buf_cstr(&t1), "{{output_schema}}", attn_buf_cstr(&sch));
        replace_all(&task, attn_buf_cstr(&t2), "{{examples}}", attn_buf_cstr(&ex));
        if (!strstr(attn_buf_cstr(&task), "{{input}}"))
            attn_buf_puts(&task, "\n\n{{input}}");
        for (p = attn_buf_cstr(&task);; p = q + strlen("{{input}}")) {
            q = strstr(p, "{{input}}");
            ATTN_ALLOC_GROW(s->tpl, s->ntpl + 1, s->captpl);
            s->tpl[s->ntpl++] = q ? attn_xstrndup(p, (size_t)(q - p)) : attn_xstrdup(p);
            if (!q)
                break;
        }
        s->sys_text = attn_xstrdup(attn_buf_cstr(&sys));
        rc = split_key(s, err);
    }
    attn_buf_free(&sch);
    attn_buf_free(&ex);
    attn_buf_free(&sys);
    attn_buf_free(&t1);
    attn_buf_free(&t2);
    attn_buf_free(&task);
    return rc;
}

/* The request body and its cache key for one base result; NULL body when
 * the base has no candidates (nothing to ask). */
static int build_request(st *s, const attn_route_query *q, const json_t *base, json_t **body,
                         char key[65], attn_error *err)
{
    attn_buf in = ATTN_BUF_INIT, user = ATTN_BUF_INIT, k = ATTN_BUF_INIT;
    size_t nc;
    int rc;
    *body = NULL;
    if ((rc = input_text(s, q, json_object_get(base, "candidates"), &in, &nc, err)) || !nc)
        goto out;
    for (size_t i = 0; i < s->ntpl; i++) {
        if (i)
            attn_buf_put(&user, in.ptr, in.len);
        attn_buf_puts(&user, s->tpl[i]);
    }
    /* the prompt was checked for UTF-8 when loaded; the input is JSON text */
    *body = attn_xcheck(json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s#}], s:f, s:I}", "model",
                                  s->model, "messages", "role", "system", "content", s->sys_text,
                                  "role", "user", "content", attn_buf_cstr(&user), (int)user.len,
                                  "temperature", s->temperature, "max_tokens",
                                  (json_int_t)s->max_tokens));
    if (s->key_pre.len) {
        const json_t *m = json_array_get(json_object_get(*body, "messages"), 1);
        attn_buf_put(&k, s->key_pre.ptr, s->key_pre.len);
        if (!(rc = attn_json_canonical(json_object_get(m, "content"), &k, err))) {
            attn_buf_put(&k, s->key_post.ptr, s->key_post.len);
            if (attn_sha256_hex(k.ptr, k.len, key) < 0)
                rc = attn_error_set(err, ATTN_EIO, "SHA-256 failed in libcrypto");
        }
    } else {
        /* every string here is from the config or already in *body: only memory can fail */
        json_t *kj = attn_xcheck(json_pack(
            "{s:s, s:s, s:s, s:O, s:{s:f, s:I}}", "base_url", s->base_url, "model", s->model,
            "prompt_hash", s->prompt->hash, "messages", json_object_get(*body, "messages"),
            "params", "temperature", s->temperature, "max_tokens", (json_int_t)s->max_tokens));
        rc = attn_json_hash(kj, key, err);
        json_decref(kj);
    }
out:
    attn_buf_free(&in);
    attn_buf_free(&user);
    attn_buf_free(&k);
    if (rc) {
        json_decref(*body);
        *body = NULL;
    }
    return rc;
}

/* ---- prepared PRs (base result and request, computed once when prefetched) ---------- */

static rjob *ahead_take(st *s, const attn_route_query *q);

/* The base result, request body (NULL: nothing to ask) and key of q: taken
 * from the replay look-ahead (which also read the recorded answer: s->pre),
 * from the prefetch memo, or computed; keep (prefetch) leaves them in the
 * memo for route() as well. */
static int prepare(st *s, const attn_route_ctx *ctx, const attn_route_query *q, int keep,
                   json_t **base, json_t **body, char key[65], attn_error *err)
{
    attn_route_query bq = *q;
    attn_route_ctx c = *ctx;
    base_memo *m;
    rjob *m_job;
    int rc;
    *base = *body = NULL;
    if (!keep && s->ra && (m_job = ahead_take(s, q))) {
        if ((rc = m_job->rc)) {
            *err = m_job->err;
            rjob_free(m_job);
            return rc;
        }
        *base = m_job->base;
        *body = m_job->body;
        m_job->base = m_job->body = NULL;
        memcpy(key, m_job->key, 65);
        rjob_free(s->pre);
        s->pre = m_job; /* its recorded answer, for get_answer */
        return 0;
    }
    if (bq.top_k < s->n)
        bq.top_k = s->n;
    for (size_t i = 0; i < s->nbm; i++)
        if (s->bm[i].pr == q->pr_number && s->bm[i].as_of == q->as_of &&
            s->bm[i].top_k == bq.top_k) {
            *base = s->bm[i].result;
            *body = s->bm[i].body;
            memcpy(key, s->bm[i].key, 65);
            s->bm[i] = s->bm[--s->nbm];
            return 0;
        }
    if (keep)
        c.memo = NULL; /* prefetch snapshots are not the ones eval's memo keys on */
    if ((rc = attn_router_route(s->base, keep ? &c : ctx, &bq, base, err)) ||
        (rc = build_request(s, q, *base, body, key, err))) {
        json_decref(*base);
        *base = NULL;
        return rc;
    }
    if (keep) {
        ATTN_ALLOC_GROW(s->bm, s->nbm + 1, s->capbm);
        m = &s->bm[s->nbm++];
        *m = (base_memo){q->pr_number, q->as_of, bq.top_k, json_incref(*base), json_incref(*body),
                         ""};
        memcpy(m->key, key, 65);
    }
    return 0;
}

/* ---- answers ------------------------------------------------------------------------- */

static int from_cache(st *s, const char *key, answer *a, attn_error *err)
{
    json_t *e = NULL;
    int rc = attn_llm_cache_get(s->cache_dir, key, &e, err);
    if (rc)
        return rc;
    memset(a, 0, sizeof(*a));
    memcpy(a->key, key, 65);
    a->status = (long)attn_json_i64(e, "status", 0);
    a->latency_ms = (long)attn_json_i64(e, "latency_ms", 0);
    a->body = attn_xstrdup(attn_json_str(e, "body") ? attn_json_str(e, "body") : "");
    a->from_cache = 1;
    json_decref(e);
    return 0;
}

/* The answer of a finished live call: into *a, and into the cache in record
 * mode when the status is 200. */
static int store_answer(st *s, const char *key, const attn_llm_call *call, answer *a,
                        attn_error *err)
{
    int rc = 0;
    s->live_calls++;
    memset(a, 0, sizeof(*a));
    memcpy(a->key, key, 65);
    a->status = call->status;
    a->latency_ms = call->latency_ms;
    a->body = attn_xstrdup(attn_buf_cstr(&call->response));
    a->error = call->error[0] ? attn_xstrdup(call->error) : NULL;
    if (a->status == 200 && s->mode == ATTN_LLM_RECORD)
        rc = record_answer(s, key, a->body, a->latency_ms, err);
    if (rc) {
        answer_free(a);
        memset(a, 0, sizeof(*a));
    }
    return rc;
}

/* One live call now (not prefetched: `attn route`, or a key prefetch skipped). */
static int call_live(st *s, const char *key, const json_t *body, answer *a, attn_error *err)
{
    attn_llm_call call;
    char *text = attn_xcheck(json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS));
    int rc;
    memset(&call, 0, sizeof(call));
    call.body = text;
    rc = attn_llm_call_batch(&s->copts, &call, 1, err);
    if (!rc)
        rc = store_answer(s, key, &call, a, err);
    attn_buf_free(&call.response);
    free(text);
    return rc;
}

/* Wait for a prefetched call and take its answer (the entry keeps only its key). */
static int take_pending(st *s, pending *p, answer *a, attn_error *err)
{
    int rc;
    attn_llm_async_wait(s->async, &p->call);
    rc = store_answer(s, p->key, &p->call, a, err);
    p->taken = 1;
    free(p->body);
    p->body = NULL;
    p->call.body = NULL;
    attn_buf_free(&p->call.response);
    return rc;
}

static int get_answer(st *s, const char *key, const json_t *body, int64_t pr, answer *a,
                      attn_error *err)
{
    pending *p = pend_find(s, key);
    int rc;
    if (p)
        return take_pending(s, p, a, err);
    if (s->mode == ATTN_LLM_RECORD || s->mode == ATTN_LLM_REPLAY) {
        if (s->pre && !strcmp(s->pre->key, key)) {
            /* Read ahead: the same outcome from_cache would give now. */
            if ((rc = s->pre->cache_rc) == 0) {
                *a = s->pre->a;
                memset(&s->pre->a, 0, sizeof(s->pre->a));
            } else if (rc != ATTN_ENOTFOUND) {
                *err = s->pre->cache_err;
            }
            rjob_free(s->pre);
            s->pre = NULL;
        } else {
            rc = from_cache(s, key, a, err);
        }
        if (rc == 0) {
            s->hits++;
            return 0;
        }
        if (rc != ATTN_ENOTFOUND)
            return rc;
        s->misses++;
        if (s->mode == ATTN_LLM_REPLAY)
            return attn_error_set(err, ATTN_ENOTFOUND,
                                  "llm_rerank replay: no recorded answer for PR #%lld (key %s in "
                                  "%s); record it first with ATTN_LLM_CACHE=record",
                                  (long long)pr, key, s->cache_dir);
    }
    return call_live(s, key, body, a, err);
}

/* ---- the replay look-ahead (ahead, above) --------------------------------------------- */

static void rjob_free(rjob *j)
{
    if (!j)
        return;
    json_decref(j->snap);
    json_decref(j->base);
    json_decref(j->body);
    answer_free(&j->a);
    free(j);
}

static uint64_t rjob_hash(int64_t pr, int64_t as_of, int top_k)
{
    return attn_hash_u64((uint64_t)pr * 0x9e3779b97f4a7c15ULL ^ (uint64_t)as_of ^
                         ((uint64_t)top_k << 48));
}

typedef struct {
    const ahead *A;
    const attn_route_query *q;
} rjob_q;

static int rjob_eq(const void *ctx, size_t i)
{
    const rjob_q *k = ctx;
    const rjob *j = k->A->jobs[i];
    return j && j->pr == k->q->pr_number && j->as_of == k->q->as_of && j->top_k == k->q->top_k;
}

/* On the thread: what prepare() and from_cache() would do for the job on
 * eval's thread, with the thread's own base router. */
static void ahead_prepare(st *s, ahead *A, rjob *j)
{
    attn_route_query q = {j->pr, j->as_of, j->top_k, j->snap}, bq = q;
    if (bq.top_k < s->n)
        bq.top_k = s->n;
    attn_error_clear(&j->err);
    attn_error_clear(&j->cache_err);
    j->rc = attn_router_route(A->base, &A->ctx, &bq, &j->base, &j->err);
    if (!j->rc)
        j->rc = build_request(s, &q, j->base, &j->body, j->key, &j->err);
    if (!j->rc && j->body)
        j->cache_rc = from_cache(s, j->key, &j->a, &j->cache_err);
}

static void *ahead_main(void *p)
{
    st *s = p;
    ahead *A = s->ra;
    for (;;) {
        rjob *j;
        pthread_mutex_lock(&A->mu);
        while (!A->stop && A->next == A->n)
            pthread_cond_wait(&A->cv, &A->mu);
        if (A->stop) {
            pthread_mutex_unlock(&A->mu);
            return NULL;
        }
        j = A->jobs[A->next];
        pthread_mutex_unlock(&A->mu);
        ahead_prepare(s, A, j);
        pthread_mutex_lock(&A->mu);
        j->done = 1;
        A->next++;
        pthread_cond_broadcast(&A->cv);
        pthread_mutex_unlock(&A->mu);
    }
}

static void ahead_free(ahead *A)
{
    for (size_t i = 0; i < A->n; i++)
        rjob_free(A->jobs[i]);
    free(A->jobs);
    attn_imap_free(&A->ix);
    attn_router_free(A->base);
    attn_route_env_free(A->env);
    if (A->store) {
        sqlite3_exec(attn_store_db(A->store), "COMMIT", NULL, NULL, NULL);
        attn_store_close(A->store);
    }
    free(A);
}

/* Its own read-only connection in one read transaction (like the run's),
 * routing context without a memo, and base router from the base's final
 * config, so its results are the ones route() would compute. */
static int ahead_start(st *s, const attn_route_ctx *ctx, attn_error *err)
{
    ahead *A = attn_xcalloc(1, sizeof(*A));
    int rc;
    if (!(rc = attn_store_open_readonly(attn_store_path(ctx->store), &A->store, err))) {
        sqlite3_exec(attn_store_db(A->store), "BEGIN", NULL, NULL, NULL);
        rc = attn_route_env_open(A->store, ctx->repo, ctx->repo_dir, &A->env, err);
    }
    if (!rc) {
        A->ctx = *attn_route_env_ctx(A->env);
        A->ctx.memo = NULL;
        rc = attn_router_new(attn_router_def_of(s->base), attn_router_config(s->base),
                             "llm_rerank base_config", &A->ctx, &A->base, err);
    }
    if (rc) {
        ahead_free(A);
        return attn_error_wrap(err, "llm_rerank replay look-ahead");
    }
    pthread_mutex_init(&A->mu, NULL);
    pthread_cond_init(&A->cv, NULL);
    s->ra = A;
    if (pthread_create(&A->th, NULL, ahead_main, s)) {
        s->ra = NULL;
        pthread_cond_destroy(&A->cv);
        pthread_mutex_destroy(&A->mu);
        ahead_free(A);
        return attn_error_set(err, ATTN_EIO, "cannot start the llm_rerank replay look-ahead");
    }
    return 0;
}

static void ahead_stop(st *s)
{
    ahead *A = s->ra;
    if (!A)
        return;
    pthread_mutex_lock(&A->mu);
    A->stop = 1;
    pthread_cond_broadcast(&A->cv);
    pthread_mutex_unlock(&A->mu);
    pthread_join(A->th, NULL);
    pthread_cond_destroy(&A->cv);
    pthread_mutex_destroy(&A->mu);
    ahead_free(A);
    s->ra = NULL;
}

static int ahead_offer(st *s, const attn_route_ctx *ctx, const attn_route_query *qs, size_t n,
                       attn_error *err)
{
    ahead *A;
    int rc;
    if (!s->ra && (rc = ahead_start(s, ctx, err)))
        return rc;
    A = s->ra;
    pthread_mutex_lock(&A->mu);
    for (size_t i = 0; i < n; i++) {
        rjob *j = attn_xcalloc(1, sizeof(*j));
        j->pr = qs[i].pr_number;
        j->as_of = qs[i].as_of;
        j->top_k = qs[i].top_k;
        j->snap = json_incref((json_t *)qs[i].snapshot);
        ATTN_ALLOC_GROW(A->jobs, A->n + 1, A->cap);
        attn_imap_add(&A->ix, rjob_hash(j->pr, j->as_of, j->top_k), A->n);
        A->jobs[A->n++] = j;
    }
    pthread_cond_broadcast(&A->cv);
    pthread_mutex_unlock(&A->mu);
    return 0;
}

/* The job offered for q, once prepared (NULL: never offered); the caller owns it. */
static rjob *ahead_take(st *s, const attn_route_query *q)
{
    ahead *A = s->ra;
    rjob_q k = {A, q};
    size_t i = attn_imap_find(&A->ix, rjob_hash(q->pr_number, q->as_of, q->top_k), rjob_eq, &k);
    rjob *j;
    if (i == ATTN_IMAP_NONE)
        return NULL;
    pthread_mutex_lock(&A->mu);
    while (!A->jobs[i]->done)
        pthread_cond_wait(&A->cv, &A->mu);
    j = A->jobs[i];
    A->jobs[i] = NULL;
    pthread_mutex_unlock(&A->mu);
    return j;
}

/* ---- result --------------------------------------------------------------------------- */

/* The base result is router output, but is checked as input: a target
 * without a name or evidence without a kind cannot be carried over. */
static int add_cand(attn_route_result *res, const json_t *c, double score, json_t *llm_ev,
                    attn_error *err)
{
    const json_t *t = json_object_get(c, "target"), *e;
    attn_cand *rc = attn_result_cand(res, attn_json_str(t, "type"), attn_json_str(t, "name"));
    size_t i;
    if (!rc) {
        json_decref(llm_ev);
        return attn_error_set(err, ATTN_EINVAL, "llm_rerank: a base candidate has no target name");
    }
    attn_cand_set_score(rc, score);
    json_array_foreach(json_object_get(c, "evidence"), i, e) {
        const char *kind = attn_json_str(e, "kind");
        const json_t *data = json_object_get(e, "data");
        if (!kind) {
            json_decref(llm_ev);
            return attn_error_set(err, ATTN_EINVAL, "llm_rerank: base evidence of %s has no kind",
                                  attn_json_str(t, "name"));
        }
        attn_cand_evidence(rc, kind, data ? attn_xcheck(json_deep_copy(data)) : NULL);
    }
    if (llm_ev)
        attn_cand_evidence(rc, "llm", llm_ev);
    return 0;
}

/* Ranked candidates first (model order), the rest in base order. */
static int fill(attn_route_result *res, const json_t *base, const json_t *ranking,
                attn_error *err)
{
    const json_t *cands = json_object_get(base, "candidates"), *c, *r;
    size_t total = json_array_size(cands), pos = 0, i, j;
    attn_buf id = ATTN_BUF_INIT;
    char *used = attn_xcalloc(total ? total : 1, 1);
    int rc = 0;
    json_array_foreach(ranking, j, r) json_array_foreach(cands, i, c) {
        if (rc || used[i] || strcmp(cand_id(c, &id), attn_json_str(r, "login")))
            continue;
        used[i] = 1;
        /* attn_llm_answer_parse checked that every reason is a string */
        rc = add_cand(res, c, (double)(total - pos++),
                      attn_xcheck(json_pack("{s:I, s:I, s:O}", "rank", (json_int_t)(j + 1),
                                            "base_rank", (json_int_t)(i + 1), "reason",
                                            json_object_get(r, "reason"))),
                      err);
    }
    json_array_foreach(cands, i, c) if (!rc && !used[i])
        rc = add_cand(res, c, (double)(total - pos++), NULL, err);
    free(used);
    attn_buf_free(&id);
    return rc;
}

/* The result keeps risk and confidence as pointers: static strings only, as
 * the base result is released before the result is built. */
static const char *static_word(const char *w, const char *dflt)
{
    static const char *const words[] = {"low", "medium", "high", "unknown"};
    for (size_t i = 0; w && i < 4; i++)
        if (!strcmp(w, words[i]))
            return words[i];
    return dflt;
}

static double round9(double x) { return round(x * 1e9) / 1e9; }

static int finish(st *s, attn_route_result *res, const json_t *base, const json_t *body,
                  const char *key, const answer *a, const char *status, const char *why,
                  long tin, long tout, attn_error *err)
{
    const json_t *n;
    size_t i;
    double cost = s->priced ? round9((tin * s->price_in + tout * s->price_out) / 1e6) : 0;
    json_array_foreach(json_object_get(base, "notes"), i, n)
        attn_result_note(res, "base %s: %s", s->base_name, json_string_value(n));
    if (why)
        attn_result_note(res, "llm %s: %s; base ranking kept", status, why);
    attn_result_set_risk(res, static_word(attn_json_str(base, "risk"), "low"));
    attn_result_set_confidence(res, static_word(attn_json_str(base, "confidence"), "unknown"));
    attn_result_attach(res, "llm",
                       attn_xcheck(json_pack("{s:s, s:s, s:s, s:s, s:s?, s:I, s:I, s:f, s:I}",
                                             "model", s->model, "prompt_hash", s->prompt->hash,
                                             "prompt_version", s->prompt->version, "status",
                                             status, "key", key, "tokens_in", (json_int_t)tin,
                                             "tokens_out", (json_int_t)tout, "cost_usd", cost,
                                             "latency_ms", (json_int_t)(a ? a->latency_ms : 0))));
    if (!body)
        return 0;
    /* The answer and the reason (which may quote it) came over HTTP. */
    if ((a && a->body && !attn_utf8_valid(a->body)) || (why && !attn_utf8_valid(why)))
        return attn_error_set(err, ATTN_EINVAL, "llm_rerank: the model's answer is not valid UTF-8");
    attn_result_attach(
        res, "_artifacts",
        attn_xcheck(json_pack(
            "{s:{s:s, s:O}, s:{s:s, s:I, s:s?, s:I, s:s, s:s?}}", "llm/llm_rerank/request", "key",
            key, "body", (json_t *)body, "llm/llm_rerank/response", "key", key, "http_status",
            (json_int_t)(a ? a->status : 0), "body", a ? a->body : NULL, "latency_ms",
            (json_int_t)(a ? a->latency_ms : 0), "status", status, "reason", why)));
    return 0;
}

static int rr_route(void *state, const attn_route_ctx *ctx, const attn_route_query *q,
                    attn_route_result *res, attn_error *err)
{
    st *s = state;
    json_t *base = NULL, *body = NULL, *ranking = NULL;
    char key[65] = "";
    answer a;
    attn_error why;
    const char **ids = NULL;
    long tin = 0, tout = 0;
    int rc, have = 0;
    memset(&a, 0, sizeof(a));
    if ((rc = prepare(s, ctx, q, 0, &base, &body, key, err)))
        goto out;
    if (!body || s->mode == ATTN_LLM_OFF) {
        rc = fill(res, base, NULL, err);
        if (!rc)
            rc = finish(s, res, base, NULL, NULL, NULL, body ? "off" : "skipped",
                        body ? "ATTN_LLM_CACHE=off" : "no base candidates, nothing to rank", 0, 0,
                        err);
        goto out;
    }
    if ((rc = get_answer(s, key, body, q->pr_number, &a, err)))
        goto out;
    have = 1;
    if (a.status != 200) {
        rc = fill(res, base, NULL, err);
        if (!rc)
            rc = finish(s, res, base, body, key, &a, "error", a.error ? a.error : "no answer", 0, 0,
                        err);
        goto out;
    }
    {
        const json_t *cands = json_object_get(base, "candidates"), *c;
        attn_buf *idb = attn_xcalloc(json_array_size(cands) + 1, sizeof(*idb));
        size_t i, n = 0;
        ids = attn_xcalloc(json_array_size(cands) + 1, sizeof(*ids));
        json_array_foreach(cands, i, c) if ((int)i < s->n) ids[n++] = cand_id(c, &idb[i]);
        attn_error_clear(&why);
        if (attn_llm_answer_parse(a.body, strlen(a.body), ids, n, &ranking, &tin, &tout, &why)) {
            rc = fill(res, base, NULL, err);
            if (!rc)
                rc = finish(s, res, base, body, key, &a, "invalid", why.msg, tin, tout, err);
        } else {
            rc = fill(res, base, ranking, err);
            if (!rc)
                rc = finish(s, res, base, body, key, &a, "ok", NULL, tin, tout, err);
        }
        for (i = 0; i <= json_array_size(cands); i++)
            attn_buf_free(&idb[i]);
        free(idb);
    }
out:
    free(ids);
    if (have)
        answer_free(&a);
    json_decref(ranking);
    json_decref(body);
    json_decref(base);
    return rc;
}

/* ---- prefetch and describe ------------------------------------------------------------ */

/* Off, there is nothing slow to start early. */
static int rr_prefetch_active(void *state)
{
    st *s = state;
    return s->mode != ATTN_LLM_OFF;
}

/* Live and record: prepare each PR and submit its request to the async
 * client at once, so the client always has work queued while eval routes the
 * PRs before; an answer already pending, or (record) already in the cache,
 * is not asked for. Replay: hand the PRs to the look-ahead thread. */
static int rr_prefetch(void *state, const attn_route_ctx *ctx, const attn_route_query *qs,
                       size_t n, attn_error *err)
{
    st *s = state;
    int rc = 0;
    if (s->mode == ATTN_LLM_REPLAY)
        return ahead_offer(s, ctx, qs, n, err);
    if (!rr_prefetch_active(s))
        return 0;
    for (size_t i = 0; i < n && !rc; i++) {
        json_t *base = NULL, *body = NULL;
        char key[65], path[4800];
        pending *p;
        if ((rc = prepare(s, ctx, &qs[i], 1, &base, &body, key, err)))
            break;
        /* prepare() kept its own references for route(). */
        json_decref(base);
        snprintf(path, sizeof(path), "%s/%.2s/%s.json.zst", s->cache_dir, key, key);
        if (!body || pend_find(s, key) || (s->mode == ATTN_LLM_RECORD && attn_fs_exists(path))) {
            json_decref(body);
            continue;
        }
        if (!s->async && (rc = attn_llm_async_start(&s->copts, &s->async, err))) {
            json_decref(body);
            break;
        }
        p = attn_xcalloc(1, sizeof(*p));
        memcpy(p->key, key, 65);
        p->body = attn_xcheck(json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS));
        json_decref(body);
        p->call.body = p->body;
        ATTN_ALLOC_GROW(s->pend, s->npend + 1, s->cappend);
        attn_imap_add(&s->pend_ix, attn_hash_str(key), s->npend);
        s->pend[s->npend++] = p;
        attn_llm_async_submit(s->async, &p->call);
        s->prefetched++;
        /* Counted once here; route() then takes the answer from the call. */
        if (s->mode == ATTN_LLM_RECORD)
            s->misses++;
    }
    return rc;
}

static json_t *rr_describe(void *state)
{
    st *s = state;
    return json_pack("{s:{s:o, s:s, s:s, s:s, s:o}, s:{s:s, s:I, s:I, s:I}}", "manifest",
                     "prompt", attn_prompt_snapshot(s->prompt), "model", s->model, "base",
                     s->base_name, "base_url", s->base_url, "prices",
                     s->priced ? json_pack("{s:f, s:f}", "input_usd_per_mtok", s->price_in,
                                           "output_usd_per_mtok", s->price_out)
                               : json_null(),
                     "stats", "cache_mode", attn_llm_mode_name(s->mode), "cache_hits",
                     (json_int_t)s->hits, "cache_misses", (json_int_t)s->misses, "live_calls",
                     (json_int_t)s->live_calls);
}

const attn_router_def attn_router_llm_rerank = {
    "llm_rerank",
    "llm_rerank.v1",
    "an OpenAI-compatible chat model reorders a base router's top N (prompt bundle, replay cache)",
    DEFAULTS,
    rr_init,
    rr_route,
    rr_free,
};

const attn_router_hooks attn_router_llm_rerank_hooks = {
    &attn_router_llm_rerank, rr_prefetch, rr_describe, 1, rr_prefetch_active};
