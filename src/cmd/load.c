/*
 * load.c - `attn load --repo O/R --bundle FILE [--data-dir D] [--quiet] [--json]`.
 *
 * Reads a GitHub bundle (docs/bundle.md) as a stream (ingest/bundle_stream.h:
 * memory stays flat whatever its size), checks it is for --repo, opens or
 * creates DATA/github/<o>/<r>/history.sqlite, normalizes everything (see
 * ingest/bundle.c), rebuilds intervals and prints a one-line summary. Loading
 * the same bundle again inserts no new events. A bundle's "codeowners" map is
 * pinned too (ingest/pin.h, source "bundle"), so a synthetic store has its
 * CODEOWNERS without a server; it is checked before anything is written.
 * Exit 2 for bad input (malformed JSON names file, line and column; another
 * repo's bundle; a bad codeowners map), 1 for store trouble.
 */
#include "cmd/cmd.h"
#include "util/progress.h"
#include "ingest/bundle_stream.h"
#include "ingest/pin.h"
#include "store/lock.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/path.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "attn load --repo OWNER/NAME --bundle FILE [--wait S] [--data-dir DIR] [--quiet] [--json]";

enum { OPT_BUNDLE = 300 };

static void print_summary(const attn_cli *cli, const char *bundle, const attn_bundle_stats *st,
                          int64_t pinned)
{
    const attn_norm_stats *n = &st->norm;
    if (cli->json) {
        json_t *o = json_pack(
            "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "repo",
            cli->repo, "bundle", bundle, "users", (json_int_t)n->users, "teams",
            (json_int_t)n->teams, "prs", (json_int_t)n->prs, "issues", (json_int_t)n->issues,
            "reviews", (json_int_t)n->reviews, "comments", (json_int_t)n->comments, "files",
            (json_int_t)n->files, "issue_events", (json_int_t)n->issue_events,
            "events_inserted", (json_int_t)n->events_inserted, "events_duplicate",
            (json_int_t)n->events_duplicate, "skipped", (json_int_t)n->skipped, "intervals",
            (json_int_t)st->rebuild.intervals_written, "codeowners_pinned", (json_int_t)pinned);
        attn_cli_print_json(o);
        return;
    }
    printf("loaded %s: %lld users, %lld prs, %lld issues, %lld reviews, %lld comments, "
           "%lld files; events %lld inserted, %lld duplicate; %lld intervals; %lld skipped",
           cli->repo, (long long)n->users, (long long)n->prs, (long long)n->issues,
           (long long)n->reviews, (long long)n->comments, (long long)n->files,
           (long long)n->events_inserted, (long long)n->events_duplicate,
           (long long)st->rebuild.intervals_written, (long long)n->skipped);
    if (pinned)
        printf("; CODEOWNERS pinned at %lld base SHAs", (long long)pinned);
    putchar('\n');
}

int cmd_load(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS, ATTN_WRITER_LONGOPTS, {"bundle", required_argument, NULL, OPT_BUNDLE}, {NULL, 0, NULL, 0}};
    attn_cli cli;
    attn_error err;
    attn_store *s = NULL;
    attn_store_lock *lock = NULL;
    attn_bundle_stats st;
    attn_progress prog;
    attn_bundle_stream *bundle = NULL;
    const char *bundle_path = NULL;
    char path[4200], dir[4096];
    int64_t pinned = 0;
    attn_cli_str_opt opts[] = {{OPT_BUNDLE, &bundle_path}, {0, NULL}};
    int rc;

    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, 0, &cli, attn_cli_str_opts, opts,
                             NULL)) >= 0)
        return rc;
    if (!cli.repo)
        return attn_cli_usage(USAGE, "--repo OWNER/NAME is required");
    if (!bundle_path)
        return attn_cli_usage(USAGE, "--bundle FILE is required");
    /* Check the repository name before reading a possibly large bundle. */
    if (attn_cli_db_path(&cli, path, sizeof(path), &err))
        return attn_cli_fail(&err);
    if (!attn_fs_exists(bundle_path)) {
        attn_error_set(&err, ATTN_EINVAL, "bundle file '%s' does not exist", bundle_path);
        return attn_cli_fail(&err);
    }
    /* Phases on a live line (a plain line only if one outlasts the period). */
    attn_progress_init(&prog, cli.quiet ? ATTN_PROGRESS_OFF : cli.progress);
    attn_progress_show(&prog, 0, "load: reading %s", bundle_path);
    /* A first pass reads the whole file (syntax, format, repo) with memory
     * that does not grow with it; nothing is written before it passes. */
    if (attn_bundle_stream_open(bundle_path, cli.repo, &bundle, &err)) {
        attn_progress_break(&prog);
        return attn_cli_fail(&err);
    }
    if (attn_pin_bundle_check(attn_bundle_stream_head(bundle), &err) ||
        attn_path_repo_dir(cli.data_dir, cli.repo, dir, sizeof(dir), &err)) {
        attn_bundle_stream_free(bundle);
        attn_error_wrap(&err, "%s", bundle_path);
        return attn_cli_fail(&err);
    }
    /* One writer at a time (SPEC §13); readers are never blocked. */
    if ((rc = attn_cli_lock_store(&cli, "attn load", &lock, &err)) ||
        (rc = attn_cli_open_store(&cli, &s, NULL, 0, &err))) {
        attn_store_lock_release(lock);
        attn_bundle_stream_free(bundle);
        return attn_cli_fail(&err);
    }
    attn_progress_show(&prog, 0, "load: normalizing %zu PRs, then events and intervals",
                       attn_bundle_stream_prs(bundle));
    rc = attn_bundle_stream_apply(s, bundle, &st, &err);
    attn_progress_show(&prog, 0, "load: pinning CODEOWNERS");
    if (!rc)
        rc = attn_pin_bundle_apply(dir, attn_bundle_stream_head(bundle), &pinned, &err);
    attn_progress_show(&prog, 0, "load: done in %.1f s", attn_progress_elapsed(&prog));
    attn_progress_break(&prog);
    attn_bundle_stream_free(bundle);
    attn_store_close(s);
    attn_store_lock_release(lock);
    if (rc) {
        attn_error_wrap(&err, "loading %s", bundle_path);
        return attn_cli_fail(&err);
    }
    if (!cli.quiet)
        print_summary(&cli, bundle_path, &st, pinned);
    return 0;
}
