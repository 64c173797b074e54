/*
 * http.c - the libmicrohttpd plumbing of `attn serve`: start/stop, one
 * request's body, limits, dispatch, and turning an attn_resp into a reply.
 *
 * Owns: connection limits (count, per-IP count, header memory, idle
 * timeout), the body bound (413 before reading more), security headers, and
 * the secret comparison. Must never: call a handler before the whole body
 * is in, keep anything of one request in another, or compare a secret with
 * an early-exit compare.
 */
#include "serve/internal.h"
#include "util/alloc.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADERS 64

void attn_serve_opts_init(attn_serve_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->data_dir = "./data";
    o->bind = "127.0.0.1";
    o->max_body = 8u << 20;
    o->max_connections = 256;
    o->timeout_s = 15;
    o->threads = 4;
}

/* One request in flight: its body as it arrives. */
struct conn_state {
    attn_buf body;
    int too_big;
};

const char *attn_req_query(const attn_req *q, const char *key)
{
    return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *attn_req_header(const attn_req *q, const char *key)
{
    return MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, key);
}

void attn_resp_json(attn_resp *r, int status, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    r->status = status;
    r->type = "application/json";
    attn_buf_clear(&r->body);
    attn_buf_puts(&r->body, text ? text : "null");
    attn_buf_putc(&r->body, '\n');
    free(text);
    json_decref(v);
}

void attn_resp_error(attn_resp *r, int status, const char *code, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    attn_resp_json(r, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

void attn_resp_from_err(attn_resp *r, const attn_error *err)
{
    int status = 500;
    const char *code = "internal";
    switch (err->code) {
    case ATTN_EINVAL: status = 400; code = "bad_request"; break;
    case ATTN_ENOTFOUND: status = 404; code = "not_found"; break;
    case ATTN_ECONFLICT: status = 409; code = "conflict"; break;
    case ATTN_ECORRUPT: status = 500; code = "corrupt"; break;
    default: break;
    }
    attn_resp_error(r, status, code, "%s", err->msg[0] ? err->msg : "unknown error");
}

int attn_serve_secret_equal(const char *given, size_t given_len, const char *secret)
{
    unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
    if (!secret || !*secret || !given)
        return 0;
    SHA256((const unsigned char *)given, given_len, a);
    SHA256((const unsigned char *)secret, strlen(secret), b);
    return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    attn_buf *b = cls;
    attn_buf_printf(b, "&%s=%s", key, value ? value : "");
    return MHD_YES;
}

/* GETs whose answer depends only on the registries and run directories. */
static int cacheable(const attn_req *q)
{
    return (!strcmp(q->method, "GET") || !strcmp(q->method, "HEAD")) &&
           strcmp(q->path, "/webhook") && strcmp(q->path, "/live") &&
           strcmp(q->path, "/api/recommendations");
}

static void dispatch_cached(attn_server *s, const attn_req *q, attn_resp *r);

static void dispatch(attn_server *s, const attn_req *q, attn_resp *r)
{
    if (cacheable(q))
        dispatch_cached(s, q, r);
    else if (!strcmp(q->path, "/webhook"))
        attn_serve_webhook(s, q, r);
    else if (!strncmp(q->path, "/api/", 5) || !strcmp(q->path, "/api"))
        attn_serve_api(s, q, r);
    else
        attn_serve_page(s, q, r);
}

static void route(attn_server *s, const attn_req *q, attn_resp *r)
{
    if (!strncmp(q->path, "/api/", 5) || !strcmp(q->path, "/api"))
        attn_serve_api(s, q, r);
    else
        attn_serve_page(s, q, r);
}

static void dispatch_cached(attn_server *s, const attn_req *q, attn_resp *r)
{
    attn_buf key = ATTN_BUF_INIT;
    unsigned long long v = attn_serve_cache_validator(s);
    attn_buf_puts(&key, q->path);
    MHD_get_connection_values(q->conn, MHD_GET_ARGUMENT_KIND, add_arg, &key);
    if (!attn_serve_cache_get(s, attn_buf_cstr(&key), v, r)) {
        route(s, q, r);
        attn_serve_cache_put(s, attn_buf_cstr(&key), v, r);
    }
    attn_buf_free(&key);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, attn_resp *r)
{
    struct MHD_Response *mr;
    enum MHD_Result ok;
    size_t len = r->body.len;
    char *body = attn_buf_detach(&r->body);
    mr = MHD_create_response_from_buffer(len, body ? body : (void *)"", body ? MHD_RESPMEM_MUST_FREE
                                                                            : MHD_RESPMEM_PERSISTENT);
    if (!mr) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(mr, "Content-Type", r->type ? r->type : "text/plain; charset=utf-8");
    MHD_add_response_header(mr, "Cache-Control", "no-store");
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(mr, "Content-Security-Policy",
                            "default-src 'none'; style-src 'unsafe-inline'; "
                            "script-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
                            "form-action 'self'");
    if (r->location[0])
        MHD_add_response_header(mr, "Location", r->location);
    ok = MHD_queue_response(c, (unsigned)r->status, mr);
    MHD_destroy_response(mr);
    return ok;
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (*(int *)cls)++;
    return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_size, void **con_cls)
{
    attn_server *s = cls;
    struct conn_state *st = *con_cls;
    attn_resp r;
    attn_req q;
    enum MHD_Result ok;

    if (!st) {
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        int n_headers = 0;
        MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &n_headers);
        memset(&r, 0, sizeof(r));
        if (n_headers > MAX_HEADERS)
            attn_resp_error(&r, 431, "too_many_headers", "more than %d request headers",
                            MAX_HEADERS);
        else if (cl && strtoull(cl, NULL, 10) > s->opts.max_body)
            attn_resp_error(&r, 413, "payload_too_large", "request body over %zu bytes",
                            s->opts.max_body);
        if (r.status) /* answered before reading the body; MHD closes the connection */
            return send_resp(c, &r);
        if (!(st = calloc(1, sizeof(*st))))
            return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!st->too_big && st->body.len + *upload_size > s->opts.max_body) {
            st->too_big = 1;
            attn_buf_free(&st->body);
        }
        if (!st->too_big && attn_buf_put(&st->body, upload_data, *upload_size))
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    memset(&r, 0, sizeof(r));
    if (st->too_big) {
        attn_resp_error(&r, 413, "payload_too_large", "request body over %zu bytes",
                        s->opts.max_body);
    } else {
        q.method = method;
        q.path = url;
        q.conn = c;
        q.body = attn_buf_cstr(&st->body);
        q.body_len = st->body.len;
        dispatch(s, &q, &r);
    }
    ok = send_resp(c, &r);
    attn_buf_free(&r.body);
    return ok;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct conn_state *st = *con_cls;
    if (st) {
        attn_buf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

static void copy_secret(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

int attn_serve_start(const attn_serve_opts *o, attn_server **out, int *port_out, attn_error *err)
{
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;
    attn_server *s;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o->port);
    if (o->port < 0 || o->port > 65535)
        return attn_error_set(err, ATTN_EINVAL, "--port %d is not a port (0 to 65535)", o->port);
    if (inet_pton(AF_INET, o->bind, &sa.sin_addr) != 1)
        return attn_error_set(err, ATTN_EINVAL,
                              "--bind '%s' is not an IPv4 address (e.g. 127.0.0.1)", o->bind);
    s = attn_xcalloc(1, sizeof(*s));
    s->opts = *o;
    snprintf(s->data_dir, sizeof(s->data_dir), "%s", o->data_dir);
    s->opts.data_dir = s->data_dir;
    copy_secret(s->push_secret, sizeof(s->push_secret), o->push_secret);
    copy_secret(s->webhook_secret, sizeof(s->webhook_secret), o->webhook_secret);
    s->opts.push_secret = s->push_secret;
    s->opts.webhook_secret = s->webhook_secret;
    pthread_mutex_init(&s->write_mu, NULL);
    pthread_mutex_init(&s->cache_mu, NULL);
    pthread_mutex_init(&s->q_mu, NULL);
    pthread_cond_init(&s->q_cv, NULL);
    s->q_tail = &s->q_head;
    s->daemon = MHD_start_daemon(
        MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)o->port, NULL, NULL, handle, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads ? o->threads : 1),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_END);
    if (!s->daemon) {
        pthread_mutex_destroy(&s->write_mu);
        pthread_mutex_destroy(&s->cache_mu);
        pthread_mutex_destroy(&s->q_mu);
        pthread_cond_destroy(&s->q_cv);
        free(s);
        return attn_error_set(err, ATTN_EIO,
                              "cannot listen on %s:%d (in use, or not an address of this "
                              "machine); pick another --port or --bind",
                              o->bind, o->port);
    }
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (port_out)
        *port_out = info ? (int)info->port : o->port;
    *out = s;
    return 0;
}

void attn_serve_stop(attn_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    attn_serve_close_stores(s);
    attn_serve_cache_free(s);
    pthread_mutex_destroy(&s->write_mu);
    pthread_mutex_destroy(&s->cache_mu);
    pthread_mutex_destroy(&s->q_mu);
    pthread_cond_destroy(&s->q_cv);
    free(s);
}
