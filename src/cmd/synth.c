/*
 * synth.c - `attn synth`: write a deterministic synthetic GitHub history as a
 * bundle (docs/bundle.md). Parses options and calls synth/synth.h.
 */
#include "cmd/cmd.h"
#include "synth/synth.h"

#include <string.h>

static const char USAGE[] =
    "attn synth [--prs N] [--seed S] [--repo O/R] [--start T] [--days D] [--users U] -o FILE";

enum { OPT_PRS = 300, OPT_SEED, OPT_START, OPT_DAYS, OPT_USERS };

int cmd_synth(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"prs", required_argument, NULL, OPT_PRS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"start", required_argument, NULL, OPT_START},
        {"days", required_argument, NULL, OPT_DAYS},
        {"users", required_argument, NULL, OPT_USERS},
        {"output", required_argument, NULL, 'o'},
        ATTN_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0}};
    attn_synth_opts opts;
    attn_cli cli;
    attn_error err;
    const char *out = NULL;
    int opt;

    attn_cli_init(&cli);
    attn_synth_opts_init(&opts);
    attn_error_clear(&err);
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        const char *name = NULL;
        switch (opt) {
        case 'o': out = optarg; continue;
        case OPT_PRS: name = "prs"; break;
        case OPT_SEED: name = "seed"; break;
        case OPT_START: name = "start"; break;
        case OPT_DAYS: name = "days"; break;
        case OPT_USERS: name = "users"; break;
        case OPT_REPO: name = "repo"; break;
        case 'h':
        case OPT_HELP:
            printf("usage: %s\n"
                   "  --prs N     pull requests (default 200; issues are 30%% of N)\n"
                   "  --seed S    PRNG seed (default 1)\n"
                   "  --repo O/R  repository name (default synth/sample)\n"
                   "  --start T   window start (default 2024-01-01T00:00:00Z)\n"
                   "  --days D    window length in days (default 180)\n"
                   "  --users U   human users (default 40)\n"
                   "  -o FILE     output bundle (written atomically)\n", USAGE);
            return 0;
        case ':':
            return attn_cli_usage(USAGE, "option '%s' needs a value", argv[optind - 1]);
        case '?':
            return attn_cli_usage(USAGE, "unknown option '%s'", argv[optind - 1]);
        default:
            if (attn_cli_common(&cli, opt, optarg))
                continue;
            return attn_cli_usage(USAGE, "unknown option '%s'", argv[optind - 1]);
        }
        if (attn_synth_opts_set(&opts, name, optarg, &err))
            return attn_cli_fail(&err);
    }
    if (optind < argc)
        return attn_cli_usage(USAGE, "unexpected argument '%s'", argv[optind]);
    if (!out)
        return attn_cli_usage(USAGE, "missing -o FILE");
    if (attn_synth_write_file(&opts, out, &err))
        return attn_cli_fail(&err);
    if (!cli.quiet)
        fprintf(stderr, "attn: wrote %s\n", out);
    return 0;
}
