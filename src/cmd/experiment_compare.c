/*
 * experiment_compare.c - `attn experiment compare` and `attn experiment
 * index-all` (SPEC §9, issue 6).
 *
 *   attn experiment compare --repo O/R A B [--pair A_ROUTER:B_ROUTER]... [--k K]
 *                           [--force] [--out DIR] [--json] [--quiet]
 *   attn experiment index-all --repo O/R [--json] [--quiet]
 *
 * Thin front ends over exp/compare.h and exp/examples_index.h: parse, call,
 * print. compare writes DATA/github/<o>/<r>/eval/_compare/<A>__vs__<B>/
 * (or --out DIR) and prints one line per router pair on the headline slice
 * (observed PRs). Exit 1 when the runs are not comparable (the data is not
 * fit for the question), 2 for bad usage.
 */
#include "cmd/cmd.h"
#include "exp/compare.h"
#include "exp/examples_index.h"
#include "util/json.h"
#include "util/path.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE_COMPARE[] =
    "attn experiment compare --repo OWNER/NAME RUN_A RUN_B [--pair A_ROUTER:B_ROUTER]... "
    "[--k K] [--force] [--out DIR] [--json] [--quiet]";
static const char USAGE_INDEX[] = "attn experiment index-all --repo OWNER/NAME [--json] [--quiet]";

enum { OPT_PAIR = 300, OPT_FORCE, OPT_OUT, OPT_K };

struct compare_args {
    attn_compare_opts o;
    const char *out, *k;
    attn_error err;
    int bad;
};

static int compare_opt(void *ctx, int opt, const char *arg)
{
    struct compare_args *a = ctx;
    switch (opt) {
    case OPT_PAIR:
        if (!a->bad && attn_compare_add_pair(&a->o, arg, &a->err))
            a->bad = 1;
        return 0;
    case OPT_FORCE: a->o.force = 1; return 0;
    case OPT_OUT: a->out = arg; return 0;
    case OPT_K: a->k = arg; return 0;
    }
    return -1;
}

static const json_t *slice_of(const json_t *pair, const char *slice)
{
    return json_object_get(json_object_get(pair, "slices"), slice);
}

static double val(const json_t *m, const char *key)
{
    const json_t *v = json_object_get(m, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static long long flips(const json_t *pair, const char *k, const char *dir)
{
    return (long long)attn_json_i64(
        json_object_get(json_object_get(json_object_get(pair, "flips"), k), dir), "total", 0);
}

/* The runs' prompt bundles and their diff by section and line (seed 004). */
static void print_prompt_diff(const json_t *d)
{
    const json_t *a = json_object_get(d, "a"), *b = json_object_get(d, "b"), *sec, *l;
    const char *k;
    size_t i;
    if (!d)
        return;
    if (json_is_null(a) || json_is_null(b)) {
        const json_t *x = json_is_null(a) ? b : a;
        printf("prompt: only %s has one (%s@%s %.12s)\n", json_is_null(a) ? "B" : "A",
               attn_json_str(x, "name"), attn_json_str(x, "version"),
               attn_json_str(x, "prompt_hash"));
        return;
    }
    printf("prompt: A %s@%s %.12s -> B %s@%s %.12s: %s\n", attn_json_str(a, "name"),
           attn_json_str(a, "version"), attn_json_str(a, "prompt_hash"), attn_json_str(b, "name"),
           attn_json_str(b, "version"), attn_json_str(b, "prompt_hash"),
           json_is_true(json_object_get(d, "same")) ? "same content" : "changed");
    json_object_foreach((json_t *)json_object_get(d, "sections"), k, sec) {
        printf("  section %s (%s)\n", k, attn_json_str(sec, "status"));
        json_array_foreach(json_object_get(sec, "lines"), i, l)
            if (json_string_value(l)[0] != ' ')
                printf("    %s\n", json_string_value(l));
    }
    if (!json_is_true(json_object_get(d, "same")))
        printf("  (flips of LLM routers list these sections: heuristic attribution, not "
               "causality)\n");
}

static void print_table(const json_t *doc, const char *out_dir)
{
    const json_t *p, *w;
    size_t i;
    printf("compare %s vs %s: %lld common PRs, %s, observed PRs -> %s\n",
           attn_json_str(json_object_get(doc, "a"), "run_id"),
           attn_json_str(json_object_get(doc, "b"), "run_id"),
           (long long)attn_json_i64(doc, "n_common", 0), attn_json_str(doc, "primary_policy"),
           out_dir);
    json_array_foreach(json_object_get(doc, "warnings"), i, w)
        printf("warning: %s\n", json_string_value(w));
    print_prompt_diff(json_object_get(doc, "prompt_diff"));
    printf("%-32s %5s %7s %7s %26s %9s %11s\n", "pair (A -> B)", "n", "MRR A", "MRR B",
           "MRR delta [95% CI]", "hit@1 d", "flips@1 +/-");
    json_array_foreach(json_object_get(doc, "pairs"), i, p) {
        const json_t *s = slice_of(p, "observed"), *mrr = json_object_get(s, "mrr");
        const json_t *ci = json_object_get(mrr, "ci95");
        char pair[256], delta[64];
        snprintf(pair, sizeof(pair), "%s -> %s", attn_json_str(p, "a_router"),
                 attn_json_str(p, "b_router"));
        if (json_is_array(ci))
            snprintf(delta, sizeof(delta), "%+.3f [%+.3f, %+.3f]", val(mrr, "diff"),
                     json_number_value(json_array_get(ci, 0)),
                     json_number_value(json_array_get(ci, 1)));
        else
            snprintf(delta, sizeof(delta), "%+.3f", val(mrr, "diff"));
        printf("%-32s %5lld %7.3f %7.3f %26s %+9.3f %5lld/%-5lld\n", pair,
               (long long)attn_json_i64(s, "n", 0), val(mrr, "a"), val(mrr, "b"), delta,
               val(json_object_get(s, "hit_at_1"), "diff"),
               flips(p, "hit_at_1", "miss_to_hit"), flips(p, "hit_at_1", "hit_to_miss"));
    }
}

/* One compact line of JSON: the identities, warnings and per-pair headline. */
static json_t *summary_json(const json_t *doc, const char *out_dir)
{
    json_t *pairs = json_array();
    const json_t *p;
    size_t i;
    int k = (int)attn_json_i64(doc, "k", 5);
    char kname[32];
    snprintf(kname, sizeof(kname), "hit_at_%d", k);
    json_array_foreach(json_object_get(doc, "pairs"), i, p) {
        json_t *f = json_object();
        const json_t *fl;
        const char *fk;
        json_object_foreach((json_t *)json_object_get(p, "flips"), fk, fl)
            json_object_set_new(f, fk,
                                json_pack("{s:I, s:I}", "hit_to_miss",
                                          (json_int_t)flips(p, fk, "hit_to_miss"), "miss_to_hit",
                                          (json_int_t)flips(p, fk, "miss_to_hit")));
        json_array_append_new(pairs, json_pack("{s:O, s:O, s:O, s:o}", "a_router",
                                               json_object_get(p, "a_router"), "b_router",
                                               json_object_get(p, "b_router"), "observed",
                                               slice_of(p, "observed"), "flips", f));
    }
    return json_pack("{s:O, s:O, s:O, s:O, s:O, s:s, s:o}", "a",
                     json_object_get(json_object_get(doc, "a"), "run_id"), "b",
                     json_object_get(json_object_get(doc, "b"), "run_id"), "compatible",
                     json_object_get(doc, "compatible"), "warnings",
                     json_object_get(doc, "warnings"), "n_common",
                     json_object_get(doc, "n_common"), "out_dir", out_dir, "pairs", pairs);
}

int cmd_experiment_compare(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"pair", required_argument, NULL, OPT_PAIR},
        {"force", no_argument, NULL, OPT_FORCE},
        {"out", required_argument, NULL, OPT_OUT},
        {"k", required_argument, NULL, OPT_K},
        {NULL, 0, NULL, 0}};
    struct compare_args a;
    attn_cli cli;
    attn_error err;
    char repo_dir[4096], dir_a[4400], dir_b[4400], out_dir[4400];
    json_t *doc = NULL;
    int first, rc;

    memset(&a, 0, sizeof(a));
    attn_compare_opts_init(&a.o);
    attn_error_clear(&a.err);
    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE_COMPARE, 2, &cli, compare_opt, &a,
                             &first)) >= 0)
        return rc;
    if (a.bad)
        return attn_cli_fail(&a.err);
    if (!cli.repo)
        return attn_cli_usage(USAGE_COMPARE, "--repo OWNER/NAME is required");
    if (argc - first != 2)
        return attn_cli_usage(USAGE_COMPARE, "name two run ids (see DATA/github/<o>/<r>/eval/)");
    if (a.k) {
        char *end;
        long v;
        errno = 0;
        v = strtol(a.k, &end, 10);
        if (!*a.k || *end || errno || v < 1 || v > 1000)
            return attn_cli_usage(USAGE_COMPARE, "--k '%s' is not a whole number from 1 to 1000",
                                  a.k);
        a.o.k = (int)v;
    }
    if (attn_path_check_id(argv[first], "run id", &err) ||
        attn_path_check_id(argv[first + 1], "run id", &err) ||
        attn_path_repo_dir(cli.data_dir, cli.repo, repo_dir, sizeof(repo_dir), &err))
        return attn_cli_fail(&err);
    snprintf(dir_a, sizeof(dir_a), "%s/eval/%s", repo_dir, argv[first]);
    snprintf(dir_b, sizeof(dir_b), "%s/eval/%s", repo_dir, argv[first + 1]);
    if (a.out)
        snprintf(out_dir, sizeof(out_dir), "%s", a.out);
    else
        snprintf(out_dir, sizeof(out_dir), "%s/eval/_compare/%s__vs__%s", repo_dir, argv[first],
                 argv[first + 1]);
    if ((rc = attn_compare_runs(dir_a, dir_b, &a.o, &doc, &err)) ||
        (rc = attn_compare_write(out_dir, doc, &err))) {
        json_decref(doc);
        /* Incompatible runs are a property of the data, not of the usage. */
        if (rc == ATTN_ECONFLICT) {
            fprintf(stderr, "attn: %s\n", err.msg);
            return 1;
        }
        return attn_cli_fail(&err);
    }
    if (cli.json)
        attn_cli_print_json(summary_json(doc, out_dir));
    else if (!cli.quiet)
        print_table(doc, out_dir);
    json_decref(doc);
    return 0;
}

int cmd_experiment_index_all(int argc, char **argv)
{
    static const struct option longopts[] = {ATTN_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
    attn_cli cli;
    attn_error err;
    char repo_dir[4096];
    attn_examples_index_stats st;
    int rc;

    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE_INDEX, 0, &cli, NULL, NULL, NULL)) >= 0)
        return rc;
    if (!cli.repo)
        return attn_cli_usage(USAGE_INDEX, "--repo OWNER/NAME is required");
    if (attn_path_repo_dir(cli.data_dir, cli.repo, repo_dir, sizeof(repo_dir), &err) ||
        attn_examples_index_build(repo_dir, &st, &err))
        return attn_cli_fail(&err);
    if (cli.json)
        attn_cli_print_json(json_pack("{s:s, s:I, s:I, s:I}", "path", st.path, "runs",
                                      (json_int_t)st.runs, "examples", (json_int_t)st.examples,
                                      "skipped", (json_int_t)st.skipped));
    else if (!cli.quiet)
        printf("%s: %zu runs, %zu examples (%zu directories skipped)\n", st.path, st.runs,
               st.examples, st.skipped);
    return 0;
}
