/*
 * model.c - `attn model train`: train the `learned` router's model on the
 * PRs of a window whose truth was final by --until (eval/learn.h), and write
 * the model file (route/learned_model.h) atomically. Read-only on the store.
 * Exit 2: bad usage or a window with no example; 1: the work failed.
 */
#include "cmd/cmd.h"
#include "eval/learn.h"
#include "route/context.h"
#include "store/store.h"
#include "util/json.h"
#include "util/path.h"
#include "util/time.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "attn model train --repo OWNER/NAME --until T [--from T0] --out MODEL [options] "
    "(see attn model train --help)";

static const char HELP[] =
    "usage: attn model train --repo OWNER/NAME --until T [--from T0] --out MODEL [options]\n"
    "\n"
    "Train the learned router's ranking model (XGBoost) on the PRs created in [T0, T) whose\n"
    "truth label was final by T: observed, with the truth window ending at or before T.\n"
    "Nothing after T reaches the model. The file records the feature list and version, the\n"
    "training window, the truth policy and its own hash (which every route reports).\n"
    "\n"
    "  --repo OWNER/NAME    repository (required)\n"
    "  --until T            end of training (ISO time, required)\n"
    "  --from T0            start of the window (default: T minus 730 days)\n"
    "  --out MODEL          model file to write (required; written atomically)\n"
    "  --truth SPEC         truth policy of the labels (default reviewers_until_close)\n"
    "  --cutoff POLICY      cutoff policy of the examples (default created_at)\n"
    "  --objective O        rank:pairwise (default) or rank:ndcg\n"
    "  --rounds N           boosting rounds (default 100)\n"
    "  --eta X              learning rate (default 0.1)\n"
    "  --max-depth N        tree depth (default 2)\n"
    "  --seed S             XGBoost seed (default 0; one thread, so reruns are identical)\n"
    "  --max-candidates N   candidate pool per PR (default 30)\n"
    "  --data-dir DIR       data directory (default ./data, env ATTN_DATA_DIR)\n"
    "  --json               print the model's summary as JSON\n"
    "  --quiet              no progress on stderr\n"
    "\n"
    "Example:\n"
    "  attn model train --repo rust-lang/rust-clippy --from 2019-01-01T00:00:00Z \\\n"
    "      --until 2021-01-01T00:00:00Z --truth reviewers_until_close:window=3650d \\\n"
    "      --out clippy-2020.model.json\n"
    "  attn route --repo rust-lang/rust-clippy --pr 6600 --router learned --config cfg.json\n"
    "      (cfg.json: {\"model\": \"/abs/path/clippy-2020.model.json\"})";

enum { OPT_UNTIL = 300, OPT_FROM, OPT_OUT, OPT_TRUTH, OPT_CUTOFF, OPT_OBJECTIVE, OPT_ROUNDS,
       OPT_ETA, OPT_DEPTH, OPT_SEED, OPT_MAXC };

static int whole(const char *s, const char *what, long long lo, long long hi, long long *out,
                 attn_error *err)
{
    char *end;
    long long v;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return attn_error_set(err, ATTN_EINVAL, "%s '%s' must be a whole number from %lld to %lld",
                              what, s, lo, hi);
    *out = v;
    return 0;
}

typedef struct {
    const char *until, *from, *out, *truth, *cutoff, *objective, *rounds, *eta, *depth, *seed,
        *maxc;
} train_args;

static int parse_args(const train_args *a, attn_learn_opts *o, attn_truth_policy *tp,
                      attn_cutoff_policy *cp, attn_error *err)
{
    long long v;
    int rc;
    if ((rc = attn_time_parse(a->until, &o->until, err)))
        return attn_error_wrap(err, "--until"), rc;
    o->from = o->until - 730 * 86400LL;
    if (a->from && (rc = attn_time_parse(a->from, &o->from, err)))
        return attn_error_wrap(err, "--from"), rc;
    if ((rc = attn_truth_policy_parse(a->truth ? a->truth : "reviewers_until_close", tp, err)) ||
        (rc = attn_cutoff_policy_parse(a->cutoff ? a->cutoff : "created_at", cp, err)))
        return rc;
    o->truth = tp;
    o->cutoff = cp;
    if (a->objective) {
        if (strcmp(a->objective, "rank:pairwise") && strcmp(a->objective, "rank:ndcg"))
            return attn_error_set(err, ATTN_EINVAL,
                                  "--objective '%s' must be rank:pairwise or rank:ndcg",
                                  a->objective);
        o->params.objective = a->objective;
    }
    if (a->rounds && !(rc = whole(a->rounds, "--rounds", 1, 5000, &v, err)))
        o->params.rounds = (int)v;
    if (!rc && a->depth && !(rc = whole(a->depth, "--max-depth", 1, 16, &v, err)))
        o->params.max_depth = (int)v;
    if (!rc && a->seed && !(rc = whole(a->seed, "--seed", 0, 2147483647, &v, err)))
        o->params.seed = (uint64_t)v;
    if (!rc && a->maxc && !(rc = whole(a->maxc, "--max-candidates", 1, 200, &v, err)))
        o->max_candidates = (int)v;
    if (!rc && a->eta) {
        char *end;
        o->params.eta = strtod(a->eta, &end);
        if (!*a->eta || *end || !(o->params.eta > 0 && o->params.eta <= 1))
            rc = attn_error_set(err, ATTN_EINVAL, "--eta '%s' must be a number in (0, 1]", a->eta);
    }
    if (!rc && o->from >= o->until)
        rc = attn_error_set(err, ATTN_EINVAL, "--from must be before --until");
    return rc;
}

static int train(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"until", required_argument, NULL, OPT_UNTIL},
        {"from", required_argument, NULL, OPT_FROM},
        {"out", required_argument, NULL, OPT_OUT},
        {"truth", required_argument, NULL, OPT_TRUTH},
        {"cutoff", required_argument, NULL, OPT_CUTOFF},
        {"objective", required_argument, NULL, OPT_OBJECTIVE},
        {"rounds", required_argument, NULL, OPT_ROUNDS},
        {"eta", required_argument, NULL, OPT_ETA},
        {"max-depth", required_argument, NULL, OPT_DEPTH},
        {"seed", required_argument, NULL, OPT_SEED},
        {"max-candidates", required_argument, NULL, OPT_MAXC},
        {NULL, 0, NULL, 0}};
    train_args a = {0};
    attn_cli_str_opt so[] = {{OPT_UNTIL, &a.until},   {OPT_FROM, &a.from},
                             {OPT_OUT, &a.out},       {OPT_TRUTH, &a.truth},
                             {OPT_CUTOFF, &a.cutoff}, {OPT_OBJECTIVE, &a.objective},
                             {OPT_ROUNDS, &a.rounds}, {OPT_ETA, &a.eta},
                             {OPT_DEPTH, &a.depth},   {OPT_SEED, &a.seed},
                             {OPT_MAXC, &a.maxc},     {0, NULL}};
    attn_cli cli;
    attn_error err;
    attn_learn_opts o;
    attn_truth_policy tp;
    attn_cutoff_policy cp;
    attn_store *s = NULL;
    attn_route_env *env = NULL;
    attn_truth_ctx *truth = NULL;
    json_t *file = NULL;
    char path[4200], repo_dir[4200];
    int rc;

    attn_error_clear(&err);
    attn_learn_opts_init(&o);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            puts(HELP);
            return 0;
        }
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, 0, &cli, attn_cli_str_opts, so, NULL)) >= 0)
        return rc;
    if (!cli.repo || !a.until || !a.out)
        return attn_cli_usage(USAGE, "--repo, --until and --out are required");
    if (parse_args(&a, &o, &tp, &cp, &err))
        return attn_cli_fail(&err);
    o.progress = !cli.quiet;
    if (attn_cli_db_path(&cli, path, sizeof(path), &err) ||
        attn_path_repo_dir(cli.data_dir, cli.repo, repo_dir, sizeof(repo_dir), &err) ||
        attn_store_open_readonly(path, &s, &err))
        return attn_cli_fail(&err);
    if ((rc = attn_route_env_open(s, cli.repo, repo_dir, &env, &err)) ||
        (rc = attn_truth_ctx_open(s, attn_route_env_ctx(env)->repo_id, &truth, &err)) ||
        (rc = attn_learn_train(attn_route_env_ctx(env), truth, &o, &file, &err)) ||
        (rc = attn_lmodel_write(a.out, file, &err)))
        goto out;
    {
        const json_t *t = json_object_get(file, "training");
        json_t *sum = json_pack("{s:s, s:s, s:O, s:O}", "model", a.out, "hash",
                                attn_json_str(file, "hash"), "training", t, "importance",
                                json_object_get(file, "importance"));
        if (cli.json)
            attn_cli_print_json(sum);
        else {
            printf("model %s: hash %s, %lld examples (%lld rows, %lld positives) from %lld PRs "
                   "created %s .. %s\n",
                   a.out, attn_json_str(file, "hash"), (long long)attn_json_i64(t, "examples", 0),
                   (long long)attn_json_i64(t, "rows", 0),
                   (long long)attn_json_i64(t, "positives", 0),
                   (long long)attn_json_i64(t, "prs_in_window", 0), attn_json_str(t, "from"),
                   attn_json_str(t, "until"));
            json_decref(sum);
        }
    }
out:
    json_decref(file);
    attn_truth_ctx_free(truth);
    attn_route_env_free(env);
    attn_store_close(s);
    return rc ? attn_cli_fail(&err) : 0;
}

int cmd_model(int argc, char **argv)
{
    if (argc < 2)
        return attn_cli_usage(USAGE, "name a subcommand (known: train)");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        puts(HELP);
        return 0;
    }
    if (!strcmp(argv[1], "train"))
        return train(argc - 1, argv + 1);
    return attn_cli_usage(USAGE, "unknown subcommand '%s' (known: train)", argv[1]);
}
