/*
 * artifacts.c - `attn artifacts show|unpack`: a run's per-PR entries, which
 * live in the run's packed file (eval/pack.h), as people used to read them.
 *
 *   attn artifacts show RUN_ID --repo O/R --pr N [--router R] [--entry E]
 *   attn artifacts unpack RUN_ID --repo O/R [--out DIR]
 *
 * show prints one JSON object {entry: value} of the PR's entries (the
 * snapshot, inputs, truth, every route, features and LLM entries), or with
 * --router R only routes/R (and features/R, llm/R/...), or with --entry E
 * that one entry, pretty with sorted keys: byte for byte what prs/<n>/<E>.json
 * held. unpack writes that old tree (prs/<n>/<entry>.json) to DIR (default
 * the run's own prs/), through a temporary directory renamed into place.
 * Must never: change the run itself (unpack only adds the prs/ tree).
 */
#include "cmd/cmd.h"
#include "util/alloc.h"
#include "eval/pack.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] =
    "attn artifacts (show RUN_ID --pr N [--router R] [--entry E] | unpack RUN_ID [--out DIR]) "
    "--repo OWNER/NAME [--data-dir DIR] [--quiet]";
static const char HELP[] =
    "usage: attn artifacts (show RUN_ID --pr N [--router R] [--entry E] | unpack RUN_ID "
    "[--out DIR]) --repo OWNER/NAME [--data-dir DIR] [--quiet]\n"
    "  A run's per-PR entries (snapshot, inputs, truth, routes/<router>, features/<router>,\n"
    "  llm/<router>/<step>) live in RUN_DIR/" ATTN_PACK_FILE ".\n"
    "  show RUN_ID     print PR N's entries as one JSON object {entry: value}\n"
    "    --pr N          the PR number (required)\n"
    "    --router R      only the entries of router R (default: every entry)\n"
    "    --entry E       print only entry E, exactly as prs/<n>/<E>.json held it\n"
    "  unpack RUN_ID   write the old tree prs/<n>/<entry>.json\n"
    "    --out DIR       where to write it (default: RUN_DIR/prs; must not exist)\n"
    "  --repo O/R      the repository (required); runs are DATA/github/<o>/<r>/eval/RUN_ID\n"
    "  --data-dir DIR  data directory (default $ATTN_DATA_DIR, else ./data)\n"
    "  --quiet         unpack prints no summary line on stderr (default: it does)\n"
    "  examples: attn artifacts show eval-1a2b3c4d5e6f --repo o/r --pr 42 --router hybrid\n"
    "            attn artifacts unpack eval-1a2b3c4d5e6f --repo o/r\n";

enum { OPT_PR = 300, OPT_ROUTER, OPT_ENTRY, OPT_OUT };

static int pr_number(const char *s, int64_t *out, attn_error *err)
{
    char *end;
    long long v;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v <= 0)
        return attn_error_set(err, ATTN_EINVAL, "--pr '%s' is not a pull request number", s);
    *out = v;
    return 0;
}

/* Entry e belongs to router r: routes/r, features/r, llm/r/... */
static int of_router(const char *e, const char *r)
{
    static const char *const kinds[] = {"routes/", "features/", "llm/"};
    size_t rl = strlen(r);
    for (size_t k = 0; k < 3; k++) {
        size_t kl = strlen(kinds[k]);
        if (!strncmp(e, kinds[k], kl) && !strncmp(e + kl, r, rl) &&
            (e[kl + rl] == 0 || e[kl + rl] == '/'))
            return 1;
    }
    return 0;
}

static int show(attn_pack *p, const char *pr_s, const char *router, const char *entry,
                attn_error *err)
{
    int64_t pr = 0;
    json_t *names = NULL, *all = NULL, *v, *x;
    attn_buf b = ATTN_BUF_INIT;
    size_t i;
    int rc;
    if ((rc = pr_number(pr_s, &pr, err)))
        return rc;
    if (entry) {
        if ((rc = attn_pack_read(p, pr, entry, &v, err)))
            return rc;
        all = v;
    } else {
        if ((rc = attn_pack_entries(p, pr, &names, err)))
            return rc;
        all = json_object();
        json_array_foreach(names, i, x) {
            const char *e = json_string_value(x);
            if (router && !of_router(e, router))
                continue;
            if ((rc = attn_pack_read(p, pr, e, &v, err)))
                goto out;
            json_object_set_new(all, e, v);
        }
        if (!json_object_size(all)) {
            rc = attn_error_set(err, ATTN_ENOTFOUND, "the run has no entries for PR #%lld%s%s",
                                (long long)pr, router ? " and router " : "",
                                router ? router : "");
            goto out;
        }
    }
    attn_json_dump_pretty(all, &b);
    fwrite(b.ptr, 1, b.len, stdout);
out:
    attn_buf_free(&b);
    json_decref(names);
    json_decref(all);
    return rc;
}

static int unpack_pr(attn_pack *p, const char *tmp, int64_t pr, size_t *files, attn_error *err)
{
    json_t *names = NULL, *x, *v;
    attn_buf b = ATTN_BUF_INIT;
    size_t i;
    int rc;
    if ((rc = attn_pack_entries(p, pr, &names, err)))
        return rc;
    json_array_foreach(names, i, x) {
        char path[8600], *slash;
        snprintf(path, sizeof(path), "%s/%lld/%s.json", tmp, (long long)pr,
                 json_string_value(x));
        slash = strrchr(path, '/');
        *slash = 0;
        if ((rc = attn_fs_mkdirs(path, err)))
            break;
        *slash = '/';
        if ((rc = attn_pack_read(p, pr, json_string_value(x), &v, err)))
            break;
        attn_buf_clear(&b);
        attn_json_dump_pretty(v, &b);
        rc = attn_fs_write_atomic(path, b.ptr, b.len, err);
        json_decref(v);
        if (rc)
            break;
        (*files)++;
    }
    attn_buf_free(&b);
    json_decref(names);
    return rc;
}

static int unpack(attn_pack *p, const char *run_dir, const char *out, int quiet,
                  attn_error *err)
{
    char dest[4500], tmp[4600];
    json_t *prs = NULL, *x;
    size_t i, files = 0;
    int rc;
    snprintf(dest, sizeof(dest), "%s", out ? out : "");
    if (!out)
        snprintf(dest, sizeof(dest), "%s/prs", run_dir);
    if (attn_fs_exists(dest))
        return attn_error_set(err, ATTN_ECONFLICT,
                              "%s already exists; remove it or pass --out to a new path", dest);
    if (!attn_pack_is_packed(p))
        return attn_error_set(err, ATTN_EINVAL,
                              "%s has no %s: it already keeps its per-PR tree in prs/", run_dir,
                              ATTN_PACK_FILE);
    snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", dest, (long)getpid());
    attn_fs_remove_tree(tmp, NULL);
    if ((rc = attn_fs_mkdirs(tmp, err)) || (rc = attn_pack_prs(p, &prs, err)))
        goto out;
    json_array_foreach(prs, i, x)
        if ((rc = unpack_pr(p, tmp, json_integer_value(x), &files, err)))
            goto out;
    if (rename(tmp, dest) < 0)
        rc = attn_error_set(err, ATTN_EIO, "cannot rename %s to %s: %s", tmp, dest,
                            strerror(errno));
    else if (!quiet)
        fprintf(stderr, "artifacts: wrote %zu files for %zu PRs under %s\n", files,
                json_array_size(prs), dest);
out:
    if (rc)
        attn_fs_remove_tree(tmp, NULL);
    json_decref(prs);
    return rc;
}

int cmd_artifacts(int argc, char **argv)
{
    static const struct option longopts[] = {ATTN_COMMON_LONGOPTS,
                                             {"pr", required_argument, NULL, OPT_PR},
                                             {"router", required_argument, NULL, OPT_ROUTER},
                                             {"entry", required_argument, NULL, OPT_ENTRY},
                                             {"out", required_argument, NULL, OPT_OUT},
                                             {NULL, 0, NULL, 0}};
    const char *pr = NULL, *router = NULL, *entry = NULL, *out = NULL;
    attn_cli_str_opt slots[] = {{OPT_PR, &pr}, {OPT_ROUTER, &router}, {OPT_ENTRY, &entry},
                                {OPT_OUT, &out}, {0, NULL}};
    attn_cli cli;
    attn_error err;
    attn_pack *p = NULL;
    char repo_dir[4200], run_dir[4400];
    const char *verb, *run_id;
    int first, rc;

    attn_error_clear(&err);
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(HELP, stdout);
            return 0;
        }
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, 2, &cli, attn_cli_str_opts, slots,
                             &first)) >= 0)
        return rc;
    if (first + 2 != argc)
        return attn_cli_usage(USAGE, "give a verb (show or unpack) and a RUN_ID");
    verb = argv[first];
    run_id = argv[first + 1];
    if (strcmp(verb, "show") && strcmp(verb, "unpack"))
        return attn_cli_usage(USAGE, "unknown verb '%s' (show or unpack)", verb);
    if (!cli.repo)
        return attn_cli_usage(USAGE, "--repo OWNER/NAME is required");
    if (!strcmp(verb, "show") && !pr)
        return attn_cli_usage(USAGE, "show needs --pr N");
    if (!strcmp(verb, "show") && out)
        return attn_cli_usage(USAGE, "--out is for unpack");
    if (!strcmp(verb, "unpack") && (pr || router || entry))
        return attn_cli_usage(USAGE, "unpack takes no --pr, --router or --entry");
    if (router && entry)
        return attn_cli_usage(USAGE, "give --router or --entry, not both");
    if (attn_path_check_id(run_id, "run id", &err) ||
        attn_path_repo_dir(cli.data_dir, cli.repo, repo_dir, sizeof(repo_dir), &err))
        return attn_cli_fail(&err);
    snprintf(run_dir, sizeof(run_dir), "%s/eval/%s", repo_dir, run_id);
    if ((rc = attn_pack_open(run_dir, &p, &err))) {
        if (rc == ATTN_ENOTFOUND)
            attn_error_set(&err, ATTN_ENOTFOUND, "no run %s of %s (looked in %s); `attn runs "
                           "list --repo %s` lists runs", run_id, cli.repo, run_dir, cli.repo);
        return attn_cli_fail(&err);
    }
    rc = !strcmp(verb, "show") ? show(p, pr, router, entry, &err)
                               : unpack(p, run_dir, out, cli.quiet, &err);
    attn_pack_close(p);
    return rc ? attn_cli_fail(&err) : 0;
}
