/*
 * test_gh_client.c - github/client.c against tests/fakegh/fakegh.py (started
 * here as a subprocess, one per test) and, where the fake cannot produce a
 * response (gzip, a secondary limit without Retry-After, checking the request
 * headers), against a tiny canned-response server forked in-process.
 *
 * The sleep hook records the waits the client asks for instead of sleeping,
 * so back-off and rate-limit tests run fast; in the primary-limit tests it
 * refills the fake's budget (POST /_fake/budget), as the reset would have.
 * Link parsing is data-driven from tests/data/gh_link_cases.txt.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "github/client.h"
#include "util/fs.h"

/* ---- fixture ------------------------------------------------------------------------------- */

typedef struct {
    double s[512];
    int n;
    double total;
    int refill_port;   /* > 0: "sleeping" refills fakegh's budget on this port instead */
    int64_t fixed_now; /* > 0: the now hook returns this plus the recorded sleeps */
} sleeper;

/* POST a JSON body to fakegh's control endpoint; returns the HTTP status. */
static int fake_post(int port, const char *path, const char *json)
{
    struct sockaddr_in a;
    char req[512], resp[512];
    int s = socket(AF_INET, SOCK_STREAM, 0), status = -1;
    ssize_t got;
    if (s < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    snprintf(req, sizeof(req),
             "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
             path, strlen(json), json);
    if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        write(s, req, strlen(req)) == (ssize_t)strlen(req) &&
        (got = read(s, resp, sizeof(resp) - 1)) > 0) {
        resp[got] = '\0';
        sscanf(resp, "HTTP/1.%*d %d", &status);
    }
    close(s);
    return status;
}

typedef struct {
    char *dir;
    pid_t pid;         /* fakegh, 0 when not started */
    pid_t raw_pid;     /* canned-response server, 0 when not started */
    int port;
    char url[64];
    sleeper sl;
    attn_gh_client *c;
    attn_gh_response resp;
} fx;

static void rec_sleep(void *ctx, double secs)
{
    sleeper *s = ctx;
    if (s->n < (int)(sizeof(s->s) / sizeof(s->s[0])))
        s->s[s->n++] = secs;
    s->total += secs;
    /* The fake's window resets on the wall clock; rather than really wait for
     * it, the wait ends the way a reset would: the budget is full again. */
    if (s->refill_port > 0)
        assert_int_equal(fake_post(s->refill_port, "/_fake/budget", "{\"remaining\": 5000}"), 200);
}

static int64_t rec_now(void *ctx)
{
    sleeper *s = ctx;
    return s->fixed_now > 0 ? s->fixed_now + (int64_t)s->total : (int64_t)time(NULL);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->dir = test_tmpdir();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    /* Runs even when the test failed, so no server outlives its test. */
    attn_gh_client_free(f->c);
    attn_gh_response_free(&f->resp);
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        waitpid(f->pid, NULL, 0);
    }
    if (f->raw_pid > 0) {
        kill(f->raw_pid, SIGKILL);
        waitpid(f->raw_pid, NULL, 0);
    }
    attn_fs_remove_tree(f->dir, NULL);
    free(f->dir);
    free(f);
    return 0;
}

/* Start fakegh with extra arguments (NULL-terminated) and wait for its port file. */
static void fake_start(fx *f, const char *const *extra)
{
    char root[1024], script[1100], bundle[1100], pf[600], logf[600], errf[600];
    const char *argv[64];
    int n = 0;
    const char *r = getenv("ATTN_ROOT");

    snprintf(root, sizeof(root), "%s", r ? r : ".");
    snprintf(script, sizeof(script), "%s/tests/fakegh/fakegh.py", root);
    snprintf(bundle, sizeof(bundle), "%s/tests/data/fakegh/tiny_bundle.json", root);
    snprintf(pf, sizeof(pf), "%s/port", f->dir);
    snprintf(logf, sizeof(logf), "%s/fakegh.log", f->dir);
    snprintf(errf, sizeof(errf), "%s/fakegh.err", f->dir);
    argv[n++] = "python3";
    argv[n++] = script;
    argv[n++] = "--bundle";
    argv[n++] = bundle;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--port-file";
    argv[n++] = pf;
    argv[n++] = "--log";
    argv[n++] = logf;
    argv[n++] = "--max-lifetime";
    argv[n++] = "60";
    for (int i = 0; extra && extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;

    fflush(NULL);
    f->pid = fork();
    assert_true(f->pid >= 0);
    if (f->pid == 0) {
        int fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (nul >= 0)
            dup2(nul, 0);
        execvp("python3", (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {   /* up to 10 s */
        FILE *pfile = fopen(pf, "r");
        int port = 0;
        if (pfile) {
            if (fscanf(pfile, "%d", &port) == 1 && port > 0) {
                fclose(pfile);
                f->port = port;
                snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", port);
                return;
            }
            fclose(pfile);
        }
        if (waitpid(f->pid, NULL, WNOHANG) == f->pid) {
            f->pid = 0;
            fail_msg("fakegh exited before listening (see %s)", errf);
        }
        usleep(50000);
    }
    fail_msg("fakegh did not write its port file within 10 s");
}

static void opts_for(fx *f, attn_gh_options *o)
{
    attn_gh_options_init(o);
    o->api_url = f->url;
    o->user_agent = "attn-test/1";
    o->timeout_s = 10;
    o->connect_timeout_s = 5;
    o->max_retries = 5;
    o->rate_reserve = 0;
    o->max_wait_s = 60;
    o->backoff_base_s = 0.01;
    o->secondary_base_s = 2.0;
    o->jitter_seed = 42;
    o->sleep = rec_sleep;
    o->now = rec_now;
    o->hook_ctx = &f->sl;
}

static void client_new(fx *f, const attn_gh_options *o)
{
    attn_error err;
    attn_error_clear(&err);
    if (attn_gh_client_new(o, &f->c, &err) != 0)
        fail_msg("client: %s", err.msg);
}

/* The fake's /_fake/stats, fetched with a separate client so it does not
 * disturb the counters under test (control endpoints are never faulted). */
static json_t *fake_stats(fx *f)
{
    attn_gh_options o;
    attn_gh_client *c = NULL;
    attn_gh_response r = {0};
    attn_error err;
    json_t *j;
    attn_gh_options_init(&o);
    o.api_url = f->url;
    assert_int_equal(attn_gh_client_new(&o, &c, &err), 0);
    if (attn_gh_get(c, "/_fake/stats", NULL, NULL, &r, &err) != 0)
        fail_msg("stats: %s", err.msg);
    j = json_loadb(r.body.ptr, r.body.len, 0, NULL);
    assert_non_null(j);
    attn_gh_response_free(&r);
    attn_gh_client_free(c);
    return j;
}

static int64_t stat_i64(fx *f, const char *key, const char *sub)
{
    json_t *j = fake_stats(f), *v = json_object_get(j, key);
    int64_t x;
    if (sub)
        v = json_object_get(v, sub);
    x = json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
    json_decref(j);
    return x;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Follow rel="next" from first; collect the "id" of every item; every body must be JSON. */
static int paginate(fx *f, const char *first, int64_t *ids, int cap, int *nids, int *pages,
                    attn_error *err)
{
    char url[2048];
    int rc;
    *nids = *pages = 0;
    snprintf(url, sizeof(url), "%s", first);
    for (;;) {
        json_t *arr, *it;
        size_t i;
        rc = attn_gh_get(f->c, url, NULL, NULL, &f->resp, err);
        if (rc)
            return rc;
        assert_int_equal(f->resp.status, 200);
        arr = json_loadb(f->resp.body.ptr, f->resp.body.len, 0, NULL);
        if (!json_is_array(arr))
            fail_msg("page %s is not a complete JSON array (%zu bytes)", url, f->resp.body.len);
        json_array_foreach(arr, i, it)
        {
            assert_true(*nids < cap);
            ids[(*nids)++] = (int64_t)json_integer_value(json_object_get(it, "id"));
        }
        json_decref(arr);
        (*pages)++;
        if (!f->resp.next_url[0])
            return 0;
        snprintf(url, sizeof(url), "%s", f->resp.next_url);
    }
}

/* All 21 issue events of the tiny bundle, once each. */
static void assert_all_events(const int64_t *ids0, int n)
{
    int64_t ids[64];
    assert_int_equal(n, 21);
    memcpy(ids, ids0, (size_t)n * sizeof(ids[0]));
    qsort(ids, (size_t)n, sizeof(ids[0]), cmp_i64);
    for (int i = 1; i < n; i++)
        assert_true(ids[i] != ids[i - 1]);
}

#define EVENTS "/repos/acme/widgets/issues/events?per_page=5"

/* ---- canned-response server ---------------------------------------------------------------- */

/*
 * Serve responses[0..n-1], one per connection (each says Connection: close),
 * appending every request head to <dir>/requests. Returns the port. The
 * child exits after the last response, or after 10 s whatever happens.
 */
static int raw_start(fx *f, const char *const *responses, const size_t *lens, int n)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    char reqf[600];
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    assert_true(s >= 0);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s, 8), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    snprintf(reqf, sizeof(reqf), "%s/requests", f->dir);
    fflush(NULL);
    f->raw_pid = fork();
    assert_true(f->raw_pid >= 0);
    if (f->raw_pid == 0) {
        alarm(10);
        for (int i = 0; i < n; i++) {
            char buf[8192];
            size_t got = 0;
            int cfd = accept(s, NULL, NULL);
            FILE *rf;
            if (cfd < 0)
                _exit(1);
            while (got < sizeof(buf) - 1) {
                ssize_t k = read(cfd, buf + got, sizeof(buf) - 1 - got);
                if (k <= 0)
                    break;
                got += (size_t)k;
                buf[got] = '\0';
                if (strstr(buf, "\r\n\r\n"))
                    break;
            }
            rf = fopen(reqf, "a");
            if (rf) {
                fwrite(buf, 1, got, rf);
                fclose(rf);
            }
            if (write(cfd, responses[i], lens[i]) < 0)
                _exit(1);
            shutdown(cfd, SHUT_WR);
            while (read(cfd, buf, sizeof(buf)) > 0)
                ;
            close(cfd);
        }
        _exit(0);
    }
    close(s);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", ntohs(a.sin_port));
    return ntohs(a.sin_port);
}

static void read_requests(fx *f, attn_buf *out)
{
    char p[600];
    attn_error err;
    snprintf(p, sizeof(p), "%s/requests", f->dir);
    if (attn_fs_read_file(p, out, &err) != 0)
        fail_msg("%s", err.msg);
}

/* ---- Link parsing ------------------------------------------------------------------------- */

static void test_link_cases(void **state)
{
    char path[1024], line[4096], out[2048];
    int n = 0;
    FILE *fp;
    (void)state;
    test_data_path("gh_link_cases.txt", path, sizeof(path));
    fp = fopen(path, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp)) {
        char *t1, *t2, *nl = strchr(line, '\n');
        int rc;
        if (nl)
            *nl = '\0';
        if (line[0] == '#' || !(t1 = strchr(line, '\t')) || !(t2 = strchr(t1 + 1, '\t')))
            continue;
        *t1 = *t2 = '\0';
        strcpy(out, "junk");
        rc = attn_gh_link_find(t2 + 1, line, out, sizeof(out));
        if (!strcmp(t1 + 1, "-")) {
            if (rc != 0 || out[0])
                fail_msg("rel=%s in '%s': want not found, got %d '%s'", line, t2 + 1, rc, out);
        } else {
            const char *want = strcmp(t1 + 1, "=") ? t1 + 1 : "";
            if (rc != 1 || strcmp(out, want))
                fail_msg("rel=%s in '%s': want '%s', got %d '%s'", line, t2 + 1, want, rc, out);
        }
        n++;
    }
    fclose(fp);
    assert_true(n >= 40);
}

static void test_link_edge(void **state)
{
    char small[16];
    (void)state;
    /* Too long for the buffer: -1 and an empty string, never a truncated URL. */
    strcpy(small, "junk");
    assert_int_equal(attn_gh_link_find("<http://h/page=22>; rel=\"next\"", "next", small,
                                       sizeof(small)), -1);
    assert_string_equal(small, "");
    assert_int_equal(attn_gh_link_find("<http://h/p>; rel=\"next\"", "next", small,
                                       sizeof(small)), 1);
    assert_string_equal(small, "http://h/p");
    assert_int_equal(attn_gh_link_find(NULL, "next", small, sizeof(small)), 0);
    assert_int_equal(attn_gh_link_find("<http://h/p>; rel=\"\"", "", small, sizeof(small)), 0);
}

/* ---- against fakegh ------------------------------------------------------------------------ */

static void test_pagination_keepalive(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    int64_t ids[64];
    int n, pages;
    fake_start(f, NULL);
    opts_for(f, &o);
    client_new(f, &o);
    /* The first page knows the last one. */
    assert_int_equal(attn_gh_get(f->c, EVENTS, NULL, NULL, &f->resp, &err), 0);
    assert_non_null(strstr(f->resp.last_url, "page=5"));
    assert_non_null(strstr(f->resp.next_url, "page=2"));
    assert_true(f->resp.etag[0] == '"');
    assert_true(f->resp.last_modified[0] != '\0');
    assert_int_equal(f->resp.rate_limit, 5000);
    if (paginate(f, EVENTS, ids, 64, &n, &pages, &err))
        fail_msg("%s", err.msg);
    assert_all_events(ids, n);
    assert_int_equal(pages, 5);
    assert_string_equal(f->resp.last_url, "");   /* the last page has no rel="last" */
    const attn_gh_stats *st = attn_gh_client_stats(f->c);
    assert_int_equal(st->requests, 6);
    assert_int_equal(st->retries, 0);
    assert_int_equal(st->rate_remaining, 5000 - 6);
    assert_int_equal(st->connects, 1);   /* one keep-alive connection for all six */
    assert_int_equal(f->sl.n, 0);
    assert_int_equal(stat_i64(f, "requests", NULL), 6);
}

static void test_conditional_304(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    char etag[256], lm[64];
    int64_t counted;
    fake_start(f, NULL);
    opts_for(f, &o);
    client_new(f, &o);
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets/pulls?state=all", NULL, NULL,
                                 &f->resp, &err), 0);
    assert_int_equal(f->resp.status, 200);
    assert_true(f->resp.body.len > 10);
    snprintf(etag, sizeof(etag), "%s", f->resp.etag);
    snprintf(lm, sizeof(lm), "%s", f->resp.last_modified);
    counted = stat_i64(f, "counted", NULL);
    assert_int_equal(counted, 1);

    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets/pulls?state=all", etag, NULL,
                                 &f->resp, &err), 0);
    assert_int_equal(f->resp.status, 304);
    assert_int_equal(f->resp.body.len, 0);
    assert_string_equal(f->resp.etag, etag);
    /* If-Modified-Since alone also answers 304. */
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets/pulls?state=all", NULL, lm,
                                 &f->resp, &err), 0);
    assert_int_equal(f->resp.status, 304);
    /* A stale ETag gets the full page. */
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets/pulls?state=all", "\"stale\"", NULL,
                                 &f->resp, &err), 0);
    assert_int_equal(f->resp.status, 200);
    assert_true(f->resp.body.len > 10);

    assert_int_equal(attn_gh_client_stats(f->c)->not_modified, 2);
    assert_int_equal(stat_i64(f, "not_modified", NULL), 2);
    assert_int_equal(stat_i64(f, "counted", NULL), counted + 1);   /* the 304s cost nothing */
}

static void test_5xx_retried(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    int64_t ids[64];
    int n, pages;
    const char *args[] = {"--fail-rate", "0.3", "--seed", "1", NULL};
    fake_start(f, args);
    opts_for(f, &o);
    client_new(f, &o);
    if (paginate(f, EVENTS, ids, 64, &n, &pages, &err))
        fail_msg("%s", err.msg);
    assert_all_events(ids, n);
    const attn_gh_stats *st = attn_gh_client_stats(f->c);
    int64_t injected = stat_i64(f, "faults_injected", "5xx");
    assert_true(injected > 0);
    assert_int_equal(st->retries, injected);
    assert_int_equal(st->requests, 5 + injected);
    assert_int_equal(f->sl.n, injected);   /* one back-off per retry */
    for (int i = 0; i < f->sl.n; i++)
        assert_true(f->sl.s[i] >= 0.005 && f->sl.s[i] <= 0.01 * 32);
}

static void test_5xx_bounded(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    const char *args[] = {"--fail-rate", "1", NULL};
    fake_start(f, args);
    opts_for(f, &o);
    o.max_retries = 3;
    o.backoff_base_s = 1.0;
    client_new(f, &o);
    assert_int_equal(attn_gh_get(f->c, EVENTS, NULL, NULL, &f->resp, &err), ATTN_EHTTP);
    assert_non_null(strstr(err.msg, "after 4 attempts"));
    assert_non_null(strstr(err.msg, "/issues/events"));
    assert_int_equal(stat_i64(f, "requests", NULL), 4);
    assert_int_equal(f->sl.n, 3);
    /* Exponential with equal jitter: attempt k waits in [2^k/2, 2^k] s. */
    for (int k = 0; k < 3; k++)
        assert_true(f->sl.s[k] >= (double)(1 << k) / 2 && f->sl.s[k] <= (double)(1 << k));
    assert_true(f->resp.status >= 500);
}

static void test_secondary_retry_after(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    int64_t ids[64];
    int n, pages;
    const char *args[] = {"--secondary-every", "3", NULL};
    fake_start(f, args);
    opts_for(f, &o);
    client_new(f, &o);
    if (paginate(f, EVENTS, ids, 64, &n, &pages, &err))
        fail_msg("%s", err.msg);
    assert_all_events(ids, n);
    const attn_gh_stats *st = attn_gh_client_stats(f->c);
    assert_int_equal(st->secondary_waits, stat_i64(f, "faults_injected", "secondary"));
    assert_true(st->secondary_waits >= 2);
    for (int i = 0; i < f->sl.n; i++)
        assert_true(f->sl.s[i] == 1.0);   /* Retry-After: 1, not the 2 s base */
    assert_int_equal(f->sl.n, st->secondary_waits);
}

static void test_secondary_429(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    const char *args[] = {"--secondary-every", "1", "--secondary-status", "429",
                          "--retry-after", "7", NULL};
    fake_start(f, args);
    opts_for(f, &o);
    client_new(f, &o);
    /* Every request is limited: bounded waits, then a clear error. */
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets", NULL, NULL, &f->resp, &err),
                     ATTN_EHTTP);
    assert_non_null(strstr(err.msg, "still rate limited"));
    assert_non_null(strstr(err.msg, "rerun later"));
    assert_int_equal(f->sl.n, 5);
    assert_true(f->sl.s[0] == 7.0);
    assert_int_equal(stat_i64(f, "requests", NULL), 6);
}

static void test_primary_prewait(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    int64_t ids[64];
    int n, pages;
    const char *args[] = {"--exhaust-after", "2", "--reset-seconds", "2", NULL};
    fake_start(f, args);
    opts_for(f, &o);
    o.rate_reserve = 1;
    f->sl.refill_port = f->port;
    client_new(f, &o);
    if (paginate(f, "/repos/acme/widgets/issues/events?per_page=10", ids, 64, &n, &pages, &err))
        fail_msg("%s", err.msg);
    assert_all_events(ids, n);
    const attn_gh_stats *st = attn_gh_client_stats(f->c);
    assert_int_equal(st->primary_waits, 1);
    assert_int_equal(f->sl.n, 1);
    assert_true(f->sl.s[0] >= 1.0 && f->sl.s[0] <= 4.0);   /* until reset + 1 s */
    assert_true(st->waited_s == f->sl.s[0]);
    /* It waited before running dry: the fake never had to refuse a request. */
    assert_int_equal(stat_i64(f, "rate_limited", NULL), 0);
    assert_int_equal(st->requests, 3);
}

static void test_primary_403_then_continue(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    int64_t ids[64];
    int n, pages;
    const char *args[] = {"--exhaust-after", "2", "--reset-seconds", "2", NULL};
    fake_start(f, args);
    opts_for(f, &o);
    o.rate_reserve = 0;   /* no reserve: run into the 403, which must be read as a primary limit */
    f->sl.refill_port = f->port;
    client_new(f, &o);
    if (paginate(f, "/repos/acme/widgets/issues/events?per_page=10", ids, 64, &n, &pages, &err))
        fail_msg("%s", err.msg);
    assert_all_events(ids, n);
    const attn_gh_stats *st = attn_gh_client_stats(f->c);
    assert_int_equal(st->primary_waits, 1);
    assert_int_equal(st->secondary_waits, 0);
    assert_true(f->sl.s[0] >= 1.0 && f->sl.s[0] <= 4.0);
    assert_int_equal(stat_i64(f, "rate_limited", NULL), 1);
    assert_int_equal(st->requests, 4);
    assert_int_equal(st->retries, 1);
}

static void test_max_wait_exceeded(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    const char *args[] = {"--exhaust-after", "1", NULL};   /* window of 3600 s */
    fake_start(f, args);
    opts_for(f, &o);
    o.max_wait_s = 60;
    client_new(f, &o);
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets", NULL, NULL, &f->resp, &err), 0);
    assert_int_equal(f->resp.rate_remaining, 0);
    /* No reserve: the 403 says Remaining 0 and a reset an hour away. */
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets", NULL, NULL, &f->resp, &err),
                     ATTN_EHTTP);
    assert_non_null(strstr(err.msg, "rate limit exhausted until 20"));
    assert_non_null(strstr(err.msg, "Z "));
    assert_non_null(strstr(err.msg, "rerun later to resume (nothing is lost)"));
    assert_null(strchr(err.msg, '\n'));
    assert_int_equal(f->sl.n, 0);
    assert_int_equal(stat_i64(f, "rate_limited", NULL), 1);

    /* With a reserve the client stops before sending anything. */
    attn_gh_client_free(f->c);
    f->c = NULL;
    o.rate_reserve = 10;
    client_new(f, &o);
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets", NULL, NULL, &f->resp, &err),
                     ATTN_EHTTP);   /* learns Remaining 0 from the 403 */
    int64_t before = stat_i64(f, "requests", NULL);
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets", NULL, NULL, &f->resp, &err),
                     ATTN_EHTTP);
    assert_non_null(strstr(err.msg, "rate limit exhausted until"));
    assert_int_equal(stat_i64(f, "requests", NULL), before);
}

static void test_truncated_retried(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    int64_t ids[64];
    int n, pages;
    const char *args[] = {"--truncate-rate", "0.3", "--truncate-mode", "short-read",
                          "--seed", "5", NULL};
    fake_start(f, args);
    opts_for(f, &o);
    client_new(f, &o);
    if (paginate(f, EVENTS, ids, 64, &n, &pages, &err))   /* paginate checks each body parses */
        fail_msg("%s", err.msg);
    assert_all_events(ids, n);
    int64_t truncated = stat_i64(f, "faults_injected", "truncated");
    assert_true(truncated > 0);
    assert_int_equal(attn_gh_client_stats(f->c)->retries, truncated);
}

static void test_malformed_body_exposed(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    const char *args[] = {"--malformed", "/repos/acme/widgets/labels", NULL};
    fake_start(f, args);
    opts_for(f, &o);
    client_new(f, &o);
    /* Complete but invalid JSON is the caller's business: no retry, body handed over. */
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets/labels", NULL, NULL, &f->resp, &err),
                     0);
    assert_int_equal(f->resp.status, 200);
    assert_true(f->resp.body.len > 0);
    assert_null(json_loadb(f->resp.body.ptr, f->resp.body.len, 0, NULL));
    assert_int_equal(attn_gh_client_stats(f->c)->retries, 0);
}

static void test_404_422_no_retry(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    fake_start(f, NULL);
    opts_for(f, &o);
    client_new(f, &o);
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets/pulls/999", NULL, NULL, &f->resp,
                                 &err), ATTN_ENOTFOUND);
    assert_non_null(strstr(err.msg, "/repos/acme/widgets/pulls/999"));
    assert_non_null(strstr(err.msg, "404 Not Found"));
    assert_int_equal(f->resp.status, 404);
    assert_int_equal(stat_i64(f, "requests", NULL), 1);
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets/issues?since=yesterday", NULL, NULL,
                                 &f->resp, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "422"));
    assert_int_equal(stat_i64(f, "requests", NULL), 2);
    assert_int_equal(attn_gh_client_stats(f->c)->retries, 0);
    assert_int_equal(f->sl.n, 0);
}

static void test_401_token_never_shown(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    static const char *bad = "ghp_wrongSECRETtoken1234567890";
    const char *args[] = {"--token", "ghp_theRIGHTtoken", NULL};
    fake_start(f, args);
    opts_for(f, &o);
    o.token = bad;
    client_new(f, &o);
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets", NULL, NULL, &f->resp, &err),
                     ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "GITHUB_TOKEN was rejected by 127.0.0.1:"));
    assert_non_null(strstr(err.msg, "401 Bad credentials"));
    assert_null(strstr(err.msg, bad));
    assert_null(strstr(err.msg, "SECRET"));
    assert_int_equal(stat_i64(f, "requests", NULL), 1);   /* not retried */
    /* Other failures with a token set never show it either. */
    assert_int_equal(attn_gh_get(f->c, "/nope", NULL, NULL, &f->resp, &err), ATTN_EINVAL);
    assert_null(strstr(err.msg, "SECRET"));
    attn_gh_client_free(f->c);
    f->c = NULL;

    o.token = "ghp_theRIGHTtoken";
    client_new(f, &o);
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets", NULL, NULL, &f->resp, &err), 0);
    assert_int_equal(f->resp.status, 200);
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets/pulls/999", NULL, NULL, &f->resp,
                                 &err), ATTN_ENOTFOUND);
    assert_null(strstr(err.msg, "RIGHTtoken"));
    attn_gh_client_free(f->c);
    f->c = NULL;

    o.token = NULL;   /* no token at all: a different, equally clear message */
    client_new(f, &o);
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets", NULL, NULL, &f->resp, &err),
                     ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "set GITHUB_TOKEN"));
}

static void test_timeout_retried(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    const char *args[] = {"--slow-rate", "1", "--slow-seconds", "3", NULL};
    fake_start(f, args);
    opts_for(f, &o);
    o.timeout_s = 1;
    o.max_retries = 1;
    client_new(f, &o);
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets", NULL, NULL, &f->resp, &err),
                     ATTN_EHTTP);
    assert_non_null(strstr(err.msg, "timed out"));
    assert_non_null(strstr(err.msg, "after 2 attempts"));
    assert_int_equal(attn_gh_client_stats(f->c)->requests, 2);
    assert_int_equal(f->resp.body.len, 0);
}

/* ---- without fakegh ---------------------------------------------------------------------- */

static void test_connection_refused(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    /* Bind a port, then close it: nothing listens there now. */
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    close(s);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", ntohs(a.sin_port));
    opts_for(f, &o);
    o.max_retries = 2;
    o.token = "ghp_SECRETconnrefused";
    client_new(f, &o);
    assert_int_equal(attn_gh_get(f->c, "/repos/acme/widgets/pulls?state=all", NULL, NULL,
                                 &f->resp, &err), ATTN_EHTTP);
    assert_non_null(strstr(err.msg, f->url));
    assert_non_null(strstr(err.msg, "/repos/acme/widgets/pulls?state=all"));
    assert_non_null(strstr(err.msg, "after 3 attempts"));
    assert_null(strchr(err.msg, '\n'));
    assert_null(strstr(err.msg, "SECRET"));
    assert_int_equal(attn_gh_client_stats(f->c)->requests, 3);
    assert_int_equal(f->sl.n, 2);
    /* The same seed gives the same jitter. */
    double first[2] = {f->sl.s[0], f->sl.s[1]};
    attn_gh_client_free(f->c);
    f->c = NULL;
    f->sl.n = 0;
    client_new(f, &o);
    assert_int_equal(attn_gh_get(f->c, "/x", NULL, NULL, &f->resp, &err), ATTN_EHTTP);
    assert_true(f->sl.s[0] == first[0] && f->sl.s[1] == first[1]);
}

static const unsigned char GZ[] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x8b, 0xae, 0x56, 0xca, 0x4c,
    0x51, 0xb2, 0x32, 0xd4, 0x51, 0xca, 0x4b, 0xcc, 0x4d, 0x55, 0xb2, 0x52, 0x4a, 0xaf, 0xca,
    0x2c, 0x28, 0x48, 0x4d, 0x51, 0xaa, 0xd5, 0x81, 0xc8, 0x18, 0xc1, 0x65, 0x52, 0x52, 0x93,
    0xf3, 0x53, 0x40, 0x32, 0xb1, 0x00, 0x09, 0x95, 0xb0, 0xc3, 0x35, 0x00, 0x00, 0x00};

static void test_headers_gzip_link(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    attn_buf resp = ATTN_BUF_INIT, reqs = ATTN_BUF_INIT;
    const char *rs[1];
    size_t lens[1];
    attn_buf_printf(&resp,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    "Content-Encoding: gzip\r\nContent-Length: %zu\r\nConnection: close\r\n"
                    "ETag: W/\"e1\"\r\nlast-modified: Tue, 01 Oct 2024 10:00:00 GMT\r\n"
                    "Link: <http://x/p?page=1>; rel=\"prev\"\r\n"
                    "link: <http://x/p?page=3>; rel=\"next\", <http://x/p?page=9>; rel=\"last\"\r\n"
                    "X-RateLimit-Limit: 5000\r\nx-ratelimit-remaining: 4321\r\n"
                    "X-RateLimit-Reset: 1700000000\r\n\r\n",
                    sizeof(GZ));
    attn_buf_put(&resp, GZ, sizeof(GZ));
    rs[0] = resp.ptr;
    lens[0] = resp.len;
    raw_start(f, rs, lens, 1);
    opts_for(f, &o);
    o.token = "ghp_headerTOKEN";
    client_new(f, &o);
    if (attn_gh_get(f->c, "/repos/o/r/pulls?page=2", "\"abc\"", "ignored when etag given",
                    &f->resp, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(f->resp.body.ptr,
                        "[{\"id\":1,\"name\":\"gzipped\"},{\"id\":2,\"name\":\"decoded\"}]");
    assert_string_equal(f->resp.etag, "W/\"e1\"");
    assert_string_equal(f->resp.last_modified, "Tue, 01 Oct 2024 10:00:00 GMT");
    assert_string_equal(f->resp.next_url, "http://x/p?page=3");   /* from the second Link line */
    assert_string_equal(f->resp.last_url, "http://x/p?page=9");
    assert_int_equal(f->resp.rate_remaining, 4321);
    assert_int_equal(f->resp.rate_reset, 1700000000);
    assert_int_equal(attn_gh_client_stats(f->c)->rate_remaining, 4321);
    waitpid(f->raw_pid, NULL, 0);
    f->raw_pid = 0;
    read_requests(f, &reqs);
    assert_non_null(strstr(reqs.ptr, "GET /repos/o/r/pulls?page=2 HTTP/1.1\r\n"));
    assert_non_null(strstr(reqs.ptr, "\r\nAccept: application/vnd.github+json\r\n"));
    assert_non_null(strstr(reqs.ptr, "\r\nX-GitHub-Api-Version: 2022-11-28\r\n"));
    assert_non_null(strstr(reqs.ptr, "\r\nUser-Agent: attn-test/1\r\n"));
    assert_non_null(strstr(reqs.ptr, "\r\nAuthorization: Bearer ghp_headerTOKEN\r\n"));
    assert_non_null(strstr(reqs.ptr, "\r\nAccept-Encoding: "));
    assert_non_null(strstr(reqs.ptr, "gzip"));
    assert_non_null(strstr(reqs.ptr, "\r\nIf-None-Match: \"abc\"\r\n"));
    assert_null(strstr(reqs.ptr, "If-Modified-Since"));
    attn_buf_free(&resp);
    attn_buf_free(&reqs);
}

static void test_token_not_sent_elsewhere(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    attn_buf reqs = ATTN_BUF_INIT;
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]";
    const char *rs[1] = {ok};
    size_t lens[1] = {sizeof(ok) - 1};
    char other[128];
    raw_start(f, rs, lens, 1);
    snprintf(other, sizeof(other), "%s/elsewhere", f->url);
    /* api_url is another origin (same host, other port): the token must stay home. */
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:1");
    opts_for(f, &o);
    o.token = "ghp_stayHOME";
    client_new(f, &o);
    if (attn_gh_get(f->c, other, NULL, NULL, &f->resp, &err))
        fail_msg("%s", err.msg);
    waitpid(f->raw_pid, NULL, 0);
    f->raw_pid = 0;
    read_requests(f, &reqs);
    assert_non_null(strstr(reqs.ptr, "GET /elsewhere"));
    assert_null(strstr(reqs.ptr, "Authorization"));
    assert_null(strstr(reqs.ptr, "stayHOME"));
    attn_buf_free(&reqs);
}

static void test_secondary_message_backoff(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    static const char body[] = "{\"message\":\"You have exceeded a secondary rate limit. Please "
                               "wait a few minutes before you try again.\"}";
    char r403[512], r429[512];
    static const char ok[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"a\":1}\r\n";
    snprintf(r403, sizeof(r403),
             "HTTP/1.1 403 Forbidden\r\nContent-Length: %zu\r\nConnection: close\r\n"
             "X-RateLimit-Remaining: 4000\r\n\r\n%s",
             sizeof(body) - 1, body);
    snprintf(r429, sizeof(r429),
             "HTTP/1.1 429 Too Many Requests\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
             sizeof(body) - 1, body);
    const char *rs[3] = {r403, r429, ok};
    size_t lens[3] = {strlen(r403), strlen(r429), sizeof(ok) - 1};
    raw_start(f, rs, lens, 3);
    opts_for(f, &o);
    o.secondary_base_s = 2.0;
    client_new(f, &o);
    if (attn_gh_get(f->c, "/x", NULL, NULL, &f->resp, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(f->resp.status, 200);
    /* No Retry-After: exponential from secondary_base_s. */
    assert_int_equal(f->sl.n, 2);
    assert_true(f->sl.s[0] == 2.0 && f->sl.s[1] == 4.0);
    assert_int_equal(attn_gh_client_stats(f->c)->secondary_waits, 2);
    assert_true(attn_gh_client_stats(f->c)->waited_s == 6.0);
}

static void test_plain_403_not_retried(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    static const char r[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 52\r\nConnection: close\r\n"
                            "X-RateLimit-Remaining: 4000\r\n\r\n"
                            "{\"message\":\"Resource not accessible by integration\"}";
    const char *rs[1] = {r};
    size_t lens[1] = {sizeof(r) - 1};
    raw_start(f, rs, lens, 1);
    opts_for(f, &o);
    client_new(f, &o);
    assert_int_equal(attn_gh_get(f->c, "/x", NULL, NULL, &f->resp, &err), ATTN_EHTTP);
    assert_non_null(strstr(err.msg, "403 Resource not accessible by integration"));
    assert_int_equal(attn_gh_client_stats(f->c)->requests, 1);
    assert_int_equal(f->sl.n, 0);
}

/* A nearly spent search budget must not make core requests wait: the reserve
 * applies to X-RateLimit-Resource: core only. */
static void test_other_resource_budget_ignored(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    static const char search[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
        "X-RateLimit-Resource: search\r\nX-RateLimit-Remaining: 3\r\n"
        "X-RateLimit-Reset: 1700000030\r\n\r\n{}";
    static const char core[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
        "X-RateLimit-Resource: core\r\nX-RateLimit-Remaining: 4\r\n"
        "X-RateLimit-Reset: 1700000030\r\n\r\n{}";
    const char *rs[3] = {search, core, core};
    size_t lens[3] = {sizeof(search) - 1, sizeof(core) - 1, sizeof(core) - 1};
    raw_start(f, rs, lens, 3);
    opts_for(f, &o);
    o.rate_reserve = 50;
    f->sl.fixed_now = 1700000000;   /* both resets lie 30 s ahead */
    client_new(f, &o);
    if (attn_gh_get(f->c, "/search/issues?q=x", NULL, NULL, &f->resp, &err) ||
        attn_gh_get(f->c, "/repos/o/r", NULL, NULL, &f->resp, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(f->sl.n, 0);   /* search's 3 left did not trigger the core reserve */
    assert_string_equal(f->resp.rate_resource, "core");
    /* The core budget (4 left, below the default reserve of 50) does. */
    if (attn_gh_get(f->c, "/repos/o/r", NULL, NULL, &f->resp, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(f->sl.n, 1);
    assert_int_equal(attn_gh_client_stats(f->c)->primary_waits, 1);
}

static void test_progress_countdown(void **state)
{
    fx *f = *state;
    attn_gh_options o;
    attn_error err;
    attn_buf out = ATTN_BUF_INIT;
    char path[600];
    static const char r403[] =
        "HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\nConnection: close\r\n"
        "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 1700000002\r\n\r\n{}";
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]";
    const char *rs[2] = {r403, ok};
    size_t lens[2] = {sizeof(r403) - 1, sizeof(ok) - 1};
    int saved, fd;
    raw_start(f, rs, lens, 2);
    opts_for(f, &o);
    o.progress = 1;
    f->sl.fixed_now = 1700000000;   /* reset is 2 s away, +1 s of slack */
    client_new(f, &o);
    snprintf(path, sizeof(path), "%s/stderr", f->dir);
    fflush(stderr);
    saved = dup(2);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
    int rc = attn_gh_get(f->c, "/x", NULL, NULL, &f->resp, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(rc, 0);
    assert_int_equal(attn_fs_read_file(path, &out, &err), 0);
    assert_non_null(strstr(out.ptr, "\rwaiting 3 s for the GitHub rate limit to reset (0 left)"));
    assert_non_null(strstr(out.ptr, "\rwaiting 1 s for the GitHub rate limit to reset (0 left)"));
    assert_null(strchr(out.ptr, '\n'));   /* one line, redrawn */
    assert_int_equal(f->sl.n, 3);         /* 1 s steps so the countdown stays live */
    assert_true(f->sl.total == 3.0);
    assert_int_equal(attn_gh_client_stats(f->c)->primary_waits, 1);
    attn_buf_free(&out);
}

static void test_bad_options(void **state)
{
    attn_gh_options o;
    attn_gh_client *c = (attn_gh_client *)&o;
    attn_error err;
    (void)state;
    attn_gh_options_init(&o);
    assert_string_equal(o.api_url, "https://api.github.com");
    assert_int_equal(o.rate_reserve, 50);
    assert_int_equal(o.max_wait_s, 3600);
    assert_true(o.secondary_base_s == 60.0);
    o.api_url = "ftp://example.com";
    assert_int_equal(attn_gh_client_new(&o, &c, &err), ATTN_EINVAL);
    assert_null(c);
    assert_non_null(strstr(err.msg, "ftp://example.com"));
    o.api_url = "http://127.0.0.1:9/";
    assert_int_equal(attn_gh_client_new(&o, &c, &err), 0);
    attn_gh_response r = {0};
    assert_int_equal(attn_gh_get(c, "repos/o/r", NULL, NULL, &r, &err), ATTN_EINVAL);
    attn_gh_response_free(&r);
    attn_gh_client_free(c);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_cases),
        cmocka_unit_test(test_link_edge),
        cmocka_unit_test(test_bad_options),
        T(test_pagination_keepalive),
        T(test_conditional_304),
        T(test_5xx_retried),
        T(test_5xx_bounded),
        T(test_secondary_retry_after),
        T(test_secondary_429),
        T(test_secondary_message_backoff),
        T(test_plain_403_not_retried),
        T(test_primary_prewait),
        T(test_primary_403_then_continue),
        T(test_max_wait_exceeded),
        T(test_other_resource_budget_ignored),
        T(test_progress_countdown),
        T(test_truncated_retried),
        T(test_malformed_body_exposed),
        T(test_404_422_no_retry),
        T(test_401_token_never_shown),
        T(test_timeout_retried),
        T(test_connection_refused),
        T(test_headers_gzip_link),
        T(test_token_not_sent_elsewhere),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
