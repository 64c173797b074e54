/*
 * pin.c - fetch allow-listed files at PR base SHAs into the pinned-file store
 * (see pin.h for which SHAs, which files, and the two sources).
 *
 * One sha at a time: decide from its manifest what is still missing, fetch
 * exactly that, and hand the set to attn_pinned_write, which makes it appear
 * atomically. A sha that could not be fetched completely is not written at
 * all, so the next run asks again.
 */
#include "ingest/pin.h"
#include "util/safe.h"
#include "util/progress.h"
#include "github/client.h"
#include "store/pinned.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/path.h"

#include <git2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- SQL ---------------------------------------------------------------------- */

enum { Q_SHAS, Q_PR_EXISTS, Q_GAP, Q_RESOLVE, N_Q };
static const char *const SQL[N_Q] = {
    /* Every base a PR had: the base intervals follow base_ref_changed; the
     * PR row holds the last one seen. ?2 NULL = every PR. */
    [Q_SHAS] = "SELECT bi.base_sha FROM pull_request_base_intervals bi"
               " JOIN pull_requests p ON p.id = bi.pull_request_id"
               " WHERE p.repo_id = ?1 AND (?2 IS NULL OR p.number = ?2)"
               " AND bi.base_sha IS NOT NULL"
               " UNION SELECT base_sha FROM pull_requests"
               " WHERE repo_id = ?1 AND (?2 IS NULL OR number = ?2) AND base_sha IS NOT NULL"
               " ORDER BY 1",
    [Q_PR_EXISTS] = "SELECT 1 FROM pull_requests WHERE repo_id = ?1 AND number = ?2",
    [Q_GAP] = "INSERT INTO ingestion_gaps (repo_id, resource, url, detail, detected_at)"
              " VALUES (?1, 'contents', ?2, ?3, ?4)",
    [Q_RESOLVE] = "UPDATE ingestion_gaps SET resolved_at = ?3"
                  " WHERE repo_id = ?1 AND resource = 'contents' AND resolved_at IS NULL"
                  " AND url LIKE '%?ref=' || ?2",
};

typedef struct {
    attn_store *s;
    sqlite3 *db;
    sqlite3_stmt *q[N_Q];
    const attn_pin_options *o;
    attn_pin_report *rep;
    attn_gh_client *gh;
    int repo_checked;          /* the one GET /repos/o/r of an API run is done */
    git_repository *git;
    int64_t repo_id;
    char base[256];            /* /repos/o/r */
    const char **allow;        /* the CODEOWNERS three, then the extra paths */
    size_t n_allow;
    int tty;                    /* a live line is drawn */
    attn_progress prog;
    size_t sha_index, sha_total;
} pinner;

/* Outcome of looking for one path at one sha. */
enum { GOT_FILE, GOT_ABSENT, GOT_GAP };

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int db_error(pinner *p, attn_error *err)
{
    return attn_error_set(err, ATTN_EDB, "%s: %s", attn_store_path(p->s), sqlite3_errmsg(p->db));
}

static void progress(pinner *p)
{
    attn_progress_show(&p->prog, 0, "pin: base SHA %zu/%zu, %lld pinned, %lld failed, %lld requests",
                       p->sha_index, p->sha_total, (long long)p->rep->pinned,
                       (long long)p->rep->failed,
                       (long long)(p->gh ? attn_gh_client_stats(p->gh)->requests : 0));
}

static void warn(pinner *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(pinner *p, const char *fmt, ...)
{
    va_list ap;
    if (p->o->quiet)
        return;
    attn_progress_break(&p->prog);
    char raw[2048], safe[4096];
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    /* server text (paths, messages) reaches the terminal escaped */
    fprintf(stderr, "attn: warning: %s\n", attn_safe_text(raw, safe, sizeof(safe)));
}

static int gap_insert(pinner *p, const char *url, const char *detail, attn_error *err)
{
    sqlite3_stmt *st = p->q[Q_GAP];
    int rc;
    p->rep->gaps++;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, p->repo_id);
    sqlite3_bind_text(st, 2, url, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, detail, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_error(p, err);
}

static int gaps_resolve(pinner *p, const char *sha, attn_error *err)
{
    sqlite3_stmt *st = p->q[Q_RESOLVE];
    int rc;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, p->repo_id);
    sqlite3_bind_text(st, 2, sha, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_error(p, err);
}

/* ---- which SHAs ------------------------------------------------------------------ */

typedef struct {
    char **v;
    size_t n, cap;
} strlist;

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static void strlist_add(strlist *l, const char *s)
{
    ATTN_ALLOC_GROW(l->v, l->n + 1, l->cap);
    l->v[l->n++] = attn_xstrdup(s);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int shas_of(pinner *p, int64_t number, strlist *out, attn_error *err)
{
    sqlite3_stmt *st = p->q[Q_SHAS];
    int rc;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, p->repo_id);
    if (number > 0)
        sqlite3_bind_int64(st, 2, number);
    else
        sqlite3_bind_null(st, 2);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        strlist_add(out, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_error(p, err);
}

static int collect_shas(pinner *p, strlist *out, attn_error *err)
{
    int rc;
    if (!p->o->prs)
        return shas_of(p, 0, out, err);
    for (size_t i = 0; i < p->o->n_prs; i++) {
        sqlite3_stmt *st = p->q[Q_PR_EXISTS];
        int64_t n = p->o->prs[i];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, p->repo_id);
        sqlite3_bind_int64(st, 2, n);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
            return attn_error_set(err, ATTN_ENOTFOUND, "no pull request #%lld in %s",
                                  (long long)n, attn_store_path(p->s));
        if (rc != SQLITE_ROW)
            return db_error(p, err);
        if ((rc = shas_of(p, n, out, err)))
            return rc;
    }
    /* Several PRs share a base: each sha once, in order. */
    if (out->n > 1) {
        size_t w = 1;
        qsort(out->v, out->n, sizeof(char *), cmp_str);
        for (size_t r = 1; r < out->n; r++) {
            if (!strcmp(out->v[r], out->v[w - 1]))
                free(out->v[r]);
            else
                out->v[w++] = out->v[r];
        }
        out->n = w;
    }
    return 0;
}

/* ---- the contents API -------------------------------------------------------------- */

int attn_pin_base64_decode(const char *in, size_t len, attn_buf *out, attn_error *err)
{
    unsigned acc = 0;
    int bits = 0, pad = 0;
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        int v;
        if (c == '\n' || c == '\r')
            continue;
        chars++;
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad)
            return attn_error_set(err, ATTN_EINVAL, "bad base64: data after '=' padding");
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else
            return attn_error_set(err, ATTN_EINVAL, "bad base64: character 0x%02x at offset %zu",
                                  c, i);
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            attn_buf_putc(out, (char)((acc >> bits) & 0xff));
        }
    }
    if (chars % 4 || pad > 2 || (pad && bits == 0) || (acc & ((1u << bits) - 1)))
        return attn_error_set(err, ATTN_EINVAL, "bad base64: truncated or badly padded");
    return 0;
}

/* Percent-encode a validated path for a URL (segments keep their '/'). */
static void url_path(const char *path, attn_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        int keep = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                   (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_' ||
                   *c == '~' || *c == '/';
        if (keep)
            attn_buf_putc(out, (char)*c);
        else
            attn_buf_printf(out, "%%%c%c", hex[*c >> 4], hex[*c & 15]);
    }
}

/* The repository itself, once per run: on GitHub a missing repository and a
 * missing file both answer 404, and without this check a typo in --repo (or a
 * token without access) would pin "no CODEOWNERS" everywhere. */
static int check_repo(pinner *p, attn_error *err)
{
    attn_gh_response r;
    int rc;
    if (p->repo_checked)
        return 0;
    memset(&r, 0, sizeof(r));
    rc = attn_gh_get(p->gh, p->base, NULL, NULL, &r, err);
    if (rc && rc != ATTN_ENOTFOUND && attn_gh_error_stops_run(&r, err)) {
        attn_gh_response_free(&r);
        return rc;
    }
    attn_gh_response_free(&r);
    if (rc == ATTN_ENOTFOUND)
        return attn_error_set(err, ATTN_ENOTFOUND,
                              "repository %s is not visible at the API (404); check --repo and "
                              "that the token can read it",
                              p->o->repo);
    if (!rc) {
        p->repo_checked = 1;
        return 0;
    }
    /* A passing failure (5xx): ask again before the next file. */
    attn_error_clear(err);
    return 0;
}

static int fetch_api(pinner *p, const char *sha, const char *path, attn_buf *out, int *got,
                     char *url, size_t url_cap, char *why, size_t why_cap, attn_error *err)
{
    attn_gh_response r;
    attn_buf u = ATTN_BUF_INIT;
    json_t *j = NULL;
    const char *type, *enc, *content, *blob;
    char mine[41];
    int rc;

    *got = GOT_GAP;
    if ((rc = check_repo(p, err)))
        return rc;
    attn_buf_printf(&u, "%s/contents/", p->base);
    url_path(path, &u);
    attn_buf_printf(&u, "?ref=%s", sha);
    snprintf(url, url_cap, "%s", u.ptr);
    attn_buf_free(&u);
    memset(&r, 0, sizeof(r));
    rc = attn_gh_get(p->gh, url, NULL, NULL, &r, err);
    if (rc == ATTN_ENOTFOUND) {
        /* GitHub says which 404 it is: an unknown ref is not an absent file. */
        if (strstr(err->msg, "No commit found"))
            snprintf(why, why_cap, "GitHub has no commit %s (%s)", sha, err->msg);
        else
            *got = GOT_ABSENT;
        attn_error_clear(err);
        attn_gh_response_free(&r);
        return 0;
    }
    if (rc) {
        if (attn_gh_error_stops_run(&r, err)) {
            attn_gh_response_free(&r);
            return rc;
        }
        snprintf(why, why_cap, "%s", err->msg);
        attn_error_clear(err);
        attn_gh_response_free(&r);
        return 0;
    }
    j = json_loadb(r.body.ptr ? r.body.ptr : "", r.body.len, 0, NULL);
    attn_gh_response_free(&r);
    if (json_is_array(j)) {
        *got = GOT_ABSENT; /* a directory of that name: no file there */
        goto out;
    }
    if (!json_is_object(j)) {
        snprintf(why, why_cap, "malformed JSON body from %s", url);
        goto out;
    }
    type = attn_json_str(j, "type");
    if (!type || strcmp(type, "file")) {
        *got = GOT_ABSENT; /* symlink or submodule: GitHub reads no CODEOWNERS there */
        goto out;
    }
    enc = attn_json_str(j, "encoding");
    content = attn_json_str(j, "content");
    if (!enc || strcmp(enc, "base64") || !content) {
        snprintf(why, why_cap,
                 "%s: no base64 content (encoding '%s', size %lld; files over 1 MB need "
                 "--git-dir)",
                 url, enc ? enc : "none", (long long)attn_json_i64(j, "size", -1));
        goto out;
    }
    if (attn_pin_base64_decode(content, strlen(content), out, err)) {
        snprintf(why, why_cap, "%s: %s", url, err->msg);
        attn_error_clear(err);
        goto out;
    }
    if (attn_json_i64(j, "size", (int64_t)out->len) != (int64_t)out->len) {
        snprintf(why, why_cap, "%s: decoded %zu bytes, GitHub says %lld", url, out->len,
                 (long long)attn_json_i64(j, "size", -1));
        goto out;
    }
    blob = attn_json_str(j, "sha");
    if (attn_pinned_blob_sha(out->ptr, out->len, mine) || (blob && strcmp(blob, mine))) {
        snprintf(why, why_cap, "%s: content does not match its blob sha %s", url,
                 blob ? blob : "");
        goto out;
    }
    *got = GOT_FILE;
out:
    json_decref(j);
    return 0;
}

/* ---- a local clone ---------------------------------------------------------------- */

static const char *git_msg(void)
{
    const git_error *e = git_error_last();
    return e && e->message ? e->message : "unknown libgit2 error";
}

/* The tree of sha in the clone, or NULL with why set. */
static git_tree *git_tree_of(pinner *p, const char *sha, char *why, size_t why_cap)
{
    git_oid oid;
    git_commit *c = NULL;
    git_tree *t = NULL;
    if (git_oid_fromstr(&oid, sha) < 0 || git_commit_lookup(&c, p->git, &oid) < 0) {
        snprintf(why, why_cap,
                 "base sha %s is not a commit in %s (%s); run `git fetch` there (a base on "
                 "another branch or fork may need `git fetch origin %s`)",
                 sha, p->o->git_dir, git_msg(), sha);
        return NULL;
    }
    if (git_commit_tree(&t, c) < 0)
        snprintf(why, why_cap, "cannot read the tree of %s in %s (%s; a shallow clone?)", sha,
                 p->o->git_dir, git_msg());
    git_commit_free(c);
    return t;
}

static void fetch_git(pinner *p, git_tree *tree, const char *sha, const char *path,
                      attn_buf *out, int *got, char *why, size_t why_cap)
{
    git_tree_entry *e = NULL;
    git_blob *b = NULL;
    int rc = git_tree_entry_bypath(&e, tree, path);
    *got = GOT_GAP;
    if (rc == GIT_ENOTFOUND) {
        *got = GOT_ABSENT;
        return;
    }
    if (rc < 0) {
        snprintf(why, why_cap, "%s at %s: %s", path, sha, git_msg());
        return;
    }
    /* A directory, submodule or symlink of that name is no file for GitHub. */
    if (git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
        git_tree_entry_filemode(e) == GIT_FILEMODE_LINK) {
        *got = GOT_ABSENT;
    } else if (git_blob_lookup(&b, p->git, git_tree_entry_id(e)) < 0) {
        snprintf(why, why_cap, "blob of %s at %s: %s", path, sha, git_msg());
    } else if (attn_buf_put(out, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b))) {
        snprintf(why, why_cap, "out of memory reading %s at %s", path, sha);
    } else {
        *got = GOT_FILE;
    }
    git_blob_free(b);
    git_tree_entry_free(e);
}

/* ---- one sha ---------------------------------------------------------------------- */

static int pin_one(pinner *p, const char *sha, attn_error *err)
{
    attn_pinned_file *files = NULL;
    attn_buf *bufs = NULL;
    json_t *m = NULL;
    git_tree *tree = NULL;
    char why[4096] = "", url[2300] = "";
    size_t nf = 0;
    int rc, co_found = 0, failed = 0;

    if (attn_pinned_check_sha(sha, err)) {
        warn(p, "skipping a PR base: %s", err->msg);
        attn_error_clear(err);
        p->rep->failed++;
        return 0;
    }
    rc = attn_pinned_manifest(p->o->repo_dir, sha, &m, err);
    if (rc && rc != ATTN_ENOTFOUND) {
        if (rc != ATTN_ECORRUPT)
            return rc;
        warn(p, "%s", err->msg);
        attn_error_clear(err);
        p->rep->failed++;
        return 0;
    }
    attn_error_clear(err);
    rc = 0;
    files = attn_xcalloc(p->n_allow, sizeof(*files));
    bufs = attn_xcalloc(p->n_allow, sizeof(*bufs));
    for (size_t i = 0; i < p->n_allow && !failed; i++) {
        const char *path = p->allow[i];
        int is_co = i < ATTN_PINNED_N_CODEOWNERS, got;
        const json_t *have = m ? json_object_get(json_object_get(m, "files"), path) : NULL;
        /* GitHub reads the first CODEOWNERS present; the rest do not matter. */
        if (is_co && co_found)
            continue;
        if (have) {
            co_found |= is_co && json_is_string(have);
            continue;
        }
        if (p->git) {
            if (!tree && !(tree = git_tree_of(p, sha, why, sizeof(why)))) {
                failed = 1;
                break;
            }
            fetch_git(p, tree, sha, path, &bufs[nf], &got, why, sizeof(why));
        } else if ((rc = fetch_api(p, sha, path, &bufs[nf], &got, url, sizeof(url), why,
                                   sizeof(why), err))) {
            goto out;
        }
        progress(p);
        if (got == GOT_GAP) {
            failed = 1;
            break;
        }
        files[nf].path = path;
        files[nf].content = got == GOT_FILE ? (bufs[nf].ptr ? bufs[nf].ptr : "") : NULL;
        files[nf].len = bufs[nf].len;
        nf++;
        co_found |= is_co && got == GOT_FILE;
    }
    if (failed) {
        p->rep->failed++;
        if (p->git) {
            warn(p, "%s", why);
        } else {
            warn(p, "base sha %s not pinned (a gap; rerun to retry): %s", sha, why);
            rc = gap_insert(p, url, why, err);
        }
        goto out;
    }
    if (nf == 0) {
        p->rep->already++;
        goto out;
    }
    if ((rc = attn_pinned_write(p->o->repo_dir, sha, p->git ? "git" : "contents_api", files, nf,
                                err)))
        goto out;
    p->rep->pinned++;
    if (co_found)
        p->rep->with_codeowners++;
    else
        p->rep->absent++;
    if (!p->git)
        rc = gaps_resolve(p, sha, err);
out:
    for (size_t i = 0; bufs && i < p->n_allow; i++)
        attn_buf_free(&bufs[i]);
    free(bufs);
    free(files);
    git_tree_free(tree);
    json_decref(m);
    return rc;
}

/* ---- the run ---------------------------------------------------------------------- */

static int build_allow(pinner *p, attn_error *err)
{
    int rc;
    p->allow = attn_xcalloc(ATTN_PINNED_N_CODEOWNERS + p->o->n_paths, sizeof(char *));
    for (int i = 0; i < ATTN_PINNED_N_CODEOWNERS; i++)
        p->allow[p->n_allow++] = attn_pinned_codeowners_paths[i];
    for (size_t i = 0; i < p->o->n_paths; i++) {
        const char *path = p->o->paths[i];
        size_t j;
        if ((rc = attn_pinned_check_path(path, err)))
            return attn_error_wrap(err, "--path");
        for (j = 0; j < p->n_allow && strcmp(p->allow[j], path); j++)
            ;
        if (j == p->n_allow)
            p->allow[p->n_allow++] = path;
    }
    return 0;
}

int attn_pin_run(attn_store *s, const attn_pin_options *o, attn_pin_report *rep,
                 attn_error *err)
{
    pinner p;
    strlist shas = {0};
    double t0 = mono_now();
    int rc = 0, git_inited = 0;

    memset(rep, 0, sizeof(*rep));
    memset(&p, 0, sizeof(p));
    p.s = s;
    p.db = attn_store_db(s);
    p.o = o;
    p.rep = rep;
    attn_progress_init(&p.prog, o->quiet ? ATTN_PROGRESS_OFF : o->progress);
    p.tty = p.prog.mode == ATTN_PROGRESS_LIVE;
    snprintf(p.base, sizeof(p.base), "/repos/%s", o->repo);
    if ((rc = build_allow(&p, err)))
        goto out;
    for (int i = 0; i < N_Q; i++)
        if (sqlite3_prepare_v2(p.db, SQL[i], -1, &p.q[i], NULL)) {
            rc = db_error(&p, err);
            goto out;
        }
    if ((rc = attn_store_repo_id(s, o->repo, &p.repo_id, err)) ||
        (rc = collect_shas(&p, &shas, err)))
        goto out;

    if (o->git_dir) {
        git_libgit2_init();
        git_inited = 1;
        if (git_repository_open_ext(&p.git, o->git_dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) <
            0) {
            rc = attn_error_set(err, ATTN_EINVAL, "--git-dir %s is not a git repository (%s)",
                                o->git_dir, git_msg());
            p.git = NULL;
            goto out;
        }
    } else {
        attn_gh_options go;
        attn_gh_options_init(&go);
        if (o->api_url)
            go.api_url = o->api_url;
        go.token = o->token;
        go.progress = p.tty;
        go.verbose = o->verbose;
        if (o->max_retries >= 0)
            go.max_retries = o->max_retries;
        if ((rc = attn_gh_client_new(&go, &p.gh, err)))
            goto out;
    }

    rep->shas = (int64_t)shas.n;
    p.sha_total = shas.n;
    for (size_t i = 0; i < shas.n && !rc; i++) {
        p.sha_index = i + 1;
        rc = pin_one(&p, shas.v[i], err);
        progress(&p);
    }
    attn_progress_break(&p.prog);

out:
    if (p.gh)
        rep->requests = attn_gh_client_stats(p.gh)->requests;
    rep->duration_s = mono_now() - t0;
    attn_gh_client_free(p.gh);
    git_repository_free(p.git);
    if (git_inited)
        git_libgit2_shutdown();
    for (int i = 0; i < N_Q; i++)
        sqlite3_finalize(p.q[i]);
    free(p.allow);
    strlist_free(&shas);
    return rc;
}

/* ---- bundles ---------------------------------------------------------------------- */

int attn_pin_bundle_check(const json_t *bundle, attn_error *err)
{
    const json_t *co = json_object_get(bundle, "codeowners"), *v, *t, *u;
    const char *sha, *path, *other;
    int rc;
    if (!co || json_is_null(co))
        return 0;
    if (!json_is_object(co))
        return attn_error_set(err, ATTN_EINVAL,
                              "bundle: 'codeowners' is not an object keyed by base sha");
    json_object_foreach((json_t *)co, sha, v) {
        if ((rc = attn_pinned_check_sha(sha, err)))
            return attn_error_wrap(err, "bundle codeowners");
        if (json_is_string(v))
            continue;
        if (!json_is_object(v))
            return attn_error_set(err, ATTN_EINVAL,
                                  "bundle: codeowners[\"%s\"] is neither text nor an object of "
                                  "path: text",
                                  sha);
        json_object_foreach((json_t *)v, path, t) {
            size_t n = strlen(path);
            if ((rc = attn_pinned_check_path(path, err)))
                return attn_error_wrap(err, "bundle codeowners[\"%s\"]", sha);
            if (!json_is_string(t) && !json_is_null(t))
                return attn_error_set(err, ATTN_EINVAL,
                                      "bundle: codeowners[\"%s\"][\"%s\"] is not text or null",
                                      sha, path);
            json_object_foreach((json_t *)v, other, u) {
                if (json_is_string(t) && json_is_string(u) && !strncmp(path, other, n) &&
                    other[n] == '/')
                    return attn_error_set(err, ATTN_EINVAL,
                                          "bundle: codeowners[\"%s\"] has both '%s' and '%s' "
                                          "as files",
                                          sha, path, other);
            }
        }
    }
    return 0;
}

int attn_pin_bundle_apply(const char *repo_dir, const json_t *bundle, int64_t *pinned,
                          attn_error *err)
{
    const json_t *co = json_object_get(bundle, "codeowners"), *v, *t;
    const char *sha, *path;
    attn_pinned_file *files = NULL;
    size_t cap = 0;
    int rc;

    if (pinned)
        *pinned = 0;
    if ((rc = attn_pin_bundle_check(bundle, err)) || !json_is_object(co))
        return rc;
    json_object_foreach((json_t *)co, sha, v) {
        size_t n = 0, need = ATTN_PINNED_N_CODEOWNERS + json_object_size(v);
        if (need > cap) {
            files = attn_xrealloc(files, attn_st_mult(need, sizeof(*files)));
            cap = need;
        }
        if (json_is_string(v)) {
            files[n++] = (attn_pinned_file){attn_pinned_codeowners_paths[0],
                                            json_string_value(v), json_string_length(v)};
        } else {
            json_object_foreach((json_t *)v, path, t) {
                files[n++] = (attn_pinned_file){path, json_string_value(t),
                                                json_is_string(t) ? json_string_length(t) : 0};
            }
        }
        /* A bundle entry is its sha's whole truth: unnamed CODEOWNERS places are absent. */
        for (int i = 0; i < ATTN_PINNED_N_CODEOWNERS; i++) {
            size_t j;
            for (j = 0; j < n && strcmp(files[j].path, attn_pinned_codeowners_paths[i]); j++)
                ;
            if (j == n)
                files[n++] = (attn_pinned_file){attn_pinned_codeowners_paths[i], NULL, 0};
        }
        if ((rc = attn_pinned_write(repo_dir, sha, "bundle", files, n, err))) {
            free(files);
            return attn_error_wrap(err, "pinning the bundle's codeowners");
        }
        if (pinned)
            (*pinned)++;
    }
    free(files);
    return 0;
}
