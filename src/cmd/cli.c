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

void attn_cli_init(attn_cli *cli)
{
    const char *env = getenv("ATTN_DATA_DIR");
    memset(cli, 0, sizeof(*cli));
    cli->data_dir = env && *env ? env : "./data";
}

int attn_cli_common(attn_cli *cli, int opt, const char *arg)
{
    switch (opt) {
    case OPT_DATA_DIR: cli->data_dir = arg; return 1;
    case OPT_REPO: cli->repo = arg; return 1;
    case OPT_JSON: cli->json = 1; return 1;
    case OPT_QUIET: cli->quiet = 1; return 1;
    case OPT_WAIT: cli->wait = arg; return 1;
    }
    return 0;
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

int attn_cli_parse(int argc, char **argv, const struct option *longopts, const char *usage,
                   int max_args, attn_cli *cli, attn_cli_opt_fn fn, void *ctx, int *first_arg)
{
    int opt;

    attn_cli_init(cli);
    optind = 1;
    opterr = 0; /* we print our own one-line messages */
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == OPT_HELP) {
            printf("usage: %s\n", usage);
            return 0;
        }
        if (attn_cli_common(cli, opt, optarg))
            continue;
        if (opt == '?' || opt == ':' || !fn || fn(ctx, opt, optarg) < 0)
            return attn_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (max_args >= 0 && argc - optind > max_args)
        return attn_cli_usage(usage, "unexpected argument '%s'", argv[optind + max_args]);
    if (first_arg)
        *first_arg = optind;
    return -1;
}

void attn_cli_print_json(json_t *o)
{
    char *text = o ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    printf("%s\n", text ? text : "{}");
    free(text);
    json_decref(o);
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
