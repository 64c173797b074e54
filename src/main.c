/*
 * main.c - attn's entry point and command table.
 *
 * The table below is the index of the tool: each entry names a command, the
 * front end in src/cmd/<name>.c that implements it, and a one-line summary.
 * Adding a command is one file in cmd/ and one line here.
 */
#include "cmd/cmd.h"
#include "util/jalloc.h"
#include "util/version.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>


struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"init", cmd_init, "create the data directory and an empty history store for --repo"},
    {"synth", cmd_synth, "generate a deterministic synthetic GitHub history (JSON bundle)"},
    {"load", cmd_load, "load a GitHub JSON bundle into the store (normalize, events, intervals)"},
    {"ingest", cmd_ingest, "full backfill from the GitHub API (resumable; raw archive + normalize)"},
    {"incremental", cmd_incremental, "watermark-driven update from the GitHub API (conditional requests)"},
    {"pull-requests", cmd_pull_requests, "backfill the PRs created in a window (--with-truth: their activity)"},
    {"renormalize", cmd_renormalize, "rebuild entities, events and intervals from the raw archive (no requests)"},
    {"snapshot", cmd_snapshot, "a PR's state as of a cutoff, from events and intervals (table, or --json)"},
    {"contract", cmd_contract, "contract check: schema, indexes and interval invariants"},
    {"pin", cmd_pin, "pin CODEOWNERS and allow-listed files at PR base SHAs (contents API or --git-dir)"},
    {"route", cmd_route, "rank candidate reviewers for a PR at a cutoff, with evidence (table, or --json)"},
    {"eval", cmd_eval, "evaluate routers over a cohort: truth, metrics with intervals, run directory"},
    {"build-artifacts", cmd_build_artifacts, "write per-PR snapshots, inputs and routes for a window or PRs"},
    {"cohort", cmd_cohort, "create or validate a hashed cohort of PRs with locked cutoffs"},
    {"experiment", cmd_experiment, "experiment specs and runs: init, run, ab, show, summarize, promote, compare, index-all"},
    {"artifacts", cmd_artifacts, "a run's packed per-PR entries: show one PR's, or unpack the prs/ tree"},
    {"runs", cmd_runs, "the run registry: list, show, tag, archive, restore, delete, cleanup (retention)"},
    {"serve", cmd_serve, "the dashboard, JSON API and GitHub webhook receiver over HTTP"},
    {"doctor", cmd_doctor, "readiness of the store for an evaluation: horizon, stale cutoffs, pins, truth, gaps"},
    {"prompt", cmd_prompt, "prompt bundles: list, show, hash (prompt_hash, label registry), diff by section"},
    {"model", cmd_model, "train the learned router's ranking model on PRs before a time (XGBoost)"},
    {"classify", cmd_classify, "classify run ids (W&B...) into run types and fields by a pattern registry"},
    {"export", cmd_export, "Parquet exports of the history (parquet) and flat tables of a run (run)"},
    {"nightly", cmd_nightly, "daily evaluation: incremental, rolling cohort, experiment run, records push, cleanup"},
    {"records", cmd_records, "evaluation records in PostgreSQL: sql script, push (libpq), contract check"},
    {"boundary", cmd_boundary, "the boundary (area) model as of T: file -> area memberships (build)"},
    {"owners", cmd_owners, "who owns each path under a CODEOWNERS file (GitHub rules)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: attn <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\ncommon options: --repo OWNER/NAME (default $GH_REPO, else the git remote), "
               "--data-dir DIR (default ./data, env ATTN_DATA_DIR), --json [FIELDS], --jq EXPR, "
               "--quiet\n"
               "run 'attn <command> --help' (or 'attn help <command>') for a command's options.\n");
}

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The table as arrays, for help.c's man page and completion. */
static void table(const char **names, const char **summaries, attn_command_fn *fns)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        names[i] = commands[i].name;
        summaries[i] = commands[i].summary;
        fns[i] = commands[i].fn;
    }
}

static int man_page(void)
{
    const char *names[N_COMMANDS], *summaries[N_COMMANDS];
    attn_command_fn fns[N_COMMANDS];
    table(names, summaries, fns);
    return attn_help_man(names, summaries, fns, N_COMMANDS);
}

static int complete(int argc, char **argv)
{
    const char *names[N_COMMANDS], *summaries[N_COMMANDS];
    attn_command_fn fns[N_COMMANDS];
    table(names, summaries, fns);
    return attn_help_complete(names, fns, N_COMMANDS, argc, argv);
}

static int run(size_t i, int argc, char **argv)
{
    int rc;
    /* SQLite's memory statistics take one process-wide mutex on every
     * allocation, which the eval's threads queued on (profile); attn never
     * reads them. Must precede any other SQLite call. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
#ifndef __SANITIZE_ADDRESS__
    /* per-thread free lists for JSON values (util/jalloc.h); not under
     * AddressSanitizer, which must see every block freed */
    attn_jalloc_install();
#endif
    rc = commands[i].fn(argc, argv);
    attn_jalloc_thread_release();
    /* a bad --json field or --jq expression is found while printing */
    return attn_cli_output_status() ? attn_cli_output_status() : rc;
}

static int unknown_command(const char *word)
{
    const char *names[sizeof(commands) / sizeof(commands[0]) + 1];
    const char *hit;
    size_t n = 0;
    for (; n < sizeof(commands) / sizeof(commands[0]); n++)
        names[n] = commands[n].name;
    names[n++] = "help";
    if ((hit = attn_cli_suggest(word, names, n)))
        fprintf(stderr, "attn: unknown command '%s' (did you mean '%s'?); run 'attn --help' for the "
                        "list\n", word, hit);
    else
        fprintf(stderr, "attn: unknown command '%s'; run 'attn --help' for the list\n", word);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "attn: missing command; usage: attn <command> [options] (see 'attn --help')\n");
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        (!strcmp(argv[1], "help") && argc == 2)) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("attn %s (%s)\n", ATTN_VERSION, ATTN_CONTRACT);
        return 0;
    }
    if (!strcmp(argv[1], "__complete"))
        return complete(argc - 2, argv + 2);
    if (!strcmp(argv[1], "help")) {
        /* attn help CMD [SUB]: the command's own --help */
        char *hargv[4] = {argv[2], argc > 3 ? argv[3] : "--help", "--help", NULL};
        if (!strcmp(argv[2], "--man"))
            return man_page();
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
            if (!strcmp(argv[2], commands[i].name))
                return commands[i].fn(argc > 3 ? 3 : 2, hargv);
        return unknown_command(argv[2]);
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return run(i, argc - 1, argv + 1);
    return unknown_command(argv[1]);
}
