/*
 * test_octokit.c - github/client.c against recorded GitHub scenarios of
 * @octokit/fixtures (served by @octokit/fixtures-server 8.1.7, which pins
 * @octokit/fixtures 23.1.1), installed into build/npm by
 * scripts/install-npm-fixtures (make npm-fixtures; `make test` runs it).
 *
 * When the server is not installed (no npm, offline) or node is not on PATH,
 * the binary prints one "ok 1 - # SKIP ..." TAP line and exits 0. (cmocka's
 * skip() prints "not ok N # SKIP" in TAP mode, which tests/run.sh would
 * count as a failure.) When it is installed every test runs and must pass.
 *
 * How the fixtures server works, and what this test adapts:
 *  - One server (node .../octokit-fixtures-server --port N) runs for the
 *    whole group, on a free loopback port, with --fixtures-url
 *    http://127.0.0.1:N so that the URLs it rewrites into bodies and Link /
 *    Location headers are on the same origin as our api_url (the client
 *    sends the token only to that origin). It is polled on GET /ping for
 *    at most 15 s; PR_SET_PDEATHSIG and the group teardown make sure it
 *    never outlives the test.
 *  - Each test loads a scenario with POST /fixtures {"scenario": NAME}; the
 *    answer's "url" (http://127.0.0.1:N/api.github.com/<fixture-id>) is the
 *    client's api_url, so "/repos/o/r/..." paths join to
 *    http://127.0.0.1:N/api.github.com/<fixture-id>/repos/o/r/... .
 *  - The server replays the recorded requests strictly in order and nock
 *    matches the recorded request headers exactly. The recordings expect
 *    Octokit's legacy headers (Accept: application/vnd.github.v3+json,
 *    Authorization: token <t>, for get-archive also a fixed Accept-Encoding),
 *    while attn sends GitHub's current documented ones (Accept:
 *    application/vnd.github+json, Authorization: Bearer <t>, and libcurl's
 *    own Accept-Encoding). So the group setup copies each scenario's
 *    normalized-fixture.json into a scratch directory with reqheaders.accept
 *    and reqheaders.authorization rewritten to exactly what attn sends and
 *    reqheaders["accept-encoding"] dropped, and serves those (--fixtures
 *    '<dir>/<name>.json' glob; the file name is the scenario name). Responses, paths,
 *    query strings, status codes and order are the recorded ones, untouched.
 *    test_recorded_headers_enforced serves one scenario unmodified to show
 *    that the header check is real (so the adapted scenarios do verify
 *    attn's Accept and Authorization headers).
 *  - The token is the fixtures' normalized one, 0000...0001.
 *
 * Scenarios: paginate-issues (5 pages via Link rel="next", 13 issues),
 * get-repository (one object, ETag and rate-limit headers), search-issues
 * (an encoded query string passed through verbatim), branch-protection (its
 * first, recorded request: a GET answered 404 "Branch not protected"),
 * get-archive (a 302 to codeload followed, binary body), plus the server's
 * own 404 for an unknown fixture id.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "github/client.h"
#include "util/fs.h"

#define TOKEN "0000000000000000000000000000000000000001"
#define NPM_DIR "build/npm/node_modules"
#define SERVER_JS NPM_DIR "/@octokit/fixtures-server/bin/server.js"

static const char *const scenarios[] = {"paginate-issues", "get-repository", "search-issues",
                                        "branch-protection", "get-archive"};

/* ---- the fixtures server (one per group) ---------------------------------------------------- */

typedef struct {
    char root[1024];
    char *dir;         /* scratch: adapted fixtures, server log */
    pid_t pid;         /* node, 0 when not running */
    int port;
    char problem[1200]; /* why the server is not usable ("" when it is) */
} server;

static server srv;

static void root_path(const char *rel, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", srv.root, rel);
}

/* The recorded scenario, as @octokit/fixtures ships it. */
static json_t *load_scenario(const char *name)
{
    char p[1400];
    json_t *j;
    snprintf(p, sizeof(p), "%s/" NPM_DIR "/@octokit/fixtures/scenarios/api.github.com/%s/"
             "normalized-fixture.json", srv.root, name);
    j = json_load_file(p, 0, NULL);
    if (!json_is_array(j)) {
        /* npm may nest it under the server when it cannot hoist it. */
        json_decref(j);
        snprintf(p, sizeof(p), "%s/" NPM_DIR "/@octokit/fixtures-server/node_modules/"
                 "@octokit/fixtures/scenarios/api.github.com/%s/normalized-fixture.json",
                 srv.root, name);
        j = json_load_file(p, 0, NULL);
    }
    return json_is_array(j) ? j : (json_decref(j), NULL);
}

/* Write the scenario to <dir>/<as>.json, with attn's request headers if adapt. */
static int write_scenario(const char *name, const char *as, int adapt)
{
    char p[1400];
    size_t i;
    json_t *arr = load_scenario(name), *fx;
    int rc;
    if (!arr)
        return -1;
    json_array_foreach(arr, i, fx)
    {
        json_t *h = json_object_get(fx, "reqheaders");
        if (!adapt || !json_is_object(h))
            continue;
        json_object_set_new(h, "accept", json_string("application/vnd.github+json"));
        if (json_object_get(h, "authorization"))
            json_object_set_new(h, "authorization", json_string("Bearer " TOKEN));
        json_object_del(h, "accept-encoding");
    }
    snprintf(p, sizeof(p), "%s/%s.json", srv.dir, as);
    rc = json_dump_file(arr, p, JSON_COMPACT);
    json_decref(arr);
    return rc;
}

static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[4096], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/bin:/bin");
    for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char p[4200];
        snprintf(p, sizeof(p), "%s/%s", *d ? d : ".", prog);
        if (access(p, X_OK) == 0)
            return 1;
    }
    return 0;
}

static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int s = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (s < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    close(s);
    return port;
}

/*
 * One control request to the server (Connection: close), with a 5 s receive
 * timeout. Returns the HTTP status (-1 on a transport error) and, if body is
 * non-NULL, the response body (NUL-terminated, truncated to cap).
 */
static int control(const char *method, const char *path, const char *json, char *body, size_t cap)
{
    struct sockaddr_in a;
    struct timeval tv = {5, 0};
    char req[1024], resp[16384];
    size_t got = 0;
    int s = socket(AF_INET, SOCK_STREAM, 0), status = -1;
    const char *sep;
    if (body && cap)
        body[0] = '\0';
    if (s < 0)
        return -1;
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)srv.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    snprintf(req, sizeof(req),
             "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: application/json\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
             method, path, srv.port, json ? strlen(json) : 0, json ? json : "");
    if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        write(s, req, strlen(req)) != (ssize_t)strlen(req)) {
        close(s);
        return -1;
    }
    while (got < sizeof(resp) - 1) {
        ssize_t k = read(s, resp + got, sizeof(resp) - 1 - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(s);
    resp[got] = '\0';
    if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    if (body && cap && (sep = strstr(resp, "\r\n\r\n")))
        snprintf(body, cap, "%s", sep + 4);
    return status;
}

static void log_tail(char *out, size_t cap)
{
    char p[600];
    attn_buf b = ATTN_BUF_INIT;
    attn_error err;
    snprintf(p, sizeof(p), "%s/server.log", srv.dir);
    if (attn_fs_read_file(p, &b, &err) == 0 && b.len) {
        size_t from = b.len > 400 ? b.len - 400 : 0;
        snprintf(out, cap, "%.*s", (int)(b.len - from), b.ptr + from);
    } else {
        snprintf(out, cap, "(empty log)");
    }
    attn_buf_free(&b);
}

static void server_stop(void)
{
    if (srv.pid > 0) {
        kill(srv.pid, SIGTERM);
        for (int i = 0; i < 50 && waitpid(srv.pid, NULL, WNOHANG) == 0; i++)
            usleep(100000);   /* up to 5 s, then no more asking */
        if (waitpid(srv.pid, NULL, WNOHANG) == 0) {
            kill(srv.pid, SIGKILL);
            waitpid(srv.pid, NULL, 0);
        }
        srv.pid = 0;
    }
}

static int group_setup(void **state)
{
    char js[1200], glob[700], port_s[16], url_s[64], logf[600], tail[512];
    pid_t parent = getpid();
    (void)state;
    srv.dir = test_tmpdir();
    root_path(SERVER_JS, js, sizeof(js));
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
        if (write_scenario(scenarios[i], scenarios[i], 1) != 0) {
            snprintf(srv.problem, sizeof(srv.problem), "cannot read or adapt scenario %s",
                     scenarios[i]);
            return 0;
        }
    if (write_scenario("get-repository", "get-repository--recorded-headers", 0) != 0) {
        snprintf(srv.problem, sizeof(srv.problem), "cannot copy scenario get-repository");
        return 0;
    }
    srv.port = free_port();
    if (srv.port <= 0) {
        snprintf(srv.problem, sizeof(srv.problem), "no free port");
        return 0;
    }
    snprintf(glob, sizeof(glob), "%s/*.json", srv.dir);
    snprintf(port_s, sizeof(port_s), "%d", srv.port);
    snprintf(url_s, sizeof(url_s), "http://127.0.0.1:%d", srv.port);
    snprintf(logf, sizeof(logf), "%s/server.log", srv.dir);
    fflush(NULL);
    srv.pid = fork();
    if (srv.pid < 0) {
        srv.pid = 0;
        snprintf(srv.problem, sizeof(srv.problem), "fork failed");
        return 0;
    }
    if (srv.pid == 0) {
        int fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_RDONLY);
        const char *argv[] = {"node", js, "--port", port_s, "--fixtures-url", url_s,
                              "--log-level", "warn", "--ttl", "120000", "--fixtures", glob, NULL};
        /* Never outlive the test, even if it dies without its teardown. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (nul >= 0)
            dup2(nul, 0);
        if (chdir(srv.root) != 0)
            _exit(126);
        execvp("node", (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 150; i++) {   /* up to 15 s */
        char body[256];
        if (control("GET", "/ping", NULL, body, sizeof(body)) == 200 && strstr(body, "\"ok\""))
            return 0;
        if (waitpid(srv.pid, NULL, WNOHANG) == srv.pid) {
            srv.pid = 0;
            log_tail(tail, sizeof(tail));
            snprintf(srv.problem, sizeof(srv.problem), "fixtures server exited: %s", tail);
            return 0;
        }
        usleep(100000);
    }
    log_tail(tail, sizeof(tail));
    snprintf(srv.problem, sizeof(srv.problem), "fixtures server not answering /ping on %d "
             "within 15 s: %s", srv.port, tail);
    return 0;   /* every test then fails with this message */
}

static int group_teardown(void **state)
{
    (void)state;
    server_stop();
    if (srv.dir) {
        attn_fs_remove_tree(srv.dir, NULL);
        free(srv.dir);
        srv.dir = NULL;
    }
    return 0;
}

/* ---- per test ------------------------------------------------------------------------------- */

typedef struct {
    char api[256];      /* http://127.0.0.1:N/api.github.com/<fixture-id> */
    int nsleeps;
    double slept;
    attn_gh_client *c;
    attn_gh_response resp;
} fx;

static void rec_sleep(void *ctx, double secs)
{
    fx *f = ctx;
    f->nsleeps++;
    f->slept += secs;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    attn_gh_client_free(f->c);
    attn_gh_response_free(&f->resp);
    free(f);
    return 0;
}

/* Load scenario name into the server and make a client whose api_url is its URL. */
static void load(fx *f, const char *name)
{
    char req[256], body[2048];
    json_t *j;
    const char *url;
    attn_gh_options o;
    attn_error err;
    int st;

    if (srv.problem[0])
        fail_msg("%s", srv.problem);
    snprintf(req, sizeof(req), "{\"scenario\": \"%s\"}", name);
    st = control("POST", "/fixtures", req, body, sizeof(body));
    if (st != 201)
        fail_msg("POST /fixtures %s: HTTP %d %s", name, st, body);
    j = json_loads(body, 0, NULL);
    url = json_string_value(json_object_get(j, "url"));
    if (!url)
        fail_msg("POST /fixtures %s: no url in %s", name, body);
    snprintf(f->api, sizeof(f->api), "%s", url);
    json_decref(j);
    if (strncmp(f->api, "http://127.0.0.1:", 17) != 0 || !strstr(f->api, "/api.github.com/"))
        fail_msg("unexpected fixture url %s", f->api);

    attn_gh_options_init(&o);
    o.api_url = f->api;
    o.token = TOKEN;
    o.user_agent = "attn-test/1";
    o.timeout_s = 10;
    o.connect_timeout_s = 5;
    o.max_retries = 3;
    o.backoff_base_s = 0.01;
    o.secondary_base_s = 0.01;
    o.jitter_seed = 7;
    o.sleep = rec_sleep;   /* nothing here should wait; record it if the client tries */
    o.hook_ctx = f;
    attn_error_clear(&err);
    if (attn_gh_client_new(&o, &f->c, &err) != 0)
        fail_msg("client: %s", err.msg);
}

static json_t *body_json(fx *f)
{
    json_t *j = json_loadb(f->resp.body.ptr, f->resp.body.len, 0, NULL);
    if (!j)
        fail_msg("body is not JSON (%zu bytes)", f->resp.body.len);
    return j;
}

static void assert_error_line(const attn_error *err, const char *want)
{
    assert_null(strchr(err->msg, '\n'));
    assert_null(strstr(err->msg, TOKEN));
    if (strcmp(err->msg, want) != 0)
        fail_msg("message '%s', want '%s'", err->msg, want);
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* Every page via Link rel="next", exactly the issues the recording holds, in order. */
static void test_paginate_issues(void **state)
{
    fx *f = *state;
    attn_error err;
    json_t *rec;
    char url[2048], first_last[2048] = "";
    size_t npages, p, i;
    int64_t want_items = 0, got_items = 0;

    load(f, "paginate-issues");
    rec = load_scenario("paginate-issues");
    assert_non_null(rec);
    npages = json_array_size(rec);
    assert_int_equal(npages, 5);
    snprintf(url, sizeof(url), "/repos/octokit-fixture-org/paginate-issues/issues?per_page=3");
    for (p = 0; p < npages; p++) {
        json_t *want = json_object_get(json_array_get(rec, p), "response"), *got, *it;
        if (attn_gh_get(f->c, url, NULL, NULL, &f->resp, &err) != 0)
            fail_msg("page %zu (%s): %s", p + 1, url, err.msg);
        assert_int_equal(f->resp.status, 200);
        got = body_json(f);
        assert_true(json_is_array(got));
        assert_int_equal(json_array_size(got), json_array_size(want));
        json_array_foreach(want, i, it)
        {
            json_t *g = json_array_get(got, i);
            assert_int_equal(json_integer_value(json_object_get(g, "id")),
                             json_integer_value(json_object_get(it, "id")));
            assert_int_equal(json_integer_value(json_object_get(g, "number")),
                             json_integer_value(json_object_get(it, "number")));
        }
        want_items += (int64_t)json_array_size(want);
        got_items += (int64_t)json_array_size(got);
        json_decref(got);
        assert_int_equal(f->resp.rate_limit, 5000);
        assert_int_equal(f->resp.rate_remaining, 4999);
        if (p == 0)
            snprintf(first_last, sizeof(first_last), "%s", f->resp.last_url);
        if (p + 1 < npages) {
            /* The rewritten Link URLs stay on the api_url origin and prefix. */
            if (strncmp(f->resp.next_url, f->api, strlen(f->api)) != 0)
                fail_msg("page %zu: next '%s' not under %s", p + 1, f->resp.next_url, f->api);
            snprintf(url, sizeof(url), "%s", f->resp.next_url);
        }
    }
    json_decref(rec);
    assert_string_equal(f->resp.next_url, "");   /* page 5 has prev/first only */
    assert_string_equal(f->resp.last_url, "");
    snprintf(url, sizeof(url), "%s/repositories/1000/issues?per_page=3&page=5", f->api);
    assert_string_equal(first_last, url);
    assert_int_equal(got_items, want_items);
    assert_int_equal(got_items, 13);

    const attn_gh_stats *st = attn_gh_client_stats(f->c);
    assert_int_equal(st->requests, 5);
    assert_int_equal(st->retries, 0);
    assert_int_equal(st->rate_remaining, 4999);
    assert_int_equal(f->nsleeps, 0);

    /* The server drops a fixture once every recorded request was matched. */
    snprintf(url, sizeof(url), "/repos/octokit-fixture-org/paginate-issues/issues?per_page=3");
    assert_int_equal(attn_gh_get(f->c, url, NULL, NULL, &f->resp, &err), ATTN_ENOTFOUND);
    assert_non_null(strstr(f->resp.body.ptr, "not found"));
}

static void test_get_repository(void **state)
{
    fx *f = *state;
    attn_error err;
    json_t *j;
    load(f, "get-repository");
    if (attn_gh_get(f->c, "/repos/octokit-fixture-org/hello-world", NULL, NULL, &f->resp, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(f->resp.status, 200);
    j = body_json(f);
    assert_string_equal(json_string_value(json_object_get(j, "full_name")),
                        "octokit-fixture-org/hello-world");
    json_decref(j);
    assert_string_equal(f->resp.etag, "\"00000000000000000000000000000000\"");
    assert_string_equal(f->resp.next_url, "");
    assert_int_equal(f->resp.rate_limit, 5000);
    assert_int_equal(f->resp.rate_remaining, 4999);
    assert_int_equal(attn_gh_client_stats(f->c)->requests, 1);
}

/* The percent-encoded query reaches the server byte for byte (nock matches it). */
static void test_search_issues(void **state)
{
    fx *f = *state;
    attn_error err;
    json_t *j, *rec;
    load(f, "search-issues");
    if (attn_gh_get(f->c, "/search/issues?q=sesame%20repo%3Aoctokit-fixture-org%2Fsearch-issues",
                    NULL, NULL, &f->resp, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(f->resp.status, 200);
    rec = load_scenario("search-issues");
    assert_non_null(rec);
    j = body_json(f);
    assert_int_equal(json_integer_value(json_object_get(j, "total_count")),
                     json_integer_value(json_object_get(
                         json_object_get(json_array_get(rec, 0), "response"), "total_count")));
    assert_int_equal(json_array_size(json_object_get(j, "items")),
                     json_array_size(json_object_get(
                         json_object_get(json_array_get(rec, 0), "response"), "items")));
    json_decref(j);
    json_decref(rec);
    assert_int_equal(f->resp.rate_remaining, 29);   /* the search bucket */
    assert_int_equal(attn_gh_client_stats(f->c)->requests, 1);
}

/* A recorded 404: ATTN_ENOTFOUND, one line naming the URL, no retry. */
static void test_branch_protection_404(void **state)
{
    fx *f = *state;
    attn_error err;
    char url[512], want[700];
    load(f, "branch-protection");
    snprintf(url, sizeof(url), "%s/repos/octokit-fixture-org/branch-protection/branches/main/"
             "protection", f->api);
    assert_int_equal(attn_gh_get(f->c, url, NULL, NULL, &f->resp, &err), ATTN_ENOTFOUND);
    assert_int_equal(err.code, ATTN_ENOTFOUND);
    assert_int_equal(f->resp.status, 404);
    assert_non_null(strstr(f->resp.body.ptr, "Branch not protected"));
    snprintf(want, sizeof(want), "GET %s: 404 Branch not protected", url);
    assert_error_line(&err, want);
    const attn_gh_stats *st = attn_gh_client_stats(f->c);
    assert_int_equal(st->requests, 1);
    assert_int_equal(st->retries, 0);
    assert_int_equal(f->nsleeps, 0);
}

/* The server's own 404 (no such fixture id): also final, not retried. */
static void test_unknown_fixture_404(void **state)
{
    fx *f = *state;
    attn_error err;
    char url[512], want[700];
    load(f, "get-repository");
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/api.github.com/nosuchfixture/repos/"
             "octokit-fixture-org/hello-world", srv.port);
    assert_int_equal(attn_gh_get(f->c, url, NULL, NULL, &f->resp, &err), ATTN_ENOTFOUND);
    assert_int_equal(f->resp.status, 404);
    assert_non_null(strstr(f->resp.body.ptr, "\"Fixture \\\"nosuchfixture\\\" not found\""));
    snprintf(want, sizeof(want), "GET %s: 404 Not Found", url);
    assert_error_line(&err, want);
    assert_int_equal(attn_gh_client_stats(f->c)->requests, 1);
    assert_int_equal(attn_gh_client_stats(f->c)->retries, 0);
    assert_int_equal(f->nsleeps, 0);
}

/* A 302 to another (rewritten) host is followed; the binary body arrives intact. */
static void test_get_archive_redirect(void **state)
{
    fx *f = *state;
    attn_error err;
    const unsigned char *b;
    load(f, "get-archive");
    if (attn_gh_get(f->c, "/repos/octokit-fixture-org/get-archive/tarball/main", NULL, NULL,
                    &f->resp, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(f->resp.status, 200);
    assert_int_equal(f->resp.body.len, 176);   /* content-length of the recorded tarball */
    b = (const unsigned char *)f->resp.body.ptr;
    assert_true(b[0] == 0x1f && b[1] == 0x8b);   /* still gzip: no Content-Encoding */
    assert_int_equal(attn_gh_client_stats(f->c)->requests, 1);
    assert_int_equal(attn_gh_client_stats(f->c)->retries, 0);
}

/* Unadapted, the recording wants Accept: ...v3+json and "token" auth: nock refuses attn's
 * request with a 404, so the adapted scenarios above do check attn's headers. */
static void test_recorded_headers_enforced(void **state)
{
    fx *f = *state;
    attn_error err;
    load(f, "get-repository--recorded-headers");
    assert_int_equal(attn_gh_get(f->c, "/repos/octokit-fixture-org/hello-world", NULL, NULL,
                                 &f->resp, &err), ATTN_ENOTFOUND);
    assert_int_equal(f->resp.status, 404);
    assert_non_null(strstr(f->resp.body.ptr, "No match for request"));
    assert_null(strchr(err.msg, '\n'));
    assert_non_null(strstr(err.msg, "/repos/octokit-fixture-org/hello-world"));
    assert_int_equal(attn_gh_client_stats(f->c)->requests, 1);
}

int main(void)
{
    char js[1200];
    const char *r = getenv("ATTN_ROOT");
    snprintf(srv.root, sizeof(srv.root), "%s", r ? r : ".");
    root_path(SERVER_JS, js, sizeof(js));
    if (access(js, R_OK) != 0 || !on_path("node")) {
        printf("1..1\nok 1 - # SKIP @octokit/fixtures-server not installed or node missing "
               "(scripts/install-npm-fixtures)\n");
        return 0;
    }
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_paginate_issues),
        T(test_get_repository),
        T(test_search_issues),
        T(test_branch_protection_404),
        T(test_unknown_fixture_404),
        T(test_get_archive_redirect),
        T(test_recorded_headers_enforced),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
