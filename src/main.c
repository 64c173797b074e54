/*
 * main.c - attn's entry point and command table.
 *
 * The table below is the index of the tool: each entry names a command, the
 * front end in src/cmd/<name>.c that implements it, and a one-line summary.
 * Adding a command is one file in cmd/ and one line here.
 */
#include "cmd/cmd.h"
#include "util/version.h"

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
    {"snapshot", cmd_snapshot, "a PR's state as of a cutoff, from events and intervals (JSON)"},
    {"contract", cmd_contract, "contract check: schema, indexes and interval invariants"},
    {"pin", cmd_pin, "pin CODEOWNERS and allow-listed files at PR base SHAs (contents API or --git-dir)"},
    {"route", cmd_route, "rank candidate reviewers for a PR at a cutoff, with evidence (JSON)"},
    {"eval", cmd_eval, "evaluate routers over a cohort: truth, metrics with intervals, run directory"},
    {"build-artifacts", cmd_build_artifacts, "write per-PR snapshots, inputs and routes for a window or PRs"},
    {"cohort", cmd_cohort, "create or validate a hashed cohort of PRs with locked cutoffs"},
    {"experiment", cmd_experiment, "experiment specs and runs: init, run (gates, promotion), show, summarize, promote"},
    {"artifacts", cmd_artifacts, "a run's packed per-PR entries: show one PR's, or unpack the prs/ tree"},
    {"runs", cmd_runs, "the run registry: list, show, tag, archive, restore, delete, cleanup (retention)"},
    {"serve", cmd_serve, "the dashboard, JSON API and GitHub webhook receiver over HTTP"},
    {"doctor", cmd_doctor, "readiness of the store for an evaluation: horizon, stale cutoffs, pins, truth, gaps"},
    {"prompt", cmd_prompt, "prompt bundles: list, show, hash (prompt_hash, label registry), diff by section"},
    {"model", cmd_model, "train the learned router's ranking model on PRs before a time (XGBoost)"},
    {"classify", cmd_classify, "classify run ids (W&B...) into run types and fields by a pattern registry"},
    {"export", cmd_export, "Parquet exports of the history (parquet) and flat tables of a run (run)"},
    {"records", cmd_records, "evaluation records in PostgreSQL: sql script, push (libpq), contract check"},
    {"boundary", cmd_boundary, "the boundary (area) model as of T: file -> area memberships (build)"},
    {"owners", cmd_owners, "who owns each path under a CODEOWNERS file (GitHub rules)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: attn <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\ncommon options: --data-dir DIR (default ./data, env ATTN_DATA_DIR), "
               "--repo OWNER/NAME, --json, --quiet\n"
               "run 'attn <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "attn: missing command; usage: attn <command> [options] (see 'attn --help')\n");
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("attn %s (%s)\n", ATTN_VERSION, ATTN_CONTRACT);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "attn: unknown command '%s'; run 'attn --help' for the list\n", argv[1]);
    return 2;
}
