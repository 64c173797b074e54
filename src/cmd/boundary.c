/*
 * boundary.c - `attn boundary build --repo O/R --as-of T [--out DIR]`: the
 * boundary (area) model as of T (export/boundary.c). Exit 2 for bad usage
 * or input, 1 when the build fails; the folder appears whole or not at all.
 */
#include "cmd/cmd.h"
#include "export/boundary.h"
#include "util/fs.h"
#include "util/path.h"
#include "util/time.h"

#include <string.h>

static const char USAGE[] = "attn boundary build --repo OWNER/NAME --as-of T [--out DIR] (see --help)";

static const char HELP[] =
    "attn boundary build --repo OWNER/NAME --as-of T [--out DIR] [--data-dir DIR] [--json]\n"
    "\n"
    "The boundary (area) model as of T: file -> area memberships from the files of PRs merged at or\n"
    "before T (the head active at each merge) and their co-change. Writes boundary_model.json,\n"
    "memberships.parquet (file, area, weight, co_change_prs, file_prs, is_primary) and manifest.json.\n"
    "Areas: routing/area_overrides.json when present, else the first path segment. Nothing after T\n"
    "changes the model.\n"
    "\n"
    "  --repo OWNER/NAME  repository (required)\n"
    "  --as-of T          the instant (RFC 3339 or YYYY-MM-DD; required)\n"
    "  --out DIR          output folder (default DATA/github/OWNER/NAME/boundary/<T as YYYYMMDDTHHMMSSZ>;\n"
    "                     replaced atomically)\n"
    "  --data-dir DIR     data directory (default ./data, env ATTN_DATA_DIR)\n"
    "  --json             print the manifest as JSON\n"
    "\n"
    "example: attn boundary build --repo acme/widgets --as-of 2026-01-01";

enum { OPT_AS_OF = 300, OPT_OUT };

int cmd_boundary(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"as-of", required_argument, NULL, OPT_AS_OF},
        {"out", required_argument, NULL, OPT_OUT},
        {NULL, 0, NULL, 0}};
    const char *as_of_s = NULL, *out = NULL;
    attn_cli_str_opt opts[] = {{OPT_AS_OF, &as_of_s}, {OPT_OUT, &out}, {0, NULL}};
    char repo_dir[4200], db[4300], ov[4300], dir[4400], t[ATTN_TIME_BUFSZ];
    attn_cli cli;
    attn_error err;
    json_t *m = NULL;
    int64_t as_of;
    int rc;

    attn_error_clear(&err);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: %s\n", HELP);
            return 0;
        }
    if (argc < 2 || strcmp(argv[1], "build"))
        return attn_cli_usage(USAGE, argc < 2 ? "a subcommand is required" : "unknown subcommand '%s'",
                              argc < 2 ? "" : argv[1]);
    if ((rc = attn_cli_parse(argc - 1, argv + 1, longopts, USAGE, 0, &cli, attn_cli_str_opts, opts, NULL)) >= 0)
        return rc;
    if (!cli.repo)
        return attn_cli_usage(USAGE, "--repo OWNER/NAME is required");
    if (!as_of_s)
        return attn_cli_usage(USAGE, "--as-of T is required");
    if (attn_time_parse(as_of_s, &as_of, &err)) {
        attn_error_wrap(&err, "--as-of");
        return attn_cli_fail(&err);
    }
    if (attn_path_repo_dir(cli.data_dir, cli.repo, repo_dir, sizeof(repo_dir), &err))
        return attn_cli_fail(&err);
    snprintf(db, sizeof(db), "%s/history.sqlite", repo_dir);
    snprintf(ov, sizeof(ov), "%s/routing/area_overrides.json", repo_dir);
    if (!attn_fs_exists(db)) {
        attn_error_set(&err, ATTN_ENOTFOUND, "no history store for %s at %s; load or ingest first", cli.repo, db);
        return attn_cli_fail(&err);
    }
    if (out) {
        snprintf(dir, sizeof(dir), "%s", out);
    } else {
        attn_time_format(as_of, t); /* YYYY-MM-DDTHH:MM:SSZ -> YYYYMMDDTHHMMSSZ */
        char compact[32], *p = compact;
        for (const char *q = t; *q; q++)
            if (*q != '-' && *q != ':')
                *p++ = *q;
        *p = '\0';
        snprintf(dir, sizeof(dir), "%s/boundary/%s", repo_dir, compact);
    }
    {
        char parent[4400], *slash;
        snprintf(parent, sizeof(parent), "%s", dir);
        if ((slash = strrchr(parent, '/')) && slash != parent) {
            *slash = '\0';
            if ((rc = attn_fs_mkdirs(parent, &err)))
                return attn_cli_fail(&err);
        }
    }
    if ((rc = attn_boundary_build(db, cli.repo, as_of, ov, dir, &m, &err)))
        return attn_cli_fail(&err);
    if (cli.json) {
        attn_cli_print_json(m);
    } else {
        printf("boundary model of %s as of %s: %lld merged PRs, %lld files -> %s\n", cli.repo,
               attn_time_format(as_of, t), (long long)json_integer_value(json_object_get(m, "merged_prs")),
               (long long)json_integer_value(json_object_get(m, "files_in_model")), dir);
        json_decref(m);
    }
    return 0;
}
