/*
 * model.c - the synthetic world and the story of each PR and issue (see the
 * model in synth.h). Pure computation: no I/O, no JSON, no global mutable
 * state. An item's story uses its own PRNG sub-stream (stream 1000 + number)
 * and reads only the world, so items can be rebuilt in any order and any
 * number of times with the same result; that is what lets synth.c stream
 * each output list in its own pass with bounded memory.
 */
#include "synth/model.h"
#include "util/alloc.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H 3600.0
#define D 86400.0

/* Sub-streams of the seed. */
enum { ST_WORLD = 1, ST_TIMELINE = 2, ST_ITEM = 1000 };
/* Tags of syn_sha. */
enum { SHA_HEAD = 1, SHA_MERGE = 2, SHA_WEEK = 3, SHA_BLOB = 4 };

static const syn_area AREAS[SYN_NAREAS] = {
    {"core", "src/core/", {"src/core/engine.rs", "src/core/config.rs", "src/core/error.rs",
      "src/core/lib.rs", "src/core/scheduler.rs", NULL},
     {"tests/core/engine_test.rs", "tests/core/config_test.rs", NULL},
     {"engine shutdown", "config reload", "error messages", "task scheduler", "startup time",
      "structured logging"}, 0, 1.3},
    {"parser", "src/parser/", {"src/parser/lexer.rs", "src/parser/parser.rs", "src/parser/ast.rs",
      "src/parser/tokens.rs", "src/parser/recovery.rs", NULL},
     {"tests/parser/lexer_test.rs", "tests/parser/parser_test.rs", NULL},
     {"lexer state machine", "error recovery", "AST spans", "operator precedence",
      "unicode identifiers", "token lookahead"}, 1, 1.2},
    {"net", "src/net/", {"src/net/http.rs", "src/net/tls.rs", "src/net/pool.rs", "src/net/dns.rs",
      "src/net/retry.rs", NULL},
     {"tests/net/http_test.rs", "tests/net/pool_test.rs", NULL},
     {"connection pool", "TLS handshake", "retry backoff", "DNS cache", "HTTP/2 framing",
      "proxy support"}, 2, 1.2},
    {"storage", "src/storage/", {"src/storage/wal.rs", "src/storage/pager.rs",
      "src/storage/index.rs", "src/storage/cache.rs", NULL},
     {"tests/storage/wal_test.rs", NULL},
     {"WAL checkpoint", "index rebuild", "page cache", "crash recovery", "compaction",
      "fsync batching"}, 3, 1.0},
    {"cli", "src/cli/", {"src/cli/main.rs", "src/cli/args.rs", "src/cli/output.rs",
      "src/cli/commands.rs", NULL},
     {"tests/cli/args_test.rs", NULL},
     {"argument parsing", "JSON output", "progress bar", "shell completion", "exit codes",
      "color output"}, -1, 0.7},
    {"web", "web/", {"web/src/app.ts", "web/src/api.ts", "web/src/components/Table.tsx",
      "web/src/components/Chart.tsx", "web/package.json", NULL},
     {NULL},
     {"dashboard table", "chart tooltips", "API client", "dark mode", "pagination",
      "bundle size"}, 4, 0.9},
    {"docs", "docs/", {"docs/index.md", "docs/install.md", "docs/usage.md", "docs/api.md",
      "docs/faq.md", NULL},
     {NULL},
     {"install guide", "API reference", "FAQ", "usage examples", "typos", "changelog"}, 5, 0.6},
    {"ci", "ci/", {"ci/build.sh", "ci/test.sh", "ci/release.sh", "ci/Dockerfile", NULL},
     {NULL},
     {"release pipeline", "test matrix", "cache keys", "Docker image", "nightly builds",
      "lint job"}, 6, 0.5},
    {"build", "", {"Cargo.toml", "Cargo.lock", "build.rs", "rust-toolchain.toml", NULL},
     {NULL},
     {"dependency versions", "feature flags", "MSRV", "build script", "release profile",
      "workspace layout"}, 6, 0.4},
    {"examples", "examples/", {"examples/basic.rs", "examples/server.rs", "examples/streaming.rs",
      NULL},
     {NULL},
     {"server example", "streaming example", "example comments", "basic example",
      "example output", "example setup"}, -1, 0.3},
};

static const syn_team TEAMS[SYN_NTEAMS] = {
    {"core", "Core", "Maintainers of the engine and releases", {0, -1, -1}},
    {"parser", "Parser", "Lexer, parser and AST", {1, -1, -1}},
    {"net", "Net", "Networking: HTTP, TLS, DNS", {2, -1, -1}},
    {"storage", "Storage", "WAL, pager and indexes", {3, -1, -1}},
    {"web", "Web", "The web dashboard", {5, -1, -1}},
    {"docs", "Docs", "Documentation", {6, -1, -1}},
    {"infra", "Infra", "CI, builds and dependencies", {7, 8, -1}},
};

const char *const syn_label_names[SYN_NLABELS] = {
    "bug", "enhancement", "documentation", "dependencies", "good first issue", "needs-review",
    "breaking-change", "priority/high", "wontfix", "stale", "area/parser", "area/net",
    "area/storage", "area/web"};
const char *const syn_label_colors[SYN_NLABELS] = {
    "d73a4a", "a2eeef", "0075ca", "0366d6", "7057ff", "fbca04", "b60205", "e99695", "ffffff",
    "ededed", "c5def5", "c5def5", "c5def5", "c5def5"};
const char *const syn_label_descs[SYN_NLABELS] = {
    "Something isn't working", "New feature or request",
    "Improvements or additions to documentation", "Pull requests that update a dependency file",
    "Good for newcomers", "Waiting for a reviewer", "Changes a public interface",
    "Needs attention soon", "This will not be worked on", "No activity for a while",
    "Parser and lexer", "Networking", "Storage engine", "Web dashboard"};
const char *const syn_milestone_titles[SYN_NMILESTONES] = {"v1.0", "v1.1", "v2.0"};

static const char *const NAMES[] = {
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "uma", "victor", "walter",
    "xena", "yusuf", "zoe", "amir", "bea", "chen", "dara", "emeka", "fatima", "goran", "hana",
    "igor", "jun", "kofi", "lena", "milos", "nora", "omar", "priya", "quinn", "rosa", "sanjay",
    "tomas", "ulla", "vera", "wei", "ximena", "yara", "zaid", "anke", "bruno", "cleo", "diego",
    "elif", "femi", "gita", "hugo", "ines", "jonas", "kira", "luca", "maya", "nils", "oona"};
#define NNAMES ((int)(sizeof(NAMES) / sizeof(NAMES[0])))

static const char *const VERBS[] = {"fix", "add", "refactor", "improve", "simplify", "speed up",
                                    "document", "test"};
#define NVERBS 8
static const char *const VERBS3[] = {"fixes", "adds", "refactors", "improves", "simplifies",
                                     "speeds up", "documents", "tests"};

static const char *const CARGO_DEPS[] = {"serde", "tokio", "regex", "clap", "hyper", "rustls"};
static const char *const NPM_DEPS[] = {"react", "vite", "typescript", "eslint", "d3"};

static const char *const HUMAN_COMMENTS[] = {
    "Thanks for working on this! I left a few thoughts.",
    "Could you add a test for the edge case?",
    "I think this also affects the release notes.",
    "Rebased on main, should be good now.",
    "Is this ready for another look?",
    "LGTM once CI is green.",
    "I can reproduce the problem on main; this fixes it for me.",
    "Nice catch. Any idea how long this has been broken?",
};
#define NHUMAN_COMMENTS 8

static const char *const REVIEW_BODIES[] = {
    "", "Looks good to me.", "A few comments inline.", "Please address the comments before merging.",
    "LGTM, thanks!", "Nice work. One question inline.", "This needs a test.",
};
static const char *const RCOMMENT_BODIES[] = {
    "Can this allocation be avoided?", "This branch looks unreachable.",
    "Nit: naming. Maybe `next_token`?", "Should this return an error instead of panicking?",
    "Please add a comment explaining why.", "This changes behaviour for existing users.",
    "Done, thanks.", "Good point, fixed in the latest push.",
    ("I'd rather keep it as is, because the caller already checks this."),
};

enum { CM_HUMAN, CM_BENCH, CM_CI, CM_PING, CM_STALE, CM_SUPERSEDED, CM_ISSUE_REPLY };

/* ------------------------------------------------------------------ helpers */

void syn_sha(const syn_world *w, uint64_t tag, uint64_t a, uint64_t b, char out[41])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t x = w->o.seed ^ (tag * UINT64_C(0xA24BAED4963EE407)) ^
                 (a * UINT64_C(0x9FB21C651E98DF25)) ^ (b * UINT64_C(0xD1B54A32D192ED03));
    for (int i = 0; i < 40; i += 16) {
        uint64_t v = attn_splitmix64(&x);
        for (int j = 0; j < 16 && i + j < 40; j++)
            out[i + j] = hex[(v >> (60 - 4 * j)) & 15];
    }
    out[40] = '\0';
}

void syn_week_sha(const syn_world *w, int week, char out[41])
{
    syn_sha(w, SHA_WEEK, (uint64_t)week, 0, out);
}

double syn_activity(const syn_world *w, int u, int64_t t)
{
    const syn_user *us = &w->users[u];
    double a;
    if (us->bot || t < us->joined_at)
        return 0;
    a = us->level;
    if (t > us->left_at)
        a *= exp(-(double)(t - us->left_at) / (10 * D));
    return a;
}

int syn_home_at(const syn_world *w, int u, int64_t t)
{
    const syn_user *us = &w->users[u];
    if (us->moved_to >= 0 && t >= us->moved_at)
        return us->moved_to;
    return us->home;
}

int syn_user_in_team(const syn_world *w, int u, int team)
{
    const syn_user *us = &w->users[u];
    if (us->bot)
        return 0;
    if (team == 0 && us->maintainer)
        return 1;
    for (int i = 0; i < 3 && w->teams[team].areas[i] >= 0; i++) {
        int a = w->teams[team].areas[i];
        if (us->home == a || us->home2 == a || us->moved_to == a)
            return 1;
    }
    return 0;
}

int syn_rev_for_week(const syn_world *w, int week)
{
    int r = 0;
    for (int i = 0; i < SYN_NREVS; i++)
        if (week >= w->revs[i].from_week)
            r = i;
    return r;
}

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static int64_t secs(double s)
{
    return (int64_t)llround(s);
}

/* ------------------------------------------------------------------ world */

static int pick_area(attn_prng *r, int except)
{
    double wt[SYN_NAREAS];
    for (int a = 0; a < SYN_NAREAS; a++)
        wt[a] = a == except ? 0 : AREAS[a].weight;
    return attn_prng_weighted(r, wt, SYN_NAREAS);
}

static void make_users(syn_world *w, attn_prng *r)
{
    int64_t start = w->o.start, win = w->end - w->o.start;
    int nm = w->nhumans >= 12 ? 3 : 1;

    for (int i = 0; i < w->nhumans; i++) {
        syn_user *u = &w->users[i];
        memset(u, 0, sizeof(*u));
        if (i < NNAMES)
            snprintf(u->login, sizeof(u->login), "%s", NAMES[i]);
        else
            snprintf(u->login, sizeof(u->login), "%s%d", NAMES[i % NNAMES], i / NNAMES + 1);
        u->id = SYN_ID_USER + 1 + i;
        u->maintainer = i < nm;
        u->home = u->maintainer ? 0 : pick_area(r, -1);
        u->home2 = attn_prng_chance(r, 0.35) ? pick_area(r, u->home) : -1;
        u->level = exp(0.8 * attn_prng_normal(r)) * (u->maintainer ? 2.0 : 1.0);
        u->author_rate = u->maintainer ? 0.8 : 0.3 + 1.4 * attn_prng_double(r);
        u->review_rate = u->maintainer ? 2.0 : 0.2 + 1.3 * attn_prng_double(r);
        u->latency_h = clampd(exp(log(10.0) + 0.9 * attn_prng_normal(r)), 1,
                              u->maintainer ? 24 : 96);
        if (u->maintainer || attn_prng_chance(r, 0.75))
            u->joined_at = start - attn_prng_range(r, 30, 700) * 86400;
        else
            u->joined_at = start + secs(attn_prng_double(r) * 0.8 * (double)win);
        u->left_at = INT64_MAX;
        if (!u->maintainer && attn_prng_chance(r, 0.16)) {
            int64_t from = u->joined_at > start ? u->joined_at : start;
            u->left_at = from + 14 * 86400 + secs(attn_prng_double(r) * 0.8 * (double)win);
        }
        u->moved_to = -1;
        u->moved_at = INT64_MAX;
        if (!u->maintainer && attn_prng_chance(r, 0.10)) {
            u->moved_to = pick_area(r, u->home);
            u->moved_at = start + secs((0.2 + 0.6 * attn_prng_double(r)) * (double)win);
        }
    }
    /* Bots come last so human indexes are 0..nhumans-1. */
    {
        static const char *const logins[SYN_NBOTS] = {"dependabot[bot]", "github-actions[bot]",
                                                      "synth-ci"};
        static const int64_t ids[SYN_NBOTS] = {49699333, 41898282, SYN_ID_USER + 999000};
        for (int b = 0; b < SYN_NBOTS; b++) {
            syn_user *u = &w->users[w->nhumans + b];
            memset(u, 0, sizeof(*u));
            snprintf(u->login, sizeof(u->login), "%s", logins[b]);
            /* The two GitHub App bots keep their real ids: routers may know them. */
            u->id = ids[b];
            u->bot = 1;
            u->home = u->home2 = u->moved_to = -1;
            u->joined_at = w->o.start - 365 * 86400;
            u->left_at = u->moved_at = INT64_MAX;
        }
    }
}

/* Stewards of each area at revision time: listed owners lag reality by two weeks. */
static void make_revs(syn_world *w)
{
    static const double at[SYN_NREVS] = {0.0, 0.25, 0.55, 0.8};
    for (int r = 0; r < SYN_NREVS; r++) {
        syn_rev *rv = &w->revs[r];
        int64_t ts;
        rv->from_week = (int)(at[r] * w->nweeks);
        rv->effective_at = w->o.start + (int64_t)rv->from_week * SYN_WEEK;
        ts = rv->effective_at - 14 * 86400;
        for (int a = 0; a < SYN_NAREAS; a++) {
            double best[2] = {0, 0};
            rv->owners[a][0] = rv->owners[a][1] = -1;
            rv->team_owned[a] = AREAS[a].team >= 0;
            for (int u = 0; u < w->nhumans; u++) {
                const syn_user *us = &w->users[u];
                double s, act = syn_activity(w, u, ts);
                if (us->joined_at > ts || act < 0.3 * us->level)
                    continue;
                if (a == 0 ? us->maintainer : (!us->maintainer && syn_home_at(w, u, ts) == a))
                    s = act * us->review_rate;
                else if (!us->maintainer && us->home2 == a)
                    s = 0.5 * act * us->review_rate;
                else
                    continue;
                if (s > best[0]) {
                    best[1] = best[0];
                    rv->owners[a][1] = rv->owners[a][0];
                    best[0] = s;
                    rv->owners[a][0] = u;
                } else if (s > best[1]) {
                    best[1] = s;
                    rv->owners[a][1] = u;
                }
            }
            /* A second steward is listed only when nearly as involved as the first. */
            if (best[1] < 0.6 * best[0])
                rv->owners[a][1] = -1;
        }
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Creation instants with a weekday and time-of-day profile, then kinds and authors. */
static void make_timeline(syn_world *w, attn_prng *r)
{
    int n = w->nitems;
    int64_t win = w->end - w->o.start;
    int64_t *ts = attn_xcalloc((size_t)n, sizeof(*ts));
    int *kinds = attn_xcalloc((size_t)n, sizeof(*kinds));
    double *wt = attn_xcalloc((size_t)w->nhumans, sizeof(*wt));

    for (int i = 0; i < n; i++) {
        for (;;) {
            double u = attn_prng_double(r);
            int64_t t = w->o.start + secs(u * (double)(win - 3600));
            int64_t day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
            int dow = (int)(((day + 4) % 7 + 7) % 7);       /* 0 = Sunday */
            int hour = (int)(((t % 86400) + 86400) % 86400 / 3600);
            double p = (dow == 0 || dow == 6) ? 0.3 : 1.0;
            p *= hour < 7 ? 0.25 : hour < 19 ? 1.0 : 0.6;
            if (attn_prng_chance(r, p)) {
                ts[i] = t;
                break;
            }
        }
        kinds[i] = i < w->o.prs;
    }
    qsort(ts, (size_t)n, sizeof(*ts), cmp_i64);
    attn_prng_shuffle(r, kinds, (size_t)n);
    for (int i = 0; i < n; i++) {
        syn_slot *s = &w->slots[i];
        s->t = ts[i];
        s->is_pr = kinds[i];
        if (s->is_pr && attn_prng_chance(r, 0.07)) {
            s->author = w->nhumans + BOT_DEPENDABOT;
            continue;
        }
        for (int u = 0; u < w->nhumans; u++)
            wt[u] = syn_activity(w, u, s->t) * (s->is_pr ? w->users[u].author_rate : 1.0);
        s->author = attn_prng_weighted(r, wt, (size_t)w->nhumans);
        if (s->author < 0)
            s->author = 0;
    }
    free(ts);
    free(kinds);
    free(wt);
}

int syn_world_init(syn_world *w, const attn_synth_opts *o, attn_error *err)
{
    attn_prng r;
    memset(w, 0, sizeof(*w));
    w->o = *o;
    w->end = o->start + o->days * 86400;
    w->nhumans = (int)(o->users > 0 ? o->users : 40);
    w->nusers = w->nhumans + SYN_NBOTS;
    w->areas = AREAS;
    w->teams = TEAMS;
    w->nweeks = (int)((o->days * 86400 + SYN_WEEK - 1) / SYN_WEEK);
    w->nissues = (int)(o->prs * 3 / 10);
    w->nitems = (int)o->prs + w->nissues;
    w->users = attn_xcalloc((size_t)w->nusers, sizeof(*w->users));
    w->slots = attn_xcalloc((size_t)(w->nitems ? w->nitems : 1), sizeof(*w->slots));
    attn_prng_seed_stream(&r, o->seed, ST_WORLD);
    make_users(w, &r);
    make_revs(w);
    attn_prng_seed_stream(&r, o->seed, ST_TIMELINE);
    make_timeline(w, &r);
    return 0;
}

void syn_world_free(syn_world *w)
{
    free(w->users);
    free(w->slots);
    w->users = NULL;
    w->slots = NULL;
}

void syn_codeowners_text(const syn_world *w, int r, char *buf, size_t cap)
{
    const syn_rev *rv = &w->revs[r];
    const char *org = w->o.owner;
    char date[ATTN_TIME_BUFSZ];
    size_t n = 0;

#define OUT(...) do { int k_ = snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__); \
        if (k_ > 0) n += (size_t)k_; } while (0)
    attn_time_format(rv->effective_at, date);
    date[10] = '\0';
    OUT("# CODEOWNERS for %s/%s, revision %d (effective %s)\n", org, w->o.name, r + 1, date);
    OUT("# The last matching pattern wins; GitHub requests these owners' reviews.\n\n");
    OUT("*  @%s/core\n", org);
    OUT("*.md  @%s/docs\n", org);
    for (int a = 0; a < SYN_NAREAS; a++) {
        const syn_area *ar = &AREAS[a];
        char owners[256];
        size_t on = 0;
        int team = ar->team;
        /* Revision 3 hands the team-less cli area to core. */
        if (team < 0 && a == 4 && r >= 2)
            team = 0;
        owners[0] = '\0';
        if (team >= 0 && (rv->team_owned[a] || team == 0))
            on += (size_t)snprintf(owners + on, sizeof(owners) - on, " @%s/%s", org,
                                   TEAMS[team].slug);
        for (int k = 0; k < 2; k++)
            if (rv->owners[a][k] >= 0 && on < sizeof(owners))
                on += (size_t)snprintf(owners + on, sizeof(owners) - on, " @%s",
                                       w->users[rv->owners[a][k]].login);
        if (!owners[0])
            continue;
        if (ar->prefix[0]) {
            OUT("/%s %s\n", ar->prefix, owners + 1);
            if (ar->tests[0] && rv->owners[a][0] >= 0)
                OUT("/tests/%s/ @%s\n", ar->name, w->users[rv->owners[a][0]].login);
        } else {
            for (int f = 0; ar->files[f]; f++)
                OUT("/%s %s\n", ar->files[f], owners + 1);
        }
    }
    OUT("/.github/ @%s/core\n", org);
    if (r >= 1)
        OUT("/web/package-lock.json @%s/infra\n", org);
    if (r >= 2)
        OUT("# Generated code has no owner.\n/examples/generated/\n");
#undef OUT
    if (cap)
        buf[n < cap ? n : cap - 1] = '\0';
}

/* ------------------------------------------------------------------ items */

typedef struct {
    const syn_world *w;
    syn_item *it;
    attn_prng r;
    int64_t t0;
} sim;

static void ev_add(sim *s, int64_t t, int type, int actor, int arg, int team, int by)
{
    syn_item *it = s->it;
    syn_event *e;
    if (it->nev >= SYN_MAX_EVENTS)
        return;
    e = &it->ev[it->nev];
    e->t = t < s->t0 ? s->t0 : t;
    e->k = it->nev++;
    e->type = type;
    e->actor = actor;
    e->arg = arg;
    e->team = team;
    e->by = by;
}

static int rv_add(sim *s, int64_t t, int user, int state, int body)
{
    syn_item *it = s->it;
    syn_review *v;
    if (it->nrv >= SYN_MAX_REVIEWS)
        return -1;
    v = &it->rv[it->nrv];
    v->t = t;
    v->k = it->nrv++;
    v->user = user;
    v->state = state;
    v->body = body;
    v->head = 0;
    return v->k;
}

static int rc_add(sim *s, int64_t t, int user, int review_k, int file, int line, int reply_to,
                  int body)
{
    syn_item *it = s->it;
    syn_rcomment *c;
    if (it->nrc >= SYN_MAX_RCOMMENTS)
        return -1;
    c = &it->rc[it->nrc];
    c->t = t;
    c->k = it->nrc++;
    c->user = user;
    c->review_k = review_k;
    c->file = file;
    c->line = line;
    c->reply_to_k = reply_to;
    c->body = body;
    c->head = 0;
    return c->k;
}

static void cm_add(sim *s, int64_t t, int user, int kind, int arg)
{
    syn_item *it = s->it;
    syn_comment *c;
    if (it->ncm >= SYN_MAX_COMMENTS)
        return;
    c = &it->cm[it->ncm];
    c->t = t < s->t0 ? s->t0 : t;
    c->edited = c->t;
    c->k = it->ncm++;
    c->user = user;
    c->kind = kind;
    c->arg = arg;
    if (kind == CM_HUMAN && attn_prng_chance(&s->r, 0.1))
        c->edited = c->t + 60 + secs(attn_prng_exp(&s->r, H));
}

/* Weight of u as a reviewer of area a at t (before request/mention boosts). */
static double expert_weight(const syn_world *w, int u, int a, int64_t t)
{
    const syn_user *us = &w->users[u];
    double m;
    if (us->bot)
        return 0;
    if (syn_home_at(w, u, t) == a)
        m = 1.0;
    else if (us->home2 == a)
        m = 0.6;
    else if (us->maintainer)
        m = 0.25;
    else
        m = 0.02;
    return syn_activity(w, u, t) * us->review_rate * m;
}

static int pick_expert(sim *s, int a, int64_t t, int exclude)
{
    const syn_world *w = s->w;
    double wt[512];
    int n = w->nhumans, base = 0;
    /* Large rosters: sample a window of 512 people starting at a random offset. */
    if (n > 512) {
        base = (int)attn_prng_below(&s->r, (uint64_t)n);
        n = 512;
    }
    for (int i = 0; i < n; i++) {
        int u = (base + i) % w->nhumans;
        wt[i] = u == exclude ? 0 : expert_weight(w, u, a, t);
    }
    int i = attn_prng_weighted(&s->r, wt, (size_t)n);
    return i < 0 ? -1 : (base + i) % w->nhumans;
}

static int pick_maintainer(sim *s, int exclude)
{
    int nm = 0, cand[8];
    for (int u = 0; u < s->w->nhumans && nm < 8; u++)
        if (s->w->users[u].maintainer && u != exclude)
            cand[nm++] = u;
    if (nm == 0)
        return exclude;
    return cand[attn_prng_below(&s->r, (uint64_t)nm)];
}

static void slugify(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in && n + 1 < cap; in++) {
        char c = *in;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out[n++] = c;
        else if (n && out[n - 1] != '-')
            out[n++] = '-';
    }
    while (n && out[n - 1] == '-')
        n--;
    out[n] = '\0';
}

static int count_files(const char *const *list, int max)
{
    int n = 0;
    while (n < max && list[n])
        n++;
    return n;
}

static void add_file(syn_item *it, const char *path, int status, attn_prng *r)
{
    syn_file *f;
    for (int i = 0; i < it->nfiles; i++)
        if (!strcmp(it->files[i].path, path))
            return;
    if (it->nfiles >= SYN_MAX_FILES)
        return;
    f = &it->files[it->nfiles++];
    snprintf(f->path, sizeof(f->path), "%s", path);
    f->status = status;
    f->additions = 1 + (int)attn_prng_exp(r, 35);
    f->deletions = (int)attn_prng_exp(r, 12);
    if (status == 1)
        f->deletions = 0;
    if (status == 2) {
        f->additions = 0;
        f->deletions = 20 + (int)attn_prng_exp(r, 60);
    }
}

static void pick_files(sim *s)
{
    syn_item *it = s->it;
    const syn_area *ar = &AREAS[it->area];
    int nf = count_files(ar->files, 7), idx[7], n;

    n = 1 + (int)attn_prng_geometric(&s->r, 0.55);
    if (n > nf)
        n = nf;
    for (int i = 0; i < nf; i++)
        idx[i] = i;
    attn_prng_shuffle(&s->r, idx, (size_t)nf);
    for (int i = 0; i < n; i++)
        add_file(it, ar->files[idx[i]], 0, &s->r);
    if (ar->tests[0] && attn_prng_chance(&s->r, 0.45)) {
        int nt = count_files(ar->tests, 3);
        add_file(it, ar->tests[attn_prng_below(&s->r, (uint64_t)nt)], 0, &s->r);
    }
    if (it->area != 6 && attn_prng_chance(&s->r, 0.08))
        add_file(it, AREAS[6].files[attn_prng_below(&s->r, 5)], 0, &s->r);
    if (ar->prefix[0] && it->area != 6 && attn_prng_chance(&s->r, 0.06)) {
        char slug[64], path[96];
        slugify(ar->topics[it->topic], slug, sizeof(slug));
        for (char *p = slug; *p; p++)
            if (*p == '-')
                *p = '_';
        snprintf(path, sizeof(path), "%s%s.%s", ar->prefix, slug,
                 it->area == 5 ? "ts" : "rs");
        add_file(it, path, 1, &s->r);
    }
    if (it->nfiles > 1 && attn_prng_chance(&s->r, 0.03)) {
        syn_file *f = &it->files[it->nfiles - 1];
        if (f->status == 0) {
            f->status = 2;
            f->additions = 0;
            f->deletions = 20 + (int)attn_prng_exp(&s->r, 60);
        }
    }
}

static int earlier_issue(sim *s)
{
    for (int tries = 0; tries < 8 && s->it->number > 1; tries++) {
        int n = 1 + (int)attn_prng_below(&s->r, (uint64_t)(s->it->number - 1));
        if (!s->w->slots[n - 1].is_pr)
            return n;
    }
    return 0;
}

static void append(char *buf, size_t cap, const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(buf);
    if (n < cap)
        snprintf(buf + n, cap - n, fmt, a, b);
}

/* Title, body, mentions and branch of a PR. */
static void pr_text(sim *s)
{
    syn_item *it = s->it;
    const syn_world *w = s->w;
    const syn_area *ar = &AREAS[it->area];
    const char *topic = ar->topics[it->topic];
    const char *verb = VERBS[it->verb];
    char slug[80], tmp[64];
    int author_bot = w->users[it->author].bot;

    if (author_bot) {
        int cargo = it->area == 8;
        const char *dep = cargo ? CARGO_DEPS[attn_prng_below(&s->r, 6)]
                                : NPM_DEPS[attn_prng_below(&s->r, 5)];
        int maj = (int)attn_prng_range(&s->r, 0, 4), min = (int)attn_prng_range(&s->r, 1, 30);
        int pat = (int)attn_prng_range(&s->r, 0, 9);
        char from[32], to[32];
        snprintf(from, sizeof(from), "%d.%d.%d", maj, min, pat);
        snprintf(to, sizeof(to), "%d.%d.%d", maj, min, pat + 1 + (int)attn_prng_below(&s->r, 3));
        snprintf(it->title, sizeof(it->title), "Bump %s from %s to %s", dep, from, to);
        snprintf(it->body, sizeof(it->body),
                 "Bumps [%s](https://github.com/%s) from %s to %s.\n\n"
                 "Dependabot will resolve any conflicts with this PR as long as you don't alter "
                 "it yourself.",
                 dep, dep, from, to);
        it->has_body = 1;
        snprintf(it->head_ref, sizeof(it->head_ref), "dependabot/%s/%s-%s",
                 cargo ? "cargo" : "npm_and_yarn", dep, to);
        memcpy(it->title0, it->title, sizeof(it->title));
        return;
    }
    snprintf(it->title, sizeof(it->title), "%s: %s %s", ar->name, verb, topic);
    memcpy(it->title0, it->title, sizeof(it->title));
    slugify(topic, tmp, sizeof(tmp));
    slugify(verb, slug, sizeof(slug));
    snprintf(it->head_ref, sizeof(it->head_ref), "%.39s/%.20s-%.50s", w->users[it->author].login, slug,
             tmp);
    it->has_body = !attn_prng_chance(&s->r, 0.1);
    it->body[0] = '\0';
    it->mention_user = it->mention_team = -1;
    if (!it->has_body)
        return;
    snprintf(it->body, sizeof(it->body), "## Summary\n\nThis change %s the %s in `%s`.\n", VERBS3[it->verb],
             topic, it->files[0].path);
    if (attn_prng_chance(&s->r, 0.25) && (it->fixes = earlier_issue(s)) > 0) {
        snprintf(tmp, sizeof(tmp), "%d", it->fixes);
        append(it->body, sizeof(it->body), "\nFixes #%s%s\n", tmp, "");
    }
    if (attn_prng_chance(&s->r, 0.2)) {
        it->mention_user = pick_expert(s, it->area, it->created, it->author);
        if (it->mention_user >= 0)
            append(it->body, sizeof(it->body), "\ncc @%s%s\n", w->users[it->mention_user].login,
                   "");
    }
    if (ar->team >= 0 && attn_prng_chance(&s->r, 0.08)) {
        it->mention_team = ar->team;
        append(it->body, sizeof(it->body), "\n@%s/%s: could one of you take a look?\n",
               w->o.owner, TEAMS[ar->team].slug);
    }
    if (attn_prng_chance(&s->r, 0.12)) {
        it->ai_line = 1;
        append(it->body, sizeof(it->body),
               "\n> AI disclosure: parts of this change were drafted with an AI coding assistant%s"
               "%s; I reviewed and tested them.\n", "", "");
    }
}

static int label_for_area(int a)
{
    switch (a) {
    case 1: return 10;
    case 2: return 11;
    case 3: return 12;
    case 5: return 13;
    }
    return -1;
}

typedef struct {
    int user;
    int64_t t;
} resp;

static int cmp_resp(const void *a, const void *b)
{
    const resp *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->user - y->user;
}

static int64_t maxi(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* The state a pull request's story builds up, stage by stage. The stages run
 * in a fixed order: each draws from the PRNG, so reordering them would change
 * every synthetic history. */
typedef struct {
    int author, bot;
    int64_t t0, t_ready, t_close;
    int req_users[SYN_MAX_REQ], nreq, removed[SYN_MAX_REQ];
    int64_t req_t[SYN_MAX_REQ];
    int rev;
    int approved, last_approver;
    int64_t t_appr, t_last_push, t_last;
    resp resps[4];
    int nresp;
} pr_state;

/* Draft and ready, labels, mentions, a rename. */
static void story_open(sim *s, pr_state *st)
{
    syn_item *it = s->it;
    attn_prng *r = &s->r;

    /* Draft, then ready. */
    it->draft = !st->bot && attn_prng_chance(r, 0.15);
    if (it->draft) {
        st->t_ready = st->t0 + 600 + secs(attn_prng_exp(r, 20 * H));
        ev_add(s, st->t_ready, EV_READY_FOR_REVIEW, st->author, 0, 0, -1);
    }
    /* Labels. */
    if (st->bot) {
        ev_add(s, st->t0 + 2, EV_LABELED, st->author, 3, 0, -1);
    } else {
        int la = label_for_area(it->area);
        if (attn_prng_chance(r, 0.5))
            ev_add(s, st->t0 + 30 + secs(attn_prng_exp(r, 300)), EV_LABELED, st->author,
                   it->area == 6 ? 2 : attn_prng_chance(r, 0.55) ? 0 : 1, 0, -1);
        if (la >= 0 && attn_prng_chance(r, 0.6))
            ev_add(s, st->t0 + 40 + secs(attn_prng_exp(r, 300)), EV_LABELED, st->author, la, 0, -1);
    }
    if (it->mention_user >= 0) {
        ev_add(s, st->t0, EV_MENTIONED, it->mention_user, 0, 0, -1);
        ev_add(s, st->t0, EV_SUBSCRIBED, it->mention_user, 0, 0, -1);
    }
    if (it->title0[0] && strcmp(it->title0, it->title))
        ev_add(s, st->t0 + 300 + secs(attn_prng_exp(r, 8 * H)), EV_RENAMED, st->author, 0, 0, -1);
}

/* Review requests: CODEOWNERS when ready, a manual one, some removed. */
static void story_requests(sim *s, pr_state *st)
{
    syn_item *it = s->it;
    const syn_world *w = s->w;
    attn_prng *r = &s->r;

    /* CODEOWNERS auto-requests when the PR becomes ready, then a manual one. */
    {
        const syn_rev *rv = &w->revs[st->rev];
        int64_t tr = st->t_ready + 5 + (int64_t)attn_prng_below(r, 90);
        int team = AREAS[it->area].team;
        if (it->area == 4 && st->rev >= 2)
            team = 0;
        if (team >= 0 && (rv->team_owned[it->area] || team == 0))
            ev_add(s, tr, EV_REVIEW_REQUESTED, st->author, team, 1, st->author);
        for (int k = 0; k < 2; k++) {
            int u = rv->owners[it->area][k];
            if (u >= 0 && u != st->author && st->nreq < SYN_MAX_REQ) {
                ev_add(s, tr, EV_REVIEW_REQUESTED, st->author, u, 0, st->author);
                st->req_users[st->nreq] = u;
                st->req_t[st->nreq] = tr;
                st->removed[st->nreq++] = 0;
            }
        }
        if (!st->bot && attn_prng_chance(r, 0.35)) {
            int64_t tm = st->t_ready + 60 + secs(attn_prng_exp(r, 2 * H));
            int u = pick_expert(s, it->area, tm, st->author), dup = 0;
            for (int i = 0; i < st->nreq; i++)
                dup |= st->req_users[i] == u;
            if (u >= 0 && !dup && st->nreq < SYN_MAX_REQ) {
                ev_add(s, tm, EV_REVIEW_REQUESTED, st->author, u, 0, st->author);
                st->req_users[st->nreq] = u;
                st->req_t[st->nreq] = tm;
                st->removed[st->nreq++] = 0;
            }
        }
        for (int i = 0; i < st->nreq; i++)
            if (attn_prng_chance(r, 0.1)) {
                ev_add(s, st->req_t[i] + 600 + secs(attn_prng_exp(r, D)), EV_REVIEW_REQUEST_REMOVED,
                       st->author, st->req_users[i], 0, st->author);
                st->removed[i] = 1;
            }
    }
}

/* Who responds, and when (sorted by time). */
static void story_responders(sim *s, pr_state *st)
{
    syn_item *it = s->it;
    const syn_world *w = s->w;
    attn_prng *r = &s->r;

    /* Who responds, and when. */
    {
        double wt[512];
        int n = w->nhumans > 512 ? 512 : w->nhumans, base = 0, nrev;
        double x = attn_prng_double(r);
        if (w->nhumans > 512)
            base = (int)attn_prng_below(r, (uint64_t)w->nhumans);
        nrev = st->bot ? (x < 0.9) : x < 0.12 ? 0 : x < 0.67 ? 1 : x < 0.92 ? 2 : 3;
        for (int i = 0; i < n; i++) {
            int u = (base + i) % w->nhumans;
            double v = u == st->author ? 0 : expert_weight(w, u, it->area, st->t_ready);
            for (int q = 0; q < st->nreq; q++)
                if (st->req_users[q] == u && !st->removed[q])
                    v *= 4;
            if (u == it->mention_user)
                v *= 3;
            wt[i] = v;
        }
        for (int k = 0; k < nrev; k++) {
            int i = attn_prng_weighted(r, wt, (size_t)n);
            if (i < 0)
                break;
            wt[i] = 0;
            st->resps[st->nresp].user = (base + i) % w->nhumans;
            st->resps[st->nresp].t = st->t_ready + 300 +
                             secs(attn_prng_exp(r, w->users[st->resps[st->nresp].user].latency_h * H));
            st->nresp++;
        }
        qsort(st->resps, (size_t)st->nresp, sizeof(st->resps[0]), cmp_resp);
    }
}

/* Review rounds; non-approvals bring comments, replies and force pushes. */
static void story_reviews(sim *s, pr_state *st)
{
    syn_item *it = s->it;
    const syn_world *w = s->w;
    attn_prng *r = &s->r;

    /* Review rounds: non-approvals bring comments, replies and force pushes. */
    for (int i = 0; i < st->nresp; i++) {
        int u = st->resps[i].user;
        int64_t t = st->resps[i].t;
        for (int round = 0; round < 3; round++) {
            double x = attn_prng_double(r);
            int state = st->bot ? (x < 0.9 ? RV_APPROVED : RV_COMMENTED)
                      : round == 0 ? (x < 0.5 ? RV_APPROVED : x < 0.7 ? RV_CHANGES_REQUESTED
                                                                       : RV_COMMENTED)
                                   : (x < 0.75 ? RV_APPROVED : RV_COMMENTED);
            int body = state == RV_APPROVED ? (attn_prng_chance(r, 0.5) ? 0 : 4)
                     : state == RV_CHANGES_REQUESTED ? 3 : 2;
            int rk = rv_add(s, t, u, state, body);
            int64_t t_next;
            if (rk < 0)
                break;
            st->t_last = maxi(st->t_last, t);
            if (state == RV_APPROVED) {
                st->approved = 1;
                if (t > st->t_appr) {
                    st->t_appr = t;
                    st->last_approver = u;
                }
                break;
            }
            {
                int nc = 1 + (int)attn_prng_geometric(r, 0.5);
                if (nc > 4)
                    nc = 4;
                for (int c = 0; c < nc; c++) {
                    int f = (int)attn_prng_below(r, (uint64_t)it->nfiles);
                    int ck = rc_add(s, t, u, rk, f, (int)attn_prng_range(r, 1, 200), -1,
                                    (int)attn_prng_below(r, 6));
                    if (ck >= 0 && attn_prng_chance(r, 0.4))
                        rc_add(s, t + 600 + secs(attn_prng_exp(r, 4 * H)), st->author, rk, f, 0, ck,
                               6 + (int)attn_prng_below(r, 3));
                }
            }
            if (state == RV_CHANGES_REQUESTED && !it->draft && attn_prng_chance(r, 0.12))
                ev_add(s, t + 300 + secs(attn_prng_exp(r, H)), EV_CONVERT_TO_DRAFT, st->author, 0, 0,
                       -1);
            if (attn_prng_chance(r, state == RV_CHANGES_REQUESTED ? 0.85 : 0.5)) {
                int64_t tp = t + 1800 + secs(attn_prng_exp(r, 10 * H));
                ev_add(s, tp, EV_HEAD_REF_FORCE_PUSHED, st->author, 0, 0, -1);
                st->t_last_push = maxi(st->t_last_push, tp);
                t_next = tp + 300 + secs(attn_prng_exp(r, w->users[u].latency_h * H));
            } else {
                t_next = t + 3600 + secs(attn_prng_exp(r, 1.5 * w->users[u].latency_h * H));
            }
            t = t_next;
        }
    }
    /* A PR converted to draft becomes ready again with the next push. */
    for (int i = 0, n = it->nev; i < n; i++)
        if (it->ev[i].type == EV_CONVERT_TO_DRAFT)
            ev_add(s, maxi(it->ev[i].t + 60, st->t_last_push + 60), EV_READY_FOR_REVIEW, st->author, 0, 0,
                   -1);
}

/* Comments from bots and people. */
static void story_comments(sim *s, pr_state *st)
{
    syn_item *it = s->it;
    const syn_world *w = s->w;
    attn_prng *r = &s->r;

    /* Comments from bots and people. */
    if (!st->bot && attn_prng_chance(r, 0.3))
        cm_add(s, st->t0 + 120 + secs(attn_prng_exp(r, 600)), w->nhumans + BOT_ACTIONS, CM_BENCH, 0);
    if (attn_prng_chance(r, 0.4)) {
        cm_add(s, st->t0 + 300 + secs(attn_prng_exp(r, 1200)), w->nhumans + BOT_CI, CM_CI,
               (int)attn_prng_below(r, 5));
        for (int i = 0, n = it->nev; i < n; i++)
            if (it->ev[i].type == EV_HEAD_REF_FORCE_PUSHED)
                cm_add(s, it->ev[i].t + 300 + secs(attn_prng_exp(r, 1200)),
                       w->nhumans + BOT_CI, CM_CI, (int)attn_prng_below(r, 5));
    }
    if (!st->bot) {
        int nh = (int)attn_prng_geometric(r, 0.45);
        for (int i = 0; i < nh && i < 5; i++) {
            double x = attn_prng_double(r);
            int64_t tc = st->t_ready + 600 + secs(attn_prng_exp(r, 1.5 * D));
            int u = x < 0.4 ? st->author
                  : (x < 0.7 && st->nresp) ? st->resps[attn_prng_below(r, (uint64_t)st->nresp)].user
                  : pick_expert(s, it->area, tc, st->author);
            if (u < 0)
                u = st->author;
            cm_add(s, tc, u, CM_HUMAN, (int)attn_prng_below(r, NHUMAN_COMMENTS));
        }
        if (st->nresp == 0 && attn_prng_chance(r, 0.5))
            cm_add(s, st->t_ready + 2 * 86400 + secs(attn_prng_exp(r, 2 * D)), st->author, CM_PING,
                   pick_maintainer(s, st->author));
    }
}

/* Assignment, milestone, triage labels. */
static void story_triage(sim *s, pr_state *st)
{
    const syn_world *w = s->w;
    attn_prng *r = &s->r;

    /* Assignment, milestone, triage labels. */
    if (!st->bot && attn_prng_chance(r, 0.15)) {
        int64_t ta = st->t0 + 600 + secs(attn_prng_exp(r, 6 * H));
        int by = attn_prng_chance(r, 0.5) ? pick_maintainer(s, -1) : st->author;
        int who = (st->nresp && attn_prng_chance(r, 0.4)) ? st->resps[0].user : st->author;
        ev_add(s, ta, EV_ASSIGNED, by, who, 0, by);
        if (attn_prng_chance(r, 0.2))
            ev_add(s, ta + 3600 + secs(attn_prng_exp(r, 2 * D)), EV_UNASSIGNED, by, who, 0, by);
    }
    if (attn_prng_chance(r, 0.1)) {
        int64_t tm = st->t0 + 600 + secs(attn_prng_exp(r, 2 * D));
        int m = (int)((tm - w->o.start) * SYN_NMILESTONES / (w->end - w->o.start + 1));
        ev_add(s, tm, EV_MILESTONED, pick_maintainer(s, -1), m < 0 ? 0 : m > 2 ? 2 : m, 0, -1);
    }
    if (!st->bot && attn_prng_chance(r, 0.15)) {
        static const int triage[3] = {5, 7, 6};
        int l = triage[attn_prng_below(r, 3)], m = pick_maintainer(s, -1);
        int64_t tl = st->t_ready + 300 + secs(attn_prng_exp(r, D));
        ev_add(s, tl, EV_LABELED, m, l, 0, -1);
        if (attn_prng_chance(r, 0.4))
            ev_add(s, tl + 600 + secs(attn_prng_exp(r, 2 * D)), EV_UNLABELED, m, l, 0, -1);
    }
}

/* Merge or close. */
static void story_close(sim *s, pr_state *st)
{
    syn_item *it = s->it;
    const syn_world *w = s->w;
    attn_prng *r = &s->r;

    /* Merge or close. */
    if (st->approved) {
        int64_t tb = maxi(st->t_appr, st->t_last_push);
        if (attn_prng_chance(r, st->bot ? 0.85 : 0.9)) {
            int merger;
            if (st->bot)
                merger = st->last_approver;
            else if (w->users[st->author].maintainer && attn_prng_chance(r, 0.5))
                merger = st->author;
            else if (attn_prng_chance(r, 0.5))
                merger = st->last_approver;
            else
                merger = pick_maintainer(s, -1);
            st->t_close = tb + 120 + secs(attn_prng_exp(r, 5 * H));
            it->merger = merger;
            ev_add(s, st->t_close, EV_MERGED, merger, 0, 0, -1);
            ev_add(s, st->t_close, EV_CLOSED, merger, 0, 0, -1);
            if (attn_prng_chance(r, 0.5))
                ev_add(s, st->t_close + 3, EV_HEAD_REF_DELETED, merger, 0, 0, -1);
        } else {
            st->t_close = tb + 600 + secs(attn_prng_exp(r, 3 * D));
            ev_add(s, st->t_close, EV_CLOSED, st->author, 0, 0, -1);
            if (st->bot)
                cm_add(s, st->t_close, st->author, CM_SUPERSEDED, it->number + 1);
        }
    } else if (attn_prng_chance(r, st->bot ? 0.9 : 0.5)) {
        int closer = attn_prng_chance(r, 0.6) ? st->author : pick_maintainer(s, -1);
        st->t_close = maxi(st->t_last, st->t_ready) + 3600 + secs(attn_prng_exp(r, 12 * D));
        ev_add(s, st->t_close, EV_CLOSED, closer, 0, 0, -1);
        if (st->bot)
            cm_add(s, st->t_close, st->author, CM_SUPERSEDED, it->number + 1);
    }
}

/* The story of a pull request (before truncation at the window's end). */
static void pr_story(sim *s)
{
    pr_state st;
    memset(&st, 0, sizeof(st));
    st.author = s->it->author;
    st.bot = s->w->users[st.author].bot;
    st.t0 = st.t_ready = st.t_last_push = st.t_last = s->it->created;
    st.t_close = INT64_MAX;
    st.rev = syn_rev_for_week(s->w, s->it->base_week);
    st.last_approver = -1;
    story_open(s, &st);
    story_requests(s, &st);
    story_responders(s, &st);
    story_reviews(s, &st);
    story_comments(s, &st);
    story_triage(s, &st);
    story_close(s, &st);
    s->it->closed_at = st.t_close;   /* planned; the fold decides what survives */
}

/* The story of a plain issue. */
static void issue_story(sim *s)
{
    syn_item *it = s->it;
    const syn_world *w = s->w;
    attn_prng *r = &s->r;
    const syn_area *ar = &AREAS[it->area];
    int author = it->author, kind = (int)attn_prng_below(r, 4);
    int64_t t0 = it->created, t_close = INT64_MAX, t = t0;
    static const char *const tmpl[4] = {"%s: %s fails on large inputs",
                                        "%s: unexpected behaviour in %s",
                                        "Feature request (%s): better %s",
                                        "Question (%s): how does %s work?"};

    snprintf(it->title, sizeof(it->title), tmpl[kind], ar->name, ar->topics[it->topic]);
    memcpy(it->title0, it->title, sizeof(it->title));
    it->has_body = 1;
    it->mention_user = it->mention_team = -1;
    snprintf(it->body, sizeof(it->body),
             "### What happened\n\nWhile using the %s I ran into a problem with the %s.\n",
             ar->name, ar->topics[it->topic]);
    if (attn_prng_chance(r, 0.15)) {
        it->mention_user = pick_expert(s, it->area, t0, author);
        if (it->mention_user >= 0) {
            append(it->body, sizeof(it->body), "\n@%s you know this code best.%s\n",
                   w->users[it->mention_user].login, "");
            ev_add(s, t0, EV_MENTIONED, it->mention_user, 0, 0, -1);
            ev_add(s, t0, EV_SUBSCRIBED, it->mention_user, 0, 0, -1);
        }
    }
    if (attn_prng_chance(r, 0.7)) {
        int m = pick_maintainer(s, -1);
        ev_add(s, t0 + 300 + secs(attn_prng_exp(r, 4 * H)), EV_LABELED, m,
               kind == 0 || kind == 1 ? 0 : kind == 2 ? 1 : 4, 0, -1);
    }
    {
        int nc = (int)attn_prng_geometric(r, 0.4);
        for (int i = 0; i < nc && i < 6; i++) {
            int u = (i % 2 == 1) ? author : pick_expert(s, it->area, t, author);
            if (u < 0)
                u = author;
            t += 600 + secs(attn_prng_exp(r, (u == author ? 6 : w->users[u].latency_h) * H));
            cm_add(s, t, u, u == author ? CM_ISSUE_REPLY : CM_HUMAN,
                   (int)attn_prng_below(r, NHUMAN_COMMENTS));
        }
    }
    if (attn_prng_chance(r, 0.2)) {
        int u = pick_expert(s, it->area, t0, -1);
        int m = pick_maintainer(s, -1);
        if (u >= 0)
            ev_add(s, t0 + 600 + secs(attn_prng_exp(r, D)), EV_ASSIGNED, m, u, 0, m);
    }
    if (attn_prng_chance(r, 0.6)) {
        int closer = attn_prng_chance(r, 0.5) ? author : pick_maintainer(s, -1);
        t_close = t + 3600 + secs(attn_prng_exp(r, 10 * D));
        it->state_reason = attn_prng_chance(r, 0.8) ? 1 : 2;
        ev_add(s, t_close, EV_CLOSED, closer, 0, 0, -1);
    } else if (attn_prng_chance(r, 0.4)) {
        int64_t ts = t + 30 * 86400 + secs(attn_prng_exp(r, 5 * D));
        int bot = w->nhumans + BOT_ACTIONS;
        cm_add(s, ts, bot, CM_STALE, 0);
        ev_add(s, ts + 1, EV_LABELED, bot, 9, 0, -1);
        if (attn_prng_chance(r, 0.5)) {
            t_close = ts + 7 * 86400;
            it->state_reason = 2;
            ev_add(s, t_close, EV_CLOSED, bot, 0, 0, -1);
        }
    }
    it->closed_at = t_close;
}

static int cmp_ev(const void *a, const void *b)
{
    const syn_event *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->k - y->k;
}
static int cmp_rv(const void *a, const void *b)
{
    const syn_review *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->k - y->k;
}
static int cmp_rc(const void *a, const void *b)
{
    const syn_rcomment *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->k - y->k;
}
static int cmp_cm(const void *a, const void *b)
{
    const syn_comment *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->k - y->k;
}

static int is_closing(int type)
{
    return type == EV_MERGED || type == EV_CLOSED || type == EV_HEAD_REF_DELETED;
}

static void set_del(int *set, int *n, int v)
{
    for (int i = 0; i < *n; i++)
        if (set[i] == v) {
            set[i] = set[--*n];
            return;
        }
}
static void set_add(int *set, int *n, int cap, int v)
{
    for (int i = 0; i < *n; i++)
        if (set[i] == v)
            return;
    if (*n < cap)
        set[(*n)++] = v;
}
static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Head index active at t: pushes are sorted and numbered 1..n by then. */
static int head_at(const syn_item *it, int64_t t)
{
    int h = 0;
    for (int i = 0; i < it->nev; i++)
        if (it->ev[i].type == EV_HEAD_REF_FORCE_PUSHED && it->ev[i].t <= t)
            h = it->ev[i].arg;
    return h;
}

/*
 * Cut the story at the window's end (and a PR's activity at its close), sort
 * it, and fold what remains into the final state the API would show.
 */
static void finish(sim *s)
{
    syn_item *it = s->it;
    const syn_world *w = s->w;
    int64_t end = w->end, t_close = it->closed_at, upd = it->created;
    int n = 0, pushes = 0, draft;

    /* Keep: within the window, and (except the closing events) not after the close. */
#define KEEP(t, closing) ((t) <= end && ((closing) || (t) <= t_close))
    for (int i = 0; i < it->nev; i++)
        if (KEEP(it->ev[i].t, is_closing(it->ev[i].type)))
            it->ev[n++] = it->ev[i];
    it->nev = n;
    n = 0;
    for (int i = 0; i < it->nrv; i++)
        if (KEEP(it->rv[i].t, 0))
            it->rv[n++] = it->rv[i];
    it->nrv = n;
    n = 0;
    for (int i = 0; i < it->nrc; i++)
        if (KEEP(it->rc[i].t, 0))
            it->rc[n++] = it->rc[i];
    it->nrc = n;
    n = 0;
    for (int i = 0; i < it->ncm; i++)
        if (KEEP(it->cm[i].t, it->cm[i].kind == CM_SUPERSEDED)) {
            if (it->cm[i].edited > end)
                it->cm[i].edited = it->cm[i].t;
            it->cm[n++] = it->cm[i];
        }
    it->ncm = n;
#undef KEEP
    qsort(it->ev, (size_t)it->nev, sizeof(it->ev[0]), cmp_ev);
    qsort(it->rv, (size_t)it->nrv, sizeof(it->rv[0]), cmp_rv);
    qsort(it->rc, (size_t)it->nrc, sizeof(it->rc[0]), cmp_rc);
    qsort(it->cm, (size_t)it->ncm, sizeof(it->cm[0]), cmp_cm);

    /* Number heads in push order; pushes beyond the cap are dropped. */
    n = 0;
    for (int i = 0; i < it->nev; i++) {
        if (it->ev[i].type == EV_HEAD_REF_FORCE_PUSHED) {
            if (pushes + 1 >= SYN_MAX_HEADS)
                continue;
            it->ev[i].arg = ++pushes;
        }
        it->ev[n++] = it->ev[i];
    }
    it->nev = n;
    it->nheads = pushes + 1;
    for (int h = 0; h < it->nheads; h++)
        syn_sha(w, SHA_HEAD, (uint64_t)it->number, (uint64_t)h, it->heads[h]);
    for (int i = 0; i < it->nrv; i++)
        it->rv[i].head = head_at(it, it->rv[i].t);
    for (int i = 0; i < it->nrc; i++)
        it->rc[i].head = head_at(it, it->rc[i].t);

    /* Fold events and reviews in time order (events first at equal times). */
    draft = it->draft;
    it->labels = 0;
    it->nassignees = it->nreq_users = it->nreq_teams = 0;
    it->milestone = -1;
    it->closed = it->merged = 0;
    it->closed_at = it->merged_at = ATTN_NULL_I64;
    it->head = 0;
    memcpy(it->title, it->title0, sizeof(it->title));
    {
        int ie = 0, ir = 0;
        while (ie < it->nev || ir < it->nrv) {
            if (ir >= it->nrv || (ie < it->nev && it->ev[ie].t <= it->rv[ir].t)) {
                const syn_event *e = &it->ev[ie++];
                upd = maxi(upd, e->t);
                switch (e->type) {
                case EV_LABELED: it->labels |= 1u << e->arg; break;
                case EV_UNLABELED: it->labels &= ~(1u << e->arg); break;
                case EV_ASSIGNED: set_add(it->assignees, &it->nassignees, 4, e->arg); break;
                case EV_UNASSIGNED: set_del(it->assignees, &it->nassignees, e->arg); break;
                case EV_MILESTONED: it->milestone = e->arg; break;
                case EV_CLOSED: it->closed = 1; it->closed_at = e->t; it->closer = e->actor;
                    break;
                case EV_MERGED: it->merged = 1; it->merged_at = e->t; it->merger = e->actor;
                    break;
                case EV_RENAMED: memcpy(it->title, it->title1, sizeof(it->title)); break;
                case EV_READY_FOR_REVIEW: draft = 0; break;
                case EV_CONVERT_TO_DRAFT: draft = 1; break;
                case EV_HEAD_REF_FORCE_PUSHED: it->head = e->arg; break;
                case EV_REVIEW_REQUESTED:
                    if (e->team)
                        set_add(it->req_teams, &it->nreq_teams, SYN_MAX_REQ, e->arg);
                    else
                        set_add(it->req_users, &it->nreq_users, SYN_MAX_REQ, e->arg);
                    break;
                case EV_REVIEW_REQUEST_REMOVED:
                    if (e->team)
                        set_del(it->req_teams, &it->nreq_teams, e->arg);
                    else
                        set_del(it->req_users, &it->nreq_users, e->arg);
                    break;
                }
            } else {
                const syn_review *v = &it->rv[ir++];
                upd = maxi(upd, v->t);
                /* A submitted review satisfies the reviewer's (and their team's) request. */
                set_del(it->req_users, &it->nreq_users, v->user);
                for (int q = it->nreq_teams - 1; q >= 0; q--)
                    if (syn_user_in_team(w, v->user, it->req_teams[q]))
                        set_del(it->req_teams, &it->nreq_teams, it->req_teams[q]);
            }
        }
    }
    it->draft = draft;
    qsort(it->req_users, (size_t)it->nreq_users, sizeof(int), cmp_int);
    qsort(it->req_teams, (size_t)it->nreq_teams, sizeof(int), cmp_int);
    for (int i = 0; i < it->nrc; i++)
        upd = maxi(upd, it->rc[i].t);
    for (int i = 0; i < it->ncm; i++)
        upd = maxi(upd, it->cm[i].edited);
    it->updated = upd;
    if (!it->closed)
        it->state_reason = 0;
}

void syn_item_build(const syn_world *w, int number, syn_item *it)
{
    sim s;
    const syn_slot *slot = &w->slots[number - 1];

    memset(it, 0, offsetof(syn_item, files));
    it->nfiles = it->nev = it->nrv = it->nrc = it->ncm = 0;
    s.w = w;
    s.it = it;
    s.t0 = slot->t;
    attn_prng_seed_stream(&s.r, w->o.seed, ST_ITEM + (uint64_t)number);
    it->number = number;
    it->is_pr = slot->is_pr;
    it->author = slot->author;
    it->created = slot->t;
    it->merger = it->closer = -1;
    it->mention_user = it->mention_team = -1;
    it->topic = (int)attn_prng_below(&s.r, 6);
    it->verb = (int)attn_prng_below(&s.r, NVERBS);
    if (w->users[it->author].bot) {
        it->area = attn_prng_chance(&s.r, 0.7) ? 8 : 5;
    } else {
        double x = attn_prng_double(&s.r);
        int home = syn_home_at(w, it->author, it->created);
        it->area = x < 0.8 ? home
                 : (x < 0.9 && w->users[it->author].home2 >= 0) ? w->users[it->author].home2
                 : pick_area(&s.r, home);
    }
    if (!it->is_pr) {
        issue_story(&s);
        finish(&s);
        return;
    }
    it->base_week = (int)((it->created - w->o.start) / SYN_WEEK);
    syn_week_sha(w, it->base_week, it->base_sha);
    syn_sha(w, SHA_MERGE, (uint64_t)number, 0, it->merge_sha);
    if (w->users[it->author].bot) {
        if (it->area == 8) {
            add_file(it, "Cargo.toml", 0, &s.r);
            add_file(it, "Cargo.lock", 0, &s.r);
        } else {
            add_file(it, "web/package.json", 0, &s.r);
            add_file(it, "web/package-lock.json", 0, &s.r);
        }
        for (int i = 0; i < it->nfiles; i++) {
            it->files[i].additions = 1 + (int)attn_prng_below(&s.r, 12);
            it->files[i].deletions = it->files[i].additions;
        }
    } else {
        pick_files(&s);
    }
    pr_text(&s);
    /* One in ten PRs is retitled: it was opened without the area prefix. */
    memcpy(it->title1, it->title, sizeof(it->title1));
    if (!w->users[it->author].bot && attn_prng_chance(&s.r, 0.1)) {
        snprintf(it->title0, sizeof(it->title0), "%s%s %s",
                 attn_prng_chance(&s.r, 0.5) ? "WIP: " : "", VERBS[it->verb],
                 AREAS[it->area].topics[it->topic]);
    }
    pr_story(&s);
    finish(&s);
}

void syn_comment_body(const syn_world *w, const syn_item *it, const syn_comment *c, char *buf,
                      size_t cap)
{
    switch (c->kind) {
    case CM_BENCH:
        snprintf(buf, cap,
                 "### Benchmark results\n\nCommit %.7s: no significant change (-0.%d%% .. +0.%d%%).",
                 it->heads[head_at(it, c->t)], (int)(c->k % 9) + 1, (int)(c->k % 7) + 2);
        break;
    case CM_CI:
        snprintf(buf, cap, "CI %s for %.7s (%d checks).", c->arg == 0 ? "failed" : "passed",
                 it->heads[head_at(it, c->t)], 12 + c->arg);
        break;
    case CM_PING:
        snprintf(buf, cap, "@%s could someone take a look at this?", w->users[c->arg].login);
        break;
    case CM_STALE:
        snprintf(buf, cap, "This issue has been automatically marked as stale because it has "
                           "not had recent activity. It will be closed in 7 days.");
        break;
    case CM_SUPERSEDED:
        snprintf(buf, cap, "Superseded by #%d.", c->arg);
        break;
    case CM_ISSUE_REPLY:
        snprintf(buf, cap, "Thanks for looking. %s", HUMAN_COMMENTS[c->arg % NHUMAN_COMMENTS]);
        break;
    default:
        snprintf(buf, cap, "%s", HUMAN_COMMENTS[c->arg % NHUMAN_COMMENTS]);
    }
}

const char *syn_review_body(int body)
{
    return REVIEW_BODIES[body % 7];
}

const char *syn_rcomment_body(int body)
{
    return RCOMMENT_BODIES[body % 9];
}
