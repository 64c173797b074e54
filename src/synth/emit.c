/*
 * emit.c - GitHub REST v3 object shapes for synthetic data (see emit.h).
 *
 * Field names and nesting follow the API's list endpoints (pull-request-simple,
 * issue, issue-comment, review-comment, review, diff-entry, issue-event) so the
 * ingestion code can be exercised on these objects unchanged. To keep bundles
 * small, simple-user objects carry the identifying fields only (login, id,
 * node_id, type, site_admin, avatar_url, html_url), the "issue" inside an
 * issue event carries id, node_id, number, title, state, url and
 * pull_request.url only, head/base repos carry no owner, and _links / reactions / patch are
 * omitted.
 */
#include "synth/emit.h"
#include "util/alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const EV_NAMES[EV_NKINDS] = {
    "labeled", "unlabeled", "assigned", "unassigned", "milestoned", "closed", "reopened",
    "renamed", "review_requested", "review_request_removed", "ready_for_review",
    "convert_to_draft", "head_ref_force_pushed", "merged", "mentioned", "subscribed",
    "head_ref_deleted", "referenced"};
static const char *const EV_NODE[EV_NKINDS] = {
    "LE", "UNLE", "AE", "UAE", "MIE", "CE", "REE", "RTE", "RRE", "RRRE", "RFRE", "CTDE",
    "HRFPE", "ME", "MEE", "SE", "HRDE", "REFE"};
static const char *const RV_STATES[3] = {"APPROVED", "CHANGES_REQUESTED", "COMMENTED"};
static const char *const FILE_STATUS[3] = {"modified", "added", "removed"};

int64_t syn_id_event(const syn_item *it, int k)
{
    return SYN_ID_EVENT + (int64_t)it->number * 1000 + k;
}
int64_t syn_id_comment(const syn_item *it, int k)
{
    return SYN_ID_COMMENT + (int64_t)it->number * 1000 + k;
}
int64_t syn_id_rcomment(const syn_item *it, int k)
{
    return SYN_ID_RCOMMENT + (int64_t)it->number * 1000 + k;
}
int64_t syn_id_review(const syn_item *it, int k)
{
    return SYN_ID_REVIEW + (int64_t)it->number * 1000 + k;
}

/* ------------------------------------------------------------- small parts */

static void b64(const char *in, char *out, size_t cap)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
}

/* node_id: the legacy base64 form for users, "<PREFIX>_<base64>" for the rest. */
static json_t *node_id(const char *prefix, const char *kind, int64_t id)
{
    char raw[96], enc[160], out[200];
    snprintf(raw, sizeof(raw), "%s%lld", kind, (long long)id);
    b64(raw, enc, sizeof(enc));
    if (!prefix)
        return json_string(enc);
    snprintf(out, sizeof(out), "%s_%s", prefix, enc);
    return json_string(out);
}

static json_t *jtime(int64_t t)
{
    char buf[ATTN_TIME_BUFSZ];
    if (t == ATTN_NULL_I64 || t == INT64_MAX)
        return json_null();
    return json_string(attn_time_format(t, buf));
}

static json_t *jfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *jfmt(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return json_string(buf);
}

static void urlenc(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *in && o + 4 < cap; in++) {
        unsigned char c = (unsigned char)*in;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

#define SET(obj, key, val) json_object_set_new_nocheck((obj), (key), (val))

static json_t *user_ref(const syn_emit *e, int u)
{
    if (u < 0)
        return json_null();
    return json_incref(e->users[u]);
}

static json_t *make_user(const syn_world *w, int u)
{
    const syn_user *us = &w->users[u];
    json_t *o = json_object();
    SET(o, "login", json_string(us->login));
    SET(o, "id", json_integer(us->id));
    SET(o, "node_id", node_id(NULL, us->bot ? "03:Bot" : "04:User", us->id));
    SET(o, "avatar_url", jfmt("https://avatars.githubusercontent.com/u/%lld?v=4", (long long)us->id));
    if (us->bot && strstr(us->login, "[bot]")) {
        char app[40];
        snprintf(app, sizeof(app), "%.*s", (int)(strstr(us->login, "[bot]") - us->login),
                 us->login);
        SET(o, "html_url", jfmt("https://github.com/apps/%s", app));
    } else {
        SET(o, "html_url", jfmt("https://github.com/%s", us->login));
    }
    SET(o, "type", json_string(us->bot ? "Bot" : "User"));
    SET(o, "site_admin", json_false());
    return o;
}

static json_t *make_team(const syn_emit *e, int t)
{
    const syn_team *tm = &e->w->teams[t];
    json_t *o = json_object();
    int64_t id = SYN_ID_TEAM + 1 + t;
    SET(o, "id", json_integer(id));
    SET(o, "node_id", node_id("T", "team:", id));
    SET(o, "url", jfmt("https://api.github.com/organizations/%lld/team/%lld",
                       (long long)SYN_ID_ORG, (long long)id));
    SET(o, "html_url", jfmt("https://github.com/orgs/%s/teams/%s", e->w->o.owner, tm->slug));
    SET(o, "name", json_string(tm->name));
    SET(o, "slug", json_string(tm->slug));
    SET(o, "description", json_string(tm->description));
    SET(o, "privacy", json_string("closed"));
    SET(o, "notification_setting", json_string("notifications_enabled"));
    SET(o, "permission", json_string("push"));
    SET(o, "members_url", jfmt("https://api.github.com/organizations/%lld/team/%lld/members{/member}",
                               (long long)SYN_ID_ORG, (long long)id));
    SET(o, "repositories_url", jfmt("https://api.github.com/organizations/%lld/team/%lld/repos",
                                    (long long)SYN_ID_ORG, (long long)id));
    SET(o, "parent", json_null());
    return o;
}

static json_t *make_label(const syn_emit *e, int l)
{
    json_t *o = json_object();
    char enc[80];
    int64_t id = SYN_ID_LABEL + 1 + l;
    urlenc(syn_label_names[l], enc, sizeof(enc));
    SET(o, "id", json_integer(id));
    SET(o, "node_id", node_id("LA", "label:", id));
    SET(o, "url", jfmt("%s/labels/%s", e->api, enc));
    SET(o, "name", json_string(syn_label_names[l]));
    SET(o, "color", json_string(syn_label_colors[l]));
    SET(o, "default", json_boolean(l < 5 || l == 8));
    SET(o, "description", json_string(syn_label_descs[l]));
    return o;
}

int syn_emit_init(syn_emit *e, const syn_world *w, attn_error *err)
{
    memset(e, 0, sizeof(*e));
    e->w = w;
    snprintf(e->api, sizeof(e->api), "https://api.github.com/repos/%s/%s", w->o.owner, w->o.name);
    snprintf(e->html, sizeof(e->html), "https://github.com/%s/%s", w->o.owner, w->o.name);
    e->users = attn_xcalloc((size_t)w->nusers, sizeof(*e->users));
    e->assoc = attn_xcalloc((size_t)w->nusers, sizeof(*e->assoc));
    e->teams = attn_xcalloc(SYN_NTEAMS, sizeof(*e->teams));
    e->labels = attn_xcalloc(SYN_NLABELS, sizeof(*e->labels));
    for (int u = 0; u < w->nusers; u++) {
        e->users[u] = make_user(w, u);
        e->assoc[u] = "CONTRIBUTOR";
        if (w->users[u].bot)
            e->assoc[u] = "NONE";
        else
            for (int t = 0; t < SYN_NTEAMS; t++)
                if (syn_user_in_team(w, u, t))
                    e->assoc[u] = "MEMBER";
    }
    for (int t = 0; t < SYN_NTEAMS; t++)
        e->teams[t] = make_team(e, t);
    for (int l = 0; l < SYN_NLABELS; l++)
        e->labels[l] = make_label(e, l);
    e->org = json_object();
    SET(e->org, "login", json_string(w->o.owner));
    SET(e->org, "id", json_integer(SYN_ID_ORG));
    SET(e->org, "node_id", node_id(NULL, "012:Organization", SYN_ID_ORG));
    SET(e->org, "avatar_url", jfmt("https://avatars.githubusercontent.com/u/%lld?v=4",
                                   (long long)SYN_ID_ORG));
    SET(e->org, "html_url", jfmt("https://github.com/%s", w->o.owner));
    SET(e->org, "type", json_string("Organization"));
    SET(e->org, "site_admin", json_false());
    e->repo_min = json_object();
    SET(e->repo_min, "id", json_integer(SYN_ID_REPO));
    SET(e->repo_min, "node_id", node_id("R", "repo:", SYN_ID_REPO));
    SET(e->repo_min, "name", json_string(w->o.name));
    SET(e->repo_min, "full_name", jfmt("%s/%s", w->o.owner, w->o.name));
    SET(e->repo_min, "private", json_false());
    SET(e->repo_min, "html_url", json_string(e->html));
    SET(e->repo_min, "url", json_string(e->api));
    SET(e->repo_min, "fork", json_false());
    SET(e->repo_min, "default_branch", json_string("main"));
    return 0;
}

void syn_emit_free(syn_emit *e)
{
    if (e->users && e->w)
        for (int u = 0; u < e->w->nusers; u++)
            json_decref(e->users[u]);
    if (e->teams)
        for (int t = 0; t < SYN_NTEAMS; t++)
            json_decref(e->teams[t]);
    if (e->labels)
        for (int l = 0; l < SYN_NLABELS; l++)
            json_decref(e->labels[l]);
    free(e->users);
    free((void *)e->assoc);
    free(e->teams);
    free(e->labels);
    json_decref(e->org);
    json_decref(e->repo_min);
    memset(e, 0, sizeof(*e));
}

/* ------------------------------------------------------------- top level */

static json_t *r3(double x)
{
    return json_real(round(x * 1000.0) / 1000.0);
}

json_t *syn_json_generator(const syn_emit *e)
{
    const syn_world *w = e->w;
    json_t *g = json_object(), *people = json_array(), *areas = json_array(),
           *revs = json_array();
    char date[ATTN_TIME_BUFSZ];

    SET(g, "name", json_string("attn synth"));
    SET(g, "model_version", json_integer(1));
    SET(g, "seed", json_integer((json_int_t)w->o.seed));
    SET(g, "prs", json_integer(w->o.prs));
    SET(g, "issues", json_integer(w->nissues));
    SET(g, "users", json_integer(w->nhumans));
    SET(g, "days", json_integer(w->o.days));
    SET(g, "start", json_string(attn_time_format(w->o.start, date)));
    SET(g, "end", json_string(attn_time_format(w->end, date)));
    SET(g, "repo", jfmt("%s/%s", w->o.owner, w->o.name));
    SET(g, "prng", json_string("xoshiro256** seeded by splitmix64 (src/util/prng.h); item N uses "
                               "stream 1000+N"));
    SET(g, "command", jfmt("attn synth --prs %lld --seed %llu --repo %s/%s --start %s --days %lld "
                           "--users %d", (long long)w->o.prs, (unsigned long long)w->o.seed,
                           w->o.owner, w->o.name, attn_time_format(w->o.start, date),
                           (long long)w->o.days, w->nhumans));
    for (int a = 0; a < SYN_NAREAS; a++) {
        const syn_area *ar = &w->areas[a];
        json_t *o = json_object(), *paths = json_array();
        if (ar->prefix[0])
            json_array_append_new(paths, json_string(ar->prefix));
        else
            for (int f = 0; ar->files[f]; f++)
                json_array_append_new(paths, json_string(ar->files[f]));
        if (ar->tests[0])
            json_array_append_new(paths, jfmt("tests/%s/", ar->name));
        SET(o, "name", json_string(ar->name));
        SET(o, "paths", paths);
        SET(o, "team", ar->team >= 0 ? jfmt("%s/%s", w->o.owner, w->teams[ar->team].slug)
                                     : json_null());
        json_array_append_new(areas, o);
    }
    SET(g, "areas", areas);
    for (int u = 0; u < w->nusers; u++) {
        const syn_user *us = &w->users[u];
        json_t *o = json_object(), *homes = json_array();
        SET(o, "login", json_string(us->login));
        SET(o, "bot", json_boolean(us->bot));
        if (!us->bot) {
            json_array_append_new(homes, json_string(w->areas[us->home].name));
            if (us->home2 >= 0)
                json_array_append_new(homes, json_string(w->areas[us->home2].name));
            SET(o, "maintainer", json_boolean(us->maintainer));
            SET(o, "activity", r3(us->level));
            SET(o, "author_rate", r3(us->author_rate));
            SET(o, "review_rate", r3(us->review_rate));
            SET(o, "latency_hours", r3(us->latency_h));
            SET(o, "joined_at", jtime(us->joined_at));
            SET(o, "left_at", jtime(us->left_at));
            SET(o, "moved_to", us->moved_to >= 0 ? json_string(w->areas[us->moved_to].name)
                                                  : json_null());
            SET(o, "moved_at", jtime(us->moved_at));
        }
        SET(o, "home_areas", homes);
        json_array_append_new(people, o);
    }
    SET(g, "people", people);
    for (int r = 0; r < SYN_NREVS; r++) {
        json_t *o = json_object(), *shas = json_array();
        int last = r + 1 < SYN_NREVS ? w->revs[r + 1].from_week : w->nweeks;
        for (int wk = w->revs[r].from_week; wk < last; wk++) {
            char sha[41];
            if (syn_rev_for_week(w, wk) != r)
                continue;
            syn_week_sha(w, wk, sha);
            json_array_append_new(shas, json_string(sha));
        }
        SET(o, "revision", json_integer(r + 1));
        SET(o, "effective_at", jtime(w->revs[r].effective_at));
        SET(o, "base_shas", shas);
        json_array_append_new(revs, o);
    }
    SET(g, "codeowners_revisions", revs);
    return g;
}

json_t *syn_json_repo(const syn_emit *e)
{
    const syn_world *w = e->w;
    json_t *o = json_object();
    static const char *const urls[][2] = {
        {"pulls_url", "/pulls{/number}"}, {"issues_url", "/issues{/number}"},
        {"issue_events_url", "/issues/events{/number}"},
        {"issue_comment_url", "/issues/comments{/number}"}, {"events_url", "/events"},
        {"commits_url", "/commits{/sha}"}, {"contents_url", "/contents/{+path}"},
        {"labels_url", "/labels{/name}"}, {"milestones_url", "/milestones{/number}"},
        {"teams_url", "/teams"}, {"collaborators_url", "/collaborators{/collaborator}"},
        {"comments_url", "/comments{/number}"}};
    SET(o, "id", json_integer(SYN_ID_REPO));
    SET(o, "node_id", node_id("R", "repo:", SYN_ID_REPO));
    SET(o, "name", json_string(w->o.name));
    SET(o, "full_name", jfmt("%s/%s", w->o.owner, w->o.name));
    SET(o, "private", json_false());
    SET(o, "owner", json_incref(e->org));
    SET(o, "html_url", json_string(e->html));
    SET(o, "description", json_string("Synthetic repository generated by attn synth"));
    SET(o, "fork", json_false());
    SET(o, "url", json_string(e->api));
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
        SET(o, urls[i][0], jfmt("%s%s", e->api, urls[i][1]));
    SET(o, "clone_url", jfmt("%s.git", e->html));
    SET(o, "git_url", jfmt("git://github.com/%s/%s.git", w->o.owner, w->o.name));
    SET(o, "ssh_url", jfmt("git@github.com:%s/%s.git", w->o.owner, w->o.name));
    SET(o, "created_at", jtime(w->o.start - 400 * 86400));
    SET(o, "updated_at", jtime(w->end));
    SET(o, "pushed_at", jtime(w->end));
    SET(o, "homepage", json_null());
    SET(o, "size", json_integer(4096 + w->o.prs));
    SET(o, "stargazers_count", json_integer(42 + w->o.prs / 10));
    SET(o, "watchers_count", json_integer(42 + w->o.prs / 10));
    SET(o, "watchers", json_integer(42 + w->o.prs / 10));
    SET(o, "language", json_string("Rust"));
    SET(o, "has_issues", json_true());
    SET(o, "has_projects", json_false());
    SET(o, "has_wiki", json_false());
    SET(o, "has_pages", json_false());
    SET(o, "has_discussions", json_false());
    SET(o, "forks_count", json_integer(7));
    SET(o, "forks", json_integer(7));
    SET(o, "archived", json_false());
    SET(o, "disabled", json_false());
    SET(o, "open_issues_count", json_integer(e->open_issues));
    SET(o, "open_issues", json_integer(e->open_issues));
    SET(o, "license", json_null());
    SET(o, "topics", json_array());
    SET(o, "visibility", json_string("public"));
    SET(o, "default_branch", json_string("main"));
    return o;
}

json_t *syn_json_user(const syn_emit *e, int u)
{
    return json_incref(e->users[u]);
}

json_t *syn_json_team_full(const syn_emit *e, int t)
{
    json_t *o = json_deep_copy(e->teams[t]), *m = json_array();
    for (int u = 0; u < e->w->nhumans; u++)
        if (syn_user_in_team(e->w, u, t))
            json_array_append(m, e->users[u]);
    SET(o, "members", m);
    return o;
}

json_t *syn_json_label(const syn_emit *e, int l)
{
    return json_incref(e->labels[l]);
}

json_t *syn_json_milestone(const syn_emit *e, int m)
{
    const syn_world *w = e->w;
    json_t *o = json_object();
    int64_t id = SYN_ID_MILESTONE + 1 + m;
    int64_t win = w->end - w->o.start;
    int64_t due = w->o.start + win * (m + 1) / SYN_NMILESTONES;
    int closed = due < w->end && m < SYN_NMILESTONES - 1;
    SET(o, "url", jfmt("%s/milestones/%d", e->api, m + 1));
    SET(o, "html_url", jfmt("%s/milestone/%d", e->html, m + 1));
    SET(o, "labels_url", jfmt("%s/milestones/%d/labels", e->api, m + 1));
    SET(o, "id", json_integer(id));
    SET(o, "node_id", node_id("MI", "milestone:", id));
    SET(o, "number", json_integer(m + 1));
    SET(o, "title", json_string(syn_milestone_titles[m]));
    SET(o, "description", jfmt("Release %s", syn_milestone_titles[m]));
    SET(o, "creator", user_ref(e, 0));
    SET(o, "open_issues", json_integer(e->ms_open[m]));
    SET(o, "closed_issues", json_integer(e->ms_closed[m]));
    SET(o, "state", json_string(closed ? "closed" : "open"));
    SET(o, "created_at", jtime(w->o.start - 30 * 86400));
    SET(o, "updated_at", jtime(closed ? due : w->end));
    SET(o, "due_on", jtime(due));
    SET(o, "closed_at", closed ? jtime(due) : json_null());
    return o;
}

/* ------------------------------------------------------------- items */

static json_t *labels_of(const syn_emit *e, const syn_item *it)
{
    json_t *a = json_array();
    for (int l = 0; l < SYN_NLABELS; l++)
        if (it->labels & (1u << l))
            json_array_append(a, e->labels[l]);
    return a;
}

static json_t *assignees_of(const syn_emit *e, const syn_item *it)
{
    json_t *a = json_array();
    for (int i = 0; i < it->nassignees; i++)
        json_array_append(a, e->users[it->assignees[i]]);
    return a;
}

static const char *kind_path(const syn_item *it)
{
    return it->is_pr ? "pull" : "issues";
}

static json_t *ref_obj(const syn_emit *e, const syn_item *it, const char *ref, const char *sha,
                       int user)
{
    json_t *o = json_object();
    SET(o, "label", jfmt("%s:%s", e->w->o.owner, ref));
    SET(o, "ref", json_string(ref));
    SET(o, "sha", json_string(sha));
    SET(o, "user", user < 0 ? json_incref(e->org) : user_ref(e, user));
    SET(o, "repo", json_incref(e->repo_min));
    (void)it;
    return o;
}

json_t *syn_json_pull(const syn_emit *e, const syn_item *it)
{
    json_t *o = json_object(), *rr = json_array(), *rt = json_array();
    int n = it->number;
    SET(o, "url", jfmt("%s/pulls/%d", e->api, n));
    SET(o, "id", json_integer(SYN_ID_PULL + n));
    SET(o, "node_id", node_id("PR", "pr:", SYN_ID_PULL + n));
    SET(o, "html_url", jfmt("%s/pull/%d", e->html, n));
    SET(o, "diff_url", jfmt("%s/pull/%d.diff", e->html, n));
    SET(o, "patch_url", jfmt("%s/pull/%d.patch", e->html, n));
    SET(o, "issue_url", jfmt("%s/issues/%d", e->api, n));
    SET(o, "commits_url", jfmt("%s/pulls/%d/commits", e->api, n));
    SET(o, "review_comments_url", jfmt("%s/pulls/%d/comments", e->api, n));
    SET(o, "review_comment_url", jfmt("%s/pulls/comments{/number}", e->api));
    SET(o, "comments_url", jfmt("%s/issues/%d/comments", e->api, n));
    SET(o, "statuses_url", jfmt("%s/statuses/%s", e->api, it->heads[it->head]));
    SET(o, "number", json_integer(n));
    SET(o, "state", json_string(it->closed ? "closed" : "open"));
    SET(o, "locked", json_false());
    SET(o, "title", json_string(it->title));
    SET(o, "user", user_ref(e, it->author));
    SET(o, "body", it->has_body ? json_string(it->body) : json_null());
    SET(o, "labels", labels_of(e, it));
    SET(o, "milestone", it->milestone >= 0 ? syn_json_milestone(e, it->milestone) : json_null());
    SET(o, "active_lock_reason", json_null());
    SET(o, "created_at", jtime(it->created));
    SET(o, "updated_at", jtime(it->updated));
    SET(o, "closed_at", it->closed ? jtime(it->closed_at) : json_null());
    SET(o, "merged_at", it->merged ? jtime(it->merged_at) : json_null());
    /* GitHub computes a test merge commit for open PRs too; we name one only when merged. */
    SET(o, "merge_commit_sha", it->merged ? json_string(it->merge_sha) : json_null());
    SET(o, "merged_by", it->merged ? user_ref(e, it->merger) : json_null());
    SET(o, "assignee", it->nassignees ? user_ref(e, it->assignees[0]) : json_null());
    SET(o, "assignees", assignees_of(e, it));
    for (int i = 0; i < it->nreq_users; i++)
        json_array_append(rr, e->users[it->req_users[i]]);
    for (int i = 0; i < it->nreq_teams; i++)
        json_array_append(rt, e->teams[it->req_teams[i]]);
    SET(o, "requested_reviewers", rr);
    SET(o, "requested_teams", rt);
    SET(o, "head", ref_obj(e, it, it->head_ref, it->heads[it->head], it->author));
    SET(o, "base", ref_obj(e, it, "main", it->base_sha, -1));
    SET(o, "author_association", json_string(e->assoc[it->author]));
    SET(o, "auto_merge", json_null());
    SET(o, "draft", json_boolean(it->draft));
    return o;
}

/* The fields every issue object has; `full` adds those the embedded copy in
 * an issue event leaves out to keep bundles small. */
static void issue_common(const syn_emit *e, const syn_item *it, json_t *o, int full)
{
    int n = it->number;
    SET(o, "url", jfmt("%s/issues/%d", e->api, n));
    if (full)
        SET(o, "html_url", jfmt("%s/%s/%d", e->html, kind_path(it), n));
    SET(o, "id", json_integer(SYN_ID_ISSUE + n));
    SET(o, "node_id", node_id(it->is_pr ? "PR_I" : "I", "issue:", SYN_ID_ISSUE + n));
    SET(o, "number", json_integer(n));
    SET(o, "title", json_string(it->title));
    SET(o, "state", json_string(it->closed ? "closed" : "open"));
    if (full) {
        SET(o, "created_at", jtime(it->created));
        SET(o, "updated_at", jtime(it->updated));
        SET(o, "closed_at", it->closed ? jtime(it->closed_at) : json_null());
    }
    if (it->is_pr) {
        json_t *p = json_object();
        SET(p, "url", jfmt("%s/pulls/%d", e->api, n));
        if (full) {
            SET(p, "html_url", jfmt("%s/pull/%d", e->html, n));
            SET(p, "diff_url", jfmt("%s/pull/%d.diff", e->html, n));
            SET(p, "patch_url", jfmt("%s/pull/%d.patch", e->html, n));
        }
        if (full)
            SET(p, "merged_at", it->merged ? jtime(it->merged_at) : json_null());
        SET(o, "pull_request", p);
    }
    if (full) {
        SET(o, "repository_url", json_string(e->api));
        SET(o, "user", user_ref(e, it->author));
        SET(o, "locked", json_false());
        SET(o, "author_association", json_string(e->assoc[it->author]));
    }
}

json_t *syn_json_issue(const syn_emit *e, const syn_item *it)
{
    static const char *const reasons[3] = {NULL, "completed", "not_planned"};
    json_t *o = json_object();
    int n = it->number;
    issue_common(e, it, o, 1);
    SET(o, "labels_url", jfmt("%s/issues/%d/labels{/name}", e->api, n));
    SET(o, "comments_url", jfmt("%s/issues/%d/comments", e->api, n));
    SET(o, "events_url", jfmt("%s/issues/%d/events", e->api, n));
    SET(o, "timeline_url", jfmt("%s/issues/%d/timeline", e->api, n));
    SET(o, "labels", labels_of(e, it));
    SET(o, "assignee", it->nassignees ? user_ref(e, it->assignees[0]) : json_null());
    SET(o, "assignees", assignees_of(e, it));
    SET(o, "milestone", it->milestone >= 0 ? syn_json_milestone(e, it->milestone) : json_null());
    SET(o, "comments", json_integer(it->ncm));
    SET(o, "active_lock_reason", json_null());
    SET(o, "body", it->has_body ? json_string(it->body) : json_null());
    SET(o, "performed_via_github_app", json_null());
    SET(o, "state_reason", it->is_pr ? json_null()
                           : reasons[it->state_reason] ? json_string(reasons[it->state_reason])
                                                       : json_null());
    if (it->is_pr)
        SET(o, "draft", json_boolean(it->draft));
    return o;
}

json_t *syn_json_issue_min(const syn_emit *e, const syn_item *it)
{
    json_t *o = json_object();
    issue_common(e, it, o, 0);
    return o;
}

json_t *syn_json_file(const syn_emit *e, const syn_item *it, int i)
{
    const syn_file *f = &it->files[i];
    const char *head = it->heads[it->head];
    json_t *o = json_object();
    char sha[41];
    syn_sha(e->w, 4, (uint64_t)it->number, (uint64_t)i, sha);
    SET(o, "sha", json_string(sha));
    SET(o, "filename", json_string(f->path));
    SET(o, "status", json_string(FILE_STATUS[f->status]));
    SET(o, "additions", json_integer(f->additions));
    SET(o, "deletions", json_integer(f->deletions));
    SET(o, "changes", json_integer(f->additions + f->deletions));
    SET(o, "blob_url", jfmt("%s/blob/%s/%s", e->html, head, f->path));
    SET(o, "raw_url", jfmt("%s/raw/%s/%s", e->html, head, f->path));
    SET(o, "contents_url", jfmt("%s/contents/%s?ref=%s", e->api, f->path, head));
    return o;
}

json_t *syn_json_review(const syn_emit *e, const syn_item *it, int i)
{
    const syn_review *v = &it->rv[i];
    json_t *o = json_object();
    int64_t id = syn_id_review(it, v->k);
    SET(o, "id", json_integer(id));
    SET(o, "node_id", node_id("PRR", "review:", id));
    SET(o, "user", user_ref(e, v->user));
    SET(o, "body", json_string(syn_review_body(v->body)));
    SET(o, "state", json_string(RV_STATES[v->state]));
    SET(o, "html_url", jfmt("%s/pull/%d#pullrequestreview-%lld", e->html, it->number,
                            (long long)id));
    SET(o, "pull_request_url", jfmt("%s/pulls/%d", e->api, it->number));
    SET(o, "author_association", json_string(e->assoc[v->user]));
    SET(o, "submitted_at", jtime(v->t));
    SET(o, "commit_id", json_string(it->heads[v->head]));
    return o;
}

json_t *syn_json_rcomment(const syn_emit *e, const syn_item *it, int i)
{
    const syn_rcomment *c = &it->rc[i], *root = c;
    json_t *o = json_object();
    int64_t id = syn_id_rcomment(it, c->k);
    /* A reply sits on its parent's line. */
    if (c->reply_to_k >= 0)
        for (int j = 0; j < it->nrc; j++)
            if (it->rc[j].k == c->reply_to_k)
                root = &it->rc[j];
    SET(o, "url", jfmt("%s/pulls/comments/%lld", e->api, (long long)id));
    SET(o, "pull_request_review_id", json_integer(syn_id_review(it, c->review_k)));
    SET(o, "id", json_integer(id));
    SET(o, "node_id", node_id("PRRC", "review_comment:", id));
    SET(o, "diff_hunk", jfmt("@@ -%d,6 +%d,7 @@", root->line > 3 ? root->line - 3 : 1,
                             root->line > 3 ? root->line - 3 : 1));
    SET(o, "path", json_string(it->files[root->file].path));
    SET(o, "position", json_integer(4));
    SET(o, "original_position", json_integer(4));
    SET(o, "commit_id", json_string(it->heads[c->head]));
    SET(o, "original_commit_id", json_string(it->heads[root->head]));
    if (c->reply_to_k >= 0)
        SET(o, "in_reply_to_id", json_integer(syn_id_rcomment(it, c->reply_to_k)));
    SET(o, "user", user_ref(e, c->user));
    SET(o, "body", json_string(syn_rcomment_body(c->body)));
    SET(o, "created_at", jtime(c->t));
    SET(o, "updated_at", jtime(c->t));
    SET(o, "html_url", jfmt("%s/pull/%d#discussion_r%lld", e->html, it->number, (long long)id));
    SET(o, "pull_request_url", jfmt("%s/pulls/%d", e->api, it->number));
    SET(o, "author_association", json_string(e->assoc[c->user]));
    SET(o, "start_line", json_null());
    SET(o, "original_start_line", json_null());
    SET(o, "start_side", json_null());
    SET(o, "line", json_integer(root->line));
    SET(o, "original_line", json_integer(root->line));
    SET(o, "side", json_string("RIGHT"));
    SET(o, "subject_type", json_string("line"));
    return o;
}

json_t *syn_json_comment(const syn_emit *e, const syn_item *it, int i)
{
    const syn_comment *c = &it->cm[i];
    json_t *o = json_object();
    int64_t id = syn_id_comment(it, c->k);
    char body[1024];
    syn_comment_body(e->w, it, c, body, sizeof(body));
    SET(o, "url", jfmt("%s/issues/comments/%lld", e->api, (long long)id));
    SET(o, "html_url", jfmt("%s/%s/%d#issuecomment-%lld", e->html, kind_path(it), it->number,
                            (long long)id));
    SET(o, "issue_url", jfmt("%s/issues/%d", e->api, it->number));
    SET(o, "id", json_integer(id));
    SET(o, "node_id", node_id("IC", "issue_comment:", id));
    SET(o, "user", user_ref(e, c->user));
    SET(o, "created_at", jtime(c->t));
    SET(o, "updated_at", jtime(c->edited));
    SET(o, "author_association", json_string(e->assoc[c->user]));
    SET(o, "body", json_string(body));
    SET(o, "performed_via_github_app", json_null());
    return o;
}

json_t *syn_json_event(const syn_emit *e, const syn_item *it, int i, json_t *issue_min)
{
    const syn_event *v = &it->ev[i];
    json_t *o = json_object();
    int64_t id = syn_id_event(it, v->k);
    const char *commit = NULL;

    SET(o, "id", json_integer(id));
    SET(o, "node_id", node_id(EV_NODE[v->type], "event:", id));
    SET(o, "url", jfmt("%s/issues/events/%lld", e->api, (long long)id));
    SET(o, "actor", user_ref(e, v->actor));
    SET(o, "event", json_string(EV_NAMES[v->type]));
    SET(o, "created_at", jtime(v->t));
    SET(o, "performed_via_github_app", json_null());
    SET(o, "issue", json_incref(issue_min));
    switch (v->type) {
    case EV_LABELED:
    case EV_UNLABELED: {
        json_t *l = json_object();
        SET(l, "name", json_string(syn_label_names[v->arg]));
        SET(l, "color", json_string(syn_label_colors[v->arg]));
        SET(o, "label", l);
        break;
    }
    case EV_ASSIGNED:
    case EV_UNASSIGNED:
        SET(o, "assignee", user_ref(e, v->arg));
        SET(o, "assigner", user_ref(e, v->by));
        break;
    case EV_MILESTONED: {
        json_t *m = json_object();
        SET(m, "title", json_string(syn_milestone_titles[v->arg]));
        SET(o, "milestone", m);
        break;
    }
    case EV_RENAMED: {
        json_t *r = json_object();
        SET(r, "from", json_string(it->title0));
        SET(r, "to", json_string(it->title1));
        SET(o, "rename", r);
        break;
    }
    case EV_REVIEW_REQUESTED:
    case EV_REVIEW_REQUEST_REMOVED:
        SET(o, "review_requester", user_ref(e, v->by));
        if (v->team)
            SET(o, "requested_team", json_incref(e->teams[v->arg]));
        else
            SET(o, "requested_reviewer", user_ref(e, v->arg));
        break;
    case EV_HEAD_REF_FORCE_PUSHED:
        commit = it->heads[v->arg];
        break;
    case EV_MERGED:
        commit = it->merge_sha;
        break;
    }
    SET(o, "commit_id", commit ? json_string(commit) : json_null());
    SET(o, "commit_url", commit ? jfmt("%s/commits/%s", e->api, commit) : json_null());
    return o;
}
