/*
 * bench_serve.c - attn serve over loopback with a bounded client.
 *
 * No arguments (what `make bench` runs): a registry of 1,000 runs, the
 * server started in this process on 127.0.0.1:0, and 64 keep-alive
 * connections each asking for the runs list (JSON, then the HTML page) a
 * fixed number of times: p50/p99/max latency (target p99 < 50 ms) and the
 * process's peak RSS. Client modes, used by bench/serve.sh against the real
 * binary:
 *   bench_serve --url URL --get PATH [--conns C] [--requests N]
 *   bench_serve --url URL --webhook FILE --secret S [--conns C]  (FILE: deliveries.py derive;
 *   C connections at once, default 1)
 */
#include "exp/registry.h"
#include "serve/serve.h"
#include "util/error.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int dial(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send req, read one response; returns the status or -1. */
static int roundtrip(int fd, const char *req, size_t len, char *buf, size_t cap)
{
    size_t got = 0, need = 0;
    char *hdr_end = NULL;
    if (write(fd, req, len) != (ssize_t)len)
        return -1;
    for (;;) {
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
        buf[got] = 0;
        if (!hdr_end && (hdr_end = strstr(buf, "\r\n\r\n"))) {
            char *cl = strstr(buf, "Content-Length:");
            need = (size_t)(hdr_end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
        }
        if (hdr_end && got >= need)
            break;
        if (got + 1 >= cap) { /* discard what was read of a large body */
            size_t keep = 0;
            need -= got - keep;
            got = keep;
        }
    }
    return atoi(buf + 9);
}

typedef struct {
    int port, n;
    const char *path;
    double *lat;
    int errors;
} worker;

static void *get_worker(void *arg)
{
    worker *w = arg;
    char req[1024], *buf = malloc(1 << 20);
    int fd = dial(w->port);
    size_t len = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", w->path);
    for (int i = 0; i < w->n; i++) {
        double t0 = now_ms();
        if (fd < 0 || roundtrip(fd, req, len, buf, 1 << 20) != 200) {
            w->errors++;
            if (fd >= 0)
                close(fd);
            fd = dial(w->port);
        }
        w->lat[i] = now_ms() - t0;
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int load(int port, const char *path, int conns, int per, const char *label)
{
    worker *w = calloc((size_t)conns, sizeof(*w));
    pthread_t *t = calloc((size_t)conns, sizeof(*t));
    double *all = calloc((size_t)(conns * per), sizeof(double)), t0, wall, first;
    int errors = 0;
    /* One request alone first: what the first person to open the page waits
     * (the render); the timed load then measures the steady state. */
    worker one = {port, 1, path, &first, 0};
    get_worker(&one);
    printf("serve %-28s first request (cold): %.1f ms\n", label, first);
    t0 = now_ms();
    for (int i = 0; i < conns; i++) {
        w[i] = (worker){port, per, path, all + i * per, 0};
        pthread_create(&t[i], NULL, get_worker, &w[i]);
    }
    for (int i = 0; i < conns; i++) {
        pthread_join(t[i], NULL);
        errors += w[i].errors;
    }
    wall = now_ms() - t0;
    qsort(all, (size_t)(conns * per), sizeof(double), cmp_d);
    printf("serve %-28s %d conns x %d: p50 %.1f ms  p99 %.1f ms  max %.1f ms  %.0f req/s  errors %d\n",
           label, conns, per, all[conns * per / 2], all[conns * per * 99 / 100],
           all[conns * per - 1], conns * per / (wall / 1e3), errors);
    free(w);
    free(t);
    free(all);
    return errors ? 1 : 0;
}

typedef struct {
    int port, conns, t, ok;
    const json_t *ds;
    const char *secret;
} hook_worker;

/* Deliveries t, t + conns, t + 2 conns, ... over one keep-alive connection. */
static void *hook_thread(void *arg)
{
    hook_worker *w = arg;
    char *buf = malloc(1 << 20), hex[65];
    int fd = dial(w->port);
    for (size_t i = (size_t)w->t; fd >= 0 && i < json_array_size(w->ds); i += (size_t)w->conns) {
        const json_t *d = json_array_get(w->ds, i);
        const char *body = json_string_value(json_object_get(d, "body"));
        unsigned char md[32];
        unsigned int mdlen = 0;
        size_t blen = strlen(body), hl;
        char *req = malloc(blen + 1024);
        HMAC(EVP_sha256(), w->secret, (int)strlen(w->secret), (const unsigned char *)body, blen,
             md, &mdlen);
        for (unsigned k = 0; k < 32; k++)
            snprintf(hex + 2 * k, 3, "%02x", md[k]);
        hl = (size_t)snprintf(req, 1024,
                              "POST /webhook HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                              "X-GitHub-Event: %s\r\nX-GitHub-Delivery: %s\r\n"
                              "X-Hub-Signature-256: sha256=%s\r\nContent-Length: %zu\r\n\r\n",
                              json_string_value(json_object_get(d, "event")),
                              json_string_value(json_object_get(d, "delivery")), hex, blen);
        memcpy(req + hl, body, blen);
        if (roundtrip(fd, req, hl + blen, buf, 1 << 20) == 200)
            w->ok++;
        free(req);
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

/* The deliveries of FILE over `conns` connections at once (GitHub sends a
 * busy repository's deliveries concurrently; the server commits the ones
 * that arrive together as one batch). */
static int webhook(int port, const char *file, const char *secret, int conns)
{
    json_error_t je;
    json_t *ds = json_load_file(file, 0, &je);
    size_t n = json_array_size(ds);
    hook_worker *w = calloc((size_t)conns, sizeof(*w));
    pthread_t *t = calloc((size_t)conns, sizeof(*t));
    int ok = 0;
    double t0 = now_ms(), wall;
    if (!ds) {
        fprintf(stderr, "bench_serve: cannot read %s\n", file);
        return 1;
    }
    for (int i = 0; i < conns; i++) {
        w[i] = (hook_worker){port, conns, i, 0, ds, secret};
        pthread_create(&t[i], NULL, hook_thread, &w[i]);
    }
    for (int i = 0; i < conns; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
    }
    wall = now_ms() - t0;
    printf("serve webhook deliveries          %zu in %.0f ms over %d connections: %.0f/s "
           "(signature checked, %d applied or recognised)\n",
           n, wall, conns, n / (wall / 1e3), ok);
    free(w);
    free(t);
    json_decref(ds);
    return ok == (int)n ? 0 : 1;
}

static int standalone(void)
{
    char dir[] = "/tmp/attn-bench-serve-XXXXXX", path[512];
    attn_registry *reg = NULL;
    attn_server *srv = NULL;
    attn_serve_opts o;
    attn_error err;
    struct rusage ru;
    int port = 0, rc = 0;
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "mkdir -p %s/github/bench/serve", dir);
    if (system(path))
        return 1;
    snprintf(path, sizeof(path), "%s/github/bench/serve/runs.sqlite", dir);
    if (attn_registry_open(path, &reg, &err)) {
        fprintf(stderr, "bench_serve: %s\n", err.msg);
        return 1;
    }
    for (int i = 0; i < 1000; i++) {
        char id[64];
        json_t *head = json_pack("{s:{s:f, s:f, s:i}, s:{s:f, s:f, s:i}}", "popularity", "mrr",
                                 0.4 + i % 10 / 100.0, "hit_at_1", 0.25, "n", 5000, "hybrid", "mrr",
                                 0.5, "hit_at_1", 0.3, "n", 5000);
        json_t *tags = json_pack("[s]", i % 3 ? "nightly" : "manual");
        snprintf(id, sizeof(id), "run-%04d", i);
        attn_run_start s = {id, i % 50 ? "experimental" : "baseline", NULL, "spechash", "cohorthash",
                            "0.2.0", NULL, "/nonexistent", tags, 1700000000 + i * 60};
        attn_run_finish f = {"inputs", NULL, NULL, head, 1700000000, 1700000000 + i * 60 + 30, 30000,
                             5000, 1, 0, NULL, NULL};
        if (attn_registry_start(reg, &s, &err) || attn_registry_complete(reg, id, &f, &err)) {
            fprintf(stderr, "bench_serve: %s\n", err.msg);
            return 1;
        }
        json_decref(head);
        json_decref(tags);
    }
    attn_registry_close(reg);
    attn_serve_opts_init(&o);
    o.data_dir = dir;
    o.port = 0;
    if (attn_serve_start(&o, &srv, &port, &err)) {
        fprintf(stderr, "bench_serve: %s\n", err.msg);
        return 1;
    }
    rc |= load(port, "/api/runs?repo=bench/serve", 64, 30, "GET /api/runs (1,000 runs)");
    rc |= load(port, "/runs?repo=bench/serve", 64, 30, "GET /runs page (1,000 runs)");
    attn_serve_stop(srv);
    getrusage(RUSAGE_SELF, &ru);
    printf("serve peak RSS (server + client threads): %ld MB\n", ru.ru_maxrss / 1024);
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    rc |= system(path) != 0;
    return rc;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *get = NULL, *hook = NULL, *secret = "";
    int conns = 0, requests = 20, port;
    if (argc == 1)
        return standalone();
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--url")) url = argv[i + 1];
        else if (!strcmp(argv[i], "--get")) get = argv[i + 1];
        else if (!strcmp(argv[i], "--webhook")) hook = argv[i + 1];
        else if (!strcmp(argv[i], "--secret")) secret = argv[i + 1];
        else if (!strcmp(argv[i], "--conns")) conns = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--requests")) requests = atoi(argv[i + 1]);
    }
    if (!url || !strstr(url, "127.0.0.1:") || (!get && !hook)) {
        fprintf(stderr, "usage: bench_serve [--url http://127.0.0.1:PORT (--get PATH [--conns C] "
                        "[--requests N] | --webhook FILE --secret S)]\n");
        return 2;
    }
    port = atoi(strstr(url, "127.0.0.1:") + 10);
    if (!conns)
        conns = get ? 64 : 1;
    if (conns < 1 || conns > 256 || requests < 1 || requests > 10000)
        return 2;
    return get ? load(port, get, conns, requests, get) : webhook(port, hook, secret, conns);
}
