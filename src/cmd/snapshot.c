/*
 * snapshot.c - `attn snapshot --repo O/R --pr N [--as-of T] [--strict] [--data-dir D]`.
 *
 * Prints the PR's state as of T (default: its created_at) as pretty JSON with
 * sorted keys, read from events and intervals only (history/asof.c).
 * --allow-later-files shows the latest head's files when the head at T has
 * none stored (flagged files_from_later_head; routers never get this). With
 * --strict it refuses (exit 1) when any field is not provably as of T, naming
 * them. Exit 2 for bad usage or a malformed --as-of, 1 for an unknown PR or a
 * PR created after T. Never writes to the store.
 */
#include "cmd/cmd.h"
#include "util/alloc.h"
#include "history/asof.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/time.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "attn snapshot --repo OWNER/NAME --pr N [--as-of T] [--strict] [--allow-later-files] "
    "[--data-dir DIR]";

enum { OPT_PR = 300, OPT_AS_OF, OPT_STRICT, OPT_LATER };

static int parse_number(const char *s, int64_t *out, attn_error *err)
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

static int refuse_strict(const json_t *snap, int64_t number, attn_error *err)
{
    attn_buf b = ATTN_BUF_INIT;
    const json_t *v;
    size_t i;
    json_array_foreach(json_object_get(snap, "leak_risk"), i, v)
        attn_buf_printf(&b, "%s%s", i ? ", " : "", json_string_value(v));
    attn_error_set(err, ATTN_ECONFLICT,
                   "--strict: snapshot of #%lld as of %s is not provably as of the cutoff "
                   "(leak_risk: %s)",
                   (long long)number, attn_json_str(snap, "as_of"), attn_buf_cstr(&b));
    attn_buf_free(&b);
    return attn_cli_fail(err);
}

struct snapshot_opts {
    const char *pr, *as_of;
    int strict, later;
};

static int snapshot_opt(void *ctx, int opt, const char *arg)
{
    struct snapshot_opts *o = ctx;
    switch (opt) {
    case OPT_PR: o->pr = arg; return 0;
    case OPT_AS_OF: o->as_of = arg; return 0;
    case OPT_STRICT: o->strict = 1; return 0;
    case OPT_LATER: o->later = 1; return 0;
    }
    return -1;
}

/* Names of an array of strings or of objects with a "name"/"login", or "–". */
static void names_text(const json_t *arr, attn_buf *b)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) {
        const char *s = json_is_string(x) ? json_string_value(x)
                        : attn_json_str(x, "name") ? attn_json_str(x, "name")
                                                    : attn_json_str(x, "login");
        attn_buf_printf(b, "%s%s", i ? ", " : "", s ? s : "?");
    }
    if (!b->len)
        attn_buf_puts(b, ATTN_CLI_MISSING);
}

static const char *or_missing(const char *s) { return s && *s ? s : ATTN_CLI_MISSING; }

/* The snapshot as a readable summary (the default; --json for all of it). */
static void print_table(const json_t *s)
{
    static const char *const LISTS[] = {"labels", "assignees", "review_requests", "leak_risk"};
    static const char *const NAMES[] = {"labels", "assignees", "requested", "leak risk"};
    size_t i;
    json_t *f;
    printf("%s#%lld  %s\n", attn_json_str(s, "repo"), (long long)attn_json_i64(s, "number", 0),
           or_missing(attn_json_str(s, "title")));
    printf("%-10s %s%s\n", "state", or_missing(attn_json_str(s, "state")),
           json_is_true(json_object_get(s, "draft")) ? " (draft)" : "");
    printf("%-10s %s\n", "author", or_missing(attn_json_str(s, "author")));
    printf("%-10s %s\n", "created", or_missing(attn_json_str(s, "created_at")));
    printf("%-10s %s\n", "as of", or_missing(attn_json_str(s, "as_of")));
    printf("%-10s %s @ %.12s\n", "base", or_missing(attn_json_str(s, "base_ref")),
           or_missing(attn_json_str(s, "base_sha")));
    printf("%-10s %s @ %.12s\n", "head", or_missing(attn_json_str(s, "head_ref")),
           or_missing(attn_json_str(s, "head_sha")));
    for (i = 0; i < 4; i++) {
        attn_buf b = ATTN_BUF_INIT;
        names_text(json_object_get(s, LISTS[i]), &b);
        printf("%-10s %s\n", NAMES[i], attn_buf_cstr(&b));
        attn_buf_free(&b);
    }
    printf("files (%zu):\n", json_array_size(json_object_get(s, "changed_files")));
    json_array_foreach(json_object_get(s, "changed_files"), i, f) {
        const char *st = attn_json_str(f, "status");
        printf("  %c %+6lld %+6lld  %s\n", st && *st ? (char)(*st - 32) : '?',
               (long long)attn_json_i64(f, "additions", 0),
               -(long long)attn_json_i64(f, "deletions", 0), or_missing(attn_json_str(f, "path")));
    }
}

int cmd_snapshot(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"pr", required_argument, NULL, OPT_PR},
        {"as-of", required_argument, NULL, OPT_AS_OF},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"allow-later-files", no_argument, NULL, OPT_LATER},
        {NULL, 0, NULL, 0}};
    attn_cli cli;
    attn_error err;
    attn_store *s = NULL;
    attn_asof_reader *reader = NULL;
    attn_buf out = ATTN_BUF_INIT;
    json_t *snap = NULL;
    struct snapshot_opts o = {NULL, NULL, 0, 0};
    char path[4200];
    int64_t number = 0, as_of = ATTN_NULL_I64, repo_id;
    int rc;

    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, 0, &cli, snapshot_opt, &o, NULL)) >= 0)
        return rc;
    if (!cli.repo)
        return attn_cli_usage(USAGE, "--repo OWNER/NAME is required");
    if (!o.pr)
        return attn_cli_usage(USAGE, "--pr N is required");
    if (parse_number(o.pr, &number, &err))
        return attn_cli_fail(&err);
    if (o.as_of && attn_time_parse(o.as_of, &as_of, &err)) {
        attn_error_wrap(&err, "--as-of");
        return attn_cli_fail(&err);
    }
    if (attn_cli_db_path(&cli, path, sizeof(path), &err) ||
        attn_store_open_readonly(path, &s, &err))
        return attn_cli_fail(&err);
    rc = attn_store_repo_id(s, cli.repo, &repo_id, &err);
    if (!rc)
        rc = attn_asof_reader_open(s, &reader, &err);
    if (!rc) {
        attn_asof_reader_allow_later_files(reader, o.later);
        if (as_of == ATTN_NULL_I64)
            rc = attn_asof_reader_pr_created_at(reader, repo_id, number, &as_of, &err);
    }
    if (!rc)
        rc = attn_asof_reader_pr_snapshot(reader, repo_id, number, as_of, &snap, &err);
    attn_asof_reader_free(reader);
    attn_store_close(s);
    if (rc) {
        if (rc == ATTN_ENOTFOUND)
            attn_error_wrap(&err, "%s", cli.repo);
        return attn_cli_fail(&err);
    }
    if (o.strict && json_array_size(json_object_get(snap, "leak_risk"))) {
        rc = refuse_strict(snap, number, &err);
        json_decref(snap);
        return rc;
    }
    if (!cli.json && !cli.quiet) {
        print_table(snap);
        json_decref(snap);
        return 0;
    }
    if (attn_cli_json_selected()) {
        attn_cli_print_json(snap);
        return 0;
    }
    attn_json_dump_pretty(snap, &out);
    fputs(attn_buf_cstr(&out), stdout);
    attn_buf_free(&out);
    json_decref(snap);
    return 0;
}
