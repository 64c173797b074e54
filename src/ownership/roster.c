/*
 * roster.c - routing/team_roster.json (format in roster.h).
 *
 * Owns: parsing and validating the roster and answering "who was on this
 * team at t". Teams are kept sorted by folded name and members by login, so
 * answers come out in a stable order whatever the file order.
 */
#include "ownership/roster.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef struct {
    char *login;
    int64_t from, until;   /* ATTN_NULL_I64: open */
} member;

typedef struct {
    char *name;            /* without '@' */
    member *m;
    size_t n;
} team;

struct attn_roster {
    team *t;
    size_t n;
};

static const char *strip_at(const char *s) { return *s == '@' ? s + 1 : s; }

static int member_cmp(const void *a, const void *b)
{
    const member *x = a, *y = b;
    int c = strcasecmp(x->login, y->login);
    if (c)
        return c;
    if ((c = strcmp(x->login, y->login)))
        return c;
    return x->from < y->from ? -1 : x->from > y->from;
}

static int team_cmp(const void *a, const void *b)
{
    const team *x = a, *y = b;
    return strcasecmp(x->name, y->name);
}

void attn_roster_free(attn_roster *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        for (size_t j = 0; j < r->t[i].n; j++)
            free(r->t[i].m[j].login);
        free(r->t[i].m);
        free(r->t[i].name);
    }
    free(r->t);
    free(r);
}

static int opt_time(const json_t *o, const char *key, const char *tname, size_t idx, int64_t *out,
                    attn_error *err)
{
    const json_t *v = json_object_get(o, key);
    *out = ATTN_NULL_I64;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || attn_time_parse(json_string_value(v), out, err))
        return attn_error_set(err, ATTN_EINVAL,
                              "team roster: %s member %zu: '%s' must be an ISO-8601 instant like "
                              "2024-01-31T00:00:00Z",
                              tname, idx, key);
    return 0;
}

static int parse_member(const json_t *v, const char *tname, size_t idx, member *m, attn_error *err)
{
    const char *login = NULL;
    memset(m, 0, sizeof(*m));
    m->from = m->until = ATTN_NULL_I64;
    if (json_is_string(v)) {
        login = json_string_value(v);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
            if (strcmp(k, "login") && strcmp(k, "from") && strcmp(k, "until"))
                return attn_error_set(err, ATTN_EINVAL,
                                      "team roster: %s member %zu: unknown key '%s' "
                                      "(known: login, from, until)",
                                      tname, idx, k);
        login = json_string_value(json_object_get(v, "login"));
        if (opt_time(v, "from", tname, idx, &m->from, err) ||
            opt_time(v, "until", tname, idx, &m->until, err))
            return ATTN_EINVAL;
        if (m->from != ATTN_NULL_I64 && m->until != ATTN_NULL_I64 && m->until <= m->from)
            return attn_error_set(err, ATTN_EINVAL,
                                  "team roster: %s member %zu: 'until' must be after 'from'", tname,
                                  idx);
    }
    if (!login || !*strip_at(login))
        return attn_error_set(err, ATTN_EINVAL,
                              "team roster: %s member %zu must be a login or {\"login\": ...}",
                              tname, idx);
    m->login = attn_xstrdup(strip_at(login));
    return 0;
}

int attn_roster_from_json(const json_t *v, attn_roster **out, attn_error *err)
{
    attn_roster *r;
    const char *k;
    json_t *members;
    int rc = 0;

    *out = NULL;
    if (!json_is_object(v))
        return attn_error_set(err, ATTN_EINVAL,
                              "team roster must be an object mapping \"org/team\" to members");
    r = attn_xcalloc(1, sizeof(*r));
    if (json_object_size(v))
        r->t = attn_xcalloc(json_object_size(v), sizeof(*r->t));
    json_object_foreach((json_t *)v, k, members) {
        team *t = &r->t[r->n];
        size_t i;
        json_t *m;
        const char *name = strip_at(k);
        if (!strchr(name, '/') || name[0] == '/' || name[strlen(name) - 1] == '/') {
            rc = attn_error_set(err, ATTN_EINVAL, "team roster: '%s' is not a team name like org/team",
                                k);
            break;
        }
        if (!json_is_array(members)) {
            rc = attn_error_set(err, ATTN_EINVAL, "team roster: %s must list its members", k);
            break;
        }
        t->name = attn_xstrdup(name);
        if (json_array_size(members))
            t->m = attn_xcalloc(json_array_size(members), sizeof(*t->m));
        r->n++;
        json_array_foreach(members, i, m) {
            if ((rc = parse_member(m, name, i, &t->m[t->n], err)))
                break;
            t->n++;
        }
        if (rc)
            break;
        if (t->n > 1)
            qsort(t->m, t->n, sizeof(*t->m), member_cmp);
    }
    if (!rc) {
        if (r->n > 1)
            qsort(r->t, r->n, sizeof(*r->t), team_cmp);
        for (size_t i = 1; i < r->n; i++)
            if (!strcasecmp(r->t[i - 1].name, r->t[i].name)) {
                rc = attn_error_set(err, ATTN_EINVAL, "team roster: team %s is listed twice",
                                    r->t[i].name);
                break;
            }
    }
    if (rc) {
        attn_roster_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int attn_roster_load(const char *path, attn_roster **out, attn_error *err)
{
    json_t *v = NULL;
    int rc;
    *out = NULL;
    if (access(path, F_OK) != 0)
        return attn_error_set(err, ATTN_ENOTFOUND, "no team roster at %s", path);
    if ((rc = attn_json_load_file(path, &v, err)))
        return rc;
    rc = attn_roster_from_json(v, out, err);
    json_decref(v);
    if (rc)
        attn_error_wrap(err, "%s", path);
    return rc;
}

size_t attn_roster_team_count(const attn_roster *r) { return r ? r->n : 0; }

size_t attn_roster_members(const attn_roster *r, const char *name, int64_t t, const char **out,
                           size_t cap)
{
    team key, *tm;
    size_t n = 0;
    const char *last = NULL;
    if (!r || !name)
        return 0;
    key.name = (char *)strip_at(name);
    if (!r->n || !(tm = bsearch(&key, r->t, r->n, sizeof(*r->t), team_cmp)))
        return 0;
    for (size_t i = 0; i < tm->n; i++) {
        const member *m = &tm->m[i];
        if (m->from != ATTN_NULL_I64 && t < m->from)
            continue;
        if (m->until != ATTN_NULL_I64 && t >= m->until)
            continue;
        if (last && !strcasecmp(last, m->login))
            continue; /* the same login in two validity ranges */
        last = m->login;
        if (n < cap)
            out[n] = m->login;
        n++;
    }
    return n;
}
