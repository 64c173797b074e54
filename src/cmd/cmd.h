/*
 * cmd.h - the front ends of attn's commands (one file per command in cmd/).
 *
 * A command parses its options, calls the library, prints, and returns the
 * process exit status: 0 success, 1 failure of the work, 2 bad usage or input.
 */
#ifndef ATTN_CMD_CMD_H
#define ATTN_CMD_CMD_H

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include "util/error.h"

/* Options every command accepts. */
typedef struct {
    const char *data_dir;   /* --data-dir, $ATTN_DATA_DIR, else ./data */
    const char *repo;       /* --repo O/R */
    int json;               /* --json */
    int quiet;              /* --quiet */
    const char *wait;       /* --wait S of writer commands (NULL: fail at once) */
} attn_cli;

/* getopt_long ids for the common options; command-specific ids start at 300. */
enum { OPT_DATA_DIR = 256, OPT_REPO, OPT_JSON, OPT_QUIET, OPT_HELP, OPT_WAIT };

/* Writer commands (ingest, incremental, pull-requests, renormalize, load, pin)
 * add this to their longopts: --wait S waits up to S seconds for the store's
 * writer lock instead of failing at once. */
#define ATTN_WRITER_LONGOPTS {"wait", required_argument, NULL, OPT_WAIT}


#define ATTN_COMMON_LONGOPTS                                   \
    {"data-dir", required_argument, NULL, OPT_DATA_DIR},       \
    {"repo", required_argument, NULL, OPT_REPO},               \
    {"json", no_argument, NULL, OPT_JSON},                     \
    {"quiet", no_argument, NULL, OPT_QUIET},                   \
    {"help", no_argument, NULL, OPT_HELP}

void attn_cli_init(attn_cli *cli);

/* A command's own options: return 0 when opt was handled, -1 when it is not
 * one of the command's (a usage error follows). */
typedef int (*attn_cli_opt_fn)(void *ctx, int opt, const char *arg);

/* An attn_cli_opt_fn for commands whose own options are all strings: ctx is
 * an array of {id, &slot} ended by {0, NULL}. */
typedef struct {
    int id;
    const char **slot;
} attn_cli_str_opt;
int attn_cli_str_opts(void *ctx, int opt, const char *arg);

/*
 * Parse argv with getopt_long (long options only): common options fill cli,
 * the rest go to fn (may be NULL). On success returns -1 and sets *first_arg
 * to the first positional argument; at most max_args positionals are allowed
 * (-1: any number). Otherwise returns the exit status to use: 0 after --help,
 * 2 after a one-line usage error.
 */
int attn_cli_parse(int argc, char **argv, const struct option *longopts, const char *usage,
                   int max_args, attn_cli *cli, attn_cli_opt_fn fn, void *ctx, int *first_arg);
/* Handle a common option id; returns 1 if handled, 0 if not common. */
int attn_cli_common(attn_cli *cli, int opt, const char *arg);
/* Print o as one line of sorted, compact JSON on stdout, then release it
 * (takes the reference; NULL prints {}). */
void attn_cli_print_json(json_t *o);
/* Print "attn: <message>" to stderr and return the exit status for err. */
int attn_cli_fail(const attn_error *err);
/* Print a usage error and return 2. */
int attn_cli_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Path of the repo's history DB into out: DATA/github/<o>/<r>/history.sqlite. */
int attn_cli_db_path(const attn_cli *cli, char *out, size_t cap, attn_error *err);
/* Create the repo's data directory if needed and open (creating and
 * migrating) its history store; the DB path goes to path (may be NULL). */
typedef struct attn_store attn_store;
int attn_cli_open_store(const attn_cli *cli, attn_store **s, char *path, size_t cap,
                        attn_error *err);

/* Take the exclusive writer lock of the repo's store (store/lock.h), creating
 * the repo's data directory if needed, honouring --wait. Readers never call
 * this. Returns ATTN_ECONFLICT naming the holder, ATTN_EINVAL for a bad --wait. */
typedef struct attn_store_lock attn_store_lock;
int attn_cli_lock_store(const attn_cli *cli, const char *command, attn_store_lock **lock,
                        attn_error *err);

int cmd_boundary(int argc, char **argv);
int cmd_build_artifacts(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_cohort(int argc, char **argv);
int cmd_contract(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_experiment(int argc, char **argv);
int cmd_export(int argc, char **argv);
/* `attn experiment compare` / `index-all` (experiment_compare.c); argv[0] is the subcommand. */
int cmd_experiment_compare(int argc, char **argv);
int cmd_experiment_index_all(int argc, char **argv);
int cmd_incremental(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_owners(int argc, char **argv);
int cmd_pin(int argc, char **argv);
int cmd_prompt(int argc, char **argv);
int cmd_pull_requests(int argc, char **argv);
int cmd_records(int argc, char **argv);
int cmd_renormalize(int argc, char **argv);
int cmd_route(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_serve(int argc, char **argv);
/* `attn runs import` (runs_import.c); argv[0] is "import". */
int cmd_runs_import(int argc, char **argv);
/* The run registry path: DATA/github/<o>/<r>/runs.sqlite with --repo, else
 * DATA/external/runs.sqlite (imported runs not tied to a repository). */
int attn_cmd_runs_registry_path(const attn_cli *cli, char *out, size_t cap, attn_error *err);
int cmd_snapshot(int argc, char **argv);
int cmd_artifacts(int argc, char **argv);
int cmd_synth(int argc, char **argv);

#endif
