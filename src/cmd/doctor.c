/*
 * doctor.c - `attn doctor`: is the store ready for an evaluation?
 *
 *   attn doctor --repo O/R [--cohort FILE | --from T --end-at T] [--cutoff POLICY]
 *               [--truth SPEC] [--json]
 *
 * Without --cohort or a window the PRs are every PR of the repository.
 * Prints one line per check (ok / warn / fail, message, advice) from
 * exp/doctor.h. Exit 0 when ready (warnings allowed), 1 when a check
 * failed, 2 for bad usage.
 */
#include "cmd/cmd.h"
#include "util/alloc.h"
#include "eval/run.h"
#include "exp/cohort.h"
#include "exp/doctor.h"
#include "store/store.h"
#include "util/json.h"
#include "util/path.h"
#include "util/time.h"

#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "attn doctor --repo OWNER/NAME [--cohort FILE | --from T --end-at T] [--cutoff POLICY] "
    "[--truth SPEC] [--json]";

enum { OPT_COHORT = 300, OPT_FROM, OPT_END_AT, OPT_CUTOFF, OPT_TRUTH };

int cmd_doctor(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"cohort", required_argument, NULL, OPT_COHORT},
        {"from", required_argument, NULL, OPT_FROM},
        {"end-at", required_argument, NULL, OPT_END_AT},
        {"cutoff", required_argument, NULL, OPT_CUTOFF},
        {"truth", required_argument, NULL, OPT_TRUTH},
        {NULL, 0, NULL, 0}};
    const char *cohort_path = NULL, *from_s = NULL, *end_s = NULL, *cutoff = NULL, *truth = NULL;
    attn_cli_str_opt strs[] = {{OPT_COHORT, &cohort_path}, {OPT_FROM, &from_s},
                               {OPT_END_AT, &end_s},       {OPT_CUTOFF, &cutoff},
                               {OPT_TRUTH, &truth},        {0, NULL}};
    attn_cli cli;
    attn_error err;
    attn_store *s = NULL;
    attn_cohort *cohort = NULL;
    attn_eval_pr *wprs = NULL;
    attn_doctor_pr *prs = NULL;
    attn_doctor_opts o;
    json_t *rep = NULL;
    char db[4200], repo_dir[4096];
    size_t n = 0;
    int64_t repo_id, from, end;
    int rc;

    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, 0, &cli, attn_cli_str_opts, strs,
                             NULL)) >= 0)
        return rc;
    if (!cli.repo)
        return attn_cli_usage(USAGE, "--repo OWNER/NAME is required");
    if (cohort_path && (from_s || end_s))
        return attn_cli_usage(USAGE, "give --cohort or --from/--end-at, not both");
    if (!!from_s != !!end_s)
        return attn_cli_usage(USAGE, "--from and --end-at go together");
    if (attn_cli_db_path(&cli, db, sizeof(db), &err) ||
        attn_path_repo_dir(cli.data_dir, cli.repo, repo_dir, sizeof(repo_dir), &err) ||
        attn_store_open_readonly(db, &s, &err))
        return attn_cli_fail(&err);
    memset(&o, 0, sizeof(o));
    if (cohort_path) {
        if ((rc = attn_cohort_load(cohort_path, cli.repo, &cohort, &err)))
            goto out;
        n = attn_cohort_size(cohort);
        prs = attn_xcalloc(n ? n : 1, sizeof(*prs));
        for (size_t i = 0; i < n; i++)
            attn_cohort_pr(cohort, i, &prs[i].number, &prs[i].cutoff);
        if (!cutoff)
            cutoff = attn_cohort_cutoff_policy(cohort);
    } else {
        from = INT64_MIN / 4;
        end = INT64_MAX / 4;
        if (from_s && ((rc = attn_time_parse(from_s, &from, &err)) ||
                       (rc = attn_time_parse(end_s, &end, &err)))) {
            attn_error_wrap(&err, "--from/--end-at");
            goto out;
        }
        if (end <= from) {
            rc = attn_error_set(&err, ATTN_EINVAL, "--end-at must be after --from");
            goto out;
        }
        if ((rc = attn_store_repo_id(s, cli.repo, &repo_id, &err)) ||
            (rc = attn_eval_prs_in_window(s, repo_id, from, end, &wprs, &n, &err)))
            goto out;
        prs = attn_xcalloc(n ? n : 1, sizeof(*prs));
        for (size_t i = 0; i < n; i++) {
            prs[i].number = wprs[i].number;
            prs[i].cutoff = ATTN_NULL_I64;
        }
    }
    o.store = s;
    o.repo = cli.repo;
    o.repo_dir = repo_dir;
    o.prs = prs;
    o.n_prs = n;
    o.cutoff_policy = cutoff;
    o.truth = truth;
    if ((rc = attn_doctor_run(&o, &rep, &err)))
        goto out;
    rc = json_is_true(json_object_get(rep, "ready")) ? 0 : 1;
    if (cli.json) {
        attn_cli_print_json(json_incref(rep));
    } else {
        const json_t *c;
        size_t i;
        printf("attn doctor %s: %zu PRs%s%s\n", cli.repo, n, cohort ? ", cohort " : "",
               cohort ? attn_cohort_hash(cohort) : "");
        json_array_foreach(json_object_get(rep, "checks"), i, c) {
            const char *adv = attn_json_str(c, "advice");
            printf("[%-4s] %-10s %s\n", attn_json_str(c, "status"), attn_json_str(c, "name"),
                   attn_json_str(c, "message"));
            if (adv && *adv)
                printf("       %-10s -> %s\n", "", adv);
        }
        printf("%s (%lld failure(s), %lld warning(s))\n", rc ? "NOT READY" : "ready",
               (long long)attn_json_i64(rep, "failures", 0),
               (long long)attn_json_i64(rep, "warnings", 0));
    }
    json_decref(rep);
    attn_cohort_free(cohort);
    free(wprs);
    free(prs);
    attn_store_close(s);
    return rc;
out:
    json_decref(rep);
    attn_cohort_free(cohort);
    free(wprs);
    free(prs);
    attn_store_close(s);
    return attn_cli_fail(&err);
}
