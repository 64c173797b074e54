/*
 * runs.c - `attn runs list | show | tag | archive | restore | delete | cleanup`
 * over the run registry (SPEC §9, exp/registry.h).
 *
 *   attn runs list --repo O/R [--status S] [--kind K] [--lifecycle L] [--json]
 *   attn runs import --source wandb FILE.jsonl --patterns NAME|FILE [--repo O/R]
 *                    (runs_import.c; external runs, listed after attn's own;
 *                    without --repo list/show read DATA/external/runs.sqlite)
 *   attn runs show RUN_ID --repo O/R              (row + audit trail, JSON)
 *   attn runs tag RUN_ID --repo O/R (--add T | --remove T)
 *   attn runs archive|restore RUN_ID --repo O/R   (lifecycle only; files stay)
 *   attn runs delete RUN_ID --repo O/R [--force]  (baseline runs need --force)
 *   attn runs cleanup --repo O/R [--dry-run] [--keep-last N] [--archive-after DAYS]
 *                     [--delete-after DAYS] [--json]
 *
 * cleanup's policy: flags, else DATA/github/<o>/<r>/routing/retention.json
 * ({"keep_last", "archive_after_days", "delete_after_days"}), else 10/30/90.
 * --dry-run prints the plan; cleanup computes the same plan from the same
 * registry and prints and applies exactly it. Deleting marks the row
 * deleted first and then removes the run directory, so a failure in between
 * leaves a row that says deleted and a directory `runs delete` can retry.
 */
#include "cmd/cmd.h"
#include "exp/registry.h"
#include "exp/runlock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/path.h"
#include "util/safe.h"
#include "util/time.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char USAGE[] =
    "attn runs (import --source wandb FILE.jsonl --patterns NAME|FILE | list [--status S] [--kind K] [--lifecycle L] | show RUN_ID | "
    "tag RUN_ID (--add T | --remove T) | archive RUN_ID | restore RUN_ID | "
    "delete RUN_ID [--force] | cleanup [--dry-run] [--keep-last N] [--archive-after DAYS] "
    "[--delete-after DAYS]) --repo OWNER/NAME [--json]";

enum {
    OPT_STATUS = 300, OPT_KIND, OPT_LIFECYCLE, OPT_ADD, OPT_REMOVE, OPT_FORCE, OPT_DRY_RUN,
    OPT_KEEP_LAST, OPT_ARCHIVE_AFTER, OPT_DELETE_AFTER
};

struct ropts {
    const char *status, *kind, *lifecycle, *add, *remove, *keep_last, *archive_after,
        *delete_after;
    int force, dry_run;
};

static int ropt(void *ctx, int opt, const char *arg)
{
    struct ropts *o = ctx;
    switch (opt) {
    case OPT_STATUS: o->status = arg; return 0;
    case OPT_KIND: o->kind = arg; return 0;
    case OPT_LIFECYCLE: o->lifecycle = arg; return 0;
    case OPT_ADD: o->add = arg; return 0;
    case OPT_REMOVE: o->remove = arg; return 0;
    case OPT_KEEP_LAST: o->keep_last = arg; return 0;
    case OPT_ARCHIVE_AFTER: o->archive_after = arg; return 0;
    case OPT_DELETE_AFTER: o->delete_after = arg; return 0;
    case OPT_FORCE: o->force = 1; return 0;
    case OPT_DRY_RUN: o->dry_run = 1; return 0;
    }
    return -1;
}

static int num(const char *s, const char *what, long *out, attn_error *err)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < 0 || v > 100000)
        return attn_error_set(err, ATTN_EINVAL, "%s '%s' must be a whole number from 0 to 100000",
                              what, s);
    *out = v;
    return 0;
}

/* The wall clock, or ATTN_NOW (epoch seconds or an instant) so tests can
 * pin "now" for retention. */
static int now_s(int64_t *out, attn_error *err)
{
    const char *e = getenv("ATTN_NOW");
    if (e && *e) {
        char *end;
        long long v = strtoll(e, &end, 10);
        if (!*end) {
            *out = v;
            return 0;
        }
        return attn_time_parse(e, out, err);
    }
    *out = (int64_t)time(NULL);
    return 0;
}

/* Append the external rows (kind "external") that pass f's filters. */
static void add_external(json_t *rows, json_t *ext, const attn_run_filter *f)
{
    size_t i;
    json_t *r;
    json_array_foreach(ext, i, r) {
        const char *st = attn_json_str(r, "status");
        if ((f->kind && strcmp(f->kind, "external")) || (f->lifecycle && strcmp(f->lifecycle, "active")) ||
            (f->status && (!st || strcmp(f->status, st))))
            continue;
        json_array_append(rows, r);
    }
    json_decref(ext);
}

/* `runs show` of an imported run: the newest source's row, with config and summary. */
static int external_row(attn_registry *reg, const char *id, json_t **row, attn_error *err)
{
    json_t *ext = NULL;
    int rc = attn_registry_list_external(reg, id, 1, &ext, err);
    if (!rc && json_array_size(ext) == 0)
        rc = attn_error_set(err, ATTN_ENOTFOUND, "no run '%s' in the registry; see `attn runs list`", id);
    if (!rc)
        *row = json_incref(json_array_get(ext, 0));
    json_decref(ext);
    return rc;
}

static int print_rows(const attn_cli *cli, json_t *rows)
{
    size_t i;
    json_t *r;
    if (cli->json) {
        attn_cli_print_json(rows);
        return 0;
    }
    printf("%-28s %-13s %-10s %-9s %-21s %s\n", "run", "kind", "status", "lifecycle", "started",
           "tags");
    json_array_foreach(rows, i, r) {
        char tags[512] = "";
        size_t j, len = 0;
        json_t *t;
        json_array_foreach(json_object_get(r, "tags"), j, t) {
            char tag[256];   /* a hand-written spec's tag may hold ESC sequences */
            len += (size_t)snprintf(tags + len, len < sizeof(tags) ? sizeof(tags) - len : 0,
                                    "%s%s", j ? "," : "",
                                    attn_safe_text(json_string_value(t), tag, sizeof(tag)));
        }
        printf("%-28s %-13s %-10s %-9s %-21s %s\n", attn_json_str(r, "run_id"),
               attn_json_str(r, "kind"), attn_json_str(r, "status"),
               attn_json_str(r, "lifecycle"), attn_json_str(r, "started_at"), tags);
    }
    json_decref(rows);
    return 0;
}

static int delete_run(attn_registry *reg, const json_t *row, int64_t now, const char *detail,
                      attn_error *err)
{
    const char *id = attn_json_str(row, "run_id"), *dir = attn_json_str(row, "run_dir");
    int rc;
    if ((rc = attn_registry_set_lifecycle(reg, id, "deleted", now, detail, err)))
        return rc;
    return dir ? attn_fs_remove_tree(dir, err) : 0;
}

static int cleanup(const attn_cli *cli, const struct ropts *o, attn_registry *reg,
                   const char *repo_dir, attn_error *err)
{
    attn_retention pol;
    attn_run_filter f;
    json_t *rows = NULL, *plan = NULL, *a;
    char path[4400];
    int64_t now;
    long v;
    size_t i;
    int rc;

    attn_retention_init(&pol);
    snprintf(path, sizeof(path), "%s/routing/retention.json", repo_dir);
    if (attn_fs_exists(path)) {
        json_t *pj = NULL;
        if ((rc = attn_json_load_file(path, &pj, err)))
            return rc;
        rc = attn_retention_from_json(pj, path, &pol, err);
        json_decref(pj);
        if (rc)
            return rc;
    }
    if (o->keep_last) {
        if ((rc = num(o->keep_last, "--keep-last", &v, err)))
            return rc;
        pol.keep_last = (int)v;
    }
    if (o->archive_after) {
        if ((rc = num(o->archive_after, "--archive-after", &v, err)))
            return rc;
        pol.archive_after = (int64_t)v * 86400;
    }
    if (o->delete_after) {
        if ((rc = num(o->delete_after, "--delete-after", &v, err)))
            return rc;
        pol.delete_after = (int64_t)v * 86400;
    }
    memset(&f, 0, sizeof(f));
    if ((rc = now_s(&now, err)) || (rc = attn_registry_list(reg, &f, &rows, err)) ||
        (rc = attn_retention_plan(rows, &pol, now, &plan, err)))
        goto out;
    json_array_foreach(plan, i, a) {
        const char *act = attn_json_str(a, "action"), *id = attn_json_str(a, "run_id");
        if (!cli->json)
            printf("%s%s %s (%s)\n", o->dry_run ? "would " : "", act, id,
                   attn_json_str(a, "reason"));
        if (o->dry_run)
            continue;
        if (!strcmp(act, "archive"))
            rc = attn_registry_set_lifecycle(reg, id, "archived", now, "cleanup", err);
        else
            rc = delete_run(reg, a, now, "cleanup", err);
        if (rc)
            goto out;
    }
    if (cli->json) {
        attn_cli_print_json(json_pack("{s:b, s:O}", "dry_run", o->dry_run, "actions", plan));
    } else if (!json_array_size(plan))
        printf("nothing to clean up\n");
out:
    json_decref(rows);
    json_decref(plan);
    return rc;
}

int cmd_runs(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"status", required_argument, NULL, OPT_STATUS},
        {"kind", required_argument, NULL, OPT_KIND},
        {"lifecycle", required_argument, NULL, OPT_LIFECYCLE},
        {"add", required_argument, NULL, OPT_ADD},
        {"remove", required_argument, NULL, OPT_REMOVE},
        {"force", no_argument, NULL, OPT_FORCE},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"keep-last", required_argument, NULL, OPT_KEEP_LAST},
        {"archive-after", required_argument, NULL, OPT_ARCHIVE_AFTER},
        {"delete-after", required_argument, NULL, OPT_DELETE_AFTER},
        {NULL, 0, NULL, 0}};
    struct ropts o;
    attn_cli cli;
    attn_error err;
    attn_registry *reg = NULL;
    json_t *row = NULL, *x = NULL;
    char repo_dir[4200], path[4400];
    const char *sub, *id = NULL;
    int rc, first, takes_id;
    int64_t now;

    if (argc < 2 || !strcmp(argv[1], "--help")) {
        if (argc >= 2) {
            printf("usage: %s\n", USAGE);
            return 0;
        }
        return attn_cli_usage(USAGE, "give a subcommand");
    }
    sub = argv[1];
    if (!strcmp(sub, "import"))
        return cmd_runs_import(argc - 1, argv + 1);
    takes_id = strcmp(sub, "list") && strcmp(sub, "cleanup");
    if (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "tag") &&
        strcmp(sub, "archive") && strcmp(sub, "restore") && strcmp(sub, "delete") &&
        strcmp(sub, "cleanup"))
        return attn_cli_usage(USAGE, "unknown subcommand '%s'", sub);
    memset(&o, 0, sizeof(o));
    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc - 1, argv + 1, longopts, USAGE, takes_id ? 1 : 0, &cli, ropt, &o,
                             &first)) >= 0)
        return rc;
    if (!cli.repo && strcmp(sub, "list") && strcmp(sub, "show"))
        return attn_cli_usage(USAGE, "--repo OWNER/NAME is required");
    if (takes_id) {
        if (first >= argc - 1)
            return attn_cli_usage(USAGE, "runs %s needs a RUN_ID", sub);
        id = argv[1 + first];
    }
    if (!strcmp(sub, "tag") && !o.add == !o.remove)
        return attn_cli_usage(USAGE, "runs tag takes one of --add T or --remove T");
    repo_dir[0] = 0;
    if ((cli.repo && (rc = attn_path_repo_dir(cli.data_dir, cli.repo, repo_dir, sizeof(repo_dir), &err))) ||
        (rc = attn_cmd_runs_registry_path(&cli, path, sizeof(path), &err)))
        return attn_cli_fail(&err);
    if ((rc = attn_registry_open(path, &reg, &err)) || (rc = now_s(&now, &err)))
        goto out;
    /* A "running" row whose process died is failed from now on (D7). */
    if ((rc = attn_runlock_reap(reg, repo_dir, now, NULL, &err)))
        goto out;

    if (!strcmp(sub, "list")) {
        attn_run_filter f;
        memset(&f, 0, sizeof(f));
        f.status = o.status;
        f.kind = o.kind;
        f.lifecycle = o.lifecycle;
        json_t *ext = NULL;
        if (!(rc = attn_registry_list(reg, &f, &x, &err)) &&
            !(rc = attn_registry_list_external(reg, NULL, 0, &ext, &err))) {
            add_external(x, ext, &f); /* beside attn's own runs */
            print_rows(&cli, x);
            x = NULL;
        }
    } else if (!strcmp(sub, "show")) {
        json_t *ev = NULL;
        if ((rc = attn_registry_get(reg, id, &row, &err)) == ATTN_ENOTFOUND)
            rc = external_row(reg, id, &row, &err);
        if (!rc && !(rc = attn_registry_events(reg, id, &ev, &err))) {
            json_object_set_new(row, "events", ev);
            attn_cli_print_json(row);
            row = NULL;
        }
    } else if (!strcmp(sub, "tag")) {
        rc = attn_registry_tag(reg, id, o.add ? o.add : o.remove, !!o.add, now, &err);
        if (!rc && !cli.quiet)
            printf("%s %s: tag %s\n", o.add ? "tagged" : "untagged", id, o.add ? o.add : o.remove);
    } else if (!strcmp(sub, "archive") || !strcmp(sub, "restore")) {
        rc = attn_registry_set_lifecycle(reg, id, !strcmp(sub, "archive") ? "archived" : "active",
                                         now, NULL, &err);
        if (!rc && !cli.quiet)
            printf("%s %s\n", !strcmp(sub, "archive") ? "archived" : "restored", id);
    } else if (!strcmp(sub, "delete")) {
        if (!(rc = attn_registry_get(reg, id, &row, &err))) {
            if (!strcmp(attn_json_str(row, "kind"), "baseline") && !o.force)
                rc = attn_error_set(&err, ATTN_ECONFLICT,
                                    "run %s is a baseline run and is protected; pass --force to "
                                    "delete it",
                                    id);
            else if (!strcmp(attn_json_str(row, "status"), "running") && !o.force)
                rc = attn_error_set(&err, ATTN_ECONFLICT,
                                    "run %s is still running; pass --force to delete it", id);
            else
                rc = delete_run(reg, row, now, o.force ? "forced" : NULL, &err);
            if (!rc && !cli.quiet)
                printf("deleted %s\n", id);
        }
    } else {
        rc = cleanup(&cli, &o, reg, repo_dir, &err);
    }
out:
    json_decref(row);
    json_decref(x);
    attn_registry_close(reg);
    return rc ? attn_cli_fail(&err) : 0;
}
