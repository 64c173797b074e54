/*
 * ingest.c - `attn ingest`, `attn incremental`, `attn pull-requests` and
 * `attn renormalize`: front ends of ingest/ingest.h.
 *
 *   attn ingest --repo O/R [--since T] [--api-url URL] [--token-env NAME] [--max-wait S]
 *   attn incremental --repo O/R [same options, no --since]
 *   attn pull-requests --repo O/R --from T --end-at T [--with-truth] [same options]
 *   attn renormalize --repo O/R            (phase 2 from the raw archive, no requests)
 *
 * The token comes from $GITHUB_TOKEN (or the variable --token-env names) and is
 * only handed to the client; it is never printed. Without a token against
 * api.github.com the command refuses (exit 2); a custom --api-url (tests,
 * enterprise) may be used without one. Summary: one line on stdout (JSON with
 * --json); progress on stderr only when it is a terminal. Gaps are warnings
 * (exit 0); a run stopped at a checkpoint exits 1 and resumes when rerun.
 */
#include "cmd/cmd.h"
#include "ingest/ingest.h"
#include "store/lock.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/path.h"
#include "util/time.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_API "https://api.github.com"

enum { OPT_SINCE = 300, OPT_API_URL, OPT_TOKEN_ENV, OPT_MAX_WAIT, OPT_DEADLINE, OPT_FROM, OPT_END_AT,
       OPT_WITH_TRUTH };

static void print_report(const attn_cli *cli, const char *verb, const attn_ingest_report *r)
{
    double per_pr = r->prs_listed ? (double)r->requests / (double)r->prs_listed : 0.0;
    if (cli->quiet)
        return;
    if (cli->json) {
        json_t *o = json_pack("{s:s, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "repo",
                              cli->repo, "requests", (json_int_t)r->requests, "requests_per_pr",
                              per_pr, "prs", (json_int_t)r->prs_listed, "not_modified",
                              (json_int_t)r->not_modified, "gaps", (json_int_t)r->gaps,
                              "events_inserted", (json_int_t)r->norm.events_inserted,
                              "objects_changed", (json_int_t)r->objects_changed,
                              "prs_fetched", (json_int_t)r->prs_fetched, "gaps_healed",
                              (json_int_t)r->gaps_resolved, "intervals",
                              (json_int_t)r->rebuild.intervals_written, "duration_s",
                              r->duration_s);
        attn_cli_print_json(o);
        return;
    }
    printf("%s %s: %lld requests (%.2f per PR, %lld PRs), %lld 304s, %lld gaps, ", verb,
           cli->repo, (long long)r->requests, per_pr, (long long)r->prs_listed,
           (long long)r->not_modified, (long long)r->gaps);
    if (r->gaps_resolved)
        printf("%lld earlier gaps healed, ", (long long)r->gaps_resolved);
    printf("%lld events inserted, %lld objects changed, %.1fs\n",
           (long long)r->norm.events_inserted, (long long)r->objects_changed, r->duration_s);
}

static int open_store(const attn_cli *cli, int create, attn_store **s, attn_error *err)
{
    char path[4200];
    int rc;
    if ((rc = attn_cli_db_path(cli, path, sizeof(path), err)))
        return rc;
    if (!create && !attn_fs_exists(path))
        return attn_error_set(err, ATTN_EINVAL, "no history store at %s (run attn ingest first)",
                              path);
    return attn_cli_open_store(cli, s, NULL, 0, err);
}

struct ingest_args {
    attn_ingest_options *o;
    const char *token_env, *since, *from, *end_at, *max_wait, *deadline;
};

static int ingest_opt(void *ctx, int opt, const char *arg)
{
    struct ingest_args *a = ctx;
    switch (opt) {
    case OPT_SINCE: a->since = arg; return 0;
    case OPT_API_URL: a->o->api_url = arg; return 0;
    case OPT_TOKEN_ENV: a->token_env = arg; return 0;
    case OPT_MAX_WAIT: a->max_wait = arg; return 0;
    case OPT_DEADLINE: a->deadline = arg; return 0;
    case OPT_FROM: a->from = arg; return 0;
    case OPT_END_AT: a->end_at = arg; return 0;
    case OPT_WITH_TRUTH: a->o->with_truth = 1; return 0;
    }
    return -1;
}

static const char *verb_command(const char *verb)
{
    if (!strcmp(verb, "ingest"))
        return "attn ingest";
    if (!strcmp(verb, "incremental"))
        return "attn incremental";
    return "attn pull-requests";
}

static int run(int argc, char **argv, attn_ingest_flow flow, const char *usage, const char *verb)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        ATTN_WRITER_LONGOPTS,
        {"since", required_argument, NULL, OPT_SINCE},
        {"api-url", required_argument, NULL, OPT_API_URL},
        {"token-env", required_argument, NULL, OPT_TOKEN_ENV},
        {"max-wait", required_argument, NULL, OPT_MAX_WAIT},
        {"deadline", required_argument, NULL, OPT_DEADLINE},
        {"from", required_argument, NULL, OPT_FROM},
        {"end-at", required_argument, NULL, OPT_END_AT},
        {"with-truth", no_argument, NULL, OPT_WITH_TRUTH},
        {NULL, 0, NULL, 0}};
    attn_cli cli;
    attn_error err;
    attn_ingest_options o;
    attn_ingest_report rep;
    attn_store *s = NULL;
    attn_store_lock *lock = NULL;
    struct ingest_args a = {&o, "GITHUB_TOKEN", NULL, NULL, NULL, NULL, NULL};
    const char *token_env, *since, *from, *end_at, *max_wait, *token_src = NULL;
    char api_buf[512], *token = NULL;
    int rc, named;

    attn_error_clear(&err);
    memset(&o, 0, sizeof(o));
    o.since = o.from = o.end_at = ATTN_NULL_I64;
    o.max_wait_s = -1;
    if ((rc = attn_cli_parse(argc, argv, longopts, usage, 0, &cli, ingest_opt, &a, NULL)) >= 0)
        return rc;
    token_env = a.token_env;
    since = a.since;
    from = a.from;
    end_at = a.end_at;
    max_wait = a.max_wait;
    if (!cli.repo)
        return attn_cli_usage(usage, "--repo OWNER/NAME is required");
    if (since && flow != ATTN_INGEST_FULL)
        return attn_cli_usage(usage, "--since applies to attn ingest only");
    if ((from || end_at || o.with_truth) && flow != ATTN_INGEST_WINDOW)
        return attn_cli_usage(usage, "--from, --end-at and --with-truth apply to attn pull-requests");
    if (flow == ATTN_INGEST_WINDOW && (!from || !end_at))
        return attn_cli_usage(usage, "--from T and --end-at T are required");
    if ((since && attn_time_parse(since, &o.since, &err)) ||
        (from && attn_time_parse(from, &o.from, &err)) ||
        (end_at && attn_time_parse(end_at, &o.end_at, &err)))
        return attn_cli_usage(usage, "%s", err.msg);
    if (max_wait) {
        char *end;
        long long v = strtoll(max_wait, &end, 10);
        if (*end || v < 0)
            return attn_cli_usage(usage, "--max-wait takes whole seconds, not '%s'", max_wait);
        o.max_wait_s = v;
    }
    if (a.deadline) {
        char *end;
        long long v = strtoll(a.deadline, &end, 10);
        if (!*a.deadline || *end || v < 1 || v > 86400)
            return attn_cli_usage(usage, "--deadline takes whole seconds from 1 to 86400, not '%s'",
                                  a.deadline);
        o.deadline_s = v;
    }
    if (flow == ATTN_INGEST_WINDOW && o.from >= o.end_at)
        return attn_cli_usage(usage, "--from must be before --end-at");
    if (!o.api_url) /* gh's variables for GitHub Enterprise */
        o.api_url = attn_cli_api_url_default(api_buf, sizeof(api_buf));
    named = strcmp(token_env, "GITHUB_TOKEN") != 0;
    o.token = token = attn_cli_token(token_env, named, &token_src);
    if (!o.token && (!o.api_url || !strcmp(o.api_url, DEFAULT_API) ||
                     !strcmp(o.api_url, DEFAULT_API "/"))) {
        fprintf(stderr, "attn: %s is not set%s; export a GitHub token with read access to %s "
                        "(or name another variable with --token-env)\n", token_env,
                named ? "" : " (nor GH_TOKEN, and no `gh auth token`)", cli.repo);
        return 2;
    }
    if (cli.verbose)
        fprintf(stderr, "attn: repository %s (from %s), API %s, token %s\n", cli.repo,
                cli.repo_source ? cli.repo_source : "--repo", o.api_url ? o.api_url : DEFAULT_API,
                token ? token_src : "none");
    o.repo = cli.repo;
    o.quiet = cli.quiet;
    o.progress = cli.progress;
    o.verbose = cli.verbose;
    /* One writer at a time (SPEC §13): two interleaved runs share checkpoints
     * and cursors, and each would clear the other's work. */
    if ((rc = attn_cli_lock_store(&cli, verb_command(verb), &lock, &err))) {
        free(token);
        return attn_cli_fail(&err);
    }
    if ((rc = open_store(&cli, 1, &s, &err))) {
        attn_store_lock_release(lock);
        free(token);
        return attn_cli_fail(&err);
    }
    rc = attn_ingest_run(s, flow, &o, &rep, &err);
    free(token);
    attn_store_close(s);
    attn_store_lock_release(lock);
    if (rc) {
        if (o.progress == ATTN_PROGRESS_TTY && !o.quiet)
            fputc('\n', stderr);
        attn_error_wrap(&err, "%s %s stopped at its checkpoint (rerun to resume)", verb, cli.repo);
        return attn_cli_fail(&err);
    }
    print_report(&cli, verb, &rep);
    return 0;
}

int cmd_ingest(int argc, char **argv)
{
    return run(argc, argv, ATTN_INGEST_FULL,
               "attn ingest --repo O/R [--since T] [--api-url URL] [--token-env NAME] "
               "[--max-wait S] [--deadline S] [--wait S] [--quiet] [--json] [--data-dir D]",
               "ingest");
}

int cmd_incremental(int argc, char **argv)
{
    return run(argc, argv, ATTN_INGEST_INCREMENTAL,
               "attn incremental --repo O/R [--api-url URL] [--token-env NAME] [--max-wait S] "
               "[--deadline S] [--wait S] [--quiet] [--json] [--data-dir D]",
               "incremental");
}

int cmd_pull_requests(int argc, char **argv)
{
    return run(argc, argv, ATTN_INGEST_WINDOW,
               "attn pull-requests --repo O/R --from T --end-at T [--with-truth] [--api-url URL] "
               "[--token-env NAME] [--max-wait S] [--deadline S] [--wait S] [--quiet] [--json] "
               "[--data-dir D]",
               "pull-requests");
}

int cmd_renormalize(int argc, char **argv)
{
    static const char USAGE[] = "attn renormalize --repo O/R [--wait S] [--quiet] [--json] [--data-dir D]";
    static const struct option longopts[] = {ATTN_COMMON_LONGOPTS, ATTN_WRITER_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    attn_cli cli;
    attn_error err;
    attn_ingest_report rep;
    attn_store *s = NULL;
    attn_store_lock *lock = NULL;
    char path[4200];
    int rc;

    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, 0, &cli, NULL, NULL, NULL)) >= 0)
        return rc;
    if (!cli.repo)
        return attn_cli_usage(USAGE, "--repo OWNER/NAME is required");
    if ((rc = attn_cli_db_path(&cli, path, sizeof(path), &err)))
        return attn_cli_fail(&err);
    if (!attn_fs_exists(path)) {
        attn_error_set(&err, ATTN_EINVAL, "no history store at %s (run attn ingest first)", path);
        return attn_cli_fail(&err);
    }
    if ((rc = attn_cli_lock_store(&cli, "attn renormalize", &lock, &err)))
        return attn_cli_fail(&err);
    if ((rc = open_store(&cli, 0, &s, &err))) {
        attn_store_lock_release(lock);
        return attn_cli_fail(&err);
    }
    rc = attn_ingest_renormalize(s, cli.repo, &rep, &err);
    attn_store_close(s);
    attn_store_lock_release(lock);
    if (rc)
        return attn_cli_fail(&err);
    if (!cli.quiet)
        printf("renormalized %s: %lld numbers, events %lld inserted, %lld duplicate; "
               "%lld intervals; 0 requests\n",
               cli.repo, (long long)rep.numbers_normalized, (long long)rep.norm.events_inserted,
               (long long)rep.norm.events_duplicate, (long long)rep.rebuild.intervals_written);
    return 0;
}
