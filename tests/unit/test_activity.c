/*
 * test_activity.c - the activity index (src/history/activity.c).
 *
 * Hand-built stores check each rule with numbers worked out by hand (kinds,
 * weights, decay, inclusive window ends, bots, head-file attribution, areas,
 * open review requests at interval boundaries). A random store then checks
 * the O(log n) sums against a direct scan of the entries, and the leakage
 * property: an index over a copy with everything after T deleted answers
 * every window ending at or before T with the very same bits.
 */
#include "store_fixture.h"
#include "history/activity.h"
#include "ownership/area.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

#define DAYS 86400

static attn_store *fresh(void)
{
    attn_store *s = NULL;
    attn_error err;
    if (attn_store_open(":memory:", &s, &err))
        fail_msg("%s", err.msg);
    fx_populate(s);
    return s;
}

/* fx_populate without its reviews and comments. */
static attn_store *fresh_empty(void)
{
    attn_store *s = fresh();
    fx_exec(s, "DELETE FROM comments; DELETE FROM reviews;");
    return s;
}

static void rebuild(attn_store *s)
{
    attn_error err;
    if (attn_store_rebuild_intervals(s, 1, NULL, NULL, &err))
        fail_msg("rebuild: %s", err.msg);
}

static attn_activity *build(attn_store *s, const attn_area_map *m)
{
    attn_activity *a = NULL;
    attn_error err;
    if (attn_activity_build(s, 1, m, &a, &err))
        fail_msg("build: %s", err.msg);
    return a;
}

static void review(attn_store *s, int64_t id, int64_t pr, int64_t user, const char *state,
                   int64_t at)
{
    attn_error err;
    attn_review_row r = {id, 1, pr, user, state, "b", "sha", at};
    if (attn_store_upsert_review(s, &r, &err))
        fail_msg("review %lld: %s", (long long)id, err.msg);
}

static void comment(attn_store *s, int64_t id, int64_t issue, int64_t pr, int64_t review_id,
                    int64_t user, const char *type, int64_t at)
{
    attn_error err;
    attn_comment_row c = {id, 1, issue, pr, review_id, user, "c", at, at, NULL,
                          ATTN_NULL_I64, NULL, ATTN_NULL_I64, type};
    if (attn_store_upsert_comment(s, &c, &err))
        fail_msg("comment %lld: %s", (long long)id, err.msg);
}

static void file(attn_store *s, int64_t pr, const char *sha, const char *path)
{
    attn_error err;
    attn_pr_file_row f = {1, pr, sha, path, "modified", NULL, 1, 1, 2};
    if (attn_store_upsert_pr_file(s, &f, &err))
        fail_msg("file %s: %s", path, err.msg);
}

static size_t user_of(attn_activity *a, const char *login)
{
    long u = attn_activity_find_login(a, login);
    if (u < 0)
        fail_msg("no user '%s' in the index", login);
    return (size_t)u;
}

static attn_act_window win(int64_t from, int64_t to, double hl, double w0, double w1, double w2)
{
    attn_act_window w = {from, to, hl, {w0, w1, w2}};
    return w;
}

static void assert_close(double got, double want)
{
    if (!(fabs(got - want) <= 1e-12 * fabs(want) + 1e-300))
        fail_msg("got %.17g, want %.17g", got, want);
}

/* ---- kinds, weights, users --------------------------------------------------------- */

static void test_kinds_and_order(void **state)
{
    attn_store *s = fresh();
    attn_activity *a;
    const attn_act_entry *e;
    size_t n;

    /* fx_populate: comment 30 (plain issue 10, bob, 1100) is ignored; 31 is a
     * diff comment by bob on PR 20 at 1100; reviews 40 (PR 20) and 41 (PR 21)
     * by bob at 1200, APPROVED. */
    comment(s, 32, 11, 20, ATTN_NULL_I64, 100, "issue", 1300);         /* names the PR */
    comment(s, 33, 11, ATTN_NULL_I64, ATTN_NULL_I64, 100, "issue", 1400); /* only the issue */
    comment(s, 34, ATTN_NULL_I64, 20, 40, 100, NULL, 1500);            /* tied to a review */
    fx_user(s, 103, "synth-ci", "Bot");
    comment(s, 35, ATTN_NULL_I64, 21, ATTN_NULL_I64, 102, "issue", 1600);
    comment(s, 36, 12, ATTN_NULL_I64, ATTN_NULL_I64, 100, "issue", 1700); /* plain issue */
    comment(s, 37, ATTN_NULL_I64, 21, ATTN_NULL_I64, 103, "issue", 1650);
    comment(s, 38, ATTN_NULL_I64, 21, ATTN_NULL_I64, ATTN_NULL_I64, "issue", 1650); /* ghost */
    review(s, 42, 20, 100, "PENDING", ATTN_NULL_I64);                   /* not submitted */
    review(s, 43, 20, ATTN_NULL_I64, "APPROVED", 1800);                 /* ghost */
    review(s, 44, 20, 100, "CHANGES_REQUESTED", 1200);
    a = build(s, NULL);

    e = attn_activity_entries(a, &n);
    assert_int_equal(n, 9);
    /* (t, pr, user id, kind) order: at 1200 alice (100) before bob (101), PR 20 before 21 */
    struct { int64_t t, pr, number; const char *login; int kind, approved; } want[] = {
        {1100, 20, 2, "bob", ATTN_ACT_REVIEW_COMMENT, 0},
        {1200, 20, 2, "alice", ATTN_ACT_REVIEW, 0},
        {1200, 20, 2, "bob", ATTN_ACT_REVIEW, 1},
        {1200, 21, 4, "bob", ATTN_ACT_REVIEW, 1},
        {1300, 20, 2, "alice", ATTN_ACT_COMMENT, 0},
        {1400, 20, 2, "alice", ATTN_ACT_COMMENT, 0},
        {1500, 20, 2, "alice", ATTN_ACT_REVIEW_COMMENT, 0},
        {1600, 21, 4, "ci[bot]", ATTN_ACT_COMMENT, 0},
        {1650, 21, 4, "synth-ci", ATTN_ACT_COMMENT, 0},
    };
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(e[i].t, want[i].t);
        assert_int_equal(e[i].pr_id, want[i].pr);
        assert_int_equal(e[i].pr_number, want[i].number);
        assert_string_equal(attn_activity_user_login(a, (size_t)e[i].user), want[i].login);
        assert_int_equal(e[i].kind, want[i].kind);
        assert_int_equal(e[i].approved, want[i].approved);
    }

    /* users: login order, ids, bots by type or by suffix */
    assert_int_equal(attn_activity_user_count(a), 4);
    assert_string_equal(attn_activity_user_login(a, 0), "alice");
    assert_string_equal(attn_activity_user_login(a, 1), "bob");
    assert_string_equal(attn_activity_user_login(a, 2), "ci[bot]");
    assert_string_equal(attn_activity_user_login(a, 3), "synth-ci");
    assert_int_equal(attn_activity_user_id(a, 1), 101);
    assert_false(attn_activity_user_is_bot(a, 0));
    assert_true(attn_activity_user_is_bot(a, 2));
    assert_true(attn_activity_user_is_bot(a, 3));
    assert_int_equal(attn_activity_find_user(a, 101), 1);
    assert_int_equal(attn_activity_find_user(a, 5), -1);   /* no activity */
    assert_null(attn_activity_user_login(a, 4));

    /* weights: review 1, review comment 0.4, comment 0.2, no decay */
    size_t alice = user_of(a, "alice"), bob = user_of(a, "bob");
    attn_act_window w = win(0, 5000, 0, 1.0, 0.4, 0.2);
    assert_close(attn_activity_user_sum(a, bob, &w), 2.4);
    assert_close(attn_activity_user_sum(a, alice, &w), 1.0 + 0.4 + 0.4);
    assert_close(attn_activity_user_sum(a, user_of(a, "ci[bot]"), &w), 0.2);
    w = win(0, 5000, 0, 0.0, 0.0, 1.0);                     /* comments only */
    assert_close(attn_activity_user_sum(a, alice, &w), 2.0);
    assert_close(attn_activity_user_sum(a, bob, &w), 0.0);

    /* inclusive at both ends */
    w = win(1100, 1200, 0, 1.0, 0.4, 0.2);
    assert_close(attn_activity_user_sum(a, bob, &w), 2.4);
    w = win(1101, 1200, 0, 1.0, 0.4, 0.2);
    assert_close(attn_activity_user_sum(a, bob, &w), 2.0);
    w = win(1100, 1199, 0, 1.0, 0.4, 0.2);
    assert_close(attn_activity_user_sum(a, bob, &w), 0.4);
    w = win(1200, 1100, 0, 1.0, 0.4, 0.2);                  /* empty window */
    assert_close(attn_activity_user_sum(a, bob, &w), 0.0);
    assert_int_equal(attn_activity_user_count_in(a, bob, ATTN_ACT_ALL, 1100, 1200), 3);
    assert_int_equal(attn_activity_user_count_in(a, bob, ATTN_ACT_ALL, 1101, 1200), 2);
    assert_int_equal(attn_activity_user_count_in(a, bob, ATTN_ACT_ALL, 1100, 1199), 1);
    assert_int_equal(attn_activity_user_count_in(a, bob, ATTN_ACT_ALL, 1201, 9999), 0);
    assert_int_equal(attn_activity_user_count_in(a, bob, ATTN_ACT_ALL, 1200, 1100), 0);
    assert_int_equal(attn_activity_user_count_in(a, bob, ATTN_ACT_MASK(ATTN_ACT_REVIEW), 0,
                                                 9999), 2);
    assert_int_equal(attn_activity_user_count_in(a, alice,
                                                 ATTN_ACT_MASK(ATTN_ACT_COMMENT) |
                                                     ATTN_ACT_MASK(ATTN_ACT_REVIEW_COMMENT),
                                                 0, 9999), 3);
    assert_int_equal(attn_activity_user_count_in(a, 99, ATTN_ACT_ALL, 0, 9999), 0);

    /* last activity at or before t */
    assert_int_equal(attn_activity_user_last_at(a, alice, 1450), 1400);
    assert_int_equal(attn_activity_user_last_at(a, alice, 1300), 1300);
    assert_int_equal(attn_activity_user_last_at(a, alice, 1199), ATTN_NULL_I64);
    assert_int_equal(attn_activity_user_last_at(a, bob, 99999), 1200);
    assert_int_equal(attn_activity_user_last_at(a, 99, 99999), ATTN_NULL_I64);

    /* slice: entries with from <= t <= to */
    size_t f, l;
    attn_activity_slice(a, 1200, 1400, &f, &l);
    assert_int_equal(f, 1);
    assert_int_equal(l, 6);
    attn_activity_slice(a, 1201, 1299, &f, &l);
    assert_int_equal(f, l);
    attn_activity_slice(a, 0, 99999, &f, &l);
    assert_int_equal(f, 0);
    assert_int_equal(l, 9);

    attn_activity_free(a);
    attn_store_close(s);
}

static void test_is_bot(void **state)
{
    assert_true(attn_is_bot("dependabot[bot]", "User"));
    assert_true(attn_is_bot("Renovate[BOT]", NULL));
    assert_true(attn_is_bot("synth-ci", "Bot"));
    assert_false(attn_is_bot("bot", "User"));
    assert_false(attn_is_bot("[bot]x", "User"));
    assert_false(attn_is_bot(NULL, NULL));
    assert_false(attn_is_bot("robot", "Organization"));
}

static void test_find_login(void **state)
{
    attn_store *s = fresh_empty();
    fx_user(s, 200, "Zed", "User");
    fx_user(s, 201, "amy", "User");
    fx_user(s, 202, "Bea", "User");
    review(s, 1, 20, 200, "COMMENTED", 100);
    review(s, 2, 20, 201, "COMMENTED", 100);
    review(s, 3, 20, 202, "COMMENTED", 100);
    attn_activity *a = build(s, NULL);
    /* case-insensitive login order */
    assert_string_equal(attn_activity_user_login(a, 0), "amy");
    assert_string_equal(attn_activity_user_login(a, 1), "Bea");
    assert_string_equal(attn_activity_user_login(a, 2), "Zed");
    assert_int_equal(attn_activity_find_login(a, "zed"), 2);
    assert_int_equal(attn_activity_find_login(a, "ZED"), 2);
    assert_int_equal(attn_activity_find_login(a, "bea"), 1);
    assert_int_equal(attn_activity_find_login(a, "AMY"), 0);
    assert_int_equal(attn_activity_find_login(a, "am"), -1);
    assert_int_equal(attn_activity_find_login(a, "zeds"), -1);
    assert_int_equal(attn_activity_find_login(a, ""), -1);
    assert_int_equal(attn_activity_find_login(a, NULL), -1);
    assert_int_equal(attn_activity_find_user(a, 202), 1);
    attn_activity_free(a);
    attn_store_close(s);
}

static void test_empty_repo(void **state)
{
    attn_store *s = fresh_empty();
    attn_activity *a = build(s, NULL);
    size_t n = 99, f, l;
    attn_act_window w = win(0, 9999, 30, 1, 1, 1);
    assert_non_null(attn_activity_entries(a, &n));
    assert_int_equal(n, 0);
    assert_int_equal(attn_activity_user_count(a), 0);
    assert_close(attn_activity_user_sum(a, 0, &w), 0.0);
    attn_activity_slice(a, 0, 10, &f, &l);
    assert_int_equal(f, l);
    assert_int_equal(attn_activity_find_login(a, "alice"), -1);
    attn_activity_free(a);
    /* another repository id: nothing either */
    attn_error err;
    assert_int_equal(attn_activity_build(s, 77, NULL, &a, &err), 0);
    assert_int_equal(attn_activity_user_count(a), 0);
    attn_activity_free(a);
    attn_store_close(s);
}

/* attn_activity_derived: a counted value, made once per index (views and
 * threads included), retried after a failed make, and freed by whichever of
 * the index and the last holder lets go last. */
typedef struct {
    atomic_int refs, *freed;
} dv_value;
static atomic_int dv_made;
static void *dv_make(const attn_activity *a, void *arg)
{
    dv_value *v;
    (void)a;
    if (arg && *(int *)arg)
        return NULL;                    /* a failing make */
    v = calloc(1, sizeof(*v));
    atomic_init(&v->refs, 1);
    atomic_fetch_add(&dv_made, 1);
    return v;
}
static void dv_ref(void *p) { atomic_fetch_add(&((dv_value *)p)->refs, 1); }
static void dv_unref(void *p)
{
    dv_value *v = p;
    if (atomic_fetch_sub(&v->refs, 1) == 1) {
        atomic_fetch_add(v->freed, 1);
        free(v);
    }
}
static const attn_act_derived_kind DV = {dv_make, dv_ref, dv_unref};
static const attn_act_derived_kind DV2 = {dv_make, dv_ref, dv_unref};

static void *dv_thread(void *arg)
{
    attn_activity *view = arg;
    return attn_activity_derived(view, &DV, NULL);
}

static void test_derived_values(void **state)
{
    attn_store *s = fresh_empty();
    attn_activity *a = build(s, NULL), *v1, *v2;
    atomic_int freed;
    dv_value *x, *y, *got[2];
    pthread_t t[2];
    int fail = 1;
    (void)state;
    atomic_init(&freed, 0);
    atomic_init(&dv_made, 0);
    assert_null(attn_activity_derived(a, &DV, &fail));           /* nothing kept */
    attn_activity_share(a);
    v1 = attn_activity_view(a);
    v2 = attn_activity_view(a);
    assert_int_equal(pthread_create(&t[0], NULL, dv_thread, v1), 0);
    assert_int_equal(pthread_create(&t[1], NULL, dv_thread, v2), 0);
    pthread_join(t[0], (void **)&got[0]);
    pthread_join(t[1], (void **)&got[1]);
    assert_non_null(got[0]);
    assert_ptr_equal(got[0], got[1]);
    assert_int_equal(atomic_load(&dv_made), 1);
    got[0]->freed = &freed;
    x = attn_activity_derived(a, &DV, NULL);
    assert_ptr_equal(x, got[0]);
    assert_int_equal(atomic_load(&x->refs), 4);                    /* the index's + 3 */
    y = attn_activity_derived(a, &DV2, NULL);                       /* another kind */
    assert_ptr_not_equal(x, y);
    y->freed = &freed;
    assert_int_equal(atomic_load(&dv_made), 2);
    dv_unref(got[0]);
    dv_unref(got[1]);
    dv_unref(y);
    attn_activity_free(v1);
    attn_activity_free(v2);
    attn_activity_free(a);                                         /* y goes, x is held */
    assert_int_equal(atomic_load(&freed), 1);
    assert_int_equal(atomic_load(&x->refs), 1);
    dv_unref(x);
    assert_int_equal(atomic_load(&freed), 2);
    attn_store_close(s);
}

static void test_build_fails_on_bad_store(void **state)
{
    attn_store *s = fresh_empty();
    attn_activity *a = (attn_activity *)&a;
    attn_error err;
    fx_exec(s, "PRAGMA foreign_keys=OFF; DROP TABLE pull_request_head_intervals;");
    assert_int_equal(attn_activity_build(s, 1, NULL, &a, &err), ATTN_EDB);
    assert_null(a);
    assert_non_null(strstr(err.msg, "activity index"));
    attn_store_close(s);
}

/* ---- decay ------------------------------------------------------------------------- */

static double decayed(int64_t to, int64_t t, double hl_days)
{
    return pow(0.5, (double)(to - t) / (hl_days * DAYS));
}

static void test_decay_by_hand(void **state)
{
    attn_store *s = fresh_empty();
    const int64_t T = 1000000;
    review(s, 1, 20, 100, "APPROVED", T);
    review(s, 2, 20, 100, "COMMENTED", T - 1 * DAYS);
    review(s, 3, 21, 100, "COMMENTED", T - 2 * DAYS);
    comment(s, 4, ATTN_NULL_I64, 20, ATTN_NULL_I64, 100, "review", T - 3 * DAYS);
    attn_activity *a = build(s, NULL);
    size_t u = user_of(a, "alice");
    attn_act_window w;

    w = win(T - 10 * DAYS, T, 1.0, 1.0, 0.4, 0.2);
    assert_close(attn_activity_user_sum(a, u, &w), 1 + 0.5 + 0.25 + 0.4 * 0.125);
    w = win(T - 2 * DAYS, T, 1.0, 1.0, 0.4, 0.2);          /* t == from counts */
    assert_close(attn_activity_user_sum(a, u, &w), 1.75);
    w = win(T - 2 * DAYS + 1, T, 1.0, 1.0, 0.4, 0.2);
    assert_close(attn_activity_user_sum(a, u, &w), 1.5);
    w = win(T - 10 * DAYS, T - 1, 1.0, 1.0, 0.4, 0.2);     /* t == to + 1 does not */
    assert_close(attn_activity_user_sum(a, u, &w),
                 decayed(T - 1, T - DAYS, 1) + decayed(T - 1, T - 2 * DAYS, 1) +
                     0.4 * decayed(T - 1, T - 3 * DAYS, 1));
    w = win(T - 10 * DAYS, T + 5 * DAYS, 30.0, 1.0, 0.4, 0.2);
    assert_close(attn_activity_user_sum(a, u, &w),
                 decayed(T + 5 * DAYS, T, 30) + decayed(T + 5 * DAYS, T - DAYS, 30) +
                     decayed(T + 5 * DAYS, T - 2 * DAYS, 30) +
                     0.4 * decayed(T + 5 * DAYS, T - 3 * DAYS, 30));
    /* no decay: plain weighted counts, whatever the sign of the half-life */
    w = win(T - 10 * DAYS, T, 0.0, 1.0, 0.4, 0.2);
    assert_close(attn_activity_user_sum(a, u, &w), 3.4);
    w = win(T - 10 * DAYS, T, -5.0, 1.0, 0.4, 0.2);
    assert_close(attn_activity_user_sum(a, u, &w), 3.4);
    /* a zero weight drops the kind */
    w = win(T - 10 * DAYS, T, 1.0, 0.0, 0.4, 0.2);
    assert_close(attn_activity_user_sum(a, u, &w), 0.05);
    /* far in the future everything has decayed away, without overflow */
    w = win(T - 10 * DAYS, T + 4000 * DAYS, 1.0, 1.0, 0.4, 0.2);
    assert_close(attn_activity_user_sum(a, u, &w), 0.0);
    /* a half-life so short the span is thousands of half-lives: the index
     * sums the window directly and still gets it right */
    w = win(T - 10 * DAYS, T, 0.001, 1.0, 0.4, 0.2);
    assert_close(attn_activity_user_sum(a, u, &w),
                 1.0 + decayed(T, T - DAYS, 0.001) + decayed(T, T - 2 * DAYS, 0.001));
    w = win(T - 10 * DAYS, T - DAYS, 0.001, 1.0, 0.4, 0.2);
    assert_close(attn_activity_user_sum(a, u, &w), 1.0);
    /* the same queries again (cached prefix sums) give the same answer */
    w = win(T - 10 * DAYS, T, 1.0, 1.0, 0.4, 0.2);
    assert_close(attn_activity_user_sum(a, u, &w), 1 + 0.5 + 0.25 + 0.4 * 0.125);
    /* many distinct half-lives (more than the cache keeps) */
    for (int i = 1; i <= 20; i++) {
        w = win(T - 10 * DAYS, T, i, 1.0, 0.4, 0.2);
        assert_close(attn_activity_user_sum(a, u, &w),
                     1 + decayed(T, T - DAYS, i) + decayed(T, T - 2 * DAYS, i) +
                         0.4 * decayed(T, T - 3 * DAYS, i));
    }
    assert_true(attn_activity_bytes(a) > 0);
    attn_activity_free(a);
    attn_store_close(s);
}

/* A dismissed review counts as a review; its approval is the state it was
 * submitted with (from review.submitted), not the DISMISSED of the row. */
static void test_dismissed_review(void **state)
{
    attn_store *s = fresh_empty();
    review(s, 1, 20, 100, "DISMISSED", 1000);
    fx_event(s, "r1", 1000, "review", 1, "review.submitted", "pull_request", 20, NULL,
             "{\"state\":\"APPROVED\",\"body\":\"ok\"}");
    fx_event(s, "r1d", 3000, "review", 1, "review.dismissed", "pull_request", 20, NULL,
             "{\"state\":\"DISMISSED\"}");
    review(s, 2, 20, 101, "DISMISSED", 1100);              /* no events: the row's state */
    review(s, 3, 21, 101, "APPROVED", 1200);
    rebuild(s);
    attn_activity *a = build(s, NULL);
    size_t n;
    const attn_act_entry *e = attn_activity_entries(a, &n);
    assert_int_equal(n, 3);
    assert_int_equal(e[0].kind, ATTN_ACT_REVIEW);
    assert_int_equal(e[0].approved, 1);
    assert_int_equal(e[1].kind, ATTN_ACT_REVIEW);
    assert_int_equal(e[1].approved, 0);
    assert_int_equal(e[2].approved, 1);
    attn_activity_free(a);
    attn_store_close(s);
}

/* ---- paths and areas ----------------------------------------------------------------- */

static void test_paths_follow_the_head(void **state)
{
    attn_store *s = fresh_empty();
    attn_activity *a;
    const char *const *p, *const *p2;
    size_t n, alice;
    attn_act_window w = win(0, 99999, 0, 1, 1, 1);

    /* PR 20: head A from 1000 (a/x.c, a/y.c), force-pushed to B at 2000
     * (a/x.c, b/z.c). PR 21: head C from 1000 with no files stored (only a
     * list for another head). */
    fx_event(s, "h1", 1000, "pull_request", 20, "pull_request.head.set", NULL, ATTN_NULL_I64,
             "shaA", "{\"head_ref\":\"f\"}");
    fx_event(s, "h2", 2000, "pull_request", 20, "pull_request.head.set", NULL, ATTN_NULL_I64,
             "shaB", "{\"head_ref\":\"f\"}");
    fx_event(s, "h3", 1000, "pull_request", 21, "pull_request.head.set", NULL, ATTN_NULL_I64,
             "shaC", NULL);
    rebuild(s);
    file(s, 20, "shaA", "a/y.c");
    file(s, 20, "shaA", "a/x.c");
    file(s, 20, "shaB", "b/z.c");
    file(s, 20, "shaB", "a/x.c");
    file(s, 21, "shaZ", "zzz");
    review(s, 1, 20, 100, "COMMENTED", 999);               /* before any head */
    review(s, 2, 20, 100, "COMMENTED", 1500);              /* head A */
    review(s, 3, 20, 100, "COMMENTED", 1999);              /* still A */
    review(s, 4, 20, 100, "COMMENTED", 2000);              /* B from its first second */
    review(s, 5, 20, 100, "COMMENTED", 2500);
    review(s, 6, 21, 100, "COMMENTED", 1500);              /* head C: no files */
    a = build(s, NULL);
    alice = user_of(a, "alice");

    const attn_act_entry *e = attn_activity_entries(a, &n);
    assert_int_equal(n, 6);
    assert_int_equal(e[0].t, 999);
    assert_int_equal(attn_activity_entry_paths(a, 0, &p), 0);
    assert_null(p);
    assert_int_equal(e[1].pr_id, 20);
    assert_int_equal(attn_activity_entry_paths(a, 1, &p), 2);
    assert_string_equal(p[0], "a/x.c");                     /* sorted */
    assert_string_equal(p[1], "a/y.c");
    assert_int_equal(e[2].pr_id, 21);
    assert_int_equal(attn_activity_entry_paths(a, 2, &p), 0);
    assert_int_equal(attn_activity_entry_paths(a, 3, &p2), 2);
    assert_ptr_equal(p2, attn_activity_entry_paths(a, 1, &p) ? p : NULL); /* shared */
    assert_int_equal(attn_activity_entry_paths(a, 4, &p), 2);
    assert_string_equal(p[0], "a/x.c");
    assert_string_equal(p[1], "b/z.c");
    assert_int_equal(attn_activity_entry_paths(a, 5, &p2), 2);
    assert_ptr_equal(p, p2);
    assert_int_equal(attn_activity_entry_paths(a, 99, &p), 0);

    /* path and area sums; activity before the force push never reaches b/z.c */
    assert_close(attn_activity_user_sum(a, alice, &w), 6);
    assert_close(attn_activity_user_path_sum(a, alice, "a/y.c", &w), 2);
    assert_close(attn_activity_user_path_sum(a, alice, "a/x.c", &w), 4);
    assert_close(attn_activity_user_path_sum(a, alice, "b/z.c", &w), 2);
    assert_close(attn_activity_user_path_sum(a, alice, "zzz", &w), 0);
    assert_close(attn_activity_user_path_sum(a, alice, "nope", &w), 0);
    assert_close(attn_activity_user_path_sum(a, alice, NULL, &w), 0);
    assert_close(attn_activity_user_path_sum(a, 7, "a/x.c", &w), 0);
    assert_close(attn_activity_user_area_sum(a, alice, "a", &w), 4);
    assert_close(attn_activity_user_area_sum(a, alice, "b", &w), 2);
    assert_close(attn_activity_user_area_sum(a, alice, ATTN_AREA_ROOT, &w), 0);
    assert_close(attn_activity_user_area_sum(a, alice, NULL, &w), 0);
    /* ids: known paths and areas have one, the rest sum to 0 */
    assert_int_equal(attn_activity_path_id(a, "nope"), ATTN_ACT_NO_ID);
    assert_int_equal(attn_activity_path_id(a, NULL), ATTN_ACT_NO_ID);
    assert_int_equal(attn_activity_area_id(a, "nope"), ATTN_ACT_NO_ID);
    assert_int_equal(attn_activity_area_id(a, NULL), ATTN_ACT_NO_ID);
    assert_true(attn_activity_path_id(a, "a/x.c") != attn_activity_path_id(a, "b/z.c"));
    assert_close(attn_activity_user_path_id_sum(a, alice, attn_activity_path_id(a, "a/x.c"), &w),
                 4);
    assert_close(attn_activity_user_area_id_sum(a, alice, attn_activity_area_id(a, "b"), &w), 2);
    assert_close(attn_activity_user_path_id_sum(a, alice, ATTN_ACT_NO_ID, &w), 0);
    assert_close(attn_activity_user_path_id_sum(a, 7, attn_activity_path_id(a, "a/x.c"), &w), 0);
    w = win(2000, 2400, 0, 1, 1, 1);
    assert_close(attn_activity_user_path_sum(a, alice, "b/z.c", &w), 1);
    assert_close(attn_activity_user_path_sum(a, alice, "a/y.c", &w), 0);
    w = win(1000, 2000, 2.0, 1, 1, 1);
    assert_close(attn_activity_user_path_sum(a, alice, "a/y.c", &w),
                 decayed(2000, 1500, 2) + decayed(2000, 1999, 2));
    assert_string_equal(attn_activity_area_of(a, "a/x.c"), "a");
    assert_string_equal(attn_activity_area_of(a, "q/r/s.c"), "q");
    assert_string_equal(attn_activity_area_of(a, "README"), ATTN_AREA_ROOT);
    assert_null(attn_activity_area_of(a, NULL));
    attn_activity_free(a);

    /* with an area map */
    attn_area_map *m = NULL;
    attn_error err;
    json_t *j = json_loads("{\"a/y.c\": \"special\", \"/b/\": \"bee\"}", 0, NULL);
    assert_int_equal(attn_area_map_from_json(j, &m, &err), 0);
    json_decref(j);
    a = build(s, m);
    w = win(0, 99999, 0, 1, 1, 1);
    assert_string_equal(attn_activity_area_of(a, "a/y.c"), "special");
    assert_string_equal(attn_activity_area_of(a, "b/q.c"), "bee");
    assert_string_equal(attn_activity_area_of(a, "a/x.c"), "a");
    assert_close(attn_activity_user_area_sum(a, alice, "special", &w), 2);
    assert_close(attn_activity_user_area_sum(a, alice, "a", &w), 4);
    assert_close(attn_activity_user_area_sum(a, alice, "bee", &w), 2);
    assert_close(attn_activity_user_area_sum(a, alice, "b", &w), 0);
    attn_activity_free(a);
    attn_area_map_free(m);
    attn_store_close(s);
}

/* ---- open review requests ------------------------------------------------------------ */

static void test_open_requests(void **state)
{
    attn_store *s = fresh_empty();
    /* PR 20 (issue 11): open 1000, closed 5000. alice requested 2000-3000,
     * bob from 2500 on, team 5 (same numeric id as user "five") from 2000. */
    fx_event(s, "o", 1000, "issue", 11, "issue.opened", NULL, ATTN_NULL_I64, NULL, NULL);
    fx_event(s, "c", 5000, "issue", 11, "issue.closed", NULL, ATTN_NULL_I64, NULL, NULL);
    fx_event(s, "ra", 2000, "pull_request", 20, "pull_request.review_request.add", "user", 100,
             NULL, NULL);
    fx_event(s, "rr", 3000, "pull_request", 20, "pull_request.review_request.remove", "user",
             100, NULL, NULL);
    fx_event(s, "rb", 2500, "pull_request", 20, "pull_request.review_request.add", "user", 101,
             NULL, NULL);
    fx_event(s, "rt", 2000, "pull_request", 20, "pull_request.review_request.add", "team", 5,
             NULL, NULL);
    /* PR 21 (no issue row): opened 1000, merged 4000; alice requested at 3500 */
    fx_event(s, "p21o", 1000, "pull_request", 21, "pull_request.opened", NULL, ATTN_NULL_I64,
             NULL, NULL);
    fx_event(s, "p21m", 4000, "pull_request", 21, "pull_request.merged", NULL, ATTN_NULL_I64,
             NULL, NULL);
    fx_event(s, "ra21", 3500, "pull_request", 21, "pull_request.review_request.add", "user",
             100, NULL, NULL);
    /* a merged PR stays closed whatever follows (a stray reopen) */
    fx_event(s, "p21r", 4200, "pull_request", 21, "pull_request.reopened", NULL, ATTN_NULL_I64,
             NULL, NULL);
    /* a request on a PR already closed: never counts */
    fx_event(s, "ra21b", 4500, "pull_request", 21, "pull_request.review_request.add", "user",
             101, NULL, NULL);
    rebuild(s);
    attn_activity *a = build(s, NULL);
    /* users with requests only are in the table; "five" (only a team id) is not */
    assert_int_equal(attn_activity_user_count(a), 2);
    assert_int_equal(attn_activity_find_login(a, "five"), -1);
    size_t alice = user_of(a, "alice"), bob = user_of(a, "bob");

    assert_int_equal(attn_activity_user_open_requests(a, alice, 1999), 0);
    assert_int_equal(attn_activity_user_open_requests(a, alice, 2000), 1);   /* start in */
    assert_int_equal(attn_activity_user_open_requests(a, alice, 2999), 1);
    assert_int_equal(attn_activity_user_open_requests(a, alice, 3000), 0);   /* end out */
    assert_int_equal(attn_activity_user_open_requests(a, alice, 3499), 0);
    assert_int_equal(attn_activity_user_open_requests(a, alice, 3500), 1);   /* PR 21 */
    assert_int_equal(attn_activity_user_open_requests(a, alice, 3999), 1);
    assert_int_equal(attn_activity_user_open_requests(a, alice, 4000), 0);   /* merged */
    assert_int_equal(attn_activity_user_open_requests(a, alice, 4300), 0);
    assert_int_equal(attn_activity_user_open_requests(a, bob, 2499), 0);
    assert_int_equal(attn_activity_user_open_requests(a, bob, 2500), 1);
    assert_int_equal(attn_activity_user_open_requests(a, bob, 4999), 1);
    assert_int_equal(attn_activity_user_open_requests(a, bob, 5000), 0);     /* closed */
    assert_int_equal(attn_activity_user_open_requests(a, bob, 4600), 1);     /* only PR 20 */
    assert_int_equal(attn_activity_user_open_requests(a, bob, 99999), 0);
    assert_int_equal(attn_activity_user_open_requests(a, 9, 2500), 0);
    attn_activity_free(a);

    /* reopened: counts again from the reopen */
    fx_event(s, "ro", 6000, "issue", 11, "issue.reopened", NULL, ATTN_NULL_I64, NULL, NULL);
    rebuild(s);
    a = build(s, NULL);
    bob = user_of(a, "bob");
    assert_int_equal(attn_activity_user_open_requests(a, bob, 5999), 0);
    assert_int_equal(attn_activity_user_open_requests(a, bob, 6000), 1);
    attn_activity_free(a);
    attn_store_close(s);
}

/* ---- a random history ------------------------------------------------------------------ */

#define R_T0 1700000000
#define R_SPAN (200 * DAYS)

static const char *const R_PATHS[] = {
    "src/a.c", "src/b.c", "src/net/x.c", "src/parser/p.c", "docs/guide.md", "README",
    "tests/t1.c", "tests/t2.c", "web/app.js", "web/index.html", "build.sh", "ci/run.yml",
};
#define R_NPATHS (sizeof(R_PATHS) / sizeof(R_PATHS[0]))
static const char *const R_AREAS[] = {"src", "docs", "tests", "web", "ci", ATTN_AREA_ROOT,
                                      "none"};
#define R_NAREAS (sizeof(R_AREAS) / sizeof(R_AREAS[0]))

static uint64_t rnd(uint64_t *st)
{
    *st ^= *st >> 12;
    *st ^= *st << 25;
    *st ^= *st >> 27;
    return *st * 2685821657736338717ULL;
}

static int64_t rint_(uint64_t *st, int64_t n)
{
    return (int64_t)(rnd(st) % (uint64_t)n);
}

typedef struct {
    attn_store *s;
    uint64_t rng;
    int n_events;
} gen;

static void gev(gen *g, int64_t at, const char *subject, int64_t sid, const char *type,
                const char *otype, int64_t oid, const char *sha, const char *payload)
{
    char key[32];
    snprintf(key, sizeof(key), "g%d", ++g->n_events);
    fx_event(g->s, key, at, subject, sid, type, otype, oid, sha, payload);
}

static void gen_files(gen *g, int64_t pr, const char *sha)
{
    int n = 1 + (int)rint_(&g->rng, 3);
    for (int i = 0; i < n; i++)
        file(g->s, pr, sha, R_PATHS[rint_(&g->rng, R_NPATHS)]);
}

/* A store with n_prs PRs: heads (some force-pushed, some without files),
 * reviews (some dismissed later), diff and conversation comments (some naming
 * only the issue), review requests, closes, merges and reopens. Every fact on
 * a PR comes after its creation. */
static void random_store(attn_store *s, uint64_t seed, int n_prs, int n_users)
{
    attn_error err;
    gen g = {s, seed * 0x9E3779B97F4A7C15ULL + 1, 0};
    attn_repo_row repo = fx_repo();
    int64_t rid = 100000, cid = 200000;
    char login[32], sha[32];

    assert_int_equal(attn_store_begin(s, &err), 0);
    assert_int_equal(attn_store_upsert_repo(s, &repo, &err), 0);
    for (int u = 1; u <= n_users; u++) {
        snprintf(login, sizeof(login), u == n_users ? "helper[bot]" : u % 3 ? "user%d" : "User%d",
                 u);
        fx_user(s, u, login, "User");
    }
    for (int i = 1; i <= n_prs; i++) {
        int64_t pr = 1000 + i, issue = i % 7 ? 5000 + i : ATTN_NULL_I64;
        int64_t created = R_T0 + rint_(&g.rng, R_SPAN), end_at = INT64_MAX;
        attn_pull_request_row p;
        memset(&p, 0, sizeof(p));
        if (issue != ATTN_NULL_I64) {
            attn_issue_row is = {issue, 1, i, 1, "t", "b", "open", created, created,
                                 ATTN_NULL_I64, 1, 0};
            assert_int_equal(attn_store_upsert_issue(s, &is, &err), 0);
        }
        p.id = pr; p.repo_id = 1; p.number = i; p.issue_id = issue;
        p.user_id = 1 + rint_(&g.rng, n_users); p.title = "t"; p.state = "open";
        p.created_at = created; p.updated_at = created; p.closed_at = ATTN_NULL_I64;
        p.merged_at = ATTN_NULL_I64;
        assert_int_equal(attn_store_upsert_pull_request(s, &p, &err), 0);
        if (issue != ATTN_NULL_I64)
            gev(&g, created, "issue", issue, "issue.opened", NULL, ATTN_NULL_I64, NULL, NULL);
        gev(&g, created, "pull_request", pr, "pull_request.opened", NULL, ATTN_NULL_I64, NULL,
            NULL);
        snprintf(sha, sizeof(sha), "a%d", i);
        gev(&g, created, "pull_request", pr, "pull_request.head.set", NULL, ATTN_NULL_I64, sha,
            NULL);
        if (rint_(&g.rng, 8))
            gen_files(&g, pr, sha);
        if (!rint_(&g.rng, 3)) {
            snprintf(sha, sizeof(sha), "b%d", i);
            gev(&g, created + rint_(&g.rng, 10 * DAYS), "pull_request", pr,
                "pull_request.head.set", NULL, ATTN_NULL_I64, sha, NULL);
            if (rint_(&g.rng, 3))
                gen_files(&g, pr, sha);
        }
        switch (rint_(&g.rng, 6)) {
        case 0: case 1: case 2:
            end_at = created + 1 + rint_(&g.rng, 20 * DAYS);
            gev(&g, end_at, "pull_request", pr, "pull_request.merged", NULL, ATTN_NULL_I64,
                NULL, NULL);
            if (issue != ATTN_NULL_I64)
                gev(&g, end_at, "issue", issue, "issue.closed", NULL, ATTN_NULL_I64, NULL,
                    NULL);
            break;
        case 3:
            end_at = created + 1 + rint_(&g.rng, 20 * DAYS);
            if (issue != ATTN_NULL_I64) {
                gev(&g, end_at, "issue", issue, "issue.closed", NULL, ATTN_NULL_I64, NULL,
                    NULL);
                gev(&g, end_at + rint_(&g.rng, 5 * DAYS), "issue", issue, "issue.reopened",
                    NULL, ATTN_NULL_I64, NULL, NULL);
            } else {
                gev(&g, end_at, "pull_request", pr, "pull_request.closed", NULL,
                    ATTN_NULL_I64, NULL, NULL);
            }
            break;
        default:
            break;
        }
        int64_t last_review = ATTN_NULL_I64, last_review_at = 0;
        int n_rev = (int)rint_(&g.rng, 4);
        for (int r = 0; r < n_rev; r++) {
            static const char *const states[] = {"APPROVED", "CHANGES_REQUESTED", "COMMENTED"};
            const char *st = states[rint_(&g.rng, 3)];
            int64_t at = created + rint_(&g.rng, 15 * DAYS), id = ++rid;
            int dismissed = !rint_(&g.rng, 6);
            char payload[64];
            review(s, id, pr, 1 + rint_(&g.rng, n_users), dismissed ? "DISMISSED" : st, at);
            snprintf(payload, sizeof(payload), "{\"state\":\"%s\"}", st);
            gev(&g, at, "review", id, "review.submitted", "pull_request", pr, NULL, payload);
            if (dismissed)
                gev(&g, at + rint_(&g.rng, 3 * DAYS), "review", id, "review.dismissed",
                    "pull_request", pr, NULL, "{\"state\":\"DISMISSED\"}");
            if (at > last_review_at) {
                last_review = id;
                last_review_at = at;
            }
        }
        int n_com = (int)rint_(&g.rng, 5);
        for (int c = 0; c < n_com; c++) {
            int64_t at = created + rint_(&g.rng, 15 * DAYS), user = 1 + rint_(&g.rng, n_users);
            switch (rint_(&g.rng, 4)) {
            case 0:
                comment(s, ++cid, issue, pr,
                        last_review != ATTN_NULL_I64 && at >= last_review_at ? last_review
                                                                              : ATTN_NULL_I64,
                        user, "review", at);
                break;
            case 1:
                comment(s, ++cid, issue, pr, ATTN_NULL_I64, user, "issue", at);
                break;
            default:
                comment(s, ++cid, issue, issue == ATTN_NULL_I64 ? pr : ATTN_NULL_I64,
                        ATTN_NULL_I64, user, "issue", at);
                break;
            }
        }
        int n_req = (int)rint_(&g.rng, 3);
        for (int q = 0; q < n_req; q++) {
            int64_t at = created + rint_(&g.rng, 5 * DAYS), user = 1 + rint_(&g.rng, n_users);
            gev(&g, at, "pull_request", pr, "pull_request.review_request.add",
                rint_(&g.rng, 5) ? "user" : "team", user, NULL, NULL);
            if (rint_(&g.rng, 2))
                gev(&g, at + rint_(&g.rng, 10 * DAYS), "pull_request", pr,
                    "pull_request.review_request.remove", "user", user, NULL, NULL);
        }
    }
    /* a few plain issues with comments (ignored) */
    for (int i = 0; i < 5; i++) {
        attn_issue_row is = {9000 + i, 1, 90000 + i, 1, "t", "b", "open", R_T0, R_T0,
                             ATTN_NULL_I64, 0, 0};
        assert_int_equal(attn_store_upsert_issue(s, &is, &err), 0);
        comment(s, ++cid, 9000 + i, ATTN_NULL_I64, ATTN_NULL_I64, 1, "issue", R_T0 + i);
    }
    assert_int_equal(attn_store_commit(s, &err), 0);
    rebuild(s);
}

/* Direct scan of the entries. which: 0 total, 1 path, 2 area. */
static double scan_sum(attn_activity *a, size_t u, int which, const char *name,
                       const attn_act_window *w)
{
    size_t n;
    const attn_act_entry *e = attn_activity_entries(a, &n);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        const char *const *p;
        size_t np = attn_activity_entry_paths(a, i, &p);
        int hit = which == 0;
        if (e[i].user != (int32_t)u || e[i].t < w->from || e[i].t > w->to)
            continue;
        for (size_t j = 0; j < np && !hit; j++)
            hit = which == 1 ? !strcmp(p[j], name)
                             : !strcmp(attn_activity_area_of(a, p[j]), name);
        if (!hit)
            continue;
        sum += w->weight[e[i].kind] *
               (w->half_life_days > 0 ? pow(0.5, (double)(w->to - e[i].t) /
                                                     (w->half_life_days * DAYS))
                                      : 1.0);
    }
    return sum;
}

static void check_rel(double got, double want, const char *what)
{
    if (!(fabs(got - want) <= 1e-9 * fabs(want) + 1e-300))
        fail_msg("%s: O(log n) %.17g vs scan %.17g", what, got, want);
}

static const double R_HALF_LIVES[] = {0, 30, 7, 0.5, 0.1, 0.001, -1};
#define R_NHL (sizeof(R_HALF_LIVES) / sizeof(R_HALF_LIVES[0]))

static void test_bruteforce(void **state)
{
    attn_store *s = NULL;
    attn_error err;
    uint64_t rng = 12345;
    size_t n_checked = 0;
    assert_int_equal(attn_store_open(":memory:", &s, &err), 0);
    random_store(s, 1, 400, 25);
    attn_activity *a = build(s, NULL);
    size_t n;
    attn_activity_entries(a, &n);
    /* every review with a user and time, every PR comment */
    assert_int_equal((int64_t)n,
                     fx_count(s, "SELECT (SELECT count(*) FROM reviews WHERE user_id IS NOT NULL"
                                 " AND submitted_at IS NOT NULL) + (SELECT count(*) FROM"
                                 " comments c WHERE c.pull_request_id IS NOT NULL OR EXISTS"
                                 " (SELECT 1 FROM pull_requests p WHERE p.issue_id ="
                                 " c.issue_id))"));
    for (int round = 0; round < 60; round++) {
        int64_t from = R_T0 - 5 * DAYS + rint_(&rng, R_SPAN + 30 * DAYS);
        int64_t to = from + rint_(&rng, 120 * DAYS);
        attn_act_window w = win(from, to, R_HALF_LIVES[rint_(&rng, R_NHL)],
                                (double)rint_(&rng, 4) / 2, (double)rint_(&rng, 3) / 5,
                                (double)rint_(&rng, 3) / 10);
        if (round % 10 == 0)
            w.from = INT64_MIN / 2;              /* everything up to `to` */
        for (size_t u = 0; u < attn_activity_user_count(a); u++) {
            check_rel(attn_activity_user_sum(a, u, &w), scan_sum(a, u, 0, NULL, &w), "user");
            for (size_t p = 0; p < R_NPATHS; p++) {
                double v = attn_activity_user_path_sum(a, u, R_PATHS[p], &w);
                check_rel(v, scan_sum(a, u, 1, R_PATHS[p], &w), R_PATHS[p]);
                /* by id: the same double */
                assert_memory_equal(&v, &(double){attn_activity_user_path_id_sum(
                                            a, u, attn_activity_path_id(a, R_PATHS[p]), &w)},
                                    sizeof(v));
            }
            for (size_t p = 0; p < R_NAREAS; p++) {
                double v = attn_activity_user_area_sum(a, u, R_AREAS[p], &w);
                check_rel(v, scan_sum(a, u, 2, R_AREAS[p], &w), R_AREAS[p]);
                assert_memory_equal(&v, &(double){attn_activity_user_area_id_sum(
                                            a, u, attn_activity_area_id(a, R_AREAS[p]), &w)},
                                    sizeof(v));
            }
            /* counts and last activity against the same scan */
            unsigned mask = (unsigned)rint_(&rng, 8);
            size_t cnt = 0;
            int64_t last = ATTN_NULL_I64;
            const attn_act_entry *e = attn_activity_entries(a, &n);
            for (size_t i = 0; i < n; i++) {
                if (e[i].user != (int32_t)u)
                    continue;
                if (e[i].t >= w.from && e[i].t <= w.to && (mask & ATTN_ACT_MASK(e[i].kind)))
                    cnt++;
                if (e[i].t <= to)
                    last = e[i].t;
            }
            assert_int_equal(attn_activity_user_count_in(a, u, mask, w.from, w.to), cnt);
            assert_int_equal(attn_activity_user_last_at(a, u, to), last);
            n_checked++;
        }
    }
    assert_true(n_checked > 1000);
    attn_activity_free(a);
    attn_store_close(s);
}

/* ---- leakage ----------------------------------------------------------------------------- */

static const char *const INTERVAL_TABLES[] = {
    "issue_state_intervals", "issue_content_intervals", "issue_label_intervals",
    "issue_assignee_intervals", "issue_milestone_intervals", "pull_request_draft_intervals",
    "pull_request_head_intervals", "pull_request_base_intervals",
    "pull_request_review_request_intervals", "comment_content_intervals",
    "review_content_intervals",
};

/* Delete everything after T from the store at path, as if it had been
 * ingested at T: facts, events (then intervals rebuilt from what is left),
 * and PRs created later with their files. */
static void truncate_after(const char *path, int64_t T)
{
    attn_store *s = NULL;
    attn_error err;
    char sql[1024];
    assert_int_equal(attn_store_open(path, &s, &err), 0);
    /* interval rows point at events: drop them all, rebuild from what is left */
    for (size_t i = 0; i < sizeof(INTERVAL_TABLES) / sizeof(INTERVAL_TABLES[0]); i++) {
        snprintf(sql, sizeof(sql), "DELETE FROM %s", INTERVAL_TABLES[i]);
        fx_exec(s, sql);
    }
    snprintf(sql, sizeof(sql),
             "DELETE FROM comments WHERE created_at > %lld;"
             "DELETE FROM reviews WHERE submitted_at > %lld;"
             "DELETE FROM events WHERE occurred_at > %lld;",
             (long long)T, (long long)T, (long long)T);
    fx_exec(s, sql);
    rebuild(s);
    snprintf(sql, sizeof(sql),
             "DELETE FROM pull_request_files WHERE pull_request_id IN"
             " (SELECT id FROM pull_requests WHERE created_at > %lld);"
             "DELETE FROM pull_requests WHERE created_at > %lld;"
             "DELETE FROM issues WHERE created_at > %lld;",
             (long long)T, (long long)T, (long long)T);
    fx_exec(s, sql);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM pull_request_head_intervals"
                                 " WHERE end_at IS NULL"),
                     fx_count(s, "SELECT count(DISTINCT pull_request_id) FROM"
                                 " pull_request_head_intervals"));
    attn_store_close(s);
}

static int same_bits(double x, double y)
{
    return !memcmp(&x, &y, sizeof(x));
}

/*
 * Read partly on a second connection (attn_activity_build_with), the index
 * is the one read on a single connection: every entry and its files, every
 * user, and open requests (which come from the transitions the second
 * connection reads) at many instants.
 */
static void test_helper_build(void **state)
{
    char *dir = test_tmpdir(), path[512];
    attn_store *s = NULL, *ro[2];
    attn_activity *a = NULL, *b = NULL;
    attn_error err;
    size_t na, nb;
    int held;
    (void)state;
    snprintf(path, sizeof(path), "%s/history.sqlite", dir);
    assert_int_equal(attn_store_open(path, &s, &err), 0);
    random_store(s, 1, 300, 20);
    a = build(s, NULL);
    assert_int_equal(attn_store_open_readonly(path, &ro[0], &err), 0);
    assert_int_equal(attn_store_open_readonly(path, &ro[1], &err), 0);
    assert_int_equal(attn_store_begin_read_group(ro, 2, &held, &err), 0);
    assert_int_equal(attn_activity_build_with(ro[0], ro[1], 1, NULL, &b, &err), 0);
    const attn_act_entry *ea = attn_activity_entries(a, &na), *eb = attn_activity_entries(b, &nb);
    assert_int_equal(na, nb);
    assert_true(na > 100);
    for (size_t i = 0; i < na; i++) {
        const char *const *pa, *const *pb;
        size_t ka = attn_activity_entry_paths(a, i, &pa), kb = attn_activity_entry_paths(b, i, &pb);
        if (ea[i].t != eb[i].t || ea[i].pr_id != eb[i].pr_id || ea[i].user != eb[i].user ||
            ea[i].kind != eb[i].kind || ea[i].approved != eb[i].approved || ka != kb)
            fail_msg("entry %zu differs", i);
        for (size_t k = 0; k < ka; k++)
            assert_string_equal(pa[k], pb[k]);
    }
    assert_int_equal(attn_activity_user_count(a), attn_activity_user_count(b));
    for (size_t u = 0; u < attn_activity_user_count(a); u++) {
        assert_string_equal(attn_activity_user_login(a, u), attn_activity_user_login(b, u));
        assert_int_equal(attn_activity_user_id(a, u), attn_activity_user_id(b, u));
        assert_int_equal(attn_activity_user_is_bot(a, u), attn_activity_user_is_bot(b, u));
        for (int64_t t = R_T0 - DAYS; t < R_T0 + R_SPAN + 20 * DAYS; t += DAYS / 3)
            assert_int_equal(attn_activity_user_open_requests(a, u, t),
                             attn_activity_user_open_requests(b, u, t));
    }
    /* a failure on the second connection is the build's, naming it */
    attn_activity_free(b);
    b = NULL;
    sqlite3_exec(attn_store_db(ro[1]), "COMMIT", NULL, NULL, NULL);
    fx_exec(s, "DROP TABLE issue_state_intervals");
    assert_int_equal(attn_activity_build_with(ro[0], ro[1], 1, NULL, &b, &err), ATTN_EDB);
    assert_null(b);
    assert_non_null(strstr(err.msg, "issue_state_intervals"));
    attn_activity_free(a);
    attn_store_close(ro[0]);
    attn_store_close(ro[1]);
    attn_store_close(s);
    fx_rm_rf(dir);
}

static void test_leakage(void **state)
{
    char *dir = test_tmpdir(), full[512], cut[512], sql[1200];
    attn_store *s = NULL, *c = NULL;
    attn_error err;
    const int64_t T = R_T0 + R_SPAN / 2;
    uint64_t rng = 777;
    int differs_after = 0;

    snprintf(full, sizeof(full), "%s/full.sqlite", dir);
    snprintf(cut, sizeof(cut), "%s/cut.sqlite", dir);
    assert_int_equal(attn_store_open(full, &s, &err), 0);
    random_store(s, 2, 500, 30);
    snprintf(sql, sizeof(sql), "VACUUM INTO '%s'", cut);
    fx_exec(s, sql);
    truncate_after(cut, T);
    assert_int_equal(attn_store_open(cut, &c, &err), 0);
    assert_true(fx_count(c, "SELECT count(*) FROM reviews") <
                fx_count(s, "SELECT count(*) FROM reviews"));

    attn_activity *a = build(s, NULL), *b = build(c, NULL);
    size_t na, nb;
    const attn_act_entry *ea = attn_activity_entries(a, &na), *eb = attn_activity_entries(b, &nb);
    size_t fa, la, fb, lb;
    attn_activity_slice(a, INT64_MIN, T, &fa, &la);
    attn_activity_slice(b, INT64_MIN, T, &fb, &lb);
    assert_int_equal(lb, nb);                           /* nothing after T is left */
    assert_int_equal(la, lb);
    assert_true(na > nb);
    for (size_t i = 0; i < nb; i++) {
        const char *const *pa, *const *pb;
        size_t npa = attn_activity_entry_paths(a, i, &pa), npb = attn_activity_entry_paths(b, i, &pb);
        assert_int_equal(ea[i].t, eb[i].t);
        assert_int_equal(ea[i].pr_id, eb[i].pr_id);
        assert_int_equal(ea[i].kind, eb[i].kind);
        assert_int_equal(ea[i].approved, eb[i].approved);
        assert_int_equal(attn_activity_user_id(a, (size_t)ea[i].user),
                         attn_activity_user_id(b, (size_t)eb[i].user));
        assert_int_equal(npa, npb);
        for (size_t j = 0; j < npa; j++)
            assert_string_equal(pa[j], pb[j]);
    }

    for (int round = 0; round < 40; round++) {
        int64_t to = T - (round == 0 ? 0 : rint_(&rng, R_SPAN / 2 + 10 * DAYS));
        int64_t from = round % 4 == 0 ? INT64_MIN / 2 : to - rint_(&rng, 180 * DAYS);
        attn_act_window w = win(from, to, R_HALF_LIVES[round % R_NHL], 1.0, 0.4, 0.2);
        for (size_t ua = 0; ua < attn_activity_user_count(a); ua++) {
            long ub = attn_activity_find_user(b, attn_activity_user_id(a, ua));
            double x, y;
            if (ub < 0) {
                /* a user who only appears after T has nothing before it */
                assert_true(attn_activity_user_sum(a, ua, &w) == 0.0);
                assert_int_equal(attn_activity_user_open_requests(a, ua, to), 0);
                continue;
            }
            assert_string_equal(attn_activity_user_login(a, ua),
                                attn_activity_user_login(b, (size_t)ub));
            x = attn_activity_user_sum(a, ua, &w);
            y = attn_activity_user_sum(b, (size_t)ub, &w);
            if (!same_bits(x, y))
                fail_msg("user %zu window [%lld, %lld] hl %g: %.17g vs %.17g", ua,
                         (long long)from, (long long)to, w.half_life_days, x, y);
            for (size_t p = 0; p < R_NPATHS; p++) {
                x = attn_activity_user_path_sum(a, ua, R_PATHS[p], &w);
                y = attn_activity_user_path_sum(b, (size_t)ub, R_PATHS[p], &w);
                assert_true(same_bits(x, y));
            }
            for (size_t p = 0; p < R_NAREAS; p++) {
                x = attn_activity_user_area_sum(a, ua, R_AREAS[p], &w);
                y = attn_activity_user_area_sum(b, (size_t)ub, R_AREAS[p], &w);
                assert_true(same_bits(x, y));
            }
            assert_int_equal(attn_activity_user_count_in(a, ua, ATTN_ACT_ALL, from, to),
                             attn_activity_user_count_in(b, (size_t)ub, ATTN_ACT_ALL, from, to));
            assert_int_equal(attn_activity_user_last_at(a, ua, to),
                             attn_activity_user_last_at(b, (size_t)ub, to));
            assert_int_equal(attn_activity_user_open_requests(a, ua, to),
                             attn_activity_user_open_requests(b, (size_t)ub, to));
            /* the test can fail: after T the two differ somewhere */
            attn_act_window later = win(from, T + 60 * DAYS, 30, 1, 0.4, 0.2);
            if (!same_bits(attn_activity_user_sum(a, ua, &later),
                           attn_activity_user_sum(b, (size_t)ub, &later)))
                differs_after = 1;
        }
    }
    assert_true(differs_after);
    attn_activity_free(a);
    attn_activity_free(b);
    attn_store_close(s);
    attn_store_close(c);
    fx_rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds_and_order),
        cmocka_unit_test(test_is_bot),
        cmocka_unit_test(test_find_login),
        cmocka_unit_test(test_empty_repo),
        cmocka_unit_test(test_derived_values),
        cmocka_unit_test(test_build_fails_on_bad_store),
        cmocka_unit_test(test_decay_by_hand),
        cmocka_unit_test(test_dismissed_review),
        cmocka_unit_test(test_paths_follow_the_head),
        cmocka_unit_test(test_open_requests),
        cmocka_unit_test(test_bruteforce),
        cmocka_unit_test(test_helper_build),
        cmocka_unit_test(test_leakage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
