/*
 * serve.c - `attn serve`: run the dashboard, JSON API and webhook receiver
 * (src/serve/) until SIGINT or SIGTERM.
 *
 * The first line on stdout is "listening on http://HOST:PORT" (flushed), so
 * a script that starts it with --port 0 learns the port. Secrets come from
 * the environment only (never flags, which other users can read in ps).
 */
#include "cmd/cmd.h"
#include "serve/serve.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "attn serve [--data-dir DIR] [--bind ADDR] [--port P] [--max-body BYTES] "
    "[--max-connections N] [--timeout S] [--threads N]\n"
    "\n"
    "Serve the dashboard (/runs, /run, /compare, /pr, /live), the JSON API (/api/...) and\n"
    "the GitHub webhook receiver (POST /webhook) for every repository under DIR/github.\n"
    "\n"
    "  --data-dir DIR          data directory (default ./data, env ATTN_DATA_DIR)\n"
    "  --bind ADDR             IPv4 address to listen on (default 127.0.0.1, loopback)\n"
    "  --port P                TCP port; 0 picks a free one (default 8080)\n"
    "  --max-body BYTES        largest request body accepted, else 413 (default 8388608)\n"
    "  --max-connections N     concurrent connections (default 256)\n"
    "  --timeout S             idle connection timeout in seconds (default 15)\n"
    "  --threads N             worker threads (default 4)\n"
    "\n"
    "Environment: ATTN_PUSH_SECRET enables the mutating API (Authorization: Bearer SECRET);\n"
    "ATTN_WEBHOOK_SECRET enables POST /webhook (X-Hub-Signature-256). Without them those\n"
    "endpoints refuse every request. SIGINT/SIGTERM stop the server cleanly.\n"
    "The first line on stdout is 'listening on http://HOST:PORT'.\n"
    "\n"
    "example: ATTN_PUSH_SECRET=s3cret attn serve --data-dir build/demo-data --port 8080";

enum { OPT_BIND = 300, OPT_PORT, OPT_MAX_BODY, OPT_MAX_CONN, OPT_TIMEOUT, OPT_THREADS };

static int num(const char *s, long lo, long hi, const char *what, long *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "attn: %s '%s' must be a whole number from %ld to %ld; usage: attn serve "
                        "--help\n", what, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"bind", required_argument, NULL, OPT_BIND},
        {"port", required_argument, NULL, OPT_PORT},
        {"max-body", required_argument, NULL, OPT_MAX_BODY},
        {"max-connections", required_argument, NULL, OPT_MAX_CONN},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"threads", required_argument, NULL, OPT_THREADS},
        {NULL, 0, NULL, 0}};
    const char *bind = NULL, *port = NULL, *max_body = NULL, *max_conn = NULL, *timeout = NULL,
               *threads = NULL;
    attn_cli_str_opt sopts[] = {{OPT_BIND, &bind},         {OPT_PORT, &port},
                                {OPT_MAX_BODY, &max_body}, {OPT_MAX_CONN, &max_conn},
                                {OPT_TIMEOUT, &timeout},   {OPT_THREADS, &threads},
                                {0, NULL}};
    attn_serve_opts o;
    attn_server *srv = NULL;
    attn_cli cli;
    attn_error err;
    sigset_t set;
    long v;
    int rc, bound = 0, sig = 0;

    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, 0, &cli, attn_cli_str_opts, sopts,
                             NULL)) >= 0)
        return rc;
    attn_serve_opts_init(&o);
    o.data_dir = cli.data_dir;
    o.port = 8080;
    if (bind)
        o.bind = bind;
    if (port) {
        if (num(port, 0, 65535, "--port", &v)) return 2;
        o.port = (int)v;
    }
    if (max_body) {
        if (num(max_body, 1024, 1L << 30, "--max-body", &v)) return 2;
        o.max_body = (size_t)v;
    }
    if (max_conn) {
        if (num(max_conn, 1, 100000, "--max-connections", &v)) return 2;
        o.max_connections = (unsigned)v;
    }
    if (timeout) {
        if (num(timeout, 1, 3600, "--timeout", &v)) return 2;
        o.timeout_s = (unsigned)v;
    }
    if (threads) {
        if (num(threads, 1, 64, "--threads", &v)) return 2;
        o.threads = (unsigned)v;
    }
    o.push_secret = getenv("ATTN_PUSH_SECRET");
    o.webhook_secret = getenv("ATTN_WEBHOOK_SECRET");
    /* Block the stop signals before the server's threads exist, so they
     * inherit the mask and only sigwait below sees them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    attn_error_clear(&err);
    if ((rc = attn_serve_start(&o, &srv, &bound, &err)))
        return attn_cli_fail(&err);
    printf("listening on http://%s:%d\n", o.bind, bound);
    fflush(stdout);
    if (!cli.quiet)
        fprintf(stderr, "attn serve: data %s; mutations %s; webhooks %s; Ctrl-C stops\n",
                o.data_dir, o.push_secret && *o.push_secret ? "on" : "off (no ATTN_PUSH_SECRET)",
                o.webhook_secret && *o.webhook_secret ? "on" : "off (no ATTN_WEBHOOK_SECRET)");
    sigwait(&set, &sig);
    attn_serve_stop(srv);
    if (!cli.quiet)
        fprintf(stderr, "attn serve: stopped (signal %d)\n", sig);
    return 0;
}
