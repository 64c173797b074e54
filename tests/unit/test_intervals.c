/*
 * test_intervals.c - interval rebuild (src/store/intervals.c).
 *
 * Most rules are data: tests/data/intervals/cases.txt lists events and the
 * exact interval rows they must produce. The tests below cover what does not
 * fit that shape: the boundary predicate, scoped rebuilds, determinism,
 * transactions and failure.
 */
#include "store_fixture.h"

static const char *const TABLES[] = {
    "issue_state_intervals", "issue_content_intervals", "issue_label_intervals",
    "issue_assignee_intervals", "issue_milestone_intervals", "pull_request_draft_intervals",
    "pull_request_head_intervals", "pull_request_base_intervals",
    "pull_request_review_request_intervals", "comment_content_intervals",
    "review_content_intervals",
};
#define N_TABLES (sizeof(TABLES) / sizeof(TABLES[0]))

static attn_store *fresh(void)
{
    attn_store *s = NULL;
    attn_error err;
    if (attn_store_open(":memory:", &s, &err))
        fail_msg("%s", err.msg);
    fx_populate(s);
    return s;
}

static void rebuild_all(attn_store *s)
{
    attn_error err;
    if (attn_store_rebuild_intervals(s, 1, NULL, NULL, &err))
        fail_msg("rebuild: %s", err.msg);
}

/* Rows of one table as "TABLE c1 c2 ..." lines (id left out unless with_id). */
static size_t dump_table(attn_store *s, const char *table, int with_id, char **out, size_t n)
{
    char sql[256], line[1024];
    sqlite3_stmt *st;
    snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY id", table);
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(line, sizeof(line), "%s", table);
        for (int i = with_id ? 0 : 1; i < sqlite3_column_count(st); i++) {
            const char *v = (const char *)sqlite3_column_text(st, i);
            snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s", v ? v : "NULL");
        }
        out[n++] = strdup(line);
    }
    sqlite3_finalize(st);
    return n;
}

static size_t dump_all(attn_store *s, int with_id, char **out)
{
    size_t n = 0;
    for (size_t t = 0; t < N_TABLES; t++)
        n = dump_table(s, TABLES[t], with_id, out, n);
    return n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_lines(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
}

/* The two dumps hold the same rows, in any order; frees both. */
static void assert_same_rows(char **a, size_t na, char **b, size_t nb)
{
    qsort(a, na, sizeof(char *), cmp_str);
    qsort(b, nb, sizeof(char *), cmp_str);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        assert_string_equal(a[i], b[i]);
    free_lines(a, na);
    free_lines(b, nb);
}

/* ---- data-driven cases ---------------------------------------------------------- */

#define MAX_LINES 256

typedef struct {
    char name[256];
    attn_store *s;
    char *expect[MAX_LINES];
    size_t n_expect;
    int n_events;
} tcase;

static int check_case(tcase *c)
{
    char *got[MAX_LINES * 4];
    size_t n;
    int bad = 0;
    rebuild_all(c->s);
    n = dump_all(c->s, 0, got);
    qsort(got, n, sizeof(char *), cmp_str);
    qsort(c->expect, c->n_expect, sizeof(char *), cmp_str);
    if (n != c->n_expect)
        bad = 1;
    for (size_t i = 0; !bad && i < n; i++)
        bad = strcmp(got[i], c->expect[i]) != 0;
    if (bad) {
        fprintf(stderr, "case '%s' failed\n  expected:\n", c->name);
        for (size_t i = 0; i < c->n_expect; i++)
            fprintf(stderr, "    %s\n", c->expect[i]);
        fprintf(stderr, "  got:\n");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "    %s\n", got[i]);
    }
    free_lines(got, n);
    free_lines(c->expect, c->n_expect);
    attn_store_close(c->s);
    c->s = NULL;
    c->n_expect = 0;
    return bad;
}

static void add_event(tcase *c, char *rest, int lineno)
{
    char *save = NULL, key[64];
    char *at = strtok_r(rest, " ", &save), *subject = strtok_r(NULL, " ", &save);
    char *sid = strtok_r(NULL, " ", &save), *type = strtok_r(NULL, " ", &save);
    char *obj = strtok_r(NULL, " ", &save), *sha = strtok_r(NULL, " ", &save);
    char *payload = strtok_r(NULL, "", &save);
    char *object_type = NULL;
    int64_t object_id = ATTN_NULL_I64;
    if (!at || !subject || !sid || !type)
        fail_msg("cases.txt:%d: ev needs AT SUBJECT_TYPE SUBJECT_ID EVENT_TYPE", lineno);
    if (obj && strcmp(obj, "-")) {
        char *colon = strchr(obj, ':');
        if (!colon)
            fail_msg("cases.txt:%d: object must be TYPE:ID or -", lineno);
        *colon = '\0';
        object_type = obj;
        object_id = strtoll(colon + 1, NULL, 10);
    }
    if (sha && !strcmp(sha, "-"))
        sha = NULL;
    snprintf(key, sizeof(key), "case-event-%d", ++c->n_events);
    fx_event(c->s, key, strtoll(at, NULL, 10), subject, strtoll(sid, NULL, 10), type,
             object_type, object_id, sha, payload);
}

static void test_cases_file(void **state)
{
    char path[1024], line[2048];
    FILE *fp;
    tcase c;
    int lineno = 0, n_cases = 0, n_failed = 0;
    memset(&c, 0, sizeof(c));
    test_data_path("intervals/cases.txt", path, sizeof(path));
    fp = fopen(path, "r");
    if (!fp)
        fail_msg("cannot open %s (set ATTN_ROOT to the source tree)", path);
    while (fgets(line, sizeof(line), fp)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        if (!strncmp(line, "case ", 5)) {
            if (c.s)
                fail_msg("cases.txt:%d: 'case' inside a case (missing 'end')", lineno);
            snprintf(c.name, sizeof(c.name), "%.200s", line + 5);
            c.s = fresh();
            c.n_events = 0;
        } else if (!c.s) {
            fail_msg("cases.txt:%d: '%s' outside a case", lineno, line);
        } else if (!strncmp(line, "ev ", 3)) {
            add_event(&c, line + 3, lineno);
        } else if (!strncmp(line, "expect ", 7)) {
            assert_true(c.n_expect < MAX_LINES);
            c.expect[c.n_expect++] = strdup(line + 7);
        } else if (!strcmp(line, "end")) {
            n_cases++;
            n_failed += check_case(&c);
        } else {
            fail_msg("cases.txt:%d: unknown line '%s'", lineno, line);
        }
    }
    fclose(fp);
    assert_null(c.s);   /* last case closed with 'end' */
    fprintf(stderr, "# %d interval cases, %d failed\n", n_cases, n_failed);
    assert_true(n_cases >= 20);
    assert_int_equal(n_failed, 0);
}

/* ---- boundary predicate --------------------------------------------------------- */

static void test_active_at_boundaries(void **state)
{
    attn_store *s = fresh();
    attn_error err;
    int a = -1;
    fx_event(s, "a", 1000, "issue", 10, "issue.label.add", "label", 5, NULL, NULL);
    fx_event(s, "r", 2000, "issue", 10, "issue.label.remove", "label", 5, NULL, NULL);
    fx_event(s, "z1", 3000, "issue", 10, "issue.label.add", "label", 6, NULL, NULL);
    fx_event(s, "z2", 3000, "issue", 10, "issue.label.remove", "label", 6, NULL, NULL);
    rebuild_all(s);
    /* start-inclusive, end-exclusive */
    assert_int_equal(attn_store_label_active_at(s, 10, 5, 999, &a, &err), 0);
    assert_int_equal(a, 0);
    assert_int_equal(attn_store_label_active_at(s, 10, 5, 1000, &a, &err), 0);
    assert_int_equal(a, 1);
    assert_int_equal(attn_store_label_active_at(s, 10, 5, 1999, &a, &err), 0);
    assert_int_equal(a, 1);
    assert_int_equal(attn_store_label_active_at(s, 10, 5, 2000, &a, &err), 0);
    assert_int_equal(a, 0);
    /* a zero-length interval exists but is active at no instant */
    assert_int_equal(fx_count(s, "SELECT count(*) FROM issue_label_intervals WHERE label_id = 6"
                                 " AND start_at = 3000 AND end_at = 3000"), 1);
    for (int64_t t = 2999; t <= 3001; t++) {
        assert_int_equal(attn_store_label_active_at(s, 10, 6, t, &a, &err), 0);
        assert_int_equal(a, 0);
    }
    /* an open interval is active from its start on */
    fx_event(s, "o", 4000, "issue", 10, "issue.label.add", "label", 5, NULL, NULL);
    rebuild_all(s);
    assert_int_equal(attn_store_label_active_at(s, 10, 5, 4000, &a, &err), 0);
    assert_int_equal(a, 1);
    assert_int_equal(attn_store_label_active_at(s, 10, 5, INT64_MAX, &a, &err), 0);
    assert_int_equal(a, 1);
    attn_store_close(s);
}

/* ---- determinism, scope, transactions --------------------------------------------- */

static void add_history(attn_store *s)
{
    fx_event(s, "1", 100, "issue", 10, "issue.opened", NULL, ATTN_NULL_I64, NULL, NULL);
    fx_event(s, "2", 110, "issue", 10, "issue.label.add", "label", 5, NULL, NULL);
    fx_event(s, "3", 120, "issue", 11, "issue.opened", NULL, ATTN_NULL_I64, NULL, NULL);
    fx_event(s, "4", 120, "issue", 11, "issue.content.set", NULL, ATTN_NULL_I64, NULL,
             "{\"title\":\"pr\",\"body\":\"b\"}");
    fx_event(s, "5", 130, "pull_request", 20, "pull_request.head.set", NULL, ATTN_NULL_I64, "h1",
             "{\"head_ref\":\"f\"}");
    fx_event(s, "6", 140, "pull_request", 20, "pull_request.review_request.add", "user", 101,
             NULL, NULL);
    fx_event(s, "7", 150, "review", 40, "review.submitted", NULL, ATTN_NULL_I64, NULL,
             "{\"body\":\"ok\",\"state\":\"APPROVED\"}");
    fx_event(s, "8", 160, "comment", 31, "comment.created", NULL, ATTN_NULL_I64, NULL,
             "{\"body\":\"c\"}");
    fx_event(s, "9", 170, "comment", 30, "comment.created", NULL, ATTN_NULL_I64, NULL,
             "{\"body\":\"x\"}");
    fx_event(s, "10", 180, "pull_request", 21, "pull_request.draft.set", NULL, ATTN_NULL_I64,
             NULL, "{\"is_draft\":true}");
    fx_event(s, "11", 190, "issue", 12, "issue.closed", NULL, ATTN_NULL_I64, NULL, NULL);
}

static void test_rebuild_twice_identical(void **state)
{
    attn_store *s = fresh();
    attn_error err;
    attn_rebuild_stats st = {0, 0};
    char *a[64], *b[64];
    add_history(s);
    assert_int_equal(attn_store_rebuild_intervals(s, 1, NULL, &st, &err), 0);
    assert_int_equal(st.events_read, 11);
    assert_int_equal(st.intervals_written, 11);
    size_t na = dump_all(s, 1, a);
    assert_int_equal(attn_store_rebuild_intervals(s, 1, NULL, &st, &err), 0);
    size_t nb = dump_all(s, 1, b);
    assert_int_equal(na, 11);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        assert_string_equal(a[i], b[i]);   /* ids included */
    free_lines(a, na);
    free_lines(b, nb);
    attn_store_close(s);
}

static void test_scoped_rebuild_touches_only_scope(void **state)
{
    attn_store *s = fresh();
    attn_error err;
    attn_rebuild_stats st;
    add_history(s);
    rebuild_all(s);
    /* Mark rows outside the scope, so a rebuild that touched them would show. */
    fx_exec(s, "UPDATE issue_state_intervals SET state = 'open' WHERE issue_id = 12;"
               "UPDATE pull_request_draft_intervals SET is_draft = 0 WHERE pull_request_id = 21;"
               "UPDATE comment_content_intervals SET body = 'untouched' WHERE comment_id = 30;");
    /* New facts for both PR 20 (in scope) and issue 12 (out of scope). */
    fx_event(s, "12", 200, "pull_request", 20, "pull_request.review_request.remove", "user", 101,
             NULL, NULL);
    fx_event(s, "13", 210, "issue", 11, "issue.label.add", "label", 6, NULL, NULL);
    fx_event(s, "14", 220, "review", 40, "review.dismissed", NULL, ATTN_NULL_I64, NULL, NULL);
    fx_event(s, "15", 230, "comment", 31, "comment.deleted", NULL, ATTN_NULL_I64, NULL, NULL);
    fx_event(s, "16", 240, "issue", 12, "issue.reopened", NULL, ATTN_NULL_I64, NULL, NULL);

    int64_t prs[] = {20};
    attn_rebuild_scope scope = {NULL, 0, prs, 1};
    assert_int_equal(attn_store_rebuild_intervals(s, 1, &scope, &st, &err), 0);
    /* PR 20, its issue 11, its review 40 and comment 31 were rebuilt */
    assert_int_equal(st.events_read, 10);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM pull_request_review_request_intervals"
                                 " WHERE pull_request_id = 20 AND end_at = 200"), 1);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM issue_label_intervals WHERE issue_id = 11"
                                 " AND label_id = 6 AND end_at IS NULL"), 1);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM review_content_intervals WHERE review_id = 40"
                                 " AND state = 'DISMISSED' AND body = 'ok'"), 1);
    assert_int_equal(fx_count(s, "SELECT end_at FROM comment_content_intervals WHERE comment_id = 31"), 230);
    /* everything else is exactly as it was */
    assert_int_equal(fx_count(s, "SELECT count(*) FROM issue_state_intervals WHERE issue_id = 12"), 1);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM issue_state_intervals WHERE issue_id = 12"
                                 " AND state = 'open' AND end_at IS NULL"), 1);
    assert_int_equal(fx_count(s, "SELECT is_draft FROM pull_request_draft_intervals"
                                 " WHERE pull_request_id = 21"), 0);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM comment_content_intervals"
                                 " WHERE comment_id = 30 AND body = 'untouched'"), 1);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM issue_label_intervals WHERE issue_id = 10"), 1);

    /* Scoping by issue 12 now picks up its reopen; scoping by an issue also
     * brings in its PR (issue 11 -> PR 20) and its comments. */
    int64_t issues[] = {12, 10};
    attn_rebuild_scope s2 = {issues, 2, NULL, 0};
    assert_int_equal(attn_store_rebuild_intervals(s, 1, &s2, &st, &err), 0);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM issue_state_intervals WHERE issue_id = 12"), 2);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM comment_content_intervals"
                                 " WHERE comment_id = 30 AND body = 'x'"), 1);
    assert_int_equal(fx_count(s, "SELECT is_draft FROM pull_request_draft_intervals"
                                 " WHERE pull_request_id = 21"), 0);   /* still untouched */

    /* A full rebuild now agrees with the scoped ones, except for the untouched PR 21. */
    char *a[64], *b[64];
    fx_exec(s, "UPDATE pull_request_draft_intervals SET is_draft = 1 WHERE pull_request_id = 21");
    size_t na = dump_all(s, 0, a);
    rebuild_all(s);
    size_t nb = dump_all(s, 0, b);
    assert_same_rows(a, na, b, nb);

    /* An empty scope rebuilds nothing and deletes nothing. */
    attn_rebuild_scope empty = {NULL, 0, NULL, 0};
    int64_t before = fx_count(s, "SELECT count(*) FROM issue_state_intervals");
    assert_int_equal(attn_store_rebuild_intervals(s, 1, &empty, &st, &err), 0);
    assert_int_equal(st.events_read, 0);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM issue_state_intervals"), before);
    attn_store_close(s);
}

/* The scoped rebuild prepares its statements on a handle's first call and
 * reuses them after, and the later calls take paths the first does not:
 * fill_scope once returned an uninitialised rc there (webhook deliveries after
 * the first failed with 500). At -O2 the compiler folded the read to 0, so
 * this fails only at -O0 (make coverage) or under valgrind. */
static void test_scoped_rebuild_repeated_on_one_handle(void **state)
{
    attn_store *s = fresh();
    attn_error err;
    attn_rebuild_stats st;
    char *a[64], *b[64];
    add_history(s);
    rebuild_all(s);
    size_t na = dump_all(s, 0, a);
    int64_t prs[] = {20};
    attn_rebuild_scope scope = {NULL, 0, prs, 1};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(attn_store_rebuild_intervals(s, 1, &scope, &st, &err), 0);
        assert_int_equal(st.events_read, 6);        /* issue 11, PR 20, review 40, comment 31 */
        assert_int_equal(st.intervals_written, 6);
    }
    size_t nb = dump_all(s, 0, b);
    assert_same_rows(a, na, b, nb);
    attn_store_close(s);
}

static void test_rebuild_failure_rolls_back(void **state)
{
    attn_store *s = fresh();
    attn_error err;
    add_history(s);
    rebuild_all(s);
    int64_t before = fx_count(s, "SELECT count(*) FROM issue_label_intervals");
    /* label 999 does not exist: the interval would break a foreign key */
    fx_event(s, "bad", 500, "issue", 10, "issue.label.add", "label", 999, NULL, NULL);
    assert_int_equal(attn_store_rebuild_intervals(s, 1, NULL, NULL, &err), ATTN_EDB);
    assert_non_null(strstr(err.msg, "issue_label_intervals"));
    assert_non_null(strstr(err.msg, "FOREIGN KEY"));
    assert_null(strchr(err.msg, '\n'));
    /* nothing was deleted: the old intervals are intact and no transaction is left open */
    assert_int_equal(fx_count(s, "SELECT count(*) FROM issue_label_intervals"), before);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM issue_state_intervals"), 3);
    assert_int_not_equal(sqlite3_get_autocommit(attn_store_db(s)), 0);
    attn_store_close(s);
}

static void test_rebuild_inside_caller_transaction(void **state)
{
    attn_store *s = fresh();
    attn_error err;
    add_history(s);
    assert_int_equal(attn_store_begin(s, &err), 0);
    assert_int_equal(attn_store_rebuild_intervals(s, 1, NULL, NULL, &err), 0);
    assert_int_equal(sqlite3_get_autocommit(attn_store_db(s)), 0);   /* still the caller's */
    assert_int_equal(fx_count(s, "SELECT count(*) FROM issue_state_intervals"), 3);
    assert_int_equal(attn_store_rollback(s), 0);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM issue_state_intervals"), 0);

    /* a failure inside the caller's transaction undoes only the rebuild */
    assert_int_equal(attn_store_begin(s, &err), 0);
    fx_user(s, 555, "newbie", "User");
    fx_event(s, "bad", 500, "issue", 10, "issue.assignee.add", "user", 999, NULL, NULL);
    assert_int_equal(attn_store_rebuild_intervals(s, 1, NULL, NULL, &err), ATTN_EDB);
    assert_int_equal(sqlite3_get_autocommit(attn_store_db(s)), 0);
    assert_int_equal(attn_store_commit(s, &err), 0);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM users WHERE id = 555"), 1);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM issue_state_intervals"), 0);
    attn_store_close(s);
}

static void test_many_owners_hash_map(void **state)
{
    /* Enough keys to make the index grow, half of them closed and kept. */
    attn_store *s = fresh();
    attn_error err;
    attn_rebuild_stats st;
    char key[32];
    int n = 0;
    assert_int_equal(attn_store_begin(s, &err), 0);
    for (int64_t u = 1000; u < 4000; u++)
        fx_user(s, u, "u", "User");
    for (int64_t u = 1000; u < 4000; u++) {
        snprintf(key, sizeof(key), "a%lld", (long long)u);
        fx_event(s, key, u, "issue", 10, "issue.assignee.add", "user", u, NULL, NULL);
    }
    for (int64_t u = 1000; u < 4000; u += 2) {
        snprintf(key, sizeof(key), "r%lld", (long long)u);
        fx_event(s, key, 5000 + u, "issue", 10, "issue.assignee.remove", "user", u, NULL, NULL);
        n++;
    }
    assert_int_equal(attn_store_commit(s, &err), 0);
    assert_int_equal(attn_store_rebuild_intervals(s, 1, NULL, &st, &err), 0);
    assert_int_equal(st.intervals_written, 3000);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM issue_assignee_intervals WHERE end_at IS NULL"),
                     3000 - n);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM issue_assignee_intervals"
                                 " WHERE end_at IS NOT NULL AND user_id % 2 = 0 AND end_at = 5000 + user_id"),
                     n);
    attn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases_file),
        cmocka_unit_test(test_active_at_boundaries),
        cmocka_unit_test(test_rebuild_twice_identical),
        cmocka_unit_test(test_scoped_rebuild_touches_only_scope),
        cmocka_unit_test(test_scoped_rebuild_repeated_on_one_handle),
        cmocka_unit_test(test_rebuild_failure_rolls_back),
        cmocka_unit_test(test_rebuild_inside_caller_transaction),
        cmocka_unit_test(test_many_owners_hash_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
