/*
 * internal.h - what the files of src/serve/ share: the server context, one
 * request as the handlers see it, and one response as they build it.
 *
 * Handlers never touch libmicrohttpd: http.c turns a connection into an
 * attn_req, calls the router, and sends the attn_resp back. So every handler
 * is a plain function of (server, request) -> response, and the request
 * never carries state from one connection to another.
 */
#ifndef ATTN_SERVE_INTERNAL_H
#define ATTN_SERVE_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include "exp/compare.h"
#include "exp/registry.h"
#include "serve/serve.h"
#include "util/buf.h"

struct MHD_Connection;

struct attn_server {
    attn_serve_opts opts;
    char data_dir[4096];
    char push_secret[512], webhook_secret[512];
    struct MHD_Daemon *daemon;
    pthread_mutex_t write_mu;    /* one webhook batch at a time in this process */
    /* Deliveries waiting for the writer (webhook.c): the first waiting thread
     * takes every queued one and applies them as one transaction (group
     * commit); the others sleep on q_cv until theirs is done. */
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;
    struct attn_serve_job *q_head, **q_tail;
    int q_busy;
    /* History stores the webhook writer keeps open between deliveries (under
     * write_mu): opening one per delivery cost more than applying it. */
    struct attn_serve_wstore {
        char repo[2 * 101 + 2];
        struct attn_store *st;
        struct attn_archive *ar;
    } wstores[16];
    int n_wstores;
    pthread_mutex_t cache_mu;    /* rendered GET responses (cache.c) */
    struct attn_serve_centry *cache;
};

typedef struct {
    const char *method;          /* GET, POST, DELETE, ... */
    const char *path;            /* without the query */
    struct MHD_Connection *conn; /* for query and header values (http.c helpers) */
    const char *body;            /* NUL-terminated; may be "" */
    size_t body_len;
} attn_req;

typedef struct {
    int status;
    const char *type;            /* Content-Type */
    attn_buf body;
    char location[1024];         /* redirect target when status is 303 */
} attn_resp;

/* ---- http.c ---------------------------------------------------------------- */
const char *attn_req_query(const attn_req *q, const char *key);   /* NULL when absent */
const char *attn_req_header(const attn_req *q, const char *key);
/* A JSON body (takes the reference) with status. */
void attn_resp_json(attn_resp *r, int status, json_t *v);
/* {"error": code, "message": msg} with status. */
void attn_resp_error(attn_resp *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Map an attn error code to a status and a stable error code. */
void attn_resp_from_err(attn_resp *r, const attn_error *err);
/* Equal in constant time (digests of both, so lengths leak nothing). */
int attn_serve_secret_equal(const char *given, size_t given_len, const char *secret);

/* ---- cache.c ------------------------------------------------------------------ */
/* Changes whenever any repository's run registry changes. */
unsigned long long attn_serve_cache_validator(const attn_server *s);
/* 1 and r filled when key holds a response built under validator v. */
int attn_serve_cache_get(attn_server *s, const char *key, unsigned long long v, attn_resp *r);
void attn_serve_cache_put(attn_server *s, const char *key, unsigned long long v,
                          const attn_resp *r);
void attn_serve_cache_free(attn_server *s);

/* ---- data.c: repositories and runs --------------------------------------- */
/* Sorted array of "owner/name" with a runs.sqlite or history.sqlite. */
json_t *attn_serve_repos(const attn_server *s);
/* The repo of the request: ?repo=, else the only repo; fills err otherwise. */
int attn_serve_repo(const attn_server *s, const attn_req *q, const char **repo, json_t **repos,
                    attn_error *err);
/* Paths of one repo: DATA/github/o/r/runs.sqlite, .../history.sqlite. */
int attn_serve_repo_path(const attn_server *s, const char *repo, const char *file, char *out,
                         size_t cap, attn_error *err);
/* The registry of repo, opened; ATTN_ENOTFOUND when it has none yet. */
int attn_serve_open_registry(const attn_server *s, const char *repo, attn_registry **reg,
                             attn_error *err);
/* The registry row of run_id (checked as an id); ATTN_ENOTFOUND when absent. */
int attn_serve_run_row(const attn_server *s, const char *repo, const char *run_id, json_t **row,
                       attn_error *err);
/* Load run_dir/name as JSON. */
int attn_serve_run_file(const json_t *row, const char *name, json_t **out, attn_error *err);
/* per_pr.jsonl as an array of objects. */
int attn_serve_per_pr(const json_t *row, json_t **out, attn_error *err);
/* Registry rows of one repo (or every repo when repo is NULL; each row gets
 * "repo") filtered by ?kind, lifecycle, status, tag, experiment_id. */
int attn_serve_list_runs(const attn_server *s, const attn_req *q, const char *repo, json_t **out,
                         attn_error *err);
/* The primary truth policy of a run: manifest.truth.primary or report. */
const char *attn_serve_primary(const json_t *report);
/* Parse a PR number (1..2^53); 0 on success. */
int attn_serve_parse_pr(const char *s, int64_t *out, attn_error *err);
/* The document of attn_compare_runs for two runs of repo, and the first
 * pair's per-PR ranks when ranks is not NULL (attn_compare_runs_ranks). */
int attn_serve_compare(const attn_server *s, const char *repo, const char *a, const char *b,
                       json_t **out, attn_compare_ranks *ranks, attn_error *err);
/* {router: {a, b, differs, diff}} for every prompt-like config value. */
json_t *attn_serve_prompt_diff(const json_t *man_a, const json_t *man_b);
/* One PR of a run: {pr, snapshot, truth, routes: {router: route}, per_pr}. */
int attn_serve_pr_detail(const json_t *row, int64_t pr, json_t **out, attn_error *err);

/* ---- handlers ---------------------------------------------------------------- */
void attn_serve_api(attn_server *s, const attn_req *q, attn_resp *r);       /* /api/... */
void attn_serve_page(attn_server *s, const attn_req *q, attn_resp *r);      /* HTML */
void attn_serve_webhook(attn_server *s, const attn_req *q, attn_resp *r);   /* /webhook */
/* Close the webhook writer's open stores (at stop). */
void attn_serve_close_stores(attn_server *s);

#endif
