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
#include "exp/registry.h"
#include "util/error.h"

/* Options every command accepts. */
typedef struct {
    const char *data_dir;   /* --data-dir, $ATTN_DATA_DIR, else ./data */
    const char *repo;       /* --repo O/R */
    int json;               /* --json */
    int quiet;              /* --quiet */
    const char *wait;       /* --wait S of writer commands (NULL: fail at once) */
    const char *json_fields; /* --json FIELD,... (NULL: every field) */
    const char *jq;         /* --jq EXPR (implies json) */
    const char *repo_source; /* where repo came from: "--repo", "GH_REPO", "git remote", NULL */
    int progress;           /* --progress: ATTN_PROGRESS_* (default: tty if stderr is one, else lines) */
    int verbose;            /* --verbose: log every request */
    char repo_buf[256];     /* repo, when normalized or defaulted */
} attn_cli;

/* --progress=none|tty|lines. */
enum { ATTN_PROGRESS_NONE = 0, ATTN_PROGRESS_TTY, ATTN_PROGRESS_LINES };

/* getopt_long ids for the common options; command-specific ids start at 300. */
enum { OPT_DATA_DIR = 256, OPT_REPO, OPT_JSON, OPT_QUIET, OPT_HELP, OPT_WAIT, OPT_JQ,
       OPT_PROGRESS, OPT_VERBOSE };

/* Writer commands (ingest, incremental, pull-requests, renormalize, load, pin)
 * add this to their longopts: --wait S waits up to S seconds for the store's
 * writer lock instead of failing at once. */
#define ATTN_WRITER_LONGOPTS {"wait", required_argument, NULL, OPT_WAIT}


#define ATTN_COMMON_LONGOPTS                                   \
    {"data-dir", required_argument, NULL, OPT_DATA_DIR},       \
    {"repo", required_argument, NULL, OPT_REPO},               \
    {"json", optional_argument, NULL, OPT_JSON},               \
    {"jq", required_argument, NULL, OPT_JQ},                   \
    {"quiet", no_argument, NULL, OPT_QUIET},                   \
    {"progress", required_argument, NULL, OPT_PROGRESS},       \
    {"verbose", no_argument, NULL, OPT_VERBOSE},               \
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
/* output.c: the --json FIELDS / --jq selection attn_cli_parse sets, and
 * whether printing failed on it (a bad field or expression: 2, else 0). */
void attn_cli_output_set(const char *fields, const char *jq);
int attn_cli_output_status(void);
/* 1 when --json FIELDS or --jq was given (commands with a pretty JSON form
 * print through attn_cli_print_json then). */
int attn_cli_json_selected(void);
/* A metric for a table: fmt of v, or ATTN_CLI_MISSING when v is not a number. */
#define ATTN_CLI_MISSING "\xe2\x80\x93" /* "–": a missing metric, never 0.000 */
void attn_cli_metric(char *buf, size_t cap, const json_t *v, const char *fmt);
/* A right-aligned table cell of width columns: v with prec decimals, or "–"
 * when v is missing or not a number (e.g. hit@k for a k the run left out). */
const char *attn_cli_cell(char *buf, size_t cap, const json_t *v, int width, int prec);
/* The name in names[0..n) nearest to word by edit distance, or NULL when
 * none is close enough ("did you mean"). */
const char *attn_cli_suggest(const char *word, const char *const *names, size_t n);
/* help.c: the long help for a usage line (NULL if none), and the full help
 * (usage, long help, common flags) as --help prints it. */
const char *attn_cli_help_text(const char *usage);
void attn_cli_help(FILE *f, const char *usage);
/* 1 when argv asks for help: -h or --help before "--" (after it, "-h" is a
 * file or a run id). One rule for attn_cli_parse and the commands that print
 * their long help before parsing. */
int attn_cli_wants_help(int argc, char **argv);
/* The man page (roff) and shell completion, both made from the commands'
 * own --help output (each run in a child), so new commands are covered. */
typedef int (*attn_command_fn)(int argc, char **argv);
int attn_help_man(const char *const *names, const char *const *summaries,
                  const attn_command_fn *fns, size_t n);
/* argv: the words after "attn", the last one being completed. */
int attn_help_complete(const char *const *names, const attn_command_fn *fns, size_t n, int argc,
                       char **argv);
/* ghrepo.c: normalize a repository argument (O/R, https://github.com/O/R,
 * git@github.com:O/R.git, github.com/O/R) into out; 0 or ATTN_EINVAL. */
int attn_cli_repo_normalize(const char *arg, char *out, size_t cap, attn_error *err);
/* The default repository: $GH_REPO, else the GitHub remote of the git
 * repository in the current directory (origin first). 0 and out filled,
 * or ATTN_ENOTFOUND. *source names where it came from. */
int attn_cli_repo_default(char *out, size_t cap, const char **source, attn_error *err);
/* The GitHub API root: $GITHUB_API_URL, else https://$GH_HOST/api/v3 for a
 * host other than github.com, else NULL (the client's default). */
const char *attn_cli_api_url_default(char *buf, size_t cap);
/* The token: only $token_env when the user named one (--token-env),
 * else $GITHUB_TOKEN, $GH_TOKEN, then `gh auth token` when gh is on PATH.
 * Returns a malloc'd token or NULL; *source names the variable or "gh". */
char *attn_cli_token(const char *token_env, int named, const char **source);

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
int cmd_nightly(int argc, char **argv);
int cmd_records(int argc, char **argv);
int cmd_renormalize(int argc, char **argv);
int cmd_route(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_serve(int argc, char **argv);
/* `attn runs import` (runs_import.c); argv[0] is "import". */
int cmd_runs_import(int argc, char **argv);
/* The run registry `attn runs` works on, opened (created when new):
 * DATA/github/<o>/<r>/runs.sqlite with --repo, else DATA/external/runs.sqlite
 * (imported runs not tied to a repository); *now is the instant its changes
 * are recorded at (attn_registry_now). */
int attn_cmd_runs_registry_open(const attn_cli *cli, attn_registry **reg, int64_t *now,
                                attn_error *err);
int cmd_snapshot(int argc, char **argv);
int cmd_artifacts(int argc, char **argv);
int cmd_synth(int argc, char **argv);

#endif
