/*
 * synth.c - options and the streaming writer of `attn synth` (see synth.h).
 *
 * The bundle is written key by key in sorted order, one list at a time. Each
 * list is one pass over the items; an item's story is rebuilt from its own
 * PRNG stream in every pass (cheap), so no pass keeps more than one item.
 * Lists ordered by time (comments, review comments, issue events) merge the
 * items' entries through a min-heap: items come in creation order and nothing
 * of an item happens before its creation, so everything at or before the next
 * item's creation instant can be written. The heap holds only entries still
 * in the future of the current creation instant.
 */
#include "synth/synth.h"
#include "util/alloc.h"
#include "synth/emit.h"
#include "synth/model.h"
#include "util/fs.h"
#include "util/path.h"
#include "util/time.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DUMP_FLAGS (JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(15))

/* ------------------------------------------------------------------ options */

void attn_synth_opts_init(attn_synth_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->prs = 200;
    o->seed = 1;
    snprintf(o->owner, sizeof(o->owner), "synth");
    snprintf(o->name, sizeof(o->name), "sample");
    o->start = INT64_C(1704067200);   /* 2024-01-01T00:00:00Z */
    o->days = 180;
    o->users = 40;
}

static int parse_int(const char *opt, const char *v, int64_t lo, int64_t hi, int64_t *out,
                     attn_error *err)
{
    char *end;
    long long x;
    errno = 0;
    x = strtoll(v, &end, 10);
    if (!*v || *end || errno || x < lo || x > hi)
        return attn_error_set(err, ATTN_EINVAL, "--%s must be an integer in [%lld, %lld], got '%s'",
                              opt, (long long)lo, (long long)hi, v);
    *out = x;
    return 0;
}

int attn_synth_opts_set(attn_synth_opts *o, const char *name, const char *value,
                        attn_error *err)
{
    if (!strcmp(name, "prs"))
        return parse_int(name, value, 0, ATTN_SYNTH_MAX_PRS, &o->prs, err);
    if (!strcmp(name, "days"))
        return parse_int(name, value, 1, ATTN_SYNTH_MAX_DAYS, &o->days, err);
    if (!strcmp(name, "users"))
        return parse_int(name, value, 2, ATTN_SYNTH_MAX_USERS, &o->users, err);
    if (!strcmp(name, "seed")) {
        char *end;
        unsigned long long x;
        errno = 0;
        x = strtoull(value, &end, 10);
        /* Capped at 2^63-1 so the seed reads back as a JSON integer everywhere. */
        if (!*value || *end || errno || value[0] == '-' || value[0] == '+' ||
            x > (unsigned long long)INT64_MAX)
            return attn_error_set(err, ATTN_EINVAL,
                                  "--seed must be an integer in [0, 9223372036854775807], got '%s'",
                                  value);
        o->seed = x;
        return 0;
    }
    if (!strcmp(name, "repo")) {
        char owner[ATTN_NAME_MAX + 1], rname[ATTN_NAME_MAX + 1];
        int rc = attn_path_parse_repo(value, owner, rname, err);
        if (rc)
            return rc;
        if (strlen(owner) > 39)
            return attn_error_set(err, ATTN_EINVAL, "--repo owner '%s' is longer than 39 "
                                  "characters", owner);
        snprintf(o->owner, sizeof(o->owner), "%s", owner);
        snprintf(o->name, sizeof(o->name), "%s", rname);
        return 0;
    }
    if (!strcmp(name, "start")) {
        int64_t t;
        int rc = attn_time_parse(value, &t, err);
        if (rc)
            return attn_error_wrap(err, "--start");
        /* Keep every instant a four-digit year. */
        if (t < INT64_C(0) || t > INT64_C(32503680000) - 3651 * INT64_C(86400))
            return attn_error_set(err, ATTN_EINVAL, "--start '%s' is out of range "
                                  "(1970 .. 2989)", value);
        o->start = t;
        return 0;
    }
    return attn_error_set(err, ATTN_EINVAL, "unknown synth option '%s'", name);
}

/* ------------------------------------------------------------------ output */

typedef struct {
    FILE *f;
    int failed;
} out_t;

static void put(out_t *o, const char *s)
{
    if (!o->failed && fputs(s, o->f) == EOF)
        o->failed = 1;
}

static void put_json(out_t *o, json_t *v)
{
    if (!v) {
        o->failed = 1;
        return;
    }
    if (!o->failed && json_dumpf(v, o->f, DUMP_FLAGS) != 0)
        o->failed = 1;
    json_decref(v);
}

/* "key": with a leading comma unless first. */
static void put_key(out_t *o, const char *key, int *first)
{
    if (!*first)
        put(o, ",");
    *first = 0;
    put(o, "\"");
    put(o, key);
    put(o, "\":");
}

/* Next number after cur in decimal-string order over 1..n (0 when done). */
static int lex_next(int cur, int n)
{
    if ((int64_t)cur * 10 <= n)
        return cur * 10;
    while (cur % 10 == 9 || cur + 1 > n) {
        cur /= 10;
        if (cur == 0)
            return 0;
    }
    return cur + 1;
}

/* ------------------------------------------------------------------ heap */

typedef struct {
    int64_t t, id;
    char *json;
} hent;

typedef struct {
    hent *a;
    size_t n, cap;
} heap;

static int hless(const hent *x, const hent *y)
{
    return x->t < y->t || (x->t == y->t && x->id < y->id);
}

static void heap_push(heap *h, int64_t t, int64_t id, char *json)
{
    size_t i;
    ATTN_ALLOC_GROW(h->a, h->n + 1, h->cap);
    i = h->n++;
    h->a[i].t = t;
    h->a[i].id = id;
    h->a[i].json = json;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        hent tmp;
        if (!hless(&h->a[i], &h->a[p]))
            break;
        tmp = h->a[i];
        h->a[i] = h->a[p];
        h->a[p] = tmp;
        i = p;
    }
}

static hent heap_pop(heap *h)
{
    hent top = h->a[0];
    size_t i = 0;
    h->a[0] = h->a[--h->n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        hent tmp;
        if (l < h->n && hless(&h->a[l], &h->a[m]))
            m = l;
        if (r < h->n && hless(&h->a[r], &h->a[m]))
            m = r;
        if (m == i)
            break;
        tmp = h->a[i];
        h->a[i] = h->a[m];
        h->a[m] = tmp;
        i = m;
    }
    return top;
}

enum { LIST_COMMENTS, LIST_RCOMMENTS, LIST_EVENTS };

/* Pop and write every entry at or before `until`; count tracks the comma. */
static void heap_drain(heap *h, int64_t until, out_t *o, size_t *count)
{
    while (h->n && h->a[0].t <= until) {
        hent e = heap_pop(h);
        if (*count)
            put(o, ",");
        put(o, e.json);
        (*count)++;
        free(e.json);
    }
}

static void timed_list(const syn_world *w, const syn_emit *em, syn_item *it, int which, out_t *o)
{
    heap h = {NULL, 0, 0};
    size_t count = 0;

    put(o, "[");
    for (int n = 1; n <= w->nitems; n++) {
        json_t *imin = NULL;
        int cnt;
        heap_drain(&h, w->slots[n - 1].t, o, &count);
        syn_item_build(w, n, it);
        cnt = which == LIST_COMMENTS ? it->ncm : which == LIST_RCOMMENTS ? it->nrc : it->nev;
        if (which == LIST_EVENTS && cnt)
            imin = syn_json_issue_min(em, it);
        for (int i = 0; i < cnt; i++) {
            json_t *v;
            int64_t t, id;
            char *s;
            if (which == LIST_COMMENTS) {
                v = syn_json_comment(em, it, i);
                t = it->cm[i].t;
                id = syn_id_comment(it, it->cm[i].k);
            } else if (which == LIST_RCOMMENTS) {
                v = syn_json_rcomment(em, it, i);
                t = it->rc[i].t;
                id = syn_id_rcomment(it, it->rc[i].k);
            } else {
                v = syn_json_event(em, it, i, imin);
                t = it->ev[i].t;
                id = syn_id_event(it, it->ev[i].k);
            }
            s = attn_xcheck(json_dumps(attn_xcheck(v), DUMP_FLAGS));
            json_decref(v);
            heap_push(&h, t, id, s);
        }
        json_decref(imin);
    }
    heap_drain(&h, INT64_MAX, o, &count);
    free(h.a);
    put(o, "]");
}

/* A map keyed by PR number (in the decimal-string order of sorted keys). */
static void pr_map(const syn_world *w, syn_emit *em, syn_item *it, int files, out_t *o)
{
    int first = 1;
    put(o, "{");
    for (int n = w->nitems ? 1 : 0; n; n = lex_next(n, w->nitems)) {
        char key[24];
        json_t *a;
        if (!w->slots[n - 1].is_pr && !files)
            continue;
        syn_item_build(w, n, it);
        if (files) {
            /* The first pass also totals what milestones and the repo report. */
            if (it->milestone >= 0) {
                if (it->closed)
                    em->ms_closed[it->milestone]++;
                else
                    em->ms_open[it->milestone]++;
            }
            em->open_issues += !it->closed;
            if (!it->is_pr)
                continue;
        }
        snprintf(key, sizeof(key), "%d", n);
        put_key(o, key, &first);
        a = json_array();
        if (files)
            for (int i = 0; i < it->nfiles; i++)
                json_array_append_new(a, syn_json_file(em, it, i));
        else
            for (int i = 0; i < it->nrv; i++)
                json_array_append_new(a, syn_json_review(em, it, i));
        put_json(o, a);
    }
    put(o, "}");
}

static void codeowners(const syn_world *w, out_t *o)
{
    json_t *m = json_object();
    char text[8192];
    for (int wk = 0; wk < w->nweeks; wk++) {
        char sha[41];
        syn_week_sha(w, wk, sha);
        syn_codeowners_text(w, syn_rev_for_week(w, wk), text, sizeof(text));
        json_object_set_new(m, sha, json_string(text));
    }
    put_json(o, m);
}

int attn_synth_write(const attn_synth_opts *opts, FILE *f, attn_error *err)
{
    syn_world w;
    syn_emit em;
    syn_item *it;
    out_t o = {f, 0};
    int first = 1, rc;

    if ((rc = syn_world_init(&w, opts, err)))
        return rc;
    if ((rc = syn_emit_init(&em, &w, err))) {
        syn_world_free(&w);
        return rc;
    }
    it = attn_xmalloc(sizeof(*it));
    put(&o, "{");
    put_key(&o, "codeowners", &first);
    codeowners(&w, &o);
    put_key(&o, "files", &first);
    pr_map(&w, &em, it, 1, &o);
    put_key(&o, "format", &first);
    put(&o, "\"attn.github_bundle.v1\"");
    put_key(&o, "generator", &first);
    put_json(&o, syn_json_generator(&em));
    put_key(&o, "issue_comments", &first);
    timed_list(&w, &em, it, LIST_COMMENTS, &o);
    put_key(&o, "issue_events", &first);
    timed_list(&w, &em, it, LIST_EVENTS, &o);
    put_key(&o, "issues", &first);
    put(&o, "[");
    for (int n = 1; n <= w.nitems; n++) {
        syn_item_build(&w, n, it);
        if (n > 1)
            put(&o, ",");
        put_json(&o, syn_json_issue(&em, it));
    }
    put(&o, "]");
    put_key(&o, "labels", &first);
    put(&o, "[");
    for (int l = 0; l < SYN_NLABELS; l++) {
        if (l)
            put(&o, ",");
        put_json(&o, syn_json_label(&em, l));
    }
    put(&o, "]");
    put_key(&o, "milestones", &first);
    put(&o, "[");
    for (int m = 0; m < SYN_NMILESTONES; m++) {
        if (m)
            put(&o, ",");
        put_json(&o, syn_json_milestone(&em, m));
    }
    put(&o, "]");
    put_key(&o, "pulls", &first);
    put(&o, "[");
    for (int n = 1, k = 0; n <= w.nitems; n++) {
        if (!w.slots[n - 1].is_pr)
            continue;
        syn_item_build(&w, n, it);
        if (k++)
            put(&o, ",");
        put_json(&o, syn_json_pull(&em, it));
    }
    put(&o, "]");
    put_key(&o, "repo", &first);
    put_json(&o, syn_json_repo(&em));
    put_key(&o, "review_comments", &first);
    timed_list(&w, &em, it, LIST_RCOMMENTS, &o);
    put_key(&o, "reviews", &first);
    pr_map(&w, &em, it, 0, &o);
    put_key(&o, "teams", &first);
    put(&o, "[");
    for (int t = 0; t < SYN_NTEAMS; t++) {
        if (t)
            put(&o, ",");
        put_json(&o, syn_json_team_full(&em, t));
    }
    put(&o, "]");
    put_key(&o, "users", &first);
    put(&o, "[");
    for (int u = 0; u < w.nusers; u++) {
        if (u)
            put(&o, ",");
        put_json(&o, syn_json_user(&em, u));
    }
    put(&o, "]}\n");
    free(it);
    syn_emit_free(&em);
    syn_world_free(&w);
    if (o.failed || fflush(f) == EOF || ferror(f))
        return attn_error_set(err, ATTN_EIO, "cannot write the bundle: %s", strerror(errno));
    return 0;
}

int attn_synth_write_file(const attn_synth_opts *opts, const char *path, attn_error *err)
{
    char tmp[4200];
    int fd, rc;
    FILE *f;

    if (!path || !*path)
        return attn_error_set(err, ATTN_EINVAL, "no output file given");
    if ((rc = attn_fs_check_output(path, err)))
        return rc;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
        return attn_error_set(err, ATTN_EINVAL, "output path '%s' is too long", path);
    fd = mkstemp(tmp);
    if (fd < 0)
        return attn_error_set(err, ATTN_EIO, "cannot create a temporary file next to '%s': %s",
                              path, strerror(errno));
    f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        return attn_error_set(err, ATTN_EIO, "cannot open '%s': %s", tmp, strerror(errno));
    }
    rc = attn_synth_write(opts, f, err);
    if (!rc && (fflush(f) == EOF || fsync(fileno(f)) < 0 || fchmod(fileno(f), 0644) < 0))
        rc = attn_error_set(err, ATTN_EIO, "cannot flush '%s': %s", path, strerror(errno));
    if (fclose(f) == EOF && !rc)
        rc = attn_error_set(err, ATTN_EIO, "cannot close '%s': %s", path, strerror(errno));
    if (!rc)
        rc = attn_fs_check_output(path, err);
    if (!rc && rename(tmp, path) < 0)
        rc = attn_error_set(err, ATTN_EIO, "cannot rename into '%s': %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    return rc;
}
