/*
 * test_store.c - opening, refusing, upserting and event insertion of the
 * history store (src/store/store.c, upsert.c, events.c).
 */
#include "store_fixture.h"
#include "store/store_internal.h"
#include "util/fs.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char *dir;
    char path[512];
    attn_store *s;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    attn_error err;
    f->dir = test_tmpdir();
    snprintf(f->path, sizeof(f->path), "%s/history.sqlite", f->dir);
    if (attn_store_open(f->path, &f->s, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    fx_populate(f->s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    attn_store_close(f->s);
    fx_rm_rf(f->dir);
    free(f);
    return 0;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    fclose(fp);
}

/* ---- opening ---------------------------------------------------------------------- */

static void test_open_creates_current_schema(void **state)
{
    fx *f = *state;
    assert_int_equal(fx_count(f->s, "PRAGMA user_version"), attn_store_schema_version());
    assert_int_equal(attn_store_schema_version(), 2);
    assert_int_equal(fx_count(f->s, "PRAGMA foreign_keys"), 1);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(f->s), "PRAGMA journal_mode", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_string_equal(attn_store_path(f->s), f->path);
}

static void test_reopen_keeps_rows(void **state)
{
    fx *f = *state;
    attn_error err;
    attn_store_close(f->s);
    assert_int_equal(attn_store_open(f->path, &f->s, &err), 0);
    assert_int_equal(fx_count(f->s, "SELECT count(*) FROM issues"), 3);
    attn_store *ro = NULL;
    assert_int_equal(attn_store_open_readonly(f->path, &ro, &err), 0);
    assert_int_equal(fx_count(ro, "SELECT count(*) FROM pull_requests"), 2);
    /* read-only handles refuse writes with a message, not a crash */
    attn_user_row u = {77, "x", "User", 0, NULL};
    assert_int_not_equal(attn_store_upsert_user(ro, &u, &err), 0);
    assert_non_null(strstr(err.msg, "user 77"));
    attn_store_close(ro);
}

static void test_readonly_missing_file(void **state)
{
    fx *f = *state;
    attn_error err;
    attn_store *s = NULL;
    char p[600];
    snprintf(p, sizeof(p), "%s/nope.sqlite", f->dir);
    assert_int_equal(attn_store_open_readonly(p, &s, &err), ATTN_ENOTFOUND);
    assert_null(s);
    assert_non_null(strstr(err.msg, p));
    assert_non_null(strstr(err.msg, "attn init"));
    assert_false(attn_fs_exists(p));   /* and nothing was created */
}

static void test_garbage_file_refused(void **state)
{
    fx *f = *state;
    attn_error err;
    attn_store *s = NULL;
    char p[600], junk[4096];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 7 + 13);
    snprintf(p, sizeof(p), "%s/junk.sqlite", f->dir);
    write_file(p, junk, sizeof(junk));
    assert_int_equal(attn_store_open(p, &s, &err), ATTN_ECORRUPT);
    assert_null(s);
    char want[700];
    snprintf(want, sizeof(want), "'%s' is not an attn history database (", p);
    assert_non_null(strstr(err.msg, want));
    assert_int_equal(attn_store_open_readonly(p, &s, &err), ATTN_ECORRUPT);
    /* the file is left as it was */
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, sizeof(junk));
}

static void test_foreign_sqlite_refused(void **state)
{
    fx *f = *state;
    attn_error err;
    attn_store *s = NULL;
    sqlite3 *db;
    char p[600];
    snprintf(p, sizeof(p), "%s/other.sqlite", f->dir);
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(attn_store_open(p, &s, &err), ATTN_ECORRUPT);
    assert_non_null(strstr(err.msg, "is not an attn history database"));
}

static void test_newer_version_refused(void **state)
{
    fx *f = *state;
    attn_error err;
    attn_store *s = NULL;
    fx_exec(f->s, "PRAGMA user_version = 99");
    attn_store_close(f->s);
    f->s = NULL;
    assert_int_equal(attn_store_open(f->path, &s, &err), ATTN_ECONFLICT);
    assert_null(s);
    assert_non_null(strstr(err.msg, "schema version 99"));
    assert_non_null(strstr(err.msg, "upgrade attn"));
    assert_int_equal(attn_store_open_readonly(f->path, &s, &err), ATTN_ECONFLICT);
    /* put it back so teardown can close a real handle */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(attn_store_open(f->path, &f->s, &err), 0);
}

static void test_transactions(void **state)
{
    fx *f = *state;
    attn_error err;
    attn_user_row u = {500, "tx", "User", 0, NULL};
    assert_int_equal(attn_store_begin(f->s, &err), 0);
    assert_int_equal(attn_store_begin(f->s, &err), ATTN_ECONFLICT);   /* no nesting */
    assert_int_equal(attn_store_upsert_user(f->s, &u, &err), 0);
    assert_int_equal(attn_store_rollback(f->s), 0);
    assert_int_equal(fx_count(f->s, "SELECT count(*) FROM users WHERE id = 500"), 0);
    assert_int_equal(attn_store_commit(f->s, &err), ATTN_ECONFLICT);  /* nothing open */
    assert_int_equal(attn_store_begin(f->s, &err), 0);
    assert_int_equal(attn_store_upsert_user(f->s, &u, &err), 0);
    assert_int_equal(attn_store_commit(f->s, &err), 0);
    assert_int_equal(fx_count(f->s, "SELECT count(*) FROM users WHERE id = 500"), 1);
}

/*
 * A writer committing as fast as it can, until told to stop. The counters
 * are atomic: the test thread reads them while the writer runs.
 */
typedef struct {
    const char *path;
    atomic_int stop;
    atomic_long commits;
    atomic_int failed;     /* the writer could not open or commit */
} hammer;

static void *hammer_main(void *arg)
{
    hammer *h = arg;
    attn_store *w = NULL;
    attn_error err;
    if (attn_store_open(h->path, &w, &err)) {
        atomic_store(&h->failed, 1);
        return NULL;
    }
    for (long id = 100000; !atomic_load(&h->stop); id++) {
        attn_user_row u = {id, "hammer", "User", 0, NULL};
        if (attn_store_upsert_user(w, &u, &err)) {
            atomic_store(&h->failed, 1);
            break;
        }
        atomic_fetch_add(&h->commits, 1);
        usleep(50);   /* room for the group's lock between commits */
    }
    attn_store_close(w);
    return NULL;
}

/* Waits (up to 30 s) until the writer has committed more than n times. */
static int hammer_past(hammer *h, long n)
{
    for (int i = 0; i < 30000; i++) {
        if (atomic_load(&h->commits) > n || atomic_load(&h->failed))
            break;
        usleep(1000);
    }
    return atomic_load(&h->commits) > n;
}

/*
 * Connections begun as a group read one state: while a writer commits in a
 * loop, every member counts the same users, each round, and a commit after
 * the group began is seen by none of them. With the write lock held by
 * someone else, the group still begins (back to back) and says so.
 */
static void test_read_group(void **state)
{
    fx *f = *state;
    enum { NS = 3 };
    attn_store *ro[NS];
    attn_error err;
    hammer h = {.path = f->path};
    pthread_t tid;
    int held;
    long c_start;
    for (int i = 0; i < NS; i++)
        assert_int_equal(attn_store_open_readonly(f->path, &ro[i], &err), 0);
    assert_int_equal(pthread_create(&tid, NULL, hammer_main, &h), 0);
    /* on a loaded machine the writer may start late: the rounds must overlap
     * its commits, or they prove nothing */
    assert_true(hammer_past(&h, 0));
    c_start = atomic_load(&h.commits);
    for (int round = 0; round < 100 || atomic_load(&h.commits) == c_start; round++) {
        if (atomic_load(&h.failed) || round == 100000)
            fail_msg("round %d: the writer stopped committing", round);
        long c0;
        assert_int_equal(attn_store_begin_read_group(ro, NS, &held, &err), 0);
        assert_int_equal(held, 1);
        c0 = fx_count(ro[0], "SELECT count(*) FROM users");
        for (int i = 1; i < NS; i++)
            if (fx_count(ro[i], "SELECT count(*) FROM users") != c0)
                fail_msg("round %d: member %d reads another state than member 0", round, i);
        for (int i = 0; i < NS; i++)
            sqlite3_exec(attn_store_db(ro[i]), "COMMIT", NULL, NULL, NULL);
    }
    atomic_store(&h.stop, 1);
    pthread_join(tid, NULL);
    assert_false(atomic_load(&h.failed));
    /* a commit after the group began is not seen by it */
    assert_int_equal(attn_store_begin_read_group(ro, NS, &held, &err), 0);
    {
        long before = fx_count(ro[1], "SELECT count(*) FROM users");
        attn_user_row u = {999999, "late", "User", 0, NULL};
        assert_int_equal(attn_store_upsert_user(f->s, &u, &err), 0);
        for (int i = 0; i < NS; i++)
            assert_int_equal(fx_count(ro[i], "SELECT count(*) FROM users"), before);
    }
    for (int i = 0; i < NS; i++)
        sqlite3_exec(attn_store_db(ro[i]), "COMMIT", NULL, NULL, NULL);
    /* the lock is someone else's: begun all the same, held = 0 */
    assert_int_equal(sqlite3_exec(attn_store_db(f->s), "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(attn_store_begin_read_group(ro, NS, &held, &err), 0);
    assert_int_equal(held, 0);
    for (int i = 0; i < NS; i++) {
        assert_false(sqlite3_get_autocommit(attn_store_db(ro[i])));
        sqlite3_exec(attn_store_db(ro[i]), "COMMIT", NULL, NULL, NULL);
    }
    sqlite3_exec(attn_store_db(f->s), "ROLLBACK", NULL, NULL, NULL);
    /* a member already in a transaction cannot begin: an error naming the file */
    sqlite3_exec(attn_store_db(ro[2]), "BEGIN", NULL, NULL, NULL);
    assert_int_equal(attn_store_begin_read_group(ro, NS, &held, &err), ATTN_EDB);
    assert_non_null(strstr(err.msg, "history.sqlite"));
    for (int i = 0; i < NS; i++)
        attn_store_close(ro[i]);
}

static void test_repo_id(void **state)
{
    fx *f = *state;
    attn_error err;
    int64_t id = 0;
    assert_int_equal(attn_store_repo_id(f->s, "octo/demo", &id, &err), 0);
    assert_int_equal(id, 1);
    assert_int_equal(attn_store_repo_id(f->s, "octo/nope", &id, &err), ATTN_ENOTFOUND);
    assert_non_null(strstr(err.msg, "octo/nope"));
}

/* ---- upserts: round trip and last write wins ----------------------------------------- */

static void expect_row(attn_store *s, const char *sql, const char *want)
{
    /* Render the first row as "a|b|NULL|..." and compare. */
    sqlite3_stmt *st;
    char got[2048] = "";
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    for (int i = 0; i < sqlite3_column_count(st); i++) {
        const char *v = (const char *)sqlite3_column_text(st, i);
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "|" : "",
                 v ? v : "NULL");
    }
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    assert_string_equal(got, want);
}

static void test_upsert_repo_user_team(void **state)
{
    fx *f = *state;
    attn_error err;
    attn_repo_row r = fx_repo();
    expect_row(f->s, "SELECT * FROM repos", "1|900|octo|demo|octo/demo|0|a demo|main|1000|2000|3000|0|0");
    r.description = NULL; r.archived = 1; r.is_private = -1; r.pushed_at = ATTN_NULL_I64;
    assert_int_equal(attn_store_upsert_repo(f->s, &r, &err), 0);
    expect_row(f->s, "SELECT * FROM repos", "1|900|octo|demo|octo/demo|NULL|NULL|main|1000|2000|NULL|1|0");

    attn_user_row u = {100, "alice2", "Organization", 1, "https://a"};
    assert_int_equal(attn_store_upsert_user(f->s, &u, &err), 0);
    expect_row(f->s, "SELECT * FROM users WHERE id = 100", "100|alice2|Organization|1|https://a");
    u.type = "Robot";   /* users.type is User | Bot | Organization */
    assert_int_equal(attn_store_upsert_user(f->s, &u, &err), ATTN_EDB);
    assert_non_null(strstr(err.msg, "user 100"));
    assert_non_null(strstr(err.msg, "CHECK"));

    attn_team_row t = {5, "core2", "Core 2"};
    assert_int_equal(attn_store_upsert_team(f->s, &t, &err), 0);
    expect_row(f->s, "SELECT * FROM teams", "5|core2|Core 2");
    attn_team_member_row m = {5, 100, NULL, 5000};
    assert_int_equal(attn_store_upsert_team_member(f->s, &m, &err), 0);
    m.observed_at = 6000;
    assert_int_equal(attn_store_upsert_team_member(f->s, &m, &err), 0);
    m.source = "roster";
    assert_int_equal(attn_store_upsert_team_member(f->s, &m, &err), 0);
    assert_int_equal(fx_count(f->s, "SELECT count(*) FROM team_members"), 2);
    expect_row(f->s, "SELECT * FROM team_members WHERE source = 'api'", "5|100|api|6000");
    m.user_id = 9999;   /* unknown user */
    assert_int_equal(attn_store_upsert_team_member(f->s, &m, &err), ATTN_EDB);
    assert_non_null(strstr(err.msg, "FOREIGN KEY"));
}

static void test_upsert_issue_pr_files(void **state)
{
    fx *f = *state;
    attn_error err;
    attn_issue_row i = {10, 1, 1, 101, "new title", NULL, "closed", 1000, 5000, 5000, 0, 1};
    assert_int_equal(attn_store_upsert_issue(f->s, &i, &err), 0);
    expect_row(f->s, "SELECT * FROM issues WHERE id = 10",
               "10|1|1|101|new title|NULL|closed|1000|5000|5000|0|1");
    /* (repo_id, number) is unique: another id with the same number is refused */
    i.id = 99;
    assert_int_equal(attn_store_upsert_issue(f->s, &i, &err), ATTN_EDB);
    assert_non_null(strstr(err.msg, "issue 99"));

    attn_pull_request_row p;
    memset(&p, 0, sizeof(p));
    p.id = 20; p.repo_id = 1; p.number = 2; p.issue_id = 11; p.user_id = 100;
    p.title = "T"; p.body = "B"; p.state = "closed"; p.draft = -1; p.merged = 1;
    p.merge_commit_sha = "m1"; p.head_sha = "h1"; p.head_ref = "feat"; p.base_sha = "b1";
    p.base_ref = "main"; p.created_at = 1000; p.updated_at = 2000; p.closed_at = 2000;
    p.merged_at = 2000; p.files_truncated = 1;
    assert_int_equal(attn_store_upsert_pull_request(f->s, &p, &err), 0);
    expect_row(f->s, "SELECT * FROM pull_requests WHERE id = 20",
               "20|1|2|11|100|T|B|closed|NULL|1|m1|h1|feat|b1|main|1000|2000|2000|2000|1");
    p.files_truncated = 0;
    assert_int_equal(attn_store_upsert_pull_request(f->s, &p, &err), 0);
    assert_int_equal(fx_count(f->s, "SELECT files_truncated FROM pull_requests WHERE id = 20"), 0);

    attn_pr_file_row fr = {1, 20, "h1", "src/a.c", "renamed", "src/old.c", 3, 1, 4};
    assert_int_equal(attn_store_upsert_pr_file(f->s, &fr, &err), 0);
    fr.additions = 10; fr.changes = 11;
    assert_int_equal(attn_store_upsert_pr_file(f->s, &fr, &err), 0);
    fr.head_sha = "h2";   /* same path at another head is another row */
    assert_int_equal(attn_store_upsert_pr_file(f->s, &fr, &err), 0);
    assert_int_equal(fx_count(f->s, "SELECT count(*) FROM pull_request_files"), 2);
    expect_row(f->s, "SELECT * FROM pull_request_files WHERE head_sha = 'h1'",
               "1|20|h1|src/a.c|renamed|10|1|11|src/old.c");
    fr.pull_request_id = 777;   /* unknown PR */
    assert_int_equal(attn_store_upsert_pr_file(f->s, &fr, &err), ATTN_EDB);
    assert_non_null(strstr(err.msg, "src/a.c"));
}

static void test_upsert_review_comment(void **state)
{
    fx *f = *state;
    attn_error err;
    attn_review_row r = {40, 1, 20, 100, "CHANGES_REQUESTED", "no", "def", 1300};
    assert_int_equal(attn_store_upsert_review(f->s, &r, &err), 0);
    expect_row(f->s, "SELECT * FROM reviews WHERE id = 40", "40|1|20|100|CHANGES_REQUESTED|no|1300|def");
    /* a review for an unknown PR is an error with a message, not a crash */
    r.id = 42; r.pull_request_id = 9999;
    assert_int_equal(attn_store_upsert_review(f->s, &r, &err), ATTN_EDB);
    assert_non_null(strstr(err.msg, "review 42"));
    assert_non_null(strstr(err.msg, "FOREIGN KEY"));
    assert_non_null(strstr(err.msg, f->path));
    assert_null(strchr(err.msg, '\n'));
    assert_int_equal(fx_count(f->s, "SELECT count(*) FROM reviews WHERE id = 42"), 0);

    attn_comment_row c = {31, 1, ATTN_NULL_I64, 20, 40, 101, "edited", 1100, 1500, "b.c", 7,
                          "xyz", 30, "review"};
    assert_int_equal(attn_store_upsert_comment(f->s, &c, &err), 0);
    expect_row(f->s, "SELECT * FROM comments WHERE id = 31",
               "31|1|NULL|20|40|101|edited|1100|1500|b.c|7|xyz|30|review");
    c.comment_type = "diff";
    assert_int_equal(attn_store_upsert_comment(f->s, &c, &err), ATTN_EDB);
}

static void test_upsert_label_milestone_commit_ref_release(void **state)
{
    fx *f = *state;
    attn_error err;
    attn_label_row l = {5, 1, "bug!", "000", "bad", 1};
    assert_int_equal(attn_store_upsert_label(f->s, &l, &err), 0);
    expect_row(f->s, "SELECT * FROM labels WHERE id = 5", "5|1|bug!|000|bad|1");
    l.repo_id = 2;   /* unknown repo */
    assert_int_equal(attn_store_upsert_label(f->s, &l, &err), ATTN_EDB);

    attn_milestone_row m = {7, 1, 7, "v1", "closed", "d", 9000, 8000, 1000, 8000};
    assert_int_equal(attn_store_upsert_milestone(f->s, &m, &err), 0);
    expect_row(f->s, "SELECT * FROM milestones WHERE id = 7", "7|1|7|v1|closed|d|9000|8000|1000|8000");

    attn_commit_row c = {1, "abc", 100, ATTN_NULL_I64, "A", "a@x", "C", "c@x", "msg", 10, 20};
    assert_int_equal(attn_store_upsert_commit(f->s, &c, &err), 0);
    c.message = "msg2";
    assert_int_equal(attn_store_upsert_commit(f->s, &c, &err), 0);
    expect_row(f->s, "SELECT * FROM commits", "1|abc|100|NULL|A|a@x|C|c@x|msg2|10|20");

    attn_ref_row r = {1, "branch", "main", "abc", 1};
    assert_int_equal(attn_store_upsert_ref(f->s, &r, &err), 0);
    r.sha = "def";
    assert_int_equal(attn_store_upsert_ref(f->s, &r, &err), 0);
    r.ref_type = "tag";
    assert_int_equal(attn_store_upsert_ref(f->s, &r, &err), 0);
    assert_int_equal(fx_count(f->s, "SELECT count(*) FROM refs"), 2);
    expect_row(f->s, "SELECT repo_id, ref_type, name, sha, is_protected FROM refs WHERE ref_type = 'branch'",
               "1|branch|main|def|1");
    r.ref_type = "note";
    assert_int_equal(attn_store_upsert_ref(f->s, &r, &err), ATTN_EDB);
    assert_non_null(strstr(err.msg, "note ref 'main'"));

    attn_release_row rel = {70, 1, "v1.0", "One", 0, 1, 100, 200, 100, "notes", "main"};
    assert_int_equal(attn_store_upsert_release(f->s, &rel, &err), 0);
    rel.prerelease = 0; rel.name = NULL;
    assert_int_equal(attn_store_upsert_release(f->s, &rel, &err), 0);
    expect_row(f->s, "SELECT * FROM releases", "70|1|v1.0|NULL|0|0|100|200|100|notes|main");
}

/* ---- events ----------------------------------------------------------------------- */

static void test_event_insert_idempotent(void **state)
{
    fx *f = *state;
    attn_error err;
    int inserted = -1;
    int64_t id1 = 0, id2 = 0;
    attn_event_row e = {1, 5000, 100, "issue", 10, "issue.label.add", "label", 5, NULL,
                        "{\"name\":\"bug\"}", "issue_event:1"};
    assert_int_equal(attn_store_insert_event(f->s, &e, &inserted, &id1, &err), 0);
    assert_int_equal(inserted, 1);
    assert_true(id1 > 0);
    /* the same fact again: no new row, same id */
    e.occurred_at = 6000;   /* even if a later fetch disagrees, the first stays */
    assert_int_equal(attn_store_insert_event(f->s, &e, &inserted, &id2, &err), 0);
    assert_int_equal(inserted, 0);
    assert_int_equal(id2, id1);
    assert_int_equal(fx_count(f->s, "SELECT count(*) FROM events"), 1);
    assert_int_equal(fx_count(f->s, "SELECT occurred_at FROM events"), 5000);
    /* NULL out-pointers are allowed */
    assert_int_equal(attn_store_insert_event(f->s, &e, NULL, NULL, &err), 0);
    /* a different key is a different fact */
    e.event_key = "issue_event:2";
    assert_int_equal(attn_store_insert_event(f->s, &e, &inserted, &id2, &err), 0);
    assert_int_equal(inserted, 1);
    assert_int_equal(id2, id1 + 1);
    assert_int_equal(fx_count(f->s, "SELECT count(*) FROM events"), 2);
    expect_row(f->s, "SELECT * FROM events WHERE id = 1",
               "1|1|5000|100|issue|10|issue.label.add|label|5|NULL|{\"name\":\"bug\"}|issue_event:1");
}

/* One sequence of inserts, with repeated keys and a dropped synthesized
 * event whose key comes back, on a store in bulk mode (a first load) and on
 * one in normal mode: the same answers (inserted, id) at every step and the
 * same rows after; the indexes are back after attn_store_bulk_end. */
static void bulk_sequence(attn_store *s, int bulk_mode, int64_t out[][2], size_t *n_out,
                          char *rows, size_t rows_cap)
{
    static const char *const KEYS[] = {"a", "b", "a", "issue:10:closed:9", "c", "b", "a"};
    attn_error err;
    int bulk = -1, inserted;
    int64_t id, dropped = 0;
    sqlite3_stmt *st;
    size_t n = 0, len = 0;
    assert_int_equal(attn_store_begin(s, &err), 0);
    assert_int_equal(attn_store_bulk_begin(s, &bulk, &err), 0);
    assert_int_equal(bulk, 1);
    if (!bulk_mode) {
        /* the normal path's answers: indexes back, no bulk state */
        assert_int_equal(attn_store_bulk_end(s, &err), 0);
    }
    for (size_t k = 0; k < sizeof(KEYS) / sizeof(KEYS[0]); k++) {
        attn_event_row e = {1, 5000 + (int64_t)k, 100, "issue", 10, "issue.closed", NULL,
                            ATTN_NULL_I64, NULL,
                            k == 3 ? "{\"synthesized\":true}" : NULL, KEYS[k]};
        assert_int_equal(attn_store_insert_event(s, &e, &inserted, &id, &err), 0);
        out[n][0] = inserted;
        out[n++][1] = id;
        if (k == 3) {
            /* the real close arrives: the synthesized one goes, its key may return */
            assert_int_equal(attn_store_drop_synthesized(s, "issue", 10, "issue.closed", &dropped,
                                                         &err), 0);
            assert_int_equal(dropped, 1);
            assert_int_equal(attn_store_insert_event(s, &e, &inserted, &id, &err), 0);
            out[n][0] = inserted;
            out[n++][1] = id;
        }
    }
    if (bulk_mode)
        assert_int_equal(attn_store_bulk_end(s, &err), 0);
    assert_int_equal(attn_store_commit(s, &err), 0);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND"
                                 " name IN ('ux_events_event_key', 'ix_events_subject',"
                                 " 'ix_events_repo_time')"),
                     3);
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(s),
                                        "SELECT group_concat(id || ':' || event_key || ':' ||"
                                        " occurred_at, ' ') FROM (SELECT * FROM events ORDER BY id)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    len = (size_t)snprintf(rows, rows_cap, "%s", (const char *)sqlite3_column_text(st, 0));
    assert_true(len < rows_cap);
    sqlite3_finalize(st);
    *n_out = n;
}

static void test_event_bulk_load(void **state)
{
    fx *f = *state;
    char path[600], rows_bulk[512], rows_normal[512];
    attn_store *b = NULL;
    attn_error err;
    int64_t got_bulk[16][2], got_normal[16][2];
    size_t nb = 0, nn = 0;
    snprintf(path, sizeof(path), "%s/bulk.sqlite", f->dir);
    assert_int_equal(attn_store_open(path, &b, &err), 0);
    fx_populate(b);
    bulk_sequence(b, 1, got_bulk, &nb, rows_bulk, sizeof(rows_bulk));
    bulk_sequence(f->s, 0, got_normal, &nn, rows_normal, sizeof(rows_normal));
    assert_int_equal(nb, nn);
    for (size_t k = 0; k < nb; k++) {
        assert_int_equal(got_bulk[k][0], got_normal[k][0]);
        assert_int_equal(got_bulk[k][1], got_normal[k][1]);
    }
    assert_string_equal(rows_bulk, rows_normal);
    /* ids as SQLite gives them: the dropped row's id is taken again */
    assert_string_equal(rows_bulk, "1:a:5000 2:b:5001 3:issue:10:closed:9:5003 4:c:5004");
    /* the unique index holds again: a repeated key after the load is no new row */
    {
        attn_event_row e = {1, 1, 100, "issue", 10, "issue.closed", NULL, ATTN_NULL_I64, NULL,
                            NULL, "c"};
        int inserted = -1;
        int64_t id = 0;
        assert_int_equal(attn_store_insert_event(b, &e, &inserted, &id, &err), 0);
        assert_int_equal(inserted, 0);
        assert_int_equal(id, 4);
    }
    /* a store that holds events gets no bulk load */
    {
        int bulk = -1;
        assert_int_equal(attn_store_begin(b, &err), 0);
        assert_int_equal(attn_store_bulk_begin(b, &bulk, &err), 0);
        assert_int_equal(bulk, 0);
        assert_int_equal(attn_store_rollback(b), 0);
    }
    attn_store_close(b);
}

/* A first load that fails rolls back: the indexes are there again and the
 * handle is back on the normal path (its upsert needs the unique index). */
static void test_event_bulk_rollback(void **state)
{
    fx *f = *state;
    attn_error err;
    int bulk = -1, inserted = -1;
    int64_t id = 0;
    attn_event_row e = {1, 5000, 100, "issue", 10, "issue.closed", NULL, ATTN_NULL_I64, NULL,
                        NULL, "k"};
    assert_int_equal(attn_store_begin(f->s, &err), 0);
    assert_int_equal(attn_store_bulk_begin(f->s, &bulk, &err), 0);
    assert_int_equal(bulk, 1);
    assert_int_equal(fx_count(f->s, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND"
                                    " tbl_name = 'events'"),
                     0);
    assert_int_equal(attn_store_insert_event(f->s, &e, &inserted, &id, &err), 0);
    assert_int_equal(inserted, 1);
    assert_int_equal(attn_store_rollback(f->s), 0);
    assert_int_equal(fx_count(f->s, "SELECT count(*) FROM events"), 0);
    assert_int_equal(fx_count(f->s, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND"
                                    " tbl_name = 'events'"),
                     3);
    assert_int_equal(attn_store_insert_event(f->s, &e, &inserted, &id, &err), 0);
    assert_int_equal(inserted, 1);
    assert_int_equal(attn_store_insert_event(f->s, &e, &inserted, &id, &err), 0);
    assert_int_equal(inserted, 0);
    assert_int_equal(fx_count(f->s, "SELECT count(*) FROM events"), 1);
}

static void test_event_bad_input(void **state)
{
    fx *f = *state;
    attn_error err;
    int inserted = 7;
    attn_event_row e = {1, 5000, ATTN_NULL_I64, "issue", 10, "issue.closed", NULL,
                        ATTN_NULL_I64, NULL, NULL, NULL};
    assert_int_equal(attn_store_insert_event(f->s, &e, &inserted, NULL, &err), ATTN_EINVAL);
    assert_int_equal(inserted, 0);
    e.event_key = "k";
    e.occurred_at = ATTN_NULL_I64;
    assert_int_equal(attn_store_insert_event(f->s, &e, NULL, NULL, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "occurred_at"));
    e.occurred_at = 1;
    e.actor_id = 4242;   /* unknown user */
    assert_int_equal(attn_store_insert_event(f->s, &e, NULL, NULL, &err), ATTN_EDB);
    assert_non_null(strstr(err.msg, "event 'k'"));
    assert_int_equal(fx_count(f->s, "SELECT count(*) FROM events"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_current_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_file_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_sqlite_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_version_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repo_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upsert_repo_user_team, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upsert_issue_pr_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upsert_review_comment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upsert_label_milestone_commit_ref_release, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_event_insert_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_bulk_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_bulk_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
