/*
 * codeowners.c - the `codeowners` router: the owners of the PR's changed
 * files under the CODEOWNERS pinned at the snapshot's base SHA (SPEC §7).
 *
 * Owns the ownership scoring. Must never read a CODEOWNERS other than the one
 * pinned for q->snapshot's base_sha (never "the latest"), nor any file list
 * but the snapshot's. Fixes original.md §15 item 11: GitHub's semantics come
 * from ownership/codeowners.h (last matching rule wins, `*` stays within a
 * segment, no suffix matching), and the score is a share of the changed
 * lines rather than a count of matching rules, which favoured catch-alls.
 *
 * Scoring. Each changed file weighs its changed lines: `changes`, else
 * additions + deletions, and at least 1, so renames, mode changes and binary
 * files (0 changed lines) still count a little. The rule deciding a file
 * (the last match) gives the file's full weight to each of its owners; an
 * owner's score is the weight of the files it owns divided by the weight of
 * ALL changed files, so it is the share of the change the owner is
 * responsible for (at most 1). Owners: @user -> user "user"; @org/team ->
 * team "org/team"; e-mail owners cannot be matched to logins and are skipped
 * (a note counts them; a file owned only by e-mails counts as unowned).
 * Evidence, one per (candidate, rule), in rule-line order:
 *   {kind:"codeowners", data:{file, line, pattern, files, paths, share}}
 * file: the CODEOWNERS path used; files: how many changed files the rule
 * decides; paths: up to 3 of them (in path order); share: their weight over
 * the total (12 significant digits). A member reached through a team adds
 * via_team.
 *
 * Config (default_config below):
 *   expand_teams  true: an owning team that has members at the cutoff in the
 *                 roster (routing/team_roster.json, or stored memberships) is
 *                 replaced by its members, each with the team's share (a user
 *                 who owns a file directly and through a team counts it
 *                 once); teams the roster does not know, or all teams without
 *                 a roster, stay team targets. false: teams stay teams.
 *
 * Risk: "high" (empty, with a note naming the cause) without a base SHA, a
 * pinned tree for it, a CODEOWNERS in it, changed files, or an owner other
 * than the author or bots; otherwise "low" when owned files carry >= 80% of
 * the changed lines, else "medium". Unowned files are counted in a note.
 * Confidence from the margin between the top two scores (>= 0.5 high,
 * >= 0.2 medium): owners who share the same files tie and give "low".
 *
 * Cache: parsed files are kept per base SHA (at most CO_CACHE entries,
 * oldest evicted first). A pinned tree never changes, so results do not
 * depend on what is cached; transient read errors are not cached.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "history/asof.h"
#include "ownership/codeowners.h"
#include "route/baselines.h"
#include "route/router.h"
#include "store/pinned.h"
#include "util/alloc.h"
#include "util/json.h"

#define CO_CACHE 64
#define CO_RISK_LOW_SHARE 0.8

typedef struct {
    char *sha;
    int status;              /* 0 parsed, 1 no CODEOWNERS, ATTN_ENOTFOUND not pinned,
                                ATTN_EINVAL unusable (message in msg) */
    attn_codeowners *co;
    char which[256];
    char msg[256];
} co_entry;

typedef struct {
    int expand_teams;
    co_entry cache[CO_CACHE];
    size_t n, next;          /* entries used; next slot to evict */
} co_state;

static const char *NAME = "codeowners";

static void entry_clear(co_entry *e)
{
    free(e->sha);
    attn_codeowners_free(e->co);
    memset(e, 0, sizeof(*e));
}

static void co_free(void *state)
{
    co_state *st = state;
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        entry_clear(&st->cache[i]);
    free(st);
}

static int co_init(const json_t *config, const attn_route_ctx *ctx, void **state,
                   attn_error *err)
{
    co_state *st = attn_xcalloc(1, sizeof(*st));
    (void)ctx;
    if (attn_bl_bool(config, NAME, "expand_teams", &st->expand_teams, err)) {
        free(st);
        return ATTN_EINVAL;
    }
    *state = st;
    return 0;
}

/* The cache entry for sha, loading and parsing it on a miss. Returns 0 with
 * *out set (status inside), or a note-worthy read failure as 1 with the
 * message in err (not cached). */
static int load(co_state *st, const char *repo_dir, const char *sha, co_entry **out,
                attn_error *err)
{
    co_entry fresh, *e;
    char *text = NULL;
    size_t len = 0;
    int rc;

    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->cache[i].sha, sha)) {
            *out = &st->cache[i];
            return 0;
        }
    memset(&fresh, 0, sizeof(fresh));
    rc = attn_pinned_codeowners(repo_dir, sha, &text, &len, fresh.which, sizeof(fresh.which),
                                err);
    if (rc < 0 && rc != ATTN_ENOTFOUND)
        return 1;
    fresh.status = rc;
    if (rc == 0) {
        rc = attn_codeowners_parse(text, len, &fresh.co, err);
        free(text);
        if (rc) {
            fresh.status = ATTN_EINVAL;
            snprintf(fresh.msg, sizeof(fresh.msg), "%.200s", err->msg);
        }
    } else {
        free(text);
    }
    fresh.sha = attn_xstrdup(sha);
    if (st->n < CO_CACHE) {
        e = &st->cache[st->n++];
    } else {
        e = &st->cache[st->next];
        st->next = (st->next + 1) % CO_CACHE;
        entry_clear(e);
    }
    *e = fresh;
    *out = e;
    attn_error_clear(err);
    return 0;
}

/* A target a rule names, after team expansion. */
typedef struct {
    const char *type, *name, *via;
} co_target;

typedef struct {
    co_target *t;
    size_t n, cap;
} co_targets;

static void targets_add(co_targets *ts, const char *type, const char *name, const char *via)
{
    for (size_t i = 0; i < ts->n; i++)
        if (!strcmp(ts->t[i].type, type) && !strcasecmp(ts->t[i].name, name)) {
            if (!via)
                ts->t[i].via = NULL;    /* owning directly beats owning through a team */
            return;
        }
    ATTN_ALLOC_GROW(ts->t, ts->n + 1, ts->cap);
    ts->t[ts->n].type = type;
    ts->t[ts->n].name = name;
    ts->t[ts->n].via = via;
    ts->n++;
}

/* Per-file facts, sorted so files of one rule are adjacent. */
typedef struct {
    const char *path;
    double weight;
    const attn_codeowners_rule *rule;   /* NULL: no rule matched */
} co_file;

static int file_cmp(const void *pa, const void *pb)
{
    const co_file *a = pa, *b = pb;
    int la = a->rule ? a->rule->line : 0, lb = b->rule ? b->rule->line : 0;
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a->path, b->path);
}

static double file_weight(const json_t *f)
{
    json_int_t ch = json_integer_value(json_object_get(f, "changes"));
    json_int_t ad = json_integer_value(json_object_get(f, "additions"));
    json_int_t de = json_integer_value(json_object_get(f, "deletions"));
    if (ch > 0)
        return (double)ch;
    if (ad > 0 || de > 0)
        return (double)((ad > 0 ? ad : 0) + (de > 0 ? de : 0));
    return 1.0;
}

/* A small case-insensitive set of borrowed strings. */
typedef struct {
    const char **v;
    size_t n, cap;
} co_set;

static void set_add(co_set *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcasecmp(s->v[i], x))
            return;
    ATTN_ALLOC_GROW(s->v, s->n + 1, s->cap);
    s->v[s->n++] = x;
}

/* What one route call notes: e-mail owners skipped, teams left unexpanded
 * (both borrowed from the parsed file). */
typedef struct {
    co_set emails, unexpanded;
} co_scratch;

static void scratch_free(co_scratch *s)
{
    free(s->emails.v);
    free(s->unexpanded.v);
}

/* The targets of rule r (its owners, teams expanded at t). */
static int rule_targets(co_state *st, const attn_route_ctx *ctx, int64_t t,
                        const attn_codeowners_rule *r, co_scratch *s, co_targets *ts,
                        attn_error *err)
{
    ts->n = 0;
    for (size_t k = 0; k < r->n_owners; k++) {
        const attn_codeowners_owner *o = &r->owners[k];
        const char *name = o->name[0] == '@' ? o->name + 1 : o->name;
        if (o->type == ATTN_CODEOWNERS_EMAIL) {
            set_add(&s->emails, o->name);
            continue;
        }
        if (o->type == ATTN_CODEOWNERS_USER) {
            targets_add(ts, "user", name, NULL);
            continue;
        }
        if (st->expand_teams && ctx->roster) {
            const char **members;
            size_t nm;
            attn_bl_team_members(ctx->roster, name, t, &members, &nm);
            /* members[] holds borrowed roster strings, so the array can go now */
            for (size_t m = 0; m < nm; m++)
                targets_add(ts, "user", members[m], name);
            free(members);
            if (nm)
                continue;
            set_add(&s->unexpanded, name);
        }
        targets_add(ts, "team", name, NULL);
    }
    return 0;
}

static int add_evidence(attn_route_result *res, const co_target *tg, const char *which,
                        const attn_codeowners_rule *r, const co_file *files, size_t n,
                        double weight, double total, attn_error *err)
{
    attn_cand *c = attn_result_cand(res, tg->type, tg->name);
    json_t *paths, *data;
    double share = weight / total;
    /* The pinned file is bytes: a pattern or team that is not UTF-8 cannot
     * be evidence. */
    if (!attn_utf8_valid(r->pattern) || (tg->via && !attn_utf8_valid(tg->via)))
        return attn_error_set(err, ATTN_EINVAL, "codeowners: %s line %d is not valid UTF-8", which,
                              r->line);
    if (!c)
        return 0;
    paths = attn_xcheck(json_array());
    for (size_t i = 0; i < n && i < 3; i++)
        attn_xcheck_rc(json_array_append_new(paths, attn_xcheck(json_string(files[i].path))));
    data = attn_xcheck(json_pack("{s:s, s:i, s:s, s:I, s:o, s:f}", "file", which, "line", r->line,
                                 "pattern", r->pattern, "files", (json_int_t)n, "paths", paths,
                                 "share", attn_bl_round12(share)));
    if (tg->via)
        attn_xcheck_rc(json_object_set_new(data, "via_team", attn_xcheck(json_string(tg->via))));
    attn_cand_add_score(c, share);
    attn_cand_evidence(c, "codeowners", data);
    return 0;
}

static void leak_notes(const json_t *snap, attn_route_result *res)
{
    if (attn_bl_leak_has(snap, ATTN_LEAK_BASE_OBSERVED))
        attn_result_note(res, "base SHA observed at ingestion (may postdate the cutoff)");
    if (attn_bl_leak_has(snap, ATTN_LEAK_FILES_LATER) ||
        attn_bl_leak_has(snap, ATTN_LEAK_FILES_OBSERVED))
        attn_result_note(res, "changed files observed at ingestion (may postdate the cutoff)");
}

static int empty(attn_route_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* An empty result: risk high, and a note saying why. */
static int empty(attn_route_result *res, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    attn_result_set_risk(res, "high");
    attn_result_set_confidence(res, "low");
    attn_result_note(res, "%s", buf);
    return 0;
}

static int co_route(void *state, const attn_route_ctx *ctx, const attn_route_query *q,
                    attn_route_result *res, attn_error *err)
{
    co_state *st = state;
    const json_t *snap = q->snapshot, *jf;
    const char *sha = json_string_value(json_object_get(snap, "base_sha"));
    const json_t *changed = json_object_get(snap, "changed_files");
    co_entry *e = NULL;
    co_file *files = NULL;
    co_targets ts = {NULL, 0, 0};
    co_scratch scr;
    size_t nf = 0, i, unowned = 0, explicit_unowned = 0, email_only = 0;
    double total = 0, owned = 0;
    int rc;

    memset(&scr, 0, sizeof(scr));
    leak_notes(snap, res);
    if (!sha || !*sha)
        return empty(res, "no base SHA at the cutoff: CODEOWNERS cannot be pinned");
    if (!ctx->repo_dir)
        return empty(res, "no repository directory: CODEOWNERS for base %s cannot be read", sha);
    if (load(st, ctx->repo_dir, sha, &e, err)) {
        empty(res, "CODEOWNERS for base %s unreadable: %s", sha, err->msg);
        attn_error_clear(err);
        return 0;
    }
    if (e->status == ATTN_ENOTFOUND)
        return empty(res, "CODEOWNERS not pinned for base %s: run attn pin", sha);
    if (e->status == 1)
        return empty(res, "no CODEOWNERS at base %s", sha);
    if (e->status)
        return empty(res, "CODEOWNERS at base %s not used: %s", sha, e->msg);
    if (attn_codeowners_invalid_count(e->co)) {
        const attn_codeowners_invalid *inv = attn_codeowners_invalid_at(e->co, 0);
        size_t ni = attn_codeowners_invalid_count(e->co);
        attn_result_note(res, "%s at base %s: %zu invalid line%s skipped (first: line %d: %s)",
                         e->which, sha, ni, ni == 1 ? "" : "s", inv->line, inv->reason);
    }
    if (!json_array_size(changed))
        return empty(res, "no changed files at the cutoff");

    files = attn_xcalloc(json_array_size(changed), sizeof(*files));
    json_array_foreach(changed, i, jf) {
        const char *path = json_string_value(json_object_get(jf, "path"));
        if (!path)
            continue;
        files[nf].path = path;
        files[nf].weight = file_weight(jf);
        total += files[nf].weight;
        attn_codeowners_match(e->co, path, &files[nf].rule);
        nf++;
    }
    qsort(files, nf, sizeof(*files), file_cmp);

    /* One group per deciding rule (files sorted by rule line). */
    for (i = 0; i < nf;) {
        size_t j = i;
        double w = 0;
        const attn_codeowners_rule *r = files[i].rule;
        while (j < nf && files[j].rule == r)
            w += files[j++].weight;
        if (!r || !r->n_owners) {
            unowned += j - i;
            if (r)
                explicit_unowned += j - i;
            i = j;
            continue;
        }
        if ((rc = rule_targets(st, ctx, q->as_of, r, &scr, &ts, err)))
            goto done;
        if (!ts.n) {
            unowned += j - i;
            email_only += j - i;
            i = j;
            continue;
        }
        owned += w;
        for (size_t k = 0; k < ts.n; k++)
            if ((rc = add_evidence(res, &ts.t[k], e->which, r, files + i, j - i, w, total, err)))
                goto done;
        i = j;
    }

    if (unowned) {
        attn_buf why = ATTN_BUF_INIT;
        if (explicit_unowned)
            attn_buf_printf(&why, "%zu by a rule without owners", explicit_unowned);
        if (email_only)
            attn_buf_printf(&why, "%s%zu owned only by e-mail", why.len ? ", " : "", email_only);
        attn_result_note(res, "%zu of %zu changed file%s unowned%s%s%s", unowned, nf,
                         nf == 1 ? "" : "s", why.len ? " (" : "", attn_buf_cstr(&why),
                         why.len ? ")" : "");
        attn_buf_free(&why);
    }
    if (scr.emails.n)
        attn_result_note(res, "%zu e-mail owner%s skipped (not matched to logins)", scr.emails.n,
                         scr.emails.n == 1 ? "" : "s");
    if (scr.unexpanded.n)
        attn_result_note(res, "%zu owning team%s without members in the roster at the cutoff"
                         " kept as team targets", scr.unexpanded.n,
                         scr.unexpanded.n == 1 ? "" : "s");
    attn_result_confidence_margins(res, 0.5, 0.2);
    if (!owned) {
        attn_result_set_risk(res, "high");
        attn_result_note(res, "no owner for any changed file");
    } else if (!attn_bl_survivors(res, ctx, snap, NULL)) {
        attn_result_set_risk(res, "high");
        attn_result_note(res, "the only owners are the author or bots");
    } else {
        attn_result_set_risk(res, owned >= CO_RISK_LOW_SHARE * total ? "low" : "medium");
    }
    rc = 0;
done:
    free(ts.t);
    free(files);
    scratch_free(&scr);
    return rc;
}

const attn_router_def attn_router_codeowners = {
    "codeowners",
    "codeowners.v1",
    "owners of the changed files under the CODEOWNERS pinned at the base SHA, by share of lines",
    "{\"expand_teams\": true}",
    co_init,
    co_route,
    co_free,
};
