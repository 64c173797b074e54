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
#include "exp/lifecycle.h"
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
    "attn runs (import --source wandb FILE.jsonl --patterns NAME|FILE | list [--status S] [--kind K] [--lifecycle L] [--limit N] [--sort KEY] | show RUN_ID | "
    "tag RUN_ID (--add T | --remove T) | archive RUN_ID | restore RUN_ID | "
    "delete RUN_ID [--force] | cleanup [--dry-run] [--keep-last N] [--archive-after DAYS] "
    "[--delete-after DAYS]) --repo OWNER/NAME [--json]";

enum {
    OPT_STATUS = 300, OPT_KIND, OPT_LIFECYCLE, OPT_ADD, OPT_REMOVE, OPT_FORCE, OPT_DRY_RUN,
    OPT_KEEP_LAST, OPT_ARCHIVE_AFTER, OPT_DELETE_AFTER, OPT_LIMIT, OPT_SORT
};

struct ropts {
    const char *status, *kind, *lifecycle, *add, *remove, *keep_last, *archive_after,
        *delete_after, *limit, *sort;
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
    case OPT_LIMIT: o->limit = arg; return 0;
    case OPT_SORT: o->sort = arg; return 0;
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

/* The first router of a run's headline (the metrics runs list shows), or NULL. */
static const json_t *first_router(const json_t *row, const char **name)
{
    const char *k = attn_json_str(row, "first_router");
    json_t *x;
    if (k && (x = json_object_get(json_object_get(row, "headline"), k))) {
        *name = k;
        return x;
    }
    json_object_foreach((json_t *)json_object_get(row, "headline"), k, x) {
        *name = k;
        return x;
    }
    *name = NULL;
    return NULL;
}

/* --sort key of a row: a metric of its first router (missing sorts last). */
static double sort_metric(const json_t *row, const char *key)
{
    const char *name;
    const json_t *h = first_router(row, &name), *v = json_object_get(h, key);
    return json_is_number(v) ? json_number_value(v) : -1.0;
}

/* One row to sort: its key precomputed, so the comparators need no state. */
struct sort_row {
    json_t *row;
    const char *id, *started;
    double metric;
};

static int by_id(const struct sort_row *x, const struct sort_row *y)
{
    return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

static int cmp_run(const void *a, const void *b) { return by_id(a, b); }

static int cmp_started(const void *a, const void *b) /* newest first */
{
    const struct sort_row *x = a, *y = b;
    int c = strcmp(y->started ? y->started : "", x->started ? x->started : "");
    return c ? c : by_id(x, y);
}

static int cmp_metric(const void *a, const void *b) /* best first */
{
    const struct sort_row *x = a, *y = b;
    int c = x->metric < y->metric ? 1 : x->metric > y->metric ? -1 : 0;
    return c ? c : by_id(x, y);
}

/* Add "first_router": the run's first router as its manifest lists them
 * (the headline's keys are sorted by name, not in the run's order). */
static void add_first_router(json_t *rows)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *dir = attn_json_str(r, "run_dir");
        char path[4400];
        json_t *m;
        if (!dir || (size_t)snprintf(path, sizeof(path), "%s/manifest.json", dir) >= sizeof(path))
            continue;
        if (!(m = json_load_file(path, 0, NULL)))
            continue;
        const char *name = attn_json_str(json_array_get(json_object_get(m, "routers"), 0), "name");
        if (name)
            json_object_set_new(r, "first_router", json_string(name));
        json_decref(m);
    }
}

/* rows sorted by key (started, mrr, hit1, run) and cut to limit (-1: all). */
static json_t *list_sorted(json_t *rows, const char *key, long limit)
{
    size_t n = json_array_size(rows), i;
    struct sort_row *v = calloc(n ? n : 1, sizeof(*v));
    json_t *out = json_array();
    const char *metric = !strcmp(key, "hit1") ? "hit_at_1" : key;
    if (!v || !out) {
        free(v);
        json_decref(out);
        return rows;
    }
    add_first_router(rows);
    for (i = 0; i < n; i++) {
        v[i].row = json_array_get(rows, i);
        v[i].id = attn_json_str(v[i].row, "run_id");
        v[i].started = attn_json_str(v[i].row, "started_at");
        v[i].metric = sort_metric(v[i].row, metric);
    }
    qsort(v, n, sizeof(*v),
          !strcmp(key, "run") ? cmp_run : !strcmp(key, "started") ? cmp_started : cmp_metric);
    for (i = 0; i < n && (limit < 0 || (long)i < limit); i++)
        json_array_append(out, v[i].row);
    free(v);
    json_decref(rows);
    return out;
}

static int print_rows(const attn_cli *cli, json_t *rows)
{
    size_t i;
    json_t *r;
    if (cli->json) {
        attn_cli_print_json(rows);
        return 0;
    }
    printf("%-24s %-12s %-9s %-8s %-20s %-12s %5s %6s %6s  %s\n", "run", "kind", "status",
           "life", "started", "router", "n", "mrr", "hit@1", "tags");
    json_array_foreach(rows, i, r) {
        char tags[512] = "", n[24], mrr[24], hit[24];
        size_t j, len = 0;
        json_t *t;
        const char *router;
        const json_t *h = first_router(r, &router);
        json_array_foreach(json_object_get(r, "tags"), j, t) {
            char tag[256];   /* a hand-written spec's tag may hold ESC sequences */
            len += (size_t)snprintf(tags + len, len < sizeof(tags) ? sizeof(tags) - len : 0,
                                    "%s%s", j ? "," : "",
                                    attn_safe_text(json_string_value(t), tag, sizeof(tag)));
        }
        attn_cli_metric(n, sizeof(n), json_object_get(h, "n"), "%.0f");
        attn_cli_metric(mrr, sizeof(mrr), json_object_get(h, "mrr"), "%.3f");
        attn_cli_metric(hit, sizeof(hit), json_object_get(h, "hit_at_1"), "%.3f");
        /* "–" is 3 bytes, 1 column: pad by hand */
        printf("%-24s %-12s %-9s %-8s %-20s %-12s %*s %*s %*s  %s\n", attn_json_str(r, "run_id"),
               attn_json_str(r, "kind"), attn_json_str(r, "status"),
               attn_json_str(r, "lifecycle"), attn_json_str(r, "started_at"),
               router ? router : ATTN_CLI_MISSING, strcmp(n, ATTN_CLI_MISSING) ? 5 : 7, n,
               strcmp(mrr, ATTN_CLI_MISSING) ? 6 : 8, mrr, strcmp(hit, ATTN_CLI_MISSING) ? 6 : 8,
               hit, tags);
    }
    json_decref(rows);
    return 0;
}

/* runs show without --json: the row as "key  value" lines, then the audit trail. */
static void print_show(json_t *row)
{
    static const char *const KEYS[] = {"run_id", "kind", "status", "lifecycle", "started_at",
                                       "finished_at", "n_prs", "gates_pass", "promote",
                                       "experiment_id", "spec_hash", "run_dir", "error", NULL};
    const char *k, *router;
    json_t *x;
    size_t i;
    for (i = 0; KEYS[i]; i++) {
        json_t *v = json_object_get(row, KEYS[i]);
        char *t;
        if (!v || json_is_null(v))
            continue;
        t = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY);
        printf("%-14s %s\n", KEYS[i], t ? t : json_string_value(v));
        free(t);
    }
    if (first_router(row, &router)) {
        printf("\n%-16s %5s %6s %6s\n", "router", "n", "mrr", "hit@1");
        json_object_foreach(json_object_get(row, "headline"), k, x) {
            char n[24], mrr[24], hit[24];
            attn_cli_metric(n, sizeof(n), json_object_get(x, "n"), "%.0f");
            attn_cli_metric(mrr, sizeof(mrr), json_object_get(x, "mrr"), "%.3f");
            attn_cli_metric(hit, sizeof(hit), json_object_get(x, "hit_at_1"), "%.3f");
            printf("%-16s %5s %6s %6s\n", k, n, mrr, hit);
        }
    }
    printf("\n%-20s %-10s %s\n", "at", "action", "detail");
    json_array_foreach(json_object_get(row, "events"), i, x) {
        const json_t *d = json_object_get(x, "detail");
        char *t = d && !json_is_string(d) && !json_is_null(d) ? json_dumps(d, JSON_ENCODE_ANY) : NULL;
        printf("%-20s %-10s %s\n", attn_json_str(x, "at") ? attn_json_str(x, "at") : "",
               attn_json_str(x, "action") ? attn_json_str(x, "action") : "",
               t ? t : json_is_string(d) ? json_string_value(d) : "");
        free(t);
    }
    json_decref(row);
}

/* A filter value must name a known value: an unknown one is a typo, not an
 * empty table. 0, or the usage error's exit status. */
static int check_filter(const char *flag, const char *v, const char *const *known, size_t n)
{
    const char *hit;
    if (!v)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v, known[i]))
            return 0;
    hit = attn_cli_suggest(v, known, n);
    return attn_cli_usage(USAGE, "%s '%s' is not one of %s, %s%s%s%s (%s%s%s)", flag, v, known[0],
                          known[1], n > 2 ? ", " : "", n > 2 ? known[2] : "",
                          n > 3 ? ", ..." : "", hit ? "did you mean " : "", hit ? hit : "see --help",
                          hit ? "?" : "");
}

static int check_list_opts(const struct ropts *o, long *limit)
{
    static const char *const STATUS[] = {"running", "completed", "failed"};
    static const char *const KIND[] = {"baseline", "experimental", "ab_control", "ab_treatment"};
    static const char *const LIFE[] = {"active", "archived", "deleted"};
    static const char *const SORT[] = {"started", "mrr", "hit1", "run"};
    attn_error err;
    int rc;
    if ((rc = check_filter("--status", o->status, STATUS, 3)) ||
        (rc = check_filter("--kind", o->kind, KIND, 4)) ||
        (rc = check_filter("--lifecycle", o->lifecycle, LIFE, 3)) ||
        (rc = check_filter("--sort", o->sort, SORT, 4)))
        return rc;
    *limit = -1;
    if (o->limit && num(o->limit, "--limit", limit, &err))
        return attn_cli_usage(USAGE, "%s", err.msg);
    return 0;
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
    if ((rc = attn_registry_now(&now, err)) || (rc = attn_registry_list(reg, &f, &rows, err)) ||
        (rc = attn_retention_plan(rows, &pol, now, &plan, err)))
        goto out;
    json_array_foreach(plan, i, a) {
        const char *act = attn_json_str(a, "action"), *id = attn_json_str(a, "run_id");
        if (!cli->json)
            printf("%s%s %s (%s)\n", o->dry_run ? "would " : "", act, id,
                   attn_json_str(a, "reason"));
        if (o->dry_run)
            continue;
        if ((rc = attn_lifecycle_apply(reg, a, now, err)))
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
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"sort", required_argument, NULL, OPT_SORT},
        {NULL, 0, NULL, 0}};
    struct ropts o;
    attn_cli cli;
    attn_error err;
    attn_registry *reg = NULL;
    json_t *row = NULL, *x = NULL;
    char repo_dir[4200];
    const char *sub, *id = NULL;
    static const char *const SUBS[] = {"list",    "show",   "tag",    "archive",
                                       "restore", "delete", "cleanup"};
    int rc, first, takes_id, known = 0;
    long limit = -1;
    int64_t now;

    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        if (argc >= 2) {
            attn_cli_help(stdout, USAGE);
            return 0;
        }
        return attn_cli_usage(USAGE, "give a subcommand");
    }
    sub = argv[1];
    if (!strcmp(sub, "import"))
        return cmd_runs_import(argc - 1, argv + 1);
    takes_id = strcmp(sub, "list") && strcmp(sub, "cleanup");
    for (size_t i = 0; i < 7; i++)
        known |= !strcmp(sub, SUBS[i]);
    if (!known) {
        const char *hit = attn_cli_suggest(sub, SUBS, 7);
        return attn_cli_usage(USAGE, "unknown subcommand '%s'%s%s%s", sub,
                              hit ? " (did you mean '" : "", hit ? hit : "", hit ? "'?)" : "");
    }
    memset(&o, 0, sizeof(o));
    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc - 1, argv + 1, longopts, USAGE, takes_id ? 1 : 0, &cli, ropt, &o,
                             &first)) >= 0)
        return rc;
    if (!cli.repo && strcmp(sub, "list") && strcmp(sub, "show"))
        return attn_cli_usage(USAGE, "--repo OWNER/NAME is required");
    if (!strcmp(sub, "list") && (rc = check_list_opts(&o, &limit)))
        return rc;
    if (takes_id) {
        if (first >= argc - 1)
            return attn_cli_usage(USAGE, "runs %s needs a RUN_ID", sub);
        id = argv[1 + first];
    }
    if (!strcmp(sub, "tag") && !o.add == !o.remove)
        return attn_cli_usage(USAGE, "runs tag takes one of --add T or --remove T");
    repo_dir[0] = 0;
    if ((cli.repo && (rc = attn_path_repo_dir(cli.data_dir, cli.repo, repo_dir, sizeof(repo_dir), &err))) ||
        (rc = attn_cmd_runs_registry_open(&cli, &reg, &now, &err)))
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
            attn_registry_add_external(x, ext, &f); /* beside attn's own runs */
            json_decref(ext);
            print_rows(&cli, list_sorted(x, o.sort ? o.sort : "started", limit));
            x = NULL;
        }
    } else if (!strcmp(sub, "show")) {
        json_t *ev = NULL;
        if ((rc = attn_registry_get(reg, id, &row, &err)) == ATTN_ENOTFOUND)
            rc = external_row(reg, id, &row, &err);
        if (!rc && !(rc = attn_registry_events(reg, id, &ev, &err))) {
            json_object_set_new(row, "events", ev);
            if (cli.json)
                attn_cli_print_json(row);
            else
                print_show(row);
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
        rc = attn_lifecycle_delete(reg, id, o.force, "--force", now, &err);
        if (!rc && !cli.quiet)
            printf("deleted %s\n", id);
    } else {
        rc = cleanup(&cli, &o, reg, repo_dir, &err);
    }
out:
    json_decref(row);
    json_decref(x);
    attn_registry_close(reg);
    return rc ? attn_cli_fail(&err) : 0;
}
