/*
 * cli.c - option handling shared by every command front end.
 */
#include "cmd/cmd.h"
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
    }
    return 0;
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
