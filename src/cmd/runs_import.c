/*
 * runs_import.c - `attn runs import --source wandb FILE.jsonl --patterns
 * NAME|FILE [--repo O/R]`: runs kept by another tracker into the run
 * registry as kind "external", classified by a pattern registry (classify/).
 *
 * The registry is DATA/github/<o>/<r>/runs.sqlite with --repo, else
 * DATA/external/runs.sqlite (runs not tied to a repository; `attn runs list`
 * without --repo shows it). One transaction per file: a bad line imports
 * nothing. Reimporting the same file changes nothing.
 */
#include "classify/classify.h"
#include "cmd/cmd.h"
#include "exp/registry.h"
#include "util/fs.h"
#include "util/path.h"
#include "util/time.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char HELP[] =
    "attn runs import --source wandb FILE.jsonl --patterns NAME|FILE [--repo OWNER/NAME] [--json]\n"
    "  --source wandb        the tracker the export comes from (only wandb: one JSON object per\n"
    "                        line with run_id and optional run_name, state, project, entity,\n"
    "                        created_at, config, summary); required\n"
    "  --patterns NAME|FILE  classification config: built-in datadecide or a JSON file; required\n"
    "  --repo OWNER/NAME     registry of that repository (DATA/github/O/R/runs.sqlite);\n"
    "                        default: DATA/external/runs.sqlite\n"
    "  --data-dir DIR        data directory (default ./data, env ATTN_DATA_DIR)\n"
    "  --json                print the counts as JSON; default: one line\n"
    "  --quiet               print nothing on success\n"
    "example: attn runs import --source wandb runs.jsonl --patterns datadecide --repo o/r";

static const char USAGE[] = "attn runs import --source wandb FILE.jsonl --patterns NAME|FILE [--repo OWNER/NAME] [--json] [--quiet] (--help: every flag)";

enum { OPT_SOURCE = 300, OPT_PATTERNS };

static int registry_path(const attn_cli *cli, char *out, size_t cap, attn_error *err)
{
    char dir[4200];
    int rc;
    if (cli->repo)
        rc = attn_path_repo_dir(cli->data_dir, cli->repo, dir, sizeof dir, err);
    else
        rc = (size_t)snprintf(dir, sizeof dir, "%s/external", cli->data_dir) >= sizeof dir
                 ? attn_error_set(err, ATTN_EINVAL, "--data-dir is too long")
                 : 0;
    if (rc || (rc = attn_fs_mkdirs(dir, err)))
        return rc;
    if ((size_t)snprintf(out, cap, "%s/runs.sqlite", dir) >= cap)
        return attn_error_set(err, ATTN_EINVAL, "registry path too long");
    return 0;
}

int attn_cmd_runs_registry_open(const attn_cli *cli, attn_registry **reg, int64_t *now,
                                attn_error *err)
{
    char path[4400];
    int rc;
    if ((rc = attn_registry_now(now, err)) || (rc = registry_path(cli, path, sizeof path, err)))
        return rc;
    return attn_registry_open(path, reg, err);
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int import_file(const attn_cli *cli, const char *source, const char *file,
                       const char *patterns, size_t counts[3], attn_error *err)
{
    attn_classify_cfg *c = NULL;
    attn_classify_matcher *m = NULL;
    attn_registry *reg = NULL;
    json_t *runs = NULL, *recs = json_array();
    attn_external_run *x = NULL;
    int64_t now;
    int rc;
    if ((rc = attn_classify_cfg_load(patterns, &c, err)) || (rc = attn_classify_matcher_new(c, &m, err)) ||
        (rc = attn_classify_read_runs(file, &runs, err)) ||
        (rc = attn_cmd_runs_registry_open(cli, &reg, &now, err)))
        goto done;
    size_t n = json_array_size(runs), i;
    json_t *r;
    x = calloc(n + 1, sizeof *x);
    json_array_foreach(runs, i, r) {
        const char *id = str(r, "run_id");
        json_t *rec = attn_classify_record(m, id, strlen(id));
        json_array_append_new(recs, rec);
        x[i] = (attn_external_run){
            .source = source, .run_id = id, .name = str(r, "run_name"), .state = str(r, "state"),
            .project = str(r, "project"), .entity = str(r, "entity"),
            .created_at = str(r, "created_at"), .run_type = str(rec, "run_type"),
            .pattern = str(rec, "pattern"), .patterns_name = patterns,
            .fields = json_object_get(rec, "fields"), .matches = json_object_get(rec, "matches"),
            .config = json_is_object(json_object_get(r, "config")) ? json_object_get(r, "config") : NULL,
            .summary = json_is_object(json_object_get(r, "summary")) ? json_object_get(r, "summary") : NULL};
    }
    rc = attn_registry_import_external(reg, x, n, now, counts, err);
done:
    free(x);
    json_decref(recs);
    json_decref(runs);
    attn_registry_close(reg);
    attn_classify_matcher_free(m);
    attn_classify_cfg_free(c);
    return rc;
}

int cmd_runs_import(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"source", required_argument, NULL, OPT_SOURCE},
        {"patterns", required_argument, NULL, OPT_PATTERNS},
        {NULL, 0, NULL, 0}};
    const char *source = NULL, *patterns = NULL;
    attn_cli_str_opt opts[] = {{OPT_SOURCE, &source}, {OPT_PATTERNS, &patterns}, {0, NULL}};
    attn_cli cli;
    attn_error err;
    int first, rc;
    size_t counts[3];
    attn_error_clear(&err);
    if (attn_cli_wants_help(argc, argv)) { /* the full text, not the one-line USAGE */
        printf("usage: %s\n", HELP);
        return 0;
    }
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, 1, &cli, attn_cli_str_opts, opts, &first)) >= 0)
        return rc;
    if (!source || strcmp(source, "wandb"))
        return attn_cli_usage(USAGE, "--source wandb is required (the only source so far)");
    if (!patterns)
        return attn_cli_usage(USAGE, "--patterns NAME|FILE is required (built-in: datadecide)");
    if (first >= argc)
        return attn_cli_usage(USAGE, "give the export FILE.jsonl");
    if ((rc = import_file(&cli, source, argv[first], patterns, counts, &err)))
        return attn_cli_fail(&err);
    if (cli.json)
        attn_cli_print_json(json_pack("{s:s, s:i, s:i, s:i}", "file", argv[first], "inserted",
                                      (int)counts[1], "updated", (int)counts[2], "unchanged",
                                      (int)counts[0]));
    else if (!cli.quiet)
        printf("imported %s: %zu new, %zu updated, %zu unchanged\n", argv[first], counts[1],
               counts[2], counts[0]);
    return 0;
}
