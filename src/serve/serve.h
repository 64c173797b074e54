/*
 * serve.h - `attn serve`: the dashboard, the JSON API and the GitHub webhook
 * receiver over libmicrohttpd (SPEC §10, issue 11).
 *
 * Owns: the HTTP server's lifetime. Everything it shows is read through the
 * library's own APIs (run registry, compare, pack); mutations go through the
 * same registry calls `attn runs` makes, so their effects are identical.
 * Must never: listen beyond the address it is given, trust a path segment
 * or query value before attn_path checks it, or block a webhook writer
 * behind a reader (readers use SQLite WAL and never take the writer lock).
 */
#ifndef ATTN_SERVE_SERVE_H
#define ATTN_SERVE_SERVE_H

#include <stddef.h>
#include "util/error.h"

typedef struct {
    const char *data_dir;        /* every DATA/github/<o>/<r> is served */
    const char *bind;            /* default 127.0.0.1 */
    int port;                    /* 0: pick a free port */
    const char *push_secret;     /* ATTN_PUSH_SECRET; NULL or "": mutations refused */
    const char *webhook_secret;  /* ATTN_WEBHOOK_SECRET; NULL or "": webhooks refused */
    size_t max_body;             /* bytes; default 8 MiB */
    unsigned max_connections;    /* default 256 */
    unsigned timeout_s;          /* idle connection timeout; default 15 */
    unsigned threads;            /* worker threads; default 4 */
} attn_serve_opts;

void attn_serve_opts_init(attn_serve_opts *o);

typedef struct attn_server attn_server;

/* Start listening; the bound port goes to *port_out (may be NULL). */
int attn_serve_start(const attn_serve_opts *o, attn_server **out, int *port_out, attn_error *err);
void attn_serve_stop(attn_server *s);

#endif
