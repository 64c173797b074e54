/*
 * help.c - the long help of every command: what each flag does, its
 * default, and examples. `--help`, `-h` and `attn help CMD` print it after
 * the command's one-line usage; `attn help --man` turns the same text into
 * the man page, so the two never disagree.
 *
 * Entries are keyed by the command words that start the usage line
 * ("attn route", "attn experiment run"): a command added later gets its long
 * help by adding one entry here, with no change to its option parsing.
 * Never prints anything but help; never exits.
 */
#include "cmd/cmd.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    const char *key;  /* the usage line's leading command words */
    const char *text; /* "description\n\nflags:\n...\n\nexamples:\n..." */
} help_entry;

#define T_TIME "an RFC 3339 instant, e.g. 2024-05-01T00:00:00Z"

static const help_entry HELP[] = {
    {"attn init",
     "Create the data directory and an empty, migrated history store for the repository.\n\n"
     "examples:\n  attn init --repo rust-lang/rust-clippy\n"},
    {"attn load",
     "Load a GitHub JSON bundle into the store: normalize, append events, rebuild intervals.\n"
     "Loading the same bundle again inserts nothing.\n\n"
     "flags:\n  --bundle FILE    the bundle to load (required)\n\n"
     "examples:\n  attn load --repo synth/sample --bundle bundle.json\n"},
    {"attn ingest",
     "Full backfill from the GitHub REST API: raw archive, then normalization. Resumable: a run\n"
     "stopped at a checkpoint (exit 1) continues where it stopped when rerun.\n\n"
     "flags:\n"
     "  --since T        only objects updated at or after T (default: everything)\n"
     "  --api-url URL    API root (default $GITHUB_API_URL, else https://<$GH_HOST>/api/v3 for\n"
     "                   GitHub Enterprise, else https://api.github.com)\n"
     "  --token-env NAME read the token from this variable only (default: $GITHUB_TOKEN, then\n"
     "                   $GH_TOKEN, then `gh auth token` when gh is installed)\n"
     "  --max-wait S     longest wait for a rate-limit reset, in seconds (default: the client's)\n"
     "  --deadline S     longest one request may go unanswered across its retries, in seconds\n"
     "                   (default 300); each retry is announced on stderr\n"
     "  --wait S         wait up to S seconds for another writer's lock (-1: forever; default:\n"
     "                   fail at once, naming the holder)\n\n"
     "examples:\n  attn ingest --repo rust-lang/rust-clippy\n"
     "  GH_REPO=rust-lang/rust-clippy attn ingest --since 2024-01-01T00:00:00Z\n"},
    {"attn incremental",
     "Watermark-driven update from the GitHub API: conditional requests, so an unchanged\n"
     "repository costs only 304s.\n\n"
     "flags:\n"
     "  --api-url URL    API root (default as for attn ingest)\n"
     "  --token-env NAME token variable (default $GITHUB_TOKEN, $GH_TOKEN, `gh auth token`)\n"
     "  --max-wait S     longest wait for a rate-limit reset, in seconds\n"
     "  --deadline S     longest one request may go unanswered across its retries (default 300)\n"
     "  --wait S         wait up to S seconds for another writer's lock (default: fail at once)\n\n"
     "examples:\n  attn incremental --repo rust-lang/rust-clippy\n"},
    {"attn pull-requests",
     "Backfill the pull requests created in a window (and, with --with-truth, their activity).\n\n"
     "flags:\n"
     "  --from T         start of the window, " T_TIME " (required)\n"
     "  --end-at T       end of the window (required)\n"
     "  --with-truth     also fetch each PR's reviews and comments (default off)\n"
     "  --api-url URL, --token-env NAME, --max-wait S, --deadline S, --wait S   as for attn\n"
     "                   ingest\n\n"
     "examples:\n  attn pull-requests --repo o/r --from 2024-05-01T00:00:00Z "
     "--end-at 2024-06-01T00:00:00Z\n"},
    {"attn renormalize",
     "Rebuild entities, events and intervals from the raw archive; makes no requests.\n\n"
     "flags:\n  --wait S         wait up to S seconds for another writer's lock (default: fail at "
     "once)\n\n"
     "examples:\n  attn renormalize --repo rust-lang/rust-clippy\n"},
    {"attn snapshot",
     "A PR's state as of a cutoff, read from events and intervals only. Prints a readable\n"
     "summary; --json prints the whole snapshot as JSON.\n\n"
     "flags:\n"
     "  --pr N           the pull request (required)\n"
     "  --as-of T        the cutoff (default: the PR's created_at)\n"
     "  --strict         refuse (exit 1) when a field is not provably as of T\n"
     "  --allow-later-files  show the latest head's files when the head at T has none\n"
     "                   (flagged files_from_later_head; routers never get this)\n\n"
     "examples:\n  attn snapshot --repo o/r --pr 1234\n"
     "  attn snapshot --repo o/r --pr 1234 --json title,author,changed_files\n"},
    {"attn contract check",
     "Check the store against the data contract: schema, indexes and interval invariants.\n\n"
     "examples:\n  attn contract check --repo o/r\n"},
    {"attn pin",
     "Pin CODEOWNERS and allow-listed files at each PR's base SHA, through the contents API or\n"
     "a local clone. Resumable.\n\n"
     "flags:\n"
     "  --git-dir PATH   read files from this clone instead of the API (no token needed)\n"
     "  --pr N           only this PR's base SHA (repeatable; default every PR)\n"
     "  --path P         also pin this file (repeatable; default CODEOWNERS locations)\n"
     "  --api-url URL, --token-env NAME   as for attn ingest\n"
     "  --max-retries N  retries per file, 0..20 (default the client's)\n\n"
     "examples:\n  attn pin --repo o/r\n  attn pin --repo o/r --git-dir ~/src/r\n"},
    {"attn route",
     "Rank candidate reviewers for a PR at a cutoff, with evidence. Prints a table per router;\n"
     "--json prints the results (router.h) as JSON.\n\n"
     "flags:\n"
     "  --pr N           the pull request (required)\n"
     "  --as-of T        the cutoff (default: the PR's created_at)\n"
     "  --router R       a router (repeatable; default every built-in; see --list)\n"
     "  --config [R=]FILE  a router config (FILE alone: for the only router named)\n"
     "  --top-k K        candidates per router, 1..1000 (default 5)\n"
     "  --list           list the routers with their versions and default configs\n\n"
     "examples:\n  attn route --repo o/r --pr 1234 --router hybrid\n"
     "  attn route --repo o/r --pr 1234 --json --jq '.[] | .router + \" \" + "
     ".candidates[0].target.name'\n"},
    {"attn eval run",
     "Evaluate routers over a cohort: truth, metrics with bootstrap intervals, a run directory.\n\n"
     "flags:\n"
     "  --router R       a router (repeatable, required)\n"
     "  --config [R=]FILE  a router config\n"
     "  --cohort FILE    the PRs and cutoffs of a cohort (or --from/--end-at, or --pr)\n"
     "  --from T --end-at T  the PRs created in a window\n"
     "  --pr N           one PR (repeatable)\n"
     "  --cutoff POLICY  created_at | ready_for_review | ... (default created_at, or the cohort's)\n"
     "  --truth SPEC     truth policy (repeatable; default first_response and first_approval)\n"
     "  --top-k K        candidates per router (default 10)\n"
     "  --ks K,K...      the k of hit@k (default 1,3,5,10)\n"
     "  --bootstrap N    bootstrap resamples (default 1000)\n"
     "  --seed S         bootstrap seed (default 42)\n"
     "  --run-id ID      the run directory's name (default: derived from the inputs)\n"
     "  --allow-stale    run although cutoffs are after the store horizon\n"
     "  --hybrid-train-days D  the hybrid's training window (default 90)\n\n"
     "examples:\n  attn eval run --repo o/r --router popularity --router hybrid --cohort c.json\n"},
    {"attn build-artifacts",
     "Write per-PR snapshots, inputs and routes for a window or PRs, without metrics.\n\n"
     "flags:\n"
     "  --run-id ID      the run directory (required)\n"
     "  --from T --end-at T | --pr N...   the PRs\n"
     "  --router R       a router (repeatable)\n"
     "  --config [R=]FILE, --cutoff POLICY   as for attn eval run\n\n"
     "examples:\n  attn build-artifacts --repo o/r --run-id a1 --pr 12 --router mentions\n"},
    {"attn cohort create",
     "Create a hashed cohort of PRs with locked cutoffs (written atomically).\n\n"
     "flags:\n"
     "  --from T --end-at T  the PRs created in this window (required)\n"
     "  --limit N        sample N of them (default: all)\n"
     "  --seed S         sampling seed (needs --limit; default 0)\n"
     "  --cutoff POLICY  cutoff policy (default created_at)\n"
     "  --out FILE       the cohort file (required)\n\n"
     "examples:\n  attn cohort create --repo o/r --from 2024-04-01T00:00:00Z "
     "--end-at 2024-06-01T00:00:00Z --limit 300 --seed 1 --out cohort.json\n"},
    {"attn cohort validate",
     "Check a cohort's format and recompute its hash (exit 2 naming the problem).\n\n"
     "examples:\n  attn cohort validate cohort.json --repo o/r\n"},
    {"attn experiment init",
     "Write an experiment spec that names its cohort by hash.\n\n"
     "flags:\n"
     "  --cohort FILE    the cohort (required)\n"
     "  --router R       a router (repeatable, required)\n"
     "  --config R=FILE  a router's config, embedded in the spec\n"
     "  --truth SPEC     truth policy (repeatable; default first_response, first_approval)\n"
     "  --kind K         baseline | experimental | ab_control | ab_treatment "
     "(default experimental)\n"
     "  --experiment-id ID  group runs of one experiment (default none)\n"
     "  --tag T          a tag (repeatable)\n"
     "  --notes TEXT     free text\n"
     "  --baseline-router R  promotion baseline (default popularity if named, else the first\n"
     "                   router that is not the candidate)\n"
     "  --candidate-router R  promotion candidate (default hybrid if named, else the last router)\n"
     "  --out FILE       the spec to write (required)\n\n"
     "examples:\n  attn experiment init --repo o/r --cohort c.json --router popularity "
     "--router hybrid --out spec.json\n"},
    {"attn experiment run",
     "Run a spec over its cohort: eval, quality gates, promotion decision, recorded in the run\n"
     "registry.\n\n"
     "flags:\n"
     "  --spec FILE      the spec (required)\n"
     "  --cohort FILE    the cohort the spec names (required)\n"
     "  --run-id ID      the run's id (default exp-<hash>)\n"
     "  --allow-stale    run although cutoffs are after the store horizon\n\n"
     "examples:\n  attn experiment run --repo o/r --spec spec.json --cohort c.json\n"},
    {"attn experiment show",
     "One run: registry row, gates, promotion.\n\nexamples:\n  attn experiment show exp-1a2b --repo o/r\n"},
    {"attn experiment summarize",
     "Every run's headline MRR and hit@1 per router.\n\n"
     "examples:\n  attn experiment summarize --repo o/r\n"},
    {"attn experiment promote",
     "The promotion decision of a run, with its reasons (exit 0 promote, 1 not).\n\n"
     "examples:\n  attn experiment promote exp-1a2b --repo o/r\n"},
    {"attn experiment compare",
     "Compare two runs over their common PRs: config diff, paired-bootstrap deltas, per-PR flips\n"
     "with evidence -> eval/_compare/A__vs__B/compare.{json,md}.\n\n"
     "flags:\n"
     "  --pair A:B       compare router A of RUN_A with router B of RUN_B (repeatable;\n"
     "                   default every router the two runs share)\n"
     "  --k K            the k of the hit@k delta (default 1)\n"
     "  --force          compare although the cohorts or truth policies differ\n"
     "  --out DIR        where to write (default eval/_compare/A__vs__B)\n\n"
     "examples:\n  attn experiment compare --repo o/r exp-a exp-b --pair popularity:hybrid\n"},
    {"attn experiment index-all",
     "Build examples_index.sqlite over every run.\n\n"
     "examples:\n  attn experiment index-all --repo o/r\n"},
    {"attn runs",
     "The run registry.\n\n"
     "subcommands:\n"
     "  list             runs with headline MRR and hit@1 of the first router\n"
     "    --status S     running | completed | failed (default all)\n"
     "    --kind K       baseline | experimental | ab_control | ab_treatment (default all)\n"
     "    --lifecycle L  active | archived | deleted (default all)\n"
     "    --limit N      at most N rows (default all)\n"
     "    --sort KEY     started (default, newest first) | mrr | hit1 | run\n"
     "  show RUN_ID      the row and its audit trail\n"
     "  tag RUN_ID       --add T | --remove T\n"
     "  archive RUN_ID   lifecycle only; files stay\n"
     "  restore RUN_ID   back to active\n"
     "  delete RUN_ID    --force for baseline runs\n"
     "  cleanup          retention: --dry-run, --keep-last N (default 10), --archive-after DAYS\n"
     "                   (default 30), --delete-after DAYS (default 90); or routing/retention.json\n\n"
     "examples:\n  attn runs list --repo o/r --status completed --sort mrr --limit 5\n"
     "  attn runs show exp-1a2b --repo o/r --json status,kind\n"},
    {"attn nightly",
     "The daily evaluation: incremental update, a rolling cohort of the last D days, the\n"
     "experiment run, the records push and the retention cleanup, stopping at the first step that\n"
     "fails. Idempotent per day: the day's cohort and spec live in DATA/github/O/R/nightly/DAY/,\n"
     "the run is nightly-DAY, and a day already evaluated is not evaluated again.\n\n"
     "flags:\n"
     "  --spec FILE       experiment spec (attn experiment init); its routers, configs, truth and\n"
     "                    promotion are kept, its cohort is replaced by the day's (required)\n"
     "  --days D          cohort window length in days (default 7)\n"
     "  --lag-days L      the window ends L days before DAY, so truth windows have closed\n"
     "                    (default 2)\n"
     "  --date DAY        the day, YYYY-MM-DD (default: today, UTC)\n"
     "  --pg URL          push the run's records to PostgreSQL (default $ATTN_PG_URL; none: skip)\n"
     "  --no-incremental  skip the API update (a store kept current by webhooks or another job)\n"
     "  --api-url URL     passed to attn incremental (default as for attn ingest)\n\n"
     "examples:\n"
     "  attn nightly --repo rust-lang/rust-clippy --spec spec.json --days 7\n"
     "  ATTN_PG_URL=postgresql:///evals attn nightly --repo o/r --spec spec.json --quiet\n"
     "  (a cron line and a GitHub Actions workflow: docs/nightly.md)\n"},
    {"attn doctor",
     "Is the store ready for an evaluation? Horizon, stale cutoffs, pins, truth, gaps, leak\n"
     "risks (exit 0 ready, 1 not ready).\n\n"
     "flags:\n"
     "  --cohort FILE    the cohort's PRs (default every PR)\n"
     "  --from T --end-at T  the PRs created in a window\n"
     "  --cutoff POLICY  cutoff policy (default created_at, or the cohort's)\n"
     "  --truth SPEC     truth policy (default first_response)\n\n"
     "examples:\n  attn doctor --repo o/r --cohort cohort.json\n"},
    {"attn owners",
     "Who owns each path under a CODEOWNERS file (GitHub's rules: last match wins).\n\n"
     "flags:\n  --codeowners FILE  the CODEOWNERS file (required)\n\n"
     "examples:\n  attn owners --codeowners .github/CODEOWNERS src/main.c\n"
     "  git ls-files | attn owners --codeowners CODEOWNERS -\n"},
};

static const char COMMON[] =
    "common flags:\n"
    "  --repo OWNER/NAME  the repository (default $GH_REPO, else the GitHub remote of the git\n"
    "                   repository in the current directory); https://github.com/O/R and\n"
    "                   git@github.com:O/R.git are accepted too\n"
    "  --data-dir DIR   data directory (default $ATTN_DATA_DIR, else ./data)\n"
    "  --json [FIELDS]  print JSON; with a comma-separated field list, only those fields\n"
    "                   (--json=FIELD for one field before a positional argument)\n"
    "  --jq EXPR        filter the JSON output through a jq expression (implies --json)\n"
    "  --quiet          print nothing but errors\n"
    "  -h, --help       this help\n";

const char *attn_cli_help_text(const char *usage)
{
    const help_entry *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < sizeof(HELP) / sizeof(HELP[0]); i++) {
        size_t n = strlen(HELP[i].key);
        if (!strncmp(usage, HELP[i].key, n) && (usage[n] == ' ' || !usage[n]) && n > best_len) {
            best = &HELP[i];
            best_len = n;
        }
    }
    return best ? best->text : NULL;
}

void attn_cli_help(FILE *f, const char *usage)
{
    const char *text = attn_cli_help_text(usage);
    fprintf(f, "usage: %s\n\n", usage);
    if (text)
        fprintf(f, "%s\n", text);
    fputs(COMMON, f);
}

/* ---- help as data: man page and completion ---------------------------------------- */

/* What fn prints on stdout for argv (run in a child, so a command's state
 * never leaks into the caller). malloc'd; NULL on failure. */
static char *capture(attn_command_fn fn, int argc, char **argv)
{
    int fd[2], status;
    size_t len = 0, cap = 8192;
    char *buf = malloc(cap);
    ssize_t r;
    pid_t pid;
    if (!buf || pipe(fd)) {
        free(buf);
        return NULL;
    }
    fflush(NULL);
    if ((pid = fork()) < 0) {
        close(fd[0]), close(fd[1]);
        free(buf);
        return NULL;
    }
    if (!pid) {
        dup2(fd[1], 1);
        close(fd[0]), close(fd[1]);
        if (!freopen("/dev/null", "w", stderr))
            _exit(1);
        fn(argc, argv);
        fflush(stdout);
        _exit(0);
    }
    close(fd[1]);
    while ((r = read(fd[0], buf + len, cap - len - 1)) > 0)
        if ((len += (size_t)r) + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb)
                break;
            buf = nb;
        }
    close(fd[0]);
    buf[len] = 0;
    waitpid(pid, &status, 0);
    return buf;
}

static char *help_of(attn_command_fn fn, const char *name, const char *sub)
{
    char *argv[4] = {(char *)name, (char *)(sub ? sub : "--help"), "--help", NULL};
    return capture(fn, sub ? 3 : 2, argv);
}

/* The names listed under a "subcommands:" heading ("  NAME  summary" lines). */
static size_t subcommands(const char *help, char names[][32], size_t max)
{
    const char *p = help ? strstr(help, "\nsubcommands:\n") : NULL;
    size_t n = 0;
    if (!p)
        return 0;
    p += strlen("\nsubcommands:\n");
    /* up to the blank line; deeper-indented lines are a subcommand's flags */
    while (*p && *p != '\n' && n < max) {
        if (p[0] == ' ' && p[1] == ' ' && p[2] != ' ') {
            size_t w = strcspn(p + 2, " ,\n");
            snprintf(names[n++], 32, "%.*s", (int)(w < 31 ? w : 31), p + 2);
        }
        p += strcspn(p, "\n");
        p += *p == '\n';
    }
    return n;
}

/* Roff-escape one line of help text to stdout. */
static void roff_line(const char *s, size_t n)
{
    if (n && (*s == '.' || *s == '\''))
        fputs("\\&", stdout);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\')
            fputs("\\e", stdout);
        else if (s[i] == '-')
            fputs("\\-", stdout);
        else
            fputc(s[i], stdout);
    }
    fputc('\n', stdout);
}

static void roff_block(const char *text)
{
    fputs(".nf\n", stdout);
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        roff_line(p, n);
        p += n + (p[n] == '\n');
    }
    fputs(".fi\n", stdout);
}

int attn_help_man(const char *const *names, const char *const *summaries,
                  const attn_command_fn *fns, size_t n)
{
    printf(".TH ATTN 1 \"\" \"attn\" \"User Commands\"\n.SH NAME\nattn \\- route pull-request "
           "reviewers from GitHub history, and evaluate the routers honestly\n"
           ".SH SYNOPSIS\n.B attn\n.I command\n[options]\n.SH DESCRIPTION\n"
           "Generated from the commands' own \\-\\-help text.\n.SH COMMANDS\n");
    for (size_t i = 0; i < n; i++) {
        char *h = help_of(fns[i], names[i], NULL), subs[32][32];
        size_t ns = subcommands(h, subs, 32);
        printf(".SS %s\n", names[i]);
        roff_line(summaries[i], strlen(summaries[i]));
        printf(".PP\n");
        roff_block(h ? h : "");
        for (size_t k = 0; k < ns; k++) {
            char *sh = help_of(fns[i], names[i], subs[k]);
            if (sh && h && strcmp(sh, h)) { /* runs' subcommands share one help */
                printf(".SS %s %s\n", names[i], subs[k]);
                roff_block(sh);
            }
            free(sh);
        }
        free(h);
    }
    printf(".SH ENVIRONMENT\n.TP\nGH_REPO\nthe default repository (OWNER/NAME)\n"
           ".TP\nGITHUB_TOKEN, GH_TOKEN\nthe API token, in this order; else `gh auth token`\n"
           ".TP\nGITHUB_API_URL, GH_HOST\nGitHub Enterprise API root, or host\n"
           ".TP\nATTN_DATA_DIR\nthe data directory (default ./data)\n"
           ".SH EXIT STATUS\n0 success, 1 the work failed, 2 bad usage or input.\n");
    return 0;
}

/* Print every "--flag" of text once, in order. */
static void print_flags(const char *text)
{
    char seen[8192] = " ";
    for (const char *p = text; p && (p = strstr(p, "--"));) {
        size_t w = 2 + strspn(p + 2, "abcdefghijklmnopqrstuvwxyz0123456789-");
        char flag[64];
        if (w > 2 && w < sizeof(flag) - 2 && (p == text || p[-1] == ' ' || p[-1] == '[' ||
                                              p[-1] == '(' || p[-1] == '|' || p[-1] == ',')) {
            snprintf(flag, sizeof(flag), " %.*s ", (int)w, p);
            if (!strstr(seen, flag) && strlen(seen) + w + 2 < sizeof(seen)) {
                strcat(seen, flag + 1);
                printf("%.*s\n", (int)w, p);
            }
        }
        p += w;
    }
}

int attn_help_complete(const char *const *names, const attn_command_fn *fns, size_t n, int argc,
                       char **argv)
{
    const char *cur = argc ? argv[argc - 1] : "";
    size_t i;
    if (argc <= 1) {
        for (i = 0; i < n; i++)
            if (!strncmp(names[i], cur, strlen(cur)))
                printf("%s\n", names[i]);
        return 0;
    }
    for (i = 0; i < n && strcmp(names[i], argv[0]); i++)
        ;
    if (i == n)
        return 0;
    {
        char *h = help_of(fns[i], names[i], NULL), subs[32][32];
        size_t ns = subcommands(h, subs, 32), k;
        for (k = 0; k < ns && (argc < 3 || strcmp(subs[k], argv[1])); k++)
            ;
        if (ns && argc == 2 && *cur != '-') {
            for (k = 0; k < ns; k++)
                if (!strncmp(subs[k], cur, strlen(cur)))
                    printf("%s\n", subs[k]);
        } else if (*cur == '-') {
            char *sh = k < ns ? help_of(fns[i], names[i], subs[k]) : NULL;
            print_flags(sh ? sh : h);
            free(sh);
        }
        free(h);
    }
    return 0;
}
