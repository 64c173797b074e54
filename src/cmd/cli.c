/*
 * cli.c - option handling shared by every command front end.
 */
#include "cmd/cmd.h"
#include "store/lock.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/path.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void attn_cli_init(attn_cli *cli)
{
    const char *env = getenv("ATTN_DATA_DIR");
    memset(cli, 0, sizeof(*cli));
    cli->data_dir = env && *env ? env : "./data";
    cli->progress = isatty(2) ? ATTN_PROGRESS_TTY : ATTN_PROGRESS_LINES;
}

int attn_cli_common(attn_cli *cli, int opt, const char *arg)
{
    switch (opt) {
    case OPT_DATA_DIR: cli->data_dir = arg; return 1;
    case OPT_REPO: cli->repo = arg; cli->repo_source = "--repo"; return 1;
    case OPT_JSON: cli->json = 1; cli->json_fields = arg; return 1;
    case OPT_JQ: cli->json = 1; cli->jq = arg; return 1;
    case OPT_QUIET: cli->quiet = 1; return 1;
    case OPT_WAIT: cli->wait = arg; return 1;
    case OPT_VERBOSE: cli->verbose = 1; return 1;
    case OPT_PROGRESS:
        cli->progress = !strcmp(arg, "none") ? ATTN_PROGRESS_NONE
                        : !strcmp(arg, "tty") ? ATTN_PROGRESS_TTY
                        : !strcmp(arg, "lines") ? ATTN_PROGRESS_LINES : -1;
        return 1;
    }
    return 0;
}

/* `--json a,b` (gh's form): the next argument is the field list when it
 * looks like one and cannot be a positional argument: it has a comma, or
 * the command takes no positional arguments. Else `--json=FIELD`. */
static const char *json_fields_arg(int argc, char **argv, int max_args)
{
    const char *a = optind < argc ? argv[optind] : NULL;
    if (!a || !*a || *a == '-' || strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789_,@") != strlen(a))
        return NULL;
    if (!strchr(a, ',') && max_args != 0)
        return NULL;
    optind++;
    return a;
}

/* "unknown option '--tpo-k' (did you mean --top-k?)" */
static int unknown_option(const char *usage, const struct option *longopts, const char *arg)
{
    const char *names[128], *hit;
    char word[128];
    size_t n = 0;
    for (const struct option *o = longopts; o->name && n < 128; o++)
        names[n++] = o->name;
    snprintf(word, sizeof(word), "%s", arg + strspn(arg, "-"));
    word[strcspn(word, "=")] = 0;
    hit = *word ? attn_cli_suggest(word, names, n) : NULL;
    if (hit && strcmp(hit, word))
        return attn_cli_usage(usage, "unknown option '%s' (did you mean --%s?)", arg, hit);
    return attn_cli_usage(usage, "unknown or incomplete option '%s'", arg);
}

/* Fill the repository: normalize --repo, else $GH_REPO or the git remote. */
static int resolve_repo(attn_cli *cli, const char *usage)
{
    attn_error err;
    attn_error_clear(&err);
    if (cli->repo) {
        if (attn_cli_repo_normalize(cli->repo, cli->repo_buf, sizeof(cli->repo_buf), &err))
            return attn_cli_usage(usage, "--repo: %s", err.msg);
        cli->repo = cli->repo_buf;
        return -1;
    }
    if (!attn_cli_repo_default(cli->repo_buf, sizeof(cli->repo_buf), &cli->repo_source, &err))
        cli->repo = cli->repo_buf;
    else if (err.code == ATTN_EINVAL)
        return attn_cli_usage(usage, "%s", err.msg);
    return -1;
}

int attn_cli_str_opts(void *ctx, int opt, const char *arg)
{
    for (attn_cli_str_opt *o = ctx; o->slot; o++)
        if (o->id == opt) {
            *o->slot = arg;
            return 0;
        }
    return -1;
}

int attn_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
    return 0;
}

int attn_cli_parse(int argc, char **argv, const struct option *longopts, const char *usage,
                   int max_args, attn_cli *cli, attn_cli_opt_fn fn, void *ctx, int *first_arg)
{
    int opt;

    attn_cli_init(cli);
    attn_cli_output_set(NULL, NULL);
    if (attn_cli_wants_help(argc, argv)) {
        attn_cli_help(stdout, usage);
        return 0;
    }
    optind = 1;
    opterr = 0; /* we print our own one-line messages */
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == OPT_HELP) {
            attn_cli_help(stdout, usage);
            return 0;
        }
        if (attn_cli_common(cli, opt, optarg)) {
            if (opt == OPT_JSON && !optarg)
                cli->json_fields = json_fields_arg(argc, argv, max_args);
            if (cli->progress < 0)
                return attn_cli_usage(usage, "--progress takes none, tty or lines, not '%s'",
                                      optarg);
            continue;
        }
        if (opt == '?' || opt == ':' || !fn || fn(ctx, opt, optarg) < 0)
            return unknown_option(usage, longopts, argv[optind - 1]);
    }
    if (max_args >= 0 && argc - optind > max_args)
        return attn_cli_usage(usage, "unexpected argument '%s'", argv[optind + max_args]);
    if ((opt = resolve_repo(cli, usage)) >= 0)
        return opt;
    attn_cli_output_set(cli->json_fields, cli->jq);
    if (first_arg)
        *first_arg = optind;
    return -1;
}

int attn_cli_fail(const attn_error *err)
{
    fprintf(stderr, "attn: %s\n", err->msg[0] ? err->msg : "unknown error");
    return attn_error_exit_status(err->code);
}

int attn_cli_usage(const char *usage, const char *fmt, ...)
{
    va_list ap;
    fputs("attn: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    /* One line, so scripts and people see the reason and the fix together. */
    fprintf(stderr, "; usage: %s\n", usage);
    return 2;
}

int attn_cli_db_path(const attn_cli *cli, char *out, size_t cap, attn_error *err)
{
    char dir[4096];
    int rc = attn_path_repo_dir(cli->data_dir, cli->repo, dir, sizeof(dir), err);
    if (rc)
        return rc;
    if ((size_t)snprintf(out, cap, "%s/history.sqlite", dir) >= cap)
        return attn_error_set(err, ATTN_EINVAL, "data directory path is too long");
    return 0;
}

int attn_cli_open_store(const attn_cli *cli, attn_store **s, char *path, size_t cap,
                        attn_error *err)
{
    char dir[4096], db[4200];
    int rc;
    if ((rc = attn_path_repo_dir(cli->data_dir, cli->repo, dir, sizeof(dir), err)) ||
        (rc = attn_cli_db_path(cli, db, sizeof(db), err)) || (rc = attn_fs_mkdirs(dir, err)))
        return rc;
    if (path && (size_t)snprintf(path, cap, "%s", db) >= cap)
        return attn_error_set(err, ATTN_EINVAL, "data directory path is too long");
    return attn_store_open(db, s, err);
}

int attn_cli_lock_store(const attn_cli *cli, const char *command, attn_store_lock **lock,
                        attn_error *err)
{
    char dir[4096], db[4200], *end;
    long long wait_s = 0;
    int rc;
    *lock = NULL;
    if (cli->wait) {
        wait_s = strtoll(cli->wait, &end, 10);
        if (!*cli->wait || *end || wait_s < -1 || wait_s > 86400)
            return attn_error_set(err, ATTN_EINVAL,
                                  "--wait takes whole seconds from -1 (forever) to 86400, not '%s'",
                                  cli->wait);
    }
    if ((rc = attn_path_repo_dir(cli->data_dir, cli->repo, dir, sizeof(dir), err)) ||
        (rc = attn_cli_db_path(cli, db, sizeof(db), err)) || (rc = attn_fs_mkdirs(dir, err)))
        return rc;
    return attn_store_lock_acquire(db, command, wait_s < 0 ? -1 : (int)(wait_s * 1000), lock,
                                   err);
}
