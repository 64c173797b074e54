/*
 * pin.c - `attn pin`: front end of ingest/pin.h.
 *
 *   attn pin --repo O/R [--git-dir PATH] [--pr N]... [--path P]... [--api-url URL]
 *            [--token-env NAME] [--max-retries N] [--json] [--quiet] [--data-dir D]
 *
 * Pins CODEOWNERS (and each --path) at the base SHAs of the PRs in the store,
 * from the contents API or from a local clone (--git-dir, no token needed).
 * Summary: one line on stdout (JSON with --json); progress on stderr only on
 * a terminal; one warning line per sha that could not be pinned. Exit 0 when
 * the run went through, even with some failed SHAs (they are retried by the
 * next run); 1 when it stopped (bad credentials, rate limit, I/O) or when
 * every sha that needed pinning failed; 2 for bad usage or input.
 */
#include "cmd/cmd.h"
#include "ingest/pin.h"
#include "store/lock.h"
#include "store/pinned.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/path.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_API "https://api.github.com"

static const char USAGE[] =
    "attn pin --repo O/R [--git-dir PATH] [--pr N]... [--path P]... [--api-url URL] "
    "[--token-env NAME] [--max-retries N] [--wait S] [--json] [--quiet] [--data-dir D]";

enum { OPT_GIT_DIR = 300, OPT_PR, OPT_PATH, OPT_API_URL, OPT_TOKEN_ENV, OPT_MAX_RETRIES };

struct pin_args {
    attn_pin_options *o;
    const char *token_env, *max_retries;
    int64_t *prs;
    const char **paths;
    const char *bad_pr;
};

static int pin_opt(void *ctx, int opt, const char *arg)
{
    struct pin_args *a = ctx;
    char *end;
    long long v;
    switch (opt) {
    case OPT_GIT_DIR: a->o->git_dir = arg; return 0;
    case OPT_API_URL: a->o->api_url = arg; return 0;
    case OPT_TOKEN_ENV: a->token_env = arg; return 0;
    case OPT_MAX_RETRIES: a->max_retries = arg; return 0;
    case OPT_PATH: a->paths[a->o->n_paths++] = arg; return 0;
    case OPT_PR:
        errno = 0;
        v = strtoll(arg, &end, 10);
        if (!*arg || *end || errno || v <= 0) {
            if (!a->bad_pr)
                a->bad_pr = arg;
            return 0;
        }
        a->prs[a->o->n_prs++] = v;
        return 0;
    }
    return -1;
}

static void print_report(const attn_cli *cli, const attn_pin_options *o, const attn_pin_report *r)
{
    if (cli->quiet)
        return;
    if (cli->json) {
        json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "repo",
                              cli->repo, "source", o->git_dir ? "git" : "contents_api", "shas",
                              (json_int_t)r->shas, "already_pinned", (json_int_t)r->already,
                              "pinned", (json_int_t)r->pinned, "with_codeowners",
                              (json_int_t)r->with_codeowners, "absent", (json_int_t)r->absent,
                              "failed", (json_int_t)r->failed, "gaps", (json_int_t)r->gaps,
                              "requests", (json_int_t)r->requests, "duration_s", r->duration_s);
        attn_cli_print_json(j);
        return;
    }
    printf("pinned %s: %lld base SHAs, %lld already pinned, %lld pinned now (%lld with "
           "CODEOWNERS, %lld without), %lld failed, %lld gaps, %lld requests, %.1fs\n",
           cli->repo, (long long)r->shas, (long long)r->already, (long long)r->pinned,
           (long long)r->with_codeowners, (long long)r->absent, (long long)r->failed,
           (long long)r->gaps, (long long)r->requests, r->duration_s);
}

int cmd_pin(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        ATTN_WRITER_LONGOPTS,
        {"git-dir", required_argument, NULL, OPT_GIT_DIR},
        {"pr", required_argument, NULL, OPT_PR},
        {"path", required_argument, NULL, OPT_PATH},
        {"api-url", required_argument, NULL, OPT_API_URL},
        {"token-env", required_argument, NULL, OPT_TOKEN_ENV},
        {"max-retries", required_argument, NULL, OPT_MAX_RETRIES},
        {NULL, 0, NULL, 0}};
    attn_cli cli;
    attn_error err;
    attn_pin_options o;
    attn_pin_report rep;
    attn_store *s = NULL;
    attn_store_lock *lock = NULL;
    struct pin_args a;
    char dir[4096], db[4200], api_buf[512], *token = NULL;
    const char *token_src = NULL;
    int rc;

    attn_error_clear(&err);
    memset(&o, 0, sizeof(o));
    memset(&a, 0, sizeof(a));
    o.max_retries = -1;
    a.o = &o;
    a.token_env = "GITHUB_TOKEN";
    /* No option can appear more often than there are arguments. */
    a.prs = calloc((size_t)argc + 1, sizeof(int64_t));
    a.paths = calloc((size_t)argc + 1, sizeof(char *));
    if (!a.prs || !a.paths) {
        free(a.prs);
        free(a.paths);
        fprintf(stderr, "attn: out of memory\n");
        return 1;
    }
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, 0, &cli, pin_opt, &a, NULL)) >= 0)
        goto done; /* 0 after --help, 2 after a usage error */
    rc = 0;
    if (!cli.repo)
        rc = attn_cli_usage(USAGE, "--repo OWNER/NAME is required");
    else if (a.bad_pr)
        rc = attn_cli_usage(USAGE, "--pr '%s' is not a pull request number", a.bad_pr);
    else if (o.git_dir && o.api_url)
        rc = attn_cli_usage(USAGE, "--git-dir and --api-url exclude each other");
    if (!rc && a.max_retries) {
        char *end;
        long v = strtol(a.max_retries, &end, 10);
        if (!*a.max_retries || *end || v < 0 || v > 20)
            rc = attn_cli_usage(USAGE, "--max-retries takes 0..20, not '%s'", a.max_retries);
        o.max_retries = (int)v;
    }
    for (size_t i = 0; !rc && i < o.n_paths; i++)
        if (attn_pinned_check_path(a.paths[i], &err))
            rc = attn_cli_usage(USAGE, "--path: %s", err.msg);
    if (rc)
        goto done;
    o.repo = cli.repo;
    o.paths = a.paths;
    o.prs = o.n_prs ? a.prs : NULL;
    if (!o.git_dir) {
        int named = strcmp(a.token_env, "GITHUB_TOKEN") != 0;
        if (!o.api_url) /* gh's variables for GitHub Enterprise */
            o.api_url = attn_cli_api_url_default(api_buf, sizeof(api_buf));
        o.token = token = attn_cli_token(a.token_env, named, &token_src);
        if (!o.token && (!o.api_url || !strcmp(o.api_url, DEFAULT_API) ||
                         !strcmp(o.api_url, DEFAULT_API "/"))) {
            fprintf(stderr, "attn: %s is not set%s; export a GitHub token with read access to %s "
                            "(or name another variable with --token-env, or use --git-dir)\n",
                    a.token_env, named ? "" : " (nor GH_TOKEN, and no `gh auth token`)", cli.repo);
            rc = 2;
            goto done;
        }
        if (cli.verbose)
            fprintf(stderr, "attn: repository %s (from %s), API %s, token %s\n", cli.repo,
                    cli.repo_source ? cli.repo_source : "--repo",
                    o.api_url ? o.api_url : DEFAULT_API, token ? token_src : "none");
    }
    if (attn_path_repo_dir(cli.data_dir, cli.repo, dir, sizeof(dir), &err) ||
        attn_cli_db_path(&cli, db, sizeof(db), &err)) {
        rc = attn_cli_fail(&err);
        goto done;
    }
    if (!attn_fs_exists(db)) {
        attn_error_set(&err, ATTN_EINVAL,
                       "no history store at %s (run attn ingest or attn load first)", db);
        rc = attn_cli_fail(&err);
        goto done;
    }
    o.repo_dir = dir;
    o.quiet = cli.quiet;
    o.progress = cli.progress;
    o.verbose = cli.verbose;
    /* One writer at a time (SPEC §13); readers are never blocked. */
    if (attn_cli_lock_store(&cli, "attn pin", &lock, &err) || attn_store_open(db, &s, &err)) {
        attn_store_lock_release(lock);
        rc = attn_cli_fail(&err);
        goto done;
    }
    rc = attn_pin_run(s, &o, &rep, &err);
    attn_store_close(s);
    attn_store_lock_release(lock);
    if (rc) {
        if (rep.pinned)
            attn_error_wrap(&err, "pin %s stopped after pinning %lld base SHAs (rerun to resume)",
                            cli.repo, (long long)rep.pinned);
        rc = attn_cli_fail(&err);
        goto done;
    }
    print_report(&cli, &o, &rep);
    rc = 0;
    if (rep.failed > 0 && rep.failed == rep.shas - rep.already) {
        fprintf(stderr, "attn: none of the %lld base SHAs that needed pinning could be pinned "
                        "(see the warnings above)\n",
                (long long)rep.failed);
        rc = 1;
    }
done:
    free(token);
    free(a.prs);
    free(a.paths);
    return rc;
}
