/*
 * test_truth.c - truth policies and labels (src/eval/truth.c).
 *
 * Most rules are data: tests/data/truth/cases.txt builds a small store per
 * case and states the label it must get (window boundaries for every policy,
 * eligibility, team targets, gaps per PR, the horizon), and
 * tests/data/truth/policies.txt lists spec texts and what they parse to. The
 * tests below cover what does not fit those shapes: the pinned hash, the exact
 * JSON, queue facts, failure paths and a cohort-sized run.
 */
#include "store_fixture.h"
#include "eval/truth.h"
#include "util/json.h"
#include "util/time.h"

#include <time.h>

static attn_store *fresh(void)
{
    attn_store *s = NULL;
    attn_error err;
    if (attn_store_open(":memory:", &s, &err))
        fail_msg("%s", err.msg);
    fx_populate(s);
    fx_exec(s, "DELETE FROM comments; DELETE FROM reviews;");
    fx_user(s, 103, "carol", "User");
    fx_user(s, 104, "dave", "User");
    fx_user(s, 105, "helper[bot]", "User");
    fx_user(s, 106, "robo", "Bot");
    return s;
}

static char *canonical(const json_t *v)
{
    attn_buf b = ATTN_BUF_INIT;
    attn_error err;
    if (attn_json_canonical(v, &b, &err))
        fail_msg("%s", err.msg);
    return attn_buf_detach(&b);
}

/* ---- the case file -------------------------------------------------------------- */

typedef struct {
    char name[256];
    int line;
    attn_store *s;
    attn_truth_policy policy;
    int have_policy, horizon_given, n_events;
    int64_t pr, cutoff;
    /* expectations, NULL when not given */
    char *status, *targets, *selected, *window_end, *horizon, *gaps, *repo_gaps, *counts,
        *partial, *chain;
} tcase;

static int64_t user_id(attn_store *s, const char *login)
{
    sqlite3_stmt *st;
    int64_t id = ATTN_NULL_I64;
    if (!strcmp(login, "-"))
        return ATTN_NULL_I64;
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(s), "SELECT id FROM users WHERE login = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (id == ATTN_NULL_I64)
        fail_msg("unknown login %s", login);
    return id;
}

static int64_t pr_id_of(int64_t number) { return number == 2 ? 20 : 21; }

static void event(tcase *c, int64_t at, int64_t actor, const char *subject, int64_t sid,
                  const char *type, const char *otype, int64_t oid, const char *payload)
{
    attn_error err;
    char key[32];
    attn_event_row e = {1, at, actor, subject, sid, type, otype, oid, NULL, payload, key};
    snprintf(key, sizeof(key), "k%d", ++c->n_events);
    if (attn_store_insert_event(c->s, &e, NULL, NULL, &err))
        fail_msg("line %d: %s", c->line, err.msg);
}

static void exec_fmt(attn_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void exec_fmt(attn_store *s, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    fx_exec(s, sql);
}

static char *rest_dup(char *rest)
{
    return strdup(rest ? rest : "");
}

static void setup_line(tcase *c, char *cmd, char *rest)
{
    char *save = NULL, *a[6] = {0};
    attn_error err;
    int n = 0;
    char *copy = strdup(rest ? rest : "");
    for (char *t = strtok_r(copy, " ", &save); t && n < 6; t = strtok_r(NULL, " ", &save))
        a[n++] = t;

    if (!strcmp(cmd, "policy")) {
        if (attn_truth_policy_parse(a[0], &c->policy, &err))
            fail_msg("line %d: %s", c->line, err.msg);
        c->have_policy = 1;
    } else if (!strcmp(cmd, "pr")) {
        c->pr = atoll(a[0]);
    } else if (!strcmp(cmd, "cutoff")) {
        c->cutoff = atoll(a[0]);
    } else if (!strcmp(cmd, "user")) {
        fx_user(c->s, atoll(a[0]), a[1], a[2]);
    } else if (!strcmp(cmd, "review")) {
        int64_t uid = user_id(c->s, a[1]);
        attn_review_row r = {atoll(a[0]), 1, pr_id_of(c->pr), uid, a[2], "b", "sha", atoll(a[3])};
        char payload[128];
        if (attn_store_upsert_review(c->s, &r, &err))
            fail_msg("line %d: %s", c->line, err.msg);
        snprintf(payload, sizeof(payload), "{\"state\":\"%s\"}", a[4] ? a[4] : a[2]);
        event(c, atoll(a[3]), uid, "review", r.id, "review.submitted", "pull_request",
              pr_id_of(c->pr), payload);
    } else if (!strcmp(cmd, "rcomment") || !strcmp(cmd, "comment")) {
        int review = cmd[0] == 'r';
        int64_t at = atoll(a[2]);
        attn_comment_row cm = {atoll(a[0]), 1, ATTN_NULL_I64, ATTN_NULL_I64, ATTN_NULL_I64,
                               user_id(c->s, a[1]), "hi", at, at, NULL, ATTN_NULL_I64, NULL,
                               ATTN_NULL_I64, review ? "review" : "issue"};
        if (review || c->pr != 2)
            cm.pull_request_id = pr_id_of(c->pr);
        else
            cm.issue_id = 11;
        if (attn_store_upsert_comment(c->s, &cm, &err))
            fail_msg("line %d: %s", c->line, err.msg);
    } else if (!strcmp(cmd, "merge")) {
        event(c, atoll(a[1]), user_id(c->s, a[0]), "pull_request", pr_id_of(c->pr),
              "pull_request.merged", NULL, ATTN_NULL_I64, NULL);
    } else if (!strcmp(cmd, "close")) {
        event(c, atoll(a[0]), ATTN_NULL_I64, "pull_request", pr_id_of(c->pr),
              "pull_request.closed", NULL, ATTN_NULL_I64, NULL);
    } else if (!strcmp(cmd, "issue_close")) {
        event(c, atoll(a[0]), ATTN_NULL_I64, "issue", 11, "issue.closed", NULL, ATTN_NULL_I64,
              NULL);
    } else if (!strcmp(cmd, "request")) {
        char payload[128];
        int team = !strcmp(a[0], "team");
        int64_t oid = team ? atoll(a[1]) : user_id(c->s, a[1]);
        snprintf(payload, sizeof(payload), "{\"name\":\"%s\"}", team ? (a[3] ? a[3] : "") : a[1]);
        event(c, atoll(a[2]), 100, "pull_request", pr_id_of(c->pr),
              "pull_request.review_request.add", team ? "team" : "user", oid, payload);
    } else if (!strcmp(cmd, "gap")) {
        exec_fmt(c->s,
                 "INSERT INTO ingestion_gaps (repo_id, resource, detail, detected_at,"
                 " pull_request_number, resolved_at) VALUES (1, '%s', 'x', 5, %s, %s)",
                 a[0], strcmp(a[1], "-") ? a[1] : "NULL", a[2] ? "7" : "NULL");
    } else if (!strcmp(cmd, "run")) {
        c->horizon_given = 1;
        exec_fmt(c->s,
                 "INSERT INTO qa_reports (repo_id, created_at, summary_json) VALUES"
                 " (1, %s, '{\"flow\":\"%s\",\"duration_s\":%s,\"gaps\":0}')",
                 a[0], a[2] ? a[2] : "ingest", a[1] ? a[1] : "0");
    } else if (!strcmp(cmd, "meta")) {
        c->horizon_given = 1;
        fx_exec(c->s, "INSERT INTO watermarks (repo_id, resource, updated_at)"
                      " VALUES (1, 'pulls', 5)");
    } else if (!strcmp(cmd, "far")) {
        c->horizon_given = 1;
        event(c, atoll(a[0]), ATTN_NULL_I64, "issue", 12, "issue.opened", NULL, ATTN_NULL_I64,
              NULL);
    } else if (!strcmp(cmd, "bare")) {
        c->horizon_given = 1;
    } else {
        fail_msg("line %d: unknown directive '%s'", c->line, cmd);
    }
    free(copy);
}

/* "type:name type:name" from a JSON array of targets. */
static char *targets_text(const json_t *arr)
{
    attn_buf b = ATTN_BUF_INIT;
    size_t i;
    json_t *t;
    json_array_foreach(arr, i, t)
        attn_buf_printf(&b, "%s%s:%s", i ? " " : "", attn_json_str(t, "type"),
                        attn_json_str(t, "name"));
    return b.ptr ? attn_buf_detach(&b) : strdup("");
}

static char *list_text(const json_t *arr)
{
    attn_buf b = ATTN_BUF_INIT;
    size_t i;
    json_t *t;
    json_array_foreach(arr, i, t)
        attn_buf_printf(&b, "%s%s", i ? "," : "", json_string_value(t));
    return b.ptr ? attn_buf_detach(&b) : strdup("-");
}

static char *time_text(const char *epoch)
{
    char buf[ATTN_TIME_BUFSZ];
    return strdup(!strcmp(epoch, "null") ? "null" : attn_time_format(atoll(epoch), buf));
}

static int check(tcase *c, const char *what, const char *want, char *got)
{
    int bad = want && strcmp(want, got);
    if (bad)
        fprintf(stderr, "case '%s' (line %d): %s: expected '%s', got '%s'\n", c->name, c->line,
                what, want, got);
    free(got);
    return bad;
}

static int run_case(tcase *c)
{
    attn_truth_ctx *ctx;
    attn_error err;
    json_t *res, *d, *sel;
    char buf[512];
    int bad = 0;

    if (!c->have_policy || !c->status)
        fail_msg("case '%s' needs policy and expect", c->name);
    if (!c->horizon_given)
        fx_exec(c->s, "INSERT INTO qa_reports (repo_id, created_at, summary_json) VALUES"
                      " (1, 100000000, '{\"flow\":\"ingest\",\"duration_s\":0}')");
    if (attn_truth_ctx_open(c->s, 1, &ctx, &err))
        fail_msg("case '%s': %s", c->name, err.msg);
    if (attn_truth_eval(ctx, c->pr, c->cutoff, &c->policy, &res, &err))
        fail_msg("case '%s': %s", c->name, err.msg);
    d = json_object_get(res, "diagnostics");
    sel = json_object_get(res, "selected");

    bad |= check(c, "status", c->status, strdup(attn_json_str(res, "status")));
    bad |= check(c, "targets", c->targets, targets_text(json_object_get(res, "targets")));
    if (json_is_null(sel))
        snprintf(buf, sizeof(buf), "null");
    else
        snprintf(buf, sizeof(buf), "%s %lld", attn_json_str(sel, "kind"),
                 (long long)attn_json_i64(sel, "id", -1));
    bad |= check(c, "selected", c->selected, strdup(buf));
    if (c->window_end) {
        char *w = time_text(c->window_end);
        bad |= check(c, "window_end", w, strdup(attn_json_str(res, "window_end")));
        free(w);
    }
    if (c->horizon) {
        char h[160], src[64], *want;
        if (sscanf(c->horizon, "%63s %63s", h, src) != 2)
            fail_msg("case '%s': horizon needs T and SOURCE", c->name);
        want = time_text(h);
        snprintf(buf, sizeof(buf), "%s %s",
                 json_is_null(json_object_get(d, "horizon")) ? "null"
                                                             : attn_json_str(d, "horizon"),
                 attn_json_str(d, "horizon_source") ? attn_json_str(d, "horizon_source")
                                                    : "null");
        snprintf(h, sizeof(h), "%s %s", want, src);
        bad |= check(c, "horizon", h, strdup(buf));
        free(want);
    }
    bad |= check(c, "gaps", c->gaps, list_text(json_object_get(d, "gap_resources")));
    bad |= check(c, "repo_gaps", c->repo_gaps, list_text(json_object_get(d, "repo_gap_resources")));
    snprintf(buf, sizeof(buf), "%lld %lld", (long long)attn_json_i64(d, "scanned", -1),
             (long long)attn_json_i64(d, "eligible", -1));
    bad |= check(c, "counts", c->counts, strdup(buf));
    bad |= check(c, "partial", c->partial, targets_text(json_object_get(d, "partial_targets")));
    {
        attn_buf b = ATTN_BUF_INIT;
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(d, "chain"), i, t)
            attn_buf_printf(&b, "%s%s:%s", i ? " " : "", attn_json_str(t, "policy"),
                            attn_json_str(t, "status"));
        bad |= check(c, "chain", c->chain, b.ptr ? attn_buf_detach(&b) : strdup(""));
    }
    /* Invariants of every label: unknown and no_response name no one. */
    if (strcmp(attn_json_str(res, "status"), ATTN_TRUTH_OBSERVED) &&
        (json_array_size(json_object_get(res, "targets")) || !json_is_null(sel))) {
        fprintf(stderr, "case '%s': a label that is not observed names targets\n", c->name);
        bad = 1;
    }
    if (bad) {
        char *text = canonical(res);
        fprintf(stderr, "  result: %s\n", text);
        free(text);
    }
    json_decref(res);
    attn_truth_ctx_free(ctx);
    return bad;
}

static void reset_case(tcase *c)
{
    char **fields[] = {&c->status, &c->targets, &c->selected, &c->window_end, &c->horizon,
                       &c->gaps, &c->repo_gaps, &c->counts, &c->partial, &c->chain};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
    if (c->s)
        attn_store_close(c->s);
    c->s = NULL;
}

static void test_cases(void **state)
{
    char path[512], line[1024];
    tcase c;
    int lineno = 0, n = 0, failed = 0;
    FILE *f;
    (void)state;
    memset(&c, 0, sizeof(c));
    test_data_path("truth/cases.txt", path, sizeof(path));
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *cmd, *rest, *save = NULL;
        lineno++;
        line[strcspn(line, "\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        cmd = strtok_r(line, " ", &save);
        rest = strtok_r(NULL, "", &save);
        c.line = lineno;
        if (!strcmp(cmd, "case")) {
            reset_case(&c);
            memset(&c, 0, sizeof(c));
            snprintf(c.name, sizeof(c.name), "%s", rest ? rest : "");
            c.line = lineno;
            c.s = fresh();
            c.pr = 2;
            c.cutoff = 1000;
        } else if (!c.s) {
            fail_msg("line %d: '%s' outside a case", lineno, cmd);
        } else if (!strcmp(cmd, "end")) {
            failed += run_case(&c);
            n++;
            reset_case(&c);
        } else if (!strcmp(cmd, "expect")) {
            char *sp = rest ? strchr(rest, ' ') : NULL;
            if (!rest)
                fail_msg("line %d: expect needs a status", lineno);
            c.targets = strdup(sp ? sp + 1 : "");
            if (sp)
                *sp = 0;
            c.status = strdup(rest);
        } else if (!strcmp(cmd, "selected")) {
            c.selected = rest_dup(rest);
        } else if (!strcmp(cmd, "window_end")) {
            c.window_end = rest_dup(rest);
        } else if (!strcmp(cmd, "horizon")) {
            c.horizon = rest_dup(rest);
        } else if (!strcmp(cmd, "gaps")) {
            c.gaps = rest_dup(rest);
        } else if (!strcmp(cmd, "repo_gaps")) {
            c.repo_gaps = rest_dup(rest);
        } else if (!strcmp(cmd, "counts")) {
            c.counts = rest_dup(rest);
        } else if (!strcmp(cmd, "partial")) {
            c.partial = rest_dup(rest);
        } else if (!strcmp(cmd, "chain")) {
            c.chain = rest_dup(rest);
        } else {
            setup_line(&c, cmd, rest);
        }
    }
    fclose(f);
    reset_case(&c);
    fprintf(stderr, "# %d truth cases, %d failed\n", n, failed);
    assert_true(n >= 70);
    assert_int_equal(failed, 0);
}

/* ---- policy specs ---------------------------------------------------------------- */

static void test_policy_cases(void **state)
{
    char path[512], line[512];
    int n = 0, bad = 0;
    FILE *f;
    (void)state;
    test_data_path("truth/policies.txt", path, sizeof(path));
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *text, *want, *third, *save = NULL;
        attn_truth_policy p, q;
        attn_error err;
        int rc;
        line[strcspn(line, "\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        text = strtok_r(line, "\t", &save);
        want = strtok_r(NULL, "\t", &save);
        third = strtok_r(NULL, "\t", &save);
        assert_non_null(third);
        if (!strcmp(text, "(empty)"))
            text = "";
        attn_error_clear(&err);
        rc = attn_truth_policy_parse(text, &p, &err);
        n++;
        if (!strcmp(want, "ERR")) {
            if (rc != ATTN_EINVAL || !strstr(err.msg, third) || strchr(err.msg, '\n')) {
                fprintf(stderr, "'%s': expected one-line error with '%s', got %d '%s'\n", text,
                        third, rc, err.msg);
                bad++;
            }
            continue;
        }
        if (rc || strcmp(p.spec, want) || p.window_seconds != atoll(third)) {
            fprintf(stderr, "'%s': expected %s/%s, got %d '%s' %lld (%s)\n", text, want, third,
                    rc, p.spec, (long long)p.window_seconds, err.msg);
            bad++;
            continue;
        }
        /* The canonical spec round-trips to the same policy and hash. */
        if (attn_truth_policy_parse(p.spec, &q, &err) || strcmp(q.spec, p.spec) ||
            strcmp(q.hash, p.hash) || strlen(p.hash) != 64) {
            fprintf(stderr, "'%s': canonical '%s' does not round-trip\n", text, p.spec);
            bad++;
        }
    }
    fclose(f);
    assert_true(n >= 30);
    assert_int_equal(bad, 0);
}

static void test_policy_hash_pinned(void **state)
{
    attn_truth_policy a, b, d;
    attn_error err;
    json_t *v;
    char *text;
    (void)state;
    /* sha256 of {"id":"first_response","params":{"window_seconds":172800},"version":"v1"},
     * computed independently (Python hashlib). Changing it is a contract change. */
    assert_int_equal(attn_truth_policy_parse("first_response", &a, &err), 0);
    assert_string_equal(a.hash,
                        "38a9187c9c40abaadeae38a81c84d43e3f3a63203570da07e3619b6f9f5fa684");
    v = attn_truth_policy_json(&a);
    text = canonical(v);
    assert_string_equal(text,
                        "{\"id\":\"first_response\",\"params\":{\"window_seconds\":172800},"
                        "\"version\":\"v1\"}");
    free(text);
    json_decref(v);
    /* The same policy spelled differently hashes the same. */
    assert_int_equal(attn_truth_policy_parse("first_response:window=48h", &b, &err), 0);
    assert_string_equal(a.hash, b.hash);
    assert_int_equal(attn_truth_policy_default(ATTN_TRUTH_FIRST_RESPONSE, &d, &err), 0);
    assert_string_equal(a.hash, d.hash);
    assert_int_equal(attn_truth_policy_parse("intent", &b, &err), 0);
    assert_string_equal(b.hash,
                        "6f9761938a3dba3ac19970c6159d929021ac7bd123c51ebaefd546b47dfa11b4");
    /* A different window is a different policy. */
    assert_int_equal(attn_truth_policy_parse("first_response:window=47h", &b, &err), 0);
    assert_string_not_equal(a.hash, b.hash);
    /* Ids and defaults. */
    assert_string_equal(attn_truth_policy_id(ATTN_TRUTH_HYBRID_OWNER), "hybrid_owner");
    assert_null(attn_truth_policy_id(ATTN_TRUTH_N_POLICIES));
    assert_int_equal(attn_truth_default_window(ATTN_TRUTH_INTENT), 3600);
    assert_int_equal(attn_truth_policy_default(ATTN_TRUTH_N_POLICIES, &d, &err), ATTN_EINVAL);
}

/* ---- the exact JSON ------------------------------------------------------------ */

static void test_result_json(void **state)
{
    attn_store *s = fresh();
    attn_truth_ctx *ctx;
    attn_truth_policy p;
    attn_error err;
    attn_review_row r = {40, 1, 20, 101, "APPROVED", "ok", "sha", 1500};
    json_t *res;
    char *text;
    (void)state;
    assert_int_equal(attn_store_upsert_review(s, &r, &err), 0);
    fx_exec(s, "INSERT INTO qa_reports (repo_id, created_at, summary_json) VALUES"
               " (1, 1000000, '{\"flow\":\"incremental\",\"duration_s\":2.5}')");
    fx_exec(s, "INSERT INTO ingestion_gaps (repo_id, resource, pull_request_number)"
               " VALUES (1, 'review_comments', NULL)");
    assert_int_equal(attn_truth_policy_parse("first_response:window=1h", &p, &err), 0);
    assert_int_equal(attn_truth_ctx_open(s, 1, &ctx, &err), 0);
    assert_int_equal(attn_truth_eval(ctx, 2, 1000, &p, &res, &err), 0);
    text = canonical(res);
    assert_string_equal(
        text,
        "{\"cutoff\":\"1970-01-01T00:16:40Z\",\"diagnostics\":{\"chain\":[],\"eligible\":1,"
        "\"gap_resources\":[],\"horizon\":\"1970-01-12T13:46:37Z\",\"horizon_source\":\"run\","
        "\"partial_targets\":[],\"repo_gap_resources\":[\"review_comments\"],\"scanned\":1},"
        "\"policy\":\"first_response\",\"policy_hash\":"
        "\"85ba6f52f6b358e9dd56c6bb3dc34c43334d81b56cefa322259435e8643545f2\","
        "\"policy_spec\":\"first_response:window=1h\",\"policy_version\":\"v1\","
        "\"pr_number\":2,\"selected\":{\"at\":\"1970-01-01T00:25:00Z\",\"id\":40,"
        "\"kind\":\"review\"},\"status\":\"observed\",\"targets\":[{\"name\":\"bob\","
        "\"type\":\"user\"}],\"window_end\":\"1970-01-01T01:16:40Z\"}");
    free(text);
    json_decref(res);
    attn_truth_ctx_free(ctx);
    attn_store_close(s);
}

/* ---- queue facts ------------------------------------------------------------------- */

static void test_pr_facts(void **state)
{
    attn_store *s = fresh();
    attn_truth_ctx *ctx;
    attn_truth_pr_facts f;
    attn_error err;
    attn_review_row r = {40, 1, 20, 100, "APPROVED", "", "sha", 1500};   /* the author */
    attn_comment_row cm = {50, 1, 11, ATTN_NULL_I64, ATTN_NULL_I64, 102, "hi", 1200, 1200,
                           NULL, ATTN_NULL_I64, NULL, ATTN_NULL_I64, "issue"};   /* a bot */
    (void)state;
    assert_int_equal(attn_store_upsert_review(s, &r, &err), 0);
    assert_int_equal(attn_store_upsert_comment(s, &cm, &err), 0);
    cm.id = 51; cm.user_id = 103; cm.created_at = cm.updated_at = 1000;   /* at the cutoff */
    assert_int_equal(attn_store_upsert_comment(s, &cm, &err), 0);
    cm.id = 52; cm.user_id = 104; cm.created_at = cm.updated_at = 900000; /* far, no bound */
    assert_int_equal(attn_store_upsert_comment(s, &cm, &err), 0);
    r.id = 41; r.user_id = 101; r.submitted_at = 2000000;
    assert_int_equal(attn_store_upsert_review(s, &r, &err), 0);
    fx_event(s, "m", 3000000, "pull_request", 20, "pull_request.merged", NULL, ATTN_NULL_I64,
             NULL, NULL);
    assert_int_equal(attn_truth_ctx_open(s, 1, &ctx, &err), 0);

    assert_int_equal(attn_truth_pr_facts_get(ctx, 2, 1000, &f, &err), 0);
    assert_int_equal(f.first_response_at, 900000);
    assert_int_equal(f.first_review_at, 2000000);
    assert_int_equal(f.merged_at, 3000000);
    assert_int_equal(f.horizon, 3000000);     /* bundle store: latest activity */
    /* A cutoff after the review: no review, the merge is still "eventually". */
    assert_int_equal(attn_truth_pr_facts_get(ctx, 2, 2000000, &f, &err), 0);
    assert_int_equal(f.first_response_at, ATTN_NULL_I64);
    assert_int_equal(f.first_review_at, ATTN_NULL_I64);
    assert_int_equal(f.merged_at, 3000000);
    /* Before the cutoff the comment at 1000 counts once the cutoff is 999. */
    assert_int_equal(attn_truth_pr_facts_get(ctx, 2, 999, &f, &err), 0);
    assert_int_equal(f.first_response_at, 1000);
    /* PR #4: nothing. */
    assert_int_equal(attn_truth_pr_facts_get(ctx, 4, 0, &f, &err), 0);
    assert_int_equal(f.first_response_at, ATTN_NULL_I64);
    assert_int_equal(f.merged_at, ATTN_NULL_I64);
    assert_int_equal(attn_truth_pr_facts_get(ctx, 77, 0, &f, &err), ATTN_ENOTFOUND);
    attn_truth_ctx_free(ctx);
    attn_store_close(s);
}

/* ---- failures ------------------------------------------------------------------------ */

static void test_failures(void **state)
{
    attn_store *s = fresh();
    attn_truth_ctx *ctx;
    attn_truth_policy p;
    attn_error err;
    json_t *res = (json_t *)1;
    (void)state;
    assert_int_equal(attn_truth_ctx_open(s, 99, &ctx, &err), ATTN_ENOTFOUND);
    assert_null(ctx);
    assert_non_null(strstr(err.msg, "no repository with id 99"));
    assert_int_equal(attn_truth_ctx_open(s, 1, &ctx, &err), 0);
    assert_int_equal(attn_truth_policy_parse("merger", &p, &err), 0);
    assert_int_equal(attn_truth_eval(ctx, 3, 1000, &p, &res, &err), ATTN_ENOTFOUND);
    assert_null(res);
    assert_non_null(strstr(err.msg, "#3"));
    assert_int_equal(attn_truth_eval(ctx, 2, ATTN_NULL_I64, &p, &res, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "cutoff"));
    assert_int_equal(attn_truth_eval(ctx, 2, INT64_MAX - 5, &p, &res, &err), ATTN_EINVAL);
    {
        attn_truth_pr_facts facts;
        assert_int_equal(attn_truth_pr_facts_get(ctx, 2, ATTN_NULL_I64, &facts, &err),
                         ATTN_EINVAL);
    }
    p.window_seconds = 0;
    assert_int_equal(attn_truth_eval(ctx, 2, 1000, &p, &res, &err), ATTN_EINVAL);
    p.window_seconds = 3600;
    p.kind = ATTN_TRUTH_N_POLICIES;
    assert_int_equal(attn_truth_eval(ctx, 2, 1000, &p, &res, &err), ATTN_EINVAL);
    assert_null(res);
    attn_truth_ctx_free(ctx);
    /* Malformed payloads and summaries are tolerated: state from the row. */
    fx_exec(s, "INSERT INTO qa_reports (repo_id, created_at, summary_json) VALUES (1, 5, 'nope')");
    fx_event(s, "bad", 1500, "review", 40, "review.submitted", NULL, ATTN_NULL_I64, NULL,
             "{not json");
    {
        attn_review_row r = {40, 1, 20, 101, "APPROVED", "", "sha", 1500};
        assert_int_equal(attn_store_upsert_review(s, &r, &err), 0);
    }
    assert_int_equal(attn_truth_ctx_open(s, 1, &ctx, &err), 0);
    assert_int_equal(attn_truth_policy_parse("first_approval", &p, &err), 0);
    assert_int_equal(attn_truth_eval(ctx, 2, 1000, &p, &res, &err), 0);
    /* The approval is read from the row; the horizon is the PR's own activity. */
    assert_string_equal(attn_json_str(res, "status"), ATTN_TRUTH_OBSERVED);
    assert_string_equal(attn_json_str(json_array_get(json_object_get(res, "targets"), 0), "name"),
                        "bob");
    json_decref(res);
    attn_truth_ctx_free(ctx);
    attn_store_close(s);
}

/* ---- a cohort ----------------------------------------------------------------------- */

/* Many PRs through one context: the label of each PR is the same as in a
 * store holding that PR alone would give (no cross-PR leakage), and the
 * figure printed shows the per-PR cost. */
/* PR #100+i (id 1000+i) by user 100, created at 10000 + 10 i, open. */
static void add_pr(attn_store *s, int i)
{
    attn_pull_request_row p;
    attn_error err;
    memset(&p, 0, sizeof(p));
    p.id = 1000 + i; p.repo_id = 1; p.number = 100 + i; p.user_id = 100;
    p.issue_id = ATTN_NULL_I64;
    p.created_at = 10000 + i * 10; p.updated_at = p.created_at;
    p.closed_at = p.merged_at = ATTN_NULL_I64;
    assert_int_equal(attn_store_upsert_pull_request(s, &p, &err), 0);
}

static void test_cohort(void **state)
{
    enum { N = 3000 };
    attn_store *s = fresh();
    attn_truth_ctx *ctx;
    attn_truth_policy pols[ATTN_TRUTH_N_POLICIES];
    attn_error err;
    struct timespec t0, t1;
    int observed = 0;
    (void)state;
    assert_int_equal(attn_store_begin(s, &err), 0);
    for (int i = 0; i < N; i++) {
        attn_review_row r = {100000 + i, 1, 1000 + i, 101 + (i % 3 == 0) * 2, "APPROVED", "",
                             "sha", 10000 + i * 10 + (i % 5) * 50000};
        add_pr(s, i);
        assert_int_equal(attn_store_upsert_review(s, &r, &err), 0);
    }
    assert_int_equal(attn_store_commit(s, &err), 0);
    fx_exec(s, "INSERT INTO qa_reports (repo_id, created_at, summary_json) VALUES"
               " (1, 100000000, '{\"flow\":\"ingest\",\"duration_s\":0}')");
    for (int k = 0; k < ATTN_TRUTH_N_POLICIES; k++)
        assert_int_equal(attn_truth_policy_default((attn_truth_kind)k, &pols[k], &err), 0);
    assert_int_equal(attn_truth_ctx_open(s, 1, &ctx, &err), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < ATTN_TRUTH_N_POLICIES; k++) {
            json_t *res;
            const char *st;
            int want_obs;
            if (attn_truth_eval(ctx, 100 + i, 10000 + i * 10, &pols[k], &res, &err))
                fail_msg("PR #%d %s: %s", 100 + i, pols[k].spec, err.msg);
            st = attn_json_str(res, "status");
            /* Reviews come 0 s (excluded: at the cutoff) or 50,000 s x j later. */
            want_obs = (k == ATTN_TRUTH_FIRST_RESPONSE || k == ATTN_TRUTH_FIRST_APPROVAL ||
                        k == ATTN_TRUTH_REVIEWERS_UNTIL_CLOSE || k == ATTN_TRUTH_HYBRID_OWNER) &&
                       i % 5 != 0 && (i % 5) * 50000 <= pols[k].window_seconds;
            if (want_obs != !strcmp(st, ATTN_TRUTH_OBSERVED))
                fail_msg("PR #%d policy %s: status %s", 100 + i, pols[k].spec, st);
            observed += want_obs;
            json_decref(res);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "# %d PRs x %d policies: %.1f us per label (%d observed)\n", N,
            ATTN_TRUTH_N_POLICIES,
            ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) /
                (N * ATTN_TRUTH_N_POLICIES),
            observed);
    assert_true(observed > 0);
    attn_truth_ctx_free(ctx);
    attn_store_close(s);
}

/* A context keeps the last PR's facts and responses for the next question
 * about it: asking every policy (several windows, with and without
 * comments) and the facts through one context, in mixed order and at two
 * cutoffs, gives what a fresh context gives for each question. */
static void test_shared_ctx(void **state)
{
    static const char *const specs[] = {
        "first_response:window=1d", "first_approval:window=2d", "first_response:window=30d",
        "reviewers_until_close:window=10d", "first_approval:window=30d", "merger:window=30d",
        "hybrid_owner:window=3d", "intent:window=30d"};
    enum { N = 12, NP = sizeof(specs) / sizeof(specs[0]) };
    attn_store *s = fresh();
    attn_truth_policy pols[NP];
    attn_truth_ctx *shared;
    attn_error err;
    (void)state;
    for (size_t k = 0; k < NP; k++)
        assert_int_equal(attn_truth_policy_parse(specs[k], &pols[k], &err), 0);
    assert_int_equal(attn_store_begin(s, &err), 0);
    for (int i = 0; i < N; i++) {
        static const int64_t at[] = {3000, 90000, 700000, 500, 200000};
        int64_t created = 10000 + i * 10;
        add_pr(s, i);
        for (int j = 0; j < 3; j++) {
            attn_review_row r = {100000 + i * 10 + j, 1, 1000 + i, 103 + (i + j) % 2,
                                 (i + j) % 3 ? "APPROVED" : "COMMENTED", "", "sha",
                                 created + at[j] * (1 + i % 3)};
            assert_int_equal(attn_store_upsert_review(s, &r, &err), 0);
        }
        for (int j = 3; j < 5; j++) {
            attn_comment_row c;
            memset(&c, 0, sizeof(c));
            c.id = 200000 + i * 10 + j; c.repo_id = 1; c.pull_request_id = 1000 + i;
            c.issue_id = ATTN_NULL_I64; c.review_id = ATTN_NULL_I64;
            c.user_id = 104 - (i + j) % 2; c.body = "x";
            c.created_at = c.updated_at = created + at[j] * (1 + i % 2);
            c.position = c.in_reply_to_id = ATTN_NULL_I64;
            c.comment_type = j == 3 ? "issue" : "review";
            assert_int_equal(attn_store_upsert_comment(s, &c, &err), 0);
        }
    }
    assert_int_equal(attn_store_commit(s, &err), 0);
    fx_exec(s, "INSERT INTO qa_reports (repo_id, created_at, summary_json) VALUES"
               " (1, 100000000, '{\"flow\":\"ingest\",\"duration_s\":0}')");
    assert_int_equal(attn_truth_ctx_open(s, 1, &shared, &err), 0);
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 2; c++) {
            int64_t cutoff = 10000 + i * 10 + c * 2000;
            attn_truth_pr_facts fs, ff;
            attn_truth_ctx *fr;
            /* the facts first on odd PRs, last on even ones */
            for (size_t q = 0; q <= NP; q++) {
                size_t k = i % 2 ? q : NP - q;
                json_t *a, *b;
                char *ta, *tb;
                assert_int_equal(attn_truth_ctx_open(s, 1, &fr, &err), 0);
                if (k == NP) {
                    assert_int_equal(attn_truth_pr_facts_get(shared, 100 + i, cutoff, &fs, &err), 0);
                    assert_int_equal(attn_truth_pr_facts_get(fr, 100 + i, cutoff, &ff, &err), 0);
                    assert_true(fs.first_response_at == ff.first_response_at &&
                                fs.first_review_at == ff.first_review_at &&
                                fs.merged_at == ff.merged_at && fs.horizon == ff.horizon);
                    attn_truth_ctx_free(fr);
                    continue;
                }
                assert_int_equal(attn_truth_eval(shared, 100 + i, cutoff, &pols[k], &a, &err), 0);
                assert_int_equal(attn_truth_eval(fr, 100 + i, cutoff, &pols[k], &b, &err), 0);
                ta = canonical(a);
                tb = canonical(b);
                if (strcmp(ta, tb))
                    fail_msg("PR #%d at %lld, %s: shared %s, fresh %s", 100 + i,
                             (long long)cutoff, specs[k], ta, tb);
                free(ta);
                free(tb);
                json_decref(a);
                json_decref(b);
                attn_truth_ctx_free(fr);
            }
        }
    attn_truth_ctx_free(shared);
    attn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_policy_cases),
        cmocka_unit_test(test_policy_hash_pinned),
        cmocka_unit_test(test_result_json),
        cmocka_unit_test(test_pr_facts),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_cohort),
        cmocka_unit_test(test_shared_ctx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
