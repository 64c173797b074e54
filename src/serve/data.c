/*
 * data.c - what the service reads: repositories under the data directory,
 * registry rows, a run's report/manifest/per_pr.jsonl, one PR's entries
 * (through pack.h), comparisons (through compare.h) and prompt diffs.
 *
 * Must never: open prs/<n>/... itself (pack.h is the only reader), write
 * anything, or build a path from a request value that attn_path has not
 * checked.
 */
#include "serve/internal.h"
#include "eval/pack.h"
#include "exp/compare.h"
#include "exp/registry.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/path.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_name(const char *n)
{
    return n[0] != '.' && strlen(n) <= ATTN_NAME_MAX;
}

json_t *attn_serve_repos(const attn_server *s)
{
    char dir[4400], sub[4600], probe[4800];
    json_t *out = json_array();
    DIR *d, *d2;
    struct dirent *e, *e2;
    snprintf(dir, sizeof(dir), "%s/github", s->data_dir);
    if (!(d = opendir(dir)))
        return out;
    while ((e = readdir(d))) {
        if (!is_name(e->d_name))
            continue;
        if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= sizeof(sub) ||
            !(d2 = opendir(sub)))
            continue;
        while ((e2 = readdir(d2))) {
            int has;
            if (!is_name(e2->d_name) ||
                (size_t)snprintf(probe, sizeof(probe), "%s/%s/runs.sqlite", sub, e2->d_name) >=
                    sizeof(probe))
                continue;
            has = attn_fs_exists(probe);
            if ((size_t)snprintf(probe, sizeof(probe), "%s/%s/history.sqlite", sub, e2->d_name) >=
                sizeof(probe))
                continue;
            if (has || attn_fs_exists(probe))
                json_array_append_new(out, json_sprintf("%s/%s", e->d_name, e2->d_name));
        }
        closedir(d2);
    }
    closedir(d);
    /* readdir order is the file system's; sort for stable output */
    size_t n = json_array_size(out);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0; j--) {
            json_t *a = json_array_get(out, j - 1), *b = json_array_get(out, j);
            if (strcmp(json_string_value(a), json_string_value(b)) <= 0)
                break;
            json_incref(a);
            json_array_set(out, j - 1, b);
            json_array_set_new(out, j, a);
        }
    return out;
}

int attn_serve_repo(const attn_server *s, const attn_req *q, const char **repo, json_t **repos,
                    attn_error *err)
{
    const char *r = attn_req_query(q, "repo");
    char owner[ATTN_NAME_MAX + 1], name[ATTN_NAME_MAX + 1];
    size_t i;
    json_t *v;
    *repos = attn_serve_repos(s);
    if (!r || !*r) {
        if (json_array_size(*repos) == 1) {
            *repo = json_string_value(json_array_get(*repos, 0));
            return 0;
        }
        return attn_error_set(err, ATTN_EINVAL, "give ?repo=OWNER/NAME (%zu repositories served)",
                              json_array_size(*repos));
    }
    if (attn_path_parse_repo(r, owner, name, err))
        return ATTN_EINVAL;
    json_array_foreach(*repos, i, v) if (!strcmp(json_string_value(v), r)) {
        *repo = json_string_value(v);
        return 0;
    }
    return attn_error_set(err, ATTN_ENOTFOUND, "repository %s is not under the data directory", r);
}

int attn_serve_repo_path(const attn_server *s, const char *repo, const char *file, char *out,
                         size_t cap, attn_error *err)
{
    char dir[4200];
    int rc = attn_path_repo_dir(s->data_dir, repo, dir, sizeof(dir), err);
    if (rc)
        return rc;
    if ((size_t)snprintf(out, cap, "%s/%s", dir, file) >= cap)
        return attn_error_set(err, ATTN_EINVAL, "data directory path is too long");
    return 0;
}

int attn_serve_open_registry(const attn_server *s, const char *repo, attn_registry **reg,
                             attn_error *err)
{
    char path[4400];
    int rc = attn_serve_repo_path(s, repo, "runs.sqlite", path, sizeof(path), err);
    if (rc)
        return rc;
    if (!attn_fs_exists(path))
        return attn_error_set(err, ATTN_ENOTFOUND, "repository %s has no run registry yet", repo);
    return attn_registry_open(path, reg, err);
}

int attn_serve_run_row(const attn_server *s, const char *repo, const char *run_id, json_t **row,
                       attn_error *err)
{
    attn_registry *reg = NULL;
    int rc;
    if (!run_id || attn_path_check_id(run_id, "run id", err))
        return attn_error_set(err, ATTN_EINVAL, "run id '%s' is not a run id ([A-Za-z0-9._-])",
                              run_id ? run_id : "");
    if ((rc = attn_serve_open_registry(s, repo, &reg, err)))
        return rc;
    rc = attn_registry_get(reg, run_id, row, err);
    attn_registry_close(reg);
    return rc;
}

int attn_serve_run_file(const json_t *row, const char *name, json_t **out, attn_error *err)
{
    char path[4400];
    const char *dir = attn_json_str(row, "run_dir");
    if (!dir || !strcmp(attn_json_str(row, "lifecycle") ? attn_json_str(row, "lifecycle") : "",
                        "deleted"))
        return attn_error_set(err, ATTN_ENOTFOUND, "run %s has no files (deleted)",
                              attn_json_str(row, "run_id"));
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (!attn_fs_exists(path))
        return attn_error_set(err, ATTN_ENOTFOUND, "run %s has no %s",
                              attn_json_str(row, "run_id"), name);
    return attn_json_load_file(path, out, err);
}

int attn_serve_per_pr(const json_t *row, json_t **out, attn_error *err)
{
    char path[4400];
    attn_buf b = ATTN_BUF_INIT;
    const char *dir = attn_json_str(row, "run_dir"), *p, *nl;
    int rc;
    if (!dir)
        return attn_error_set(err, ATTN_ENOTFOUND, "run %s has no directory",
                              attn_json_str(row, "run_id"));
    snprintf(path, sizeof(path), "%s/per_pr.jsonl", dir);
    if ((rc = attn_fs_read_file(path, &b, err)))
        return rc;
    *out = json_array();
    for (p = attn_buf_cstr(&b); *p; p = nl + 1) {
        json_t *v;
        json_error_t je;
        nl = strchr(p, '\n');
        if (!nl)
            nl = p + strlen(p) - 1;
        if (nl > p && (v = json_loadb(p, (size_t)(nl - p + (*nl != '\n')), 0, &je)))
            json_array_append_new(*out, v);
        if (!nl[1] && *nl != '\n')
            break;
    }
    attn_buf_free(&b);
    return 0;
}

static int has_tag(const json_t *row, const char *tag)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(row, "tags"), i, t) if (!strcmp(json_string_value(t), tag))
        return 1;
    return 0;
}

static int list_one(const attn_server *s, const attn_req *q, const char *repo, json_t *out,
                    attn_error *err)
{
    attn_registry *reg = NULL;
    attn_run_filter f;
    json_t *rows = NULL, *row;
    const char *tag = attn_req_query(q, "tag");
    size_t i;
    int rc;
    if ((rc = attn_serve_open_registry(s, repo, &reg, err)))
        return rc == ATTN_ENOTFOUND ? 0 : rc;
    memset(&f, 0, sizeof(f));
    f.kind = attn_req_query(q, "kind");
    f.lifecycle = attn_req_query(q, "lifecycle");
    f.status = attn_req_query(q, "status");
    f.experiment_id = attn_req_query(q, "experiment_id");
    if (f.kind && !*f.kind) f.kind = NULL;
    if (f.lifecycle && !*f.lifecycle) f.lifecycle = NULL;
    if (f.status && !*f.status) f.status = NULL;
    if (f.experiment_id && !*f.experiment_id) f.experiment_id = NULL;
    rc = attn_registry_list(reg, &f, &rows, err);
    if (!rc) {   /* runs imported from other trackers, beside attn's own (attn runs import) */
        json_t *ext = NULL;
        rc = attn_registry_list_external(reg, NULL, 0, &ext, err);
        attn_registry_add_external(rows, ext, &f);
        json_decref(ext);
    }
    attn_registry_close(reg);
    if (rc) {
        json_decref(rows);
        return rc;
    }
    json_array_foreach(rows, i, row) {
        if (tag && *tag && !has_tag(row, tag))
            continue;
        json_object_set_new(row, "repo", json_string(repo));
        json_array_append(out, row);
    }
    json_decref(rows);
    return 0;
}

int attn_serve_list_runs(const attn_server *s, const attn_req *q, const char *repo, json_t **out,
                         attn_error *err)
{
    json_t *repos, *v;
    size_t i;
    int rc = 0;
    *out = json_array();
    if (repo)
        return list_one(s, q, repo, *out, err);
    repos = attn_serve_repos(s);
    json_array_foreach(repos, i, v) if ((rc = list_one(s, q, json_string_value(v), *out, err)))
        break;
    json_decref(repos);
    return rc;
}

const char *attn_serve_primary(const json_t *report)
{
    const char *p = attn_json_str(report, "primary_policy");
    return p ? p : "";
}

int attn_serve_parse_pr(const char *s, int64_t *out, attn_error *err)
{
    char *end;
    long long v;
    errno = 0;
    v = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v < 1 || v > (1LL << 53))
        return attn_error_set(err, ATTN_EINVAL, "PR '%s' is not a PR number", s ? s : "");
    *out = v;
    return 0;
}

int attn_serve_compare(const attn_server *s, const char *repo, const char *a, const char *b,
                       json_t **out, attn_compare_ranks *ranks, attn_error *err)
{
    json_t *ra = NULL, *rb = NULL;
    attn_compare_opts o;
    int rc;
    if (!a || !b || !*a || !*b)
        return attn_error_set(err, ATTN_EINVAL, "give ?run_a=RUN_ID&run_b=RUN_ID");
    if ((rc = attn_serve_run_row(s, repo, a, &ra, err)) ||
        (rc = attn_serve_run_row(s, repo, b, &rb, err)))
        goto out;
    if (!attn_json_str(ra, "run_dir") || !attn_json_str(rb, "run_dir")) {
        rc = attn_error_set(err, ATTN_ENOTFOUND, "a run of the pair has no directory");
        goto out;
    }
    attn_compare_opts_init(&o);
    o.force = 1; /* the page shows incompatibility as warnings rather than refusing */
    rc = attn_compare_runs_ranks(attn_json_str(ra, "run_dir"), attn_json_str(rb, "run_dir"), &o,
                                 out, ranks, err);
out:
    json_decref(ra);
    json_decref(rb);
    return rc;
}

/* Every string value under a key containing "prompt", by dotted path. */
static void collect_prompts(const json_t *v, const char *prefix, int inside, json_t *out)
{
    const char *k;
    json_t *x;
    char path[512];
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x) {
            snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k);
            collect_prompts(x, path, inside || strstr(k, "prompt") != NULL, out);
        }
    } else if (inside && !json_is_array(v) && !json_is_null(v)) {
        json_object_set(out, prefix, (json_t *)v);
    }
}

static json_t *router_prompts(const json_t *manifest)
{
    json_t *out = json_object(), *r;
    size_t i;
    json_array_foreach(json_object_get(manifest, "routers"), i, r) {
        json_t *p = json_object();
        collect_prompts(json_object_get(r, "config"), "", 0, p);
        if (json_object_size(p))
            json_object_set_new(out, attn_json_str(r, "name") ? attn_json_str(r, "name") : "?", p);
        else
            json_decref(p);
    }
    return out;
}

/* Line diff of two texts by longest common subsequence (bounded size). */
static json_t *line_diff(const char *a, const char *b)
{
    json_t *la = json_array(), *lb = json_array(), *out = json_array();
    const char *p, *e;
    size_t n, m, i, j;
    unsigned short *t;
    for (int side = 0; side < 2; side++)
        for (p = side ? b : a; *p; p = *e ? e + 1 : e) {
            e = strchr(p, '\n');
            if (!e)
                e = p + strlen(p);
            json_array_append_new(side ? lb : la, json_stringn(p, (size_t)(e - p)));
        }
    n = json_array_size(la);
    m = json_array_size(lb);
    if (n > 250 || m > 250 || !(t = calloc((n + 1) * (m + 1), sizeof(*t)))) {
        json_array_append_new(out, json_pack("{s:s, s:s}", "op", "-", "line", "(too long to diff)"));
        goto done;
    }
#define T(x, y) t[(x) * (m + 1) + (y)]
    for (i = n; i-- > 0;)
        for (j = m; j-- > 0;)
            T(i, j) = !strcmp(json_string_value(json_array_get(la, i)),
                              json_string_value(json_array_get(lb, j)))
                          ? (unsigned short)(T(i + 1, j + 1) + 1)
                          : (T(i + 1, j) > T(i, j + 1) ? T(i + 1, j) : T(i, j + 1));
    for (i = 0, j = 0; i < n || j < m;) {
        if (i < n && j < m &&
            !strcmp(json_string_value(json_array_get(la, i)), json_string_value(json_array_get(lb, j)))) {
            json_array_append_new(out, json_pack("{s:s, s:O}", "op", " ", "line", json_array_get(la, i)));
            i++, j++;
        } else if (j < m && (i == n || T(i, j + 1) >= T(i + 1, j))) {
            json_array_append_new(out, json_pack("{s:s, s:O}", "op", "+", "line", json_array_get(lb, j)));
            j++;
        } else {
            json_array_append_new(out, json_pack("{s:s, s:O}", "op", "-", "line", json_array_get(la, i)));
            i++;
        }
    }
#undef T
    free(t);
done:
    json_decref(la);
    json_decref(lb);
    return out;
}

json_t *attn_serve_prompt_diff(const json_t *man_a, const json_t *man_b)
{
    json_t *pa = router_prompts(man_a), *pb = router_prompts(man_b), *out = json_object();
    json_t *keys = json_object(), *v;
    const char *router, *k;
    json_object_update(keys, pa);
    json_object_update(keys, pb);
    json_object_foreach(keys, router, v) {
        json_t *ra = json_object_get(pa, router), *rb = json_object_get(pb, router);
        json_t *fields = json_object(), *all = json_object(), *x;
        int differs = 0;
        if (ra) json_object_update(all, ra);
        if (rb) json_object_update(all, rb);
        json_object_foreach(all, k, x) {
            json_t *a = json_object_get(ra, k), *b = json_object_get(rb, k);
            int d = !(a && b && json_equal(a, b));
            json_t *f = json_pack("{s:O?, s:O?, s:b}", "a", a, "b", b, "differs", d);
            if (d && json_is_string(a) && json_is_string(b))
                json_object_set_new(f, "diff", line_diff(json_string_value(a), json_string_value(b)));
            differs |= d;
            json_object_set_new(fields, k, f);
        }
        json_object_set_new(out, router, json_pack("{s:o, s:b}", "fields", fields, "differs", differs));
        json_decref(all);
    }
    json_decref(keys);
    json_decref(pa);
    json_decref(pb);
    return out;
}

int attn_serve_pr_detail(const json_t *row, int64_t pr, json_t **out, attn_error *err)
{
    const char *dir = attn_json_str(row, "run_dir");
    json_t *names = NULL, *n, *routes = json_object(), *d;
    size_t i;
    int rc;
    if (!dir)
        return attn_error_set(err, ATTN_ENOTFOUND, "run has no directory");
    if ((rc = attn_pack_list(dir, pr, &names, err)))
        goto fail;
    if (!json_array_size(names)) {
        rc = attn_error_set(err, ATTN_ENOTFOUND, "run %s has no PR %lld",
                            attn_json_str(row, "run_id"), (long long)pr);
        goto fail;
    }
    d = json_pack("{s:I, s:s}", "pr", (json_int_t)pr, "run_id", attn_json_str(row, "run_id"));
    json_array_foreach(names, i, n) {
        const char *name = json_string_value(n);
        json_t *v = NULL;
        if (attn_pack_get(dir, pr, name, &v, err))
            continue;
        if (!strncmp(name, "routes/", 7))
            json_object_set_new(routes, name + 7, v);
        else if (!strchr(name, '/'))
            json_object_set_new(d, name, v);
        else
            json_decref(v); /* features/ and llm/ entries: reachable through ?entry= later */
    }
    json_object_set_new(d, "routes", routes);
    json_object_set_new(d, "entries", names);
    *out = d;
    return 0;
fail:
    json_decref(names);
    json_decref(routes);
    return rc;
}
