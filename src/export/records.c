/*
 * records.c - evaluation records in PostgreSQL (see records.h).
 *
 * A run becomes one eval_runs row and one eval_samples row per (PR, router,
 * policy). Both the script and the direct load stage the samples in a
 * temporary table, delete the run's samples that are no longer there, and
 * upsert the rest with "DO UPDATE ... WHERE row IS DISTINCT FROM", so a
 * second identical load touches nothing.
 */
#include "export/records.h"
#include "util/alloc.h"
#include "export/run_export.h"
#include "export/table.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/path.h"
#include "util/time.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

/* db/migrations/0001_eval_records.sql, byte for byte (t_records checks). */
static const char MIGRATION_0001[] =
    "-- 0001_eval_records.sql - attn evaluation records (contract attn.records.v1).\n"
    "-- eval_runs: one row per evaluation run; eval_samples: one row per\n"
    "-- (run, PR, router, policy). Views: eval_headline (per run, router, policy\n"
    "-- over observed truth) and eval_router_leaderboard (across runs).\n"
    "-- Safe to apply again: every statement is IF NOT EXISTS / OR REPLACE.\n"
    "CREATE TABLE IF NOT EXISTS attn_schema_migrations (\n"
    "    version integer PRIMARY KEY,\n"
    "    name text NOT NULL,\n"
    "    applied_at timestamptz NOT NULL DEFAULT now()\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS eval_runs (\n"
    "    run_id text PRIMARY KEY CHECK (run_id ~ '^[A-Za-z0-9._-]{1,128}$'),\n"
    "    repo text NOT NULL CHECK (repo ~ '^[A-Za-z0-9._-]+/[A-Za-z0-9._-]+$'),\n"
    "    report_version text NOT NULL,\n"
    "    primary_policy text,\n"
    "    n_prs integer NOT NULL CHECK (n_prs >= 0),\n"
    "    routers text[] NOT NULL,\n"
    "    headline jsonb NOT NULL,\n"
    "    report_sha256 text NOT NULL CHECK (report_sha256 ~ '^[0-9a-f]{64}$')\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS eval_samples (\n"
    "    run_id text NOT NULL REFERENCES eval_runs (run_id) ON DELETE CASCADE,\n"
    "    pr_number bigint NOT NULL CHECK (pr_number > 0),\n"
    "    router text NOT NULL,\n"
    "    policy text NOT NULL,\n"
    "    cutoff timestamptz,\n"
    "    truth_status text,\n"
    "    n_truth_targets integer NOT NULL CHECK (n_truth_targets >= 0),\n"
    "    first_hit_rank integer CHECK (first_hit_rank IS NULL OR first_hit_rank >= 1),\n"
    "    hit_at_1 boolean,\n"
    "    hit_at_3 boolean,\n"
    "    hit_at_5 boolean,\n"
    "    reciprocal_rank double precision\n"
    "        CHECK (reciprocal_rank IS NULL OR (reciprocal_rank >= 0 AND reciprocal_rank <= 1)),\n"
    "    top1 text,\n"
    "    n_candidates integer NOT NULL CHECK (n_candidates >= 0),\n"
    "    PRIMARY KEY (run_id, pr_number, router, policy),\n"
    "    CHECK ((truth_status = 'observed') = (reciprocal_rank IS NOT NULL))\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS ix_eval_samples_router_policy ON eval_samples (router, policy);\n"
    "CREATE OR REPLACE VIEW eval_headline AS\n"
    "    SELECT run_id, router, policy,\n"
    "           count(*) AS n,\n"
    "           count(*) FILTER (WHERE truth_status = 'observed') AS n_observed,\n"
    "           avg(hit_at_1::int) FILTER (WHERE truth_status = 'observed') AS hit_at_1,\n"
    "           avg(hit_at_3::int) FILTER (WHERE truth_status = 'observed') AS hit_at_3,\n"
    "           avg(hit_at_5::int) FILTER (WHERE truth_status = 'observed') AS hit_at_5,\n"
    "           avg(reciprocal_rank) FILTER (WHERE truth_status = 'observed') AS mrr\n"
    "    FROM eval_samples GROUP BY run_id, router, policy;\n"
    "CREATE OR REPLACE VIEW eval_router_leaderboard AS\n"
    "    SELECT h.router, h.policy,\n"
    "           count(DISTINCT h.run_id) AS runs,\n"
    "           sum(h.n_observed) AS n_observed,\n"
    "           sum(h.hit_at_1 * h.n_observed) / nullif(sum(h.n_observed), 0) AS hit_at_1,\n"
    "           sum(h.mrr * h.n_observed) / nullif(sum(h.n_observed), 0) AS mrr,\n"
    "           rank() OVER (PARTITION BY h.policy\n"
    "                        ORDER BY sum(h.mrr * h.n_observed) / nullif(sum(h.n_observed), 0) DESC NULLS LAST)\n"
    "               AS mrr_rank\n"
    "    FROM eval_headline h GROUP BY h.router, h.policy;\n"
    "INSERT INTO attn_schema_migrations (version, name) VALUES (1, 'eval_runs, eval_samples, views')\n"
    "    ON CONFLICT (version) DO NOTHING;\n";

static const char *const MIGRATIONS[] = {MIGRATION_0001};

const char *attn_records_migration(int n)
{
    return n >= 1 && n <= attn_records_n_migrations() ? MIGRATIONS[n - 1] : NULL;
}

int attn_records_n_migrations(void)
{
    return (int)(sizeof(MIGRATIONS) / sizeof(MIGRATIONS[0]));
}

#define SAMPLE_COLS                                                                            \
    "run_id, pr_number, router, policy, cutoff, truth_status, n_truth_targets, first_hit_rank,"  \
    " hit_at_1, hit_at_3, hit_at_5, reciprocal_rank, top1, n_candidates"
#define N_SAMPLE_COLS 14

static const char STAGE_SQL[] =
    "CREATE TEMP TABLE IF NOT EXISTS attn_stage (LIKE eval_samples) ON COMMIT DROP;\n"
    "TRUNCATE attn_stage;\n";

/* After staging run $1's samples: drop the vanished ones, upsert the rest. */
static const char MERGE_SQL[] =
    "DELETE FROM eval_samples s WHERE s.run_id = %s AND NOT EXISTS (SELECT 1 FROM attn_stage t"
    " WHERE t.pr_number = s.pr_number AND t.router = s.router AND t.policy = s.policy);\n"
    "INSERT INTO eval_samples (" SAMPLE_COLS ") SELECT " SAMPLE_COLS " FROM attn_stage"
    " ON CONFLICT (run_id, pr_number, router, policy) DO UPDATE SET cutoff = EXCLUDED.cutoff,"
    " truth_status = EXCLUDED.truth_status, n_truth_targets = EXCLUDED.n_truth_targets,"
    " first_hit_rank = EXCLUDED.first_hit_rank, hit_at_1 = EXCLUDED.hit_at_1,"
    " hit_at_3 = EXCLUDED.hit_at_3, hit_at_5 = EXCLUDED.hit_at_5,"
    " reciprocal_rank = EXCLUDED.reciprocal_rank, top1 = EXCLUDED.top1,"
    " n_candidates = EXCLUDED.n_candidates"
    " WHERE (eval_samples.cutoff, eval_samples.truth_status, eval_samples.n_truth_targets,"
    " eval_samples.first_hit_rank, eval_samples.hit_at_1, eval_samples.hit_at_3,"
    " eval_samples.hit_at_5, eval_samples.reciprocal_rank, eval_samples.top1,"
    " eval_samples.n_candidates) IS DISTINCT FROM (EXCLUDED.cutoff, EXCLUDED.truth_status,"
    " EXCLUDED.n_truth_targets, EXCLUDED.first_hit_rank, EXCLUDED.hit_at_1, EXCLUDED.hit_at_3,"
    " EXCLUDED.hit_at_5, EXCLUDED.reciprocal_rank, EXCLUDED.top1, EXCLUDED.n_candidates);\n";

static const char RUN_UPSERT[] =
    "INSERT INTO eval_runs (run_id, repo, report_version, primary_policy, n_prs, routers, headline,"
    " report_sha256) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (run_id) DO UPDATE SET repo = EXCLUDED.repo,"
    " report_version = EXCLUDED.report_version, primary_policy = EXCLUDED.primary_policy,"
    " n_prs = EXCLUDED.n_prs, routers = EXCLUDED.routers, headline = EXCLUDED.headline,"
    " report_sha256 = EXCLUDED.report_sha256"
    " WHERE (eval_runs.repo, eval_runs.report_version, eval_runs.primary_policy, eval_runs.n_prs,"
    " eval_runs.routers, eval_runs.headline, eval_runs.report_sha256) IS DISTINCT FROM"
    " (EXCLUDED.repo, EXCLUDED.report_version, EXCLUDED.primary_policy, EXCLUDED.n_prs,"
    " EXCLUDED.routers, EXCLUDED.headline, EXCLUDED.report_sha256);\n";

/* ---- runs ---- */

typedef struct {
    const char *run_id;
    char dir[4400];
    char sha[65];
    json_t *report;
    json_t *headline;     /* {router: metrics of the primary policy's headline slice} */
    int64_t n_samples;
} run_info;

static void run_free(run_info *ri)
{
    json_decref(ri->report);
    json_decref(ri->headline);
    ri->report = ri->headline = NULL;
}

static int count_row(void *ctx, const attn_run_route_row *row, attn_error *err)
{
    (void)row;
    (void)err;
    (*(int64_t *)ctx)++;
    return 0;
}

static int run_dir_of(const char *data_dir, const char *repo, const char *run_id, char *out, size_t cap,
                      attn_error *err)
{
    char owner[ATTN_NAME_MAX + 1], name[ATTN_NAME_MAX + 1];
    int rc;
    if ((rc = attn_path_parse_repo(repo, owner, name, err)) || (rc = attn_path_check_id(run_id, "RUN_ID", err)))
        return rc;
    snprintf(out, cap, "%s/github/%s/%s/eval/%s", data_dir, owner, name, run_id);
    return 0;
}

/* Read and validate a whole run (report.json and every per_pr.jsonl line). */
static int load_run(const char *data_dir, const char *repo, const char *run_id, run_info *ri,
                    attn_error *err)
{
    char path[4600];
    attn_buf b = ATTN_BUF_INIT;
    json_error_t je;
    const char *primary, *slice;
    size_t i;
    json_t *r;
    int rc;

    memset(ri, 0, sizeof(*ri));
    ri->run_id = run_id;
    if ((rc = run_dir_of(data_dir, repo, run_id, ri->dir, sizeof(ri->dir), err)))
        return rc;
    if (!attn_fs_exists(ri->dir))
        return attn_error_set(err, ATTN_ENOTFOUND, "no run %s for %s (%s); see 'attn runs list'", run_id,
                              repo, ri->dir);
    snprintf(path, sizeof(path), "%s/report.json", ri->dir);
    if ((rc = attn_fs_read_file(path, &b, err)))
        return attn_error_wrap(err, "run %s is incomplete", run_id);
    ri->report = json_loadb(b.ptr ? b.ptr : "", b.len, 0, &je);
    attn_export_hash_file(path, ri->sha, NULL, err);
    attn_buf_free(&b);
    if (!ri->report)
        return attn_error_set(err, ATTN_ECORRUPT, "%s: line %d: %s", path, je.line, je.text);
    if (strcmp(json_string_value(json_object_get(ri->report, "run_id")) ?: "", run_id) ||
        strcmp(json_string_value(json_object_get(ri->report, "repo")) ?: "", repo) ||
        !json_is_array(json_object_get(ri->report, "routers")))
        return attn_error_set(err, ATTN_ECORRUPT,
                              "%s is not the report of run %s of %s (run_id, repo or routers differ)", path,
                              run_id, repo);
    primary = json_string_value(json_object_get(ri->report, "primary_policy"));
    slice = json_string_value(json_object_get(ri->report, "headline_slice"));
    ri->headline = json_object();
    json_array_foreach(json_object_get(ri->report, "routers"), i, r) {
        const char *name = json_string_value(json_object_get(r, "name"));
        json_t *m = json_object_get(json_object_get(json_object_get(json_object_get(ri->report, "metrics"),
                                                                    primary ? primary : ""),
                                                    name ? name : ""),
                                    slice ? slice : "observed");
        if (!name)
            return attn_error_set(err, ATTN_ECORRUPT, "%s: router %zu has no name", path, i + 1);
        m = json_is_object(m) ? json_deep_copy(m) : json_object();
        json_object_del(m, "ci95");
        json_object_set_new(ri->headline, name, m);
    }
    rc = attn_run_each_route(ri->dir, run_id, count_row, &ri->n_samples, err);
    return rc ? attn_error_wrap(err, "run %s", run_id) : 0;
}

/* ---- values ---- */

/* A sample's 14 values as text (NULL for SQL NULL), in SAMPLE_COLS order. */
typedef struct {
    char pr[24], cutoff[ATTN_TIME_BUFSZ], nt[24], rank[24], rr[40], nc[24];
    const char *v[N_SAMPLE_COLS];
} sample_text;

static void sample_values(const char *run_id, const attn_run_route_row *r, sample_text *t)
{
    int64_t k = r->first_hit_rank;
    snprintf(t->pr, sizeof(t->pr), "%lld", (long long)r->pr);
    snprintf(t->nt, sizeof(t->nt), "%lld", (long long)r->n_truth_targets);
    snprintf(t->rank, sizeof(t->rank), "%lld", (long long)k);
    snprintf(t->rr, sizeof(t->rr), "%.17g", k > 0 ? 1.0 / (double)k : 0.0);
    snprintf(t->nc, sizeof(t->nc), "%lld", (long long)r->n_candidates);
    t->v[0] = run_id, t->v[1] = t->pr, t->v[2] = r->router, t->v[3] = r->policy;
    t->v[4] = r->has_cutoff ? attn_time_format(r->cutoff, t->cutoff) : NULL;
    t->v[5] = r->truth_status, t->v[6] = t->nt, t->v[7] = k > 0 ? t->rank : NULL;
    t->v[8] = r->observed ? (k == 1 ? "t" : "f") : NULL;
    t->v[9] = r->observed ? (k > 0 && k <= 3 ? "t" : "f") : NULL;
    t->v[10] = r->observed ? (k > 0 && k <= 5 ? "t" : "f") : NULL;
    t->v[11] = r->observed ? t->rr : NULL;
    t->v[12] = r->top1, t->v[13] = t->nc;
}

/* A SQL literal (standard_conforming_strings: only ' is special), or NULL. */
static void put_literal(attn_buf *b, const char *s)
{
    if (!s) {
        attn_buf_puts(b, "NULL");
        return;
    }
    attn_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            attn_buf_putc(b, '\'');
        attn_buf_putc(b, *s);
    }
    attn_buf_putc(b, '\'');
}

/* A field of COPY's text format. */
static void put_copy(attn_buf *b, const char *s)
{
    if (!s) {
        attn_buf_puts(b, "\\N");
        return;
    }
    for (; *s; s++) {
        switch (*s) {
        case '\\': attn_buf_puts(b, "\\\\"); break;
        case '\t': attn_buf_puts(b, "\\t"); break;
        case '\n': attn_buf_puts(b, "\\n"); break;
        case '\r': attn_buf_puts(b, "\\r"); break;
        default: attn_buf_putc(b, *s);
        }
    }
}

/* The eval_runs upsert of a loaded run. */
static int run_upsert_sql(const char *repo, const run_info *ri, attn_buf *out)
{
    attn_buf v[8] = {ATTN_BUF_INIT, ATTN_BUF_INIT, ATTN_BUF_INIT, ATTN_BUF_INIT,
                     ATTN_BUF_INIT, ATTN_BUF_INIT, ATTN_BUF_INIT, ATTN_BUF_INIT};
    char n[24], *head = json_dumps(ri->headline, JSON_SORT_KEYS | JSON_COMPACT);
    size_t i;
    json_t *r;
    int rc;

    snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(json_object_get(ri->report, "n")));
    put_literal(&v[0], ri->run_id);
    put_literal(&v[1], repo);
    put_literal(&v[2], json_string_value(json_object_get(ri->report, "version")) ?: "unknown");
    put_literal(&v[3], json_string_value(json_object_get(ri->report, "primary_policy")));
    put_literal(&v[4], n);
    attn_buf_puts(&v[5], "ARRAY[");
    json_array_foreach(json_object_get(ri->report, "routers"), i, r) {
        if (i)
            attn_buf_putc(&v[5], ',');
        put_literal(&v[5], json_string_value(json_object_get(r, "name")));
    }
    attn_buf_puts(&v[5], "]::text[]");
    put_literal(&v[6], head ? head : "{}");
    attn_buf_puts(&v[6], "::jsonb");
    put_literal(&v[7], ri->sha);
    rc = attn_buf_printf(out, RUN_UPSERT, attn_buf_cstr(&v[0]), attn_buf_cstr(&v[1]), attn_buf_cstr(&v[2]),
                         attn_buf_cstr(&v[3]), attn_buf_cstr(&v[4]), attn_buf_cstr(&v[5]),
                         attn_buf_cstr(&v[6]), attn_buf_cstr(&v[7]));
    for (i = 0; i < 8; i++)
        attn_buf_free(&v[i]);
    free(head);
    return rc;
}

static int merge_sql(const char *run_id, attn_buf *out)
{
    attn_buf lit = ATTN_BUF_INIT;
    int rc;
    put_literal(&lit, run_id);
    rc = attn_buf_printf(out, MERGE_SQL, attn_buf_cstr(&lit));
    attn_buf_free(&lit);
    return rc;
}

/* ---- the SQL script ---- */

typedef struct {
    FILE *out;
    const char *run_id;
    attn_buf line;
    int64_t in_stmt;   /* rows in the open INSERT */
} script_ctx;

static int script_row(void *vc, const attn_run_route_row *r, attn_error *err)
{
    script_ctx *c = vc;
    sample_text t;
    sample_values(c->run_id, r, &t);
    attn_buf_clear(&c->line);
    attn_buf_puts(&c->line, c->in_stmt ? ",\n(" : "INSERT INTO attn_stage (" SAMPLE_COLS ") VALUES\n(");
    for (int i = 0; i < N_SAMPLE_COLS; i++) {
        if (i)
            attn_buf_putc(&c->line, ',');
        put_literal(&c->line, t.v[i]);
    }
    attn_buf_putc(&c->line, ')');
    if (++c->in_stmt == 500) {
        attn_buf_puts(&c->line, ";\n");
        c->in_stmt = 0;
    }
    if (fwrite(c->line.ptr, 1, c->line.len, c->out) != c->line.len)
        return attn_error_set(err, ATTN_EIO, "writing the SQL script failed");
    return 0;
}

int attn_records_sql(const char *data_dir, const char *repo, char *const *run_ids, int n, FILE *out,
                     attn_error *err)
{
    run_info *runs = attn_xcalloc((size_t)(n > 0 ? n : 1), sizeof(*runs));
    attn_buf b = ATTN_BUF_INIT;
    int rc = 0, loaded = 0;

    for (; loaded < n && !rc; loaded++) /* everything is validated before a byte is written */
        rc = load_run(data_dir, repo, run_ids[loaded], &runs[loaded], err);
    if (!rc) {
        fprintf(out, "-- attn records sql: evaluation records of %s (contract %s), %d run(s).\n"
                     "-- One transaction; loading it again changes nothing.\n"
                     "BEGIN;\nSET LOCAL standard_conforming_strings = on;\nSET LOCAL client_min_messages = warning;\n",
                repo, ATTN_RECORDS_CONTRACT, n);
        for (int m = 1; m <= attn_records_n_migrations(); m++)
            fputs(attn_records_migration(m), out);
    }
    for (int i = 0; i < n && !rc; i++) {
        script_ctx c = {out, runs[i].run_id, ATTN_BUF_INIT, 0};
        attn_buf_clear(&b);
        fprintf(out, "\n-- run %s: %lld samples\n", runs[i].run_id, (long long)runs[i].n_samples);
        run_upsert_sql(repo, &runs[i], &b);
        fputs(attn_buf_cstr(&b), out);
        fputs(STAGE_SQL, out);
        rc = attn_run_each_route(runs[i].dir, runs[i].run_id, script_row, &c, err);
        if (c.in_stmt)
            fputs(";\n", out);
        attn_buf_free(&c.line);
        attn_buf_clear(&b);
        merge_sql(runs[i].run_id, &b);
        fputs(attn_buf_cstr(&b), out);
    }
    if (!rc)
        fputs("COMMIT;\n", out);
    if (!rc && (fflush(out) != 0 || ferror(out)))
        rc = attn_error_set(err, ATTN_EIO, "writing the SQL script failed");
    for (int i = 0; i < loaded; i++)
        run_free(&runs[i]);
    free(runs);
    attn_buf_free(&b);
    return rc;
}

/* ---- libpq ---- */

/* A URL for messages: the password, if any, is not shown. */
static void safe_url(const char *url, char *out, size_t cap)
{
    const char *at = strchr(url, '@'), *scheme = strstr(url, "://");
    if (at && scheme && scheme < at)
        snprintf(out, cap, "%.*s***%s", (int)(scheme + 3 - url), url, at);
    else
        snprintf(out, cap, "%s", url);
}

static int pg_connect(const char *url, PGconn **out, attn_error *err)
{
    char shown[1024];
    PGconn *c = PQconnectdb(url);
    *out = NULL;
    if (!c || PQstatus(c) != CONNECTION_OK) {
        safe_url(url, shown, sizeof(shown));
        attn_error_set(err, ATTN_EIO, "cannot connect to PostgreSQL at %s: %s", shown,
                       c ? strtok(PQerrorMessage(c), "\n") : "out of memory");
        PQfinish(c);
        return ATTN_EIO;
    }
    *out = c;
    return 0;
}

/* Run sql (may hold several statements); fail with PostgreSQL's message. */
static int pg_exec(PGconn *c, const char *sql, const char *what, attn_error *err)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        const char *msg = PQresultErrorMessage(r);
        attn_error_set(err, ATTN_EDB, "PostgreSQL: %s: %.*s", what, (int)strcspn(msg, "\n"), msg);
        rc = ATTN_EDB;
    }
    PQclear(r);
    return rc;
}

typedef struct {
    PGconn *c;
    const char *run_id;
    attn_buf buf;
} copy_ctx;

static int copy_flush(copy_ctx *c, attn_error *err)
{
    if (c->buf.len && PQputCopyData(c->c, c->buf.ptr, (int)c->buf.len) != 1)
        return attn_error_set(err, ATTN_EDB, "PostgreSQL: COPY: %s", PQerrorMessage(c->c));
    attn_buf_clear(&c->buf);
    return 0;
}

static int copy_row(void *vc, const attn_run_route_row *r, attn_error *err)
{
    copy_ctx *c = vc;
    sample_text t;
    sample_values(c->run_id, r, &t);
    for (int i = 0; i < N_SAMPLE_COLS; i++) {
        if (i)
            attn_buf_putc(&c->buf, '\t');
        put_copy(&c->buf, t.v[i]);
    }
    attn_buf_putc(&c->buf, '\n');
    return c->buf.len >= (1u << 16) ? copy_flush(c, err) : 0;
}

/* COPY the run's samples into attn_stage. */
static int copy_samples(PGconn *c, const run_info *ri, attn_error *err)
{
    copy_ctx cc = {c, ri->run_id, ATTN_BUF_INIT};
    PGresult *r = PQexec(c, "COPY attn_stage (" SAMPLE_COLS ") FROM STDIN");
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        PQclear(r);
        return attn_error_set(err, ATTN_EDB, "PostgreSQL: COPY: %s", PQerrorMessage(c));
    }
    PQclear(r);
    rc = attn_run_each_route(ri->dir, ri->run_id, copy_row, &cc, err);
    if (!rc)
        rc = copy_flush(&cc, err);
    attn_buf_free(&cc.buf);
    if (PQputCopyEnd(c, rc ? "attn: aborted" : NULL) != 1 && !rc)
        rc = attn_error_set(err, ATTN_EDB, "PostgreSQL: COPY: %s", PQerrorMessage(c));
    while ((r = PQgetResult(c))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && !rc) {
            const char *msg = PQresultErrorMessage(r);
            rc = attn_error_set(err, ATTN_EDB, "PostgreSQL: COPY of run %s: %.*s", ri->run_id,
                                (int)strcspn(msg, "\n"), msg);
        }
        PQclear(r);
    }
    return rc;
}

static int push_run(PGconn *c, const char *repo, const run_info *ri, attn_error *err)
{
    attn_buf b = ATTN_BUF_INIT;
    int rc = pg_exec(c, "BEGIN", "BEGIN", err);
    if (!rc) {
        run_upsert_sql(repo, ri, &b);
        attn_buf_puts(&b, STAGE_SQL);
        rc = pg_exec(c, attn_buf_cstr(&b), "eval_runs upsert", err);
    }
    if (!rc)
        rc = copy_samples(c, ri, err);
    if (!rc) {
        attn_buf_clear(&b);
        merge_sql(ri->run_id, &b);
        rc = pg_exec(c, attn_buf_cstr(&b), "eval_samples upsert", err);
    }
    if (!rc)
        rc = pg_exec(c, "COMMIT", "COMMIT", err);
    if (rc) {
        attn_error scratch;
        pg_exec(c, "ROLLBACK", "ROLLBACK", &scratch);
        attn_error_wrap(err, "run %s (nothing of it was written)", ri->run_id);
    }
    attn_buf_free(&b);
    return rc;
}

static int pg_migrate(PGconn *c, attn_error *err)
{
    attn_buf b = ATTN_BUF_INIT;
    int rc;
    attn_buf_puts(&b, "SET client_min_messages = warning; SET standard_conforming_strings = on; BEGIN;\n");
    for (int m = 1; m <= attn_records_n_migrations(); m++)
        attn_buf_puts(&b, attn_records_migration(m));
    attn_buf_puts(&b, "COMMIT;");
    rc = pg_exec(c, attn_buf_cstr(&b), "migrations", err);
    if (rc) {
        attn_error scratch;
        pg_exec(c, "ROLLBACK", "ROLLBACK", &scratch);
    }
    attn_buf_free(&b);
    return rc;
}

int attn_records_push(const char *data_dir, const char *repo, char *const *run_ids, int n,
                      const char *pg_url, int quiet, json_t **summary, attn_error *err)
{
    run_info *runs = attn_xcalloc((size_t)(n > 0 ? n : 1), sizeof(*runs));
    PGconn *c = NULL;
    json_t *list = json_array();
    int rc = 0, loaded = 0;

    *summary = NULL;
    for (; loaded < n && !rc; loaded++)
        rc = load_run(data_dir, repo, run_ids[loaded], &runs[loaded], err);
    if (!rc)
        rc = pg_connect(pg_url, &c, err);
    if (!rc)
        rc = pg_migrate(c, err);
    for (int i = 0; i < n && !rc; i++) {
        if (!(rc = push_run(c, repo, &runs[i], err))) {
            json_array_append_new(list, json_pack("{s:s, s:I}", "run_id", runs[i].run_id, "samples",
                                                  (json_int_t)runs[i].n_samples));
            if (!quiet)
                fprintf(stderr, "records push: run %s: %lld samples\n", runs[i].run_id,
                        (long long)runs[i].n_samples);
        }
    }
    PQfinish(c);
    for (int i = 0; i < loaded; i++)
        run_free(&runs[i]);
    free(runs);
    if (rc) {
        json_decref(list);
        return rc;
    }
    *summary = json_pack("{s:s, s:s, s:o}", "contract_version", ATTN_RECORDS_CONTRACT, "repo", repo,
                         "runs", list);
    return 0;
}

/* ---- the contract check ---- */

static const char *const RUN_COLS[] = {"run_id", "repo", "report_version", "primary_policy", "n_prs",
                                       "routers", "headline", "report_sha256", NULL};
static const char *const SAMPLE_COL_NAMES[] = {
    "run_id", "pr_number", "router", "policy", "cutoff", "truth_status", "n_truth_targets",
    "first_hit_rank", "hit_at_1", "hit_at_3", "hit_at_5", "reciprocal_rank", "top1", "n_candidates", NULL};

static void add_check(json_t *checks, int *ok, const char *name, int pass, const char *detail)
{
    json_array_append_new(checks, json_pack("{s:s, s:b, s:s}", "name", name, "ok", pass, "detail", detail));
    if (!pass)
        *ok = 0;
}

/* One-column query with an optional text parameter; rows into a JSON array of strings. */
static int pg_strings(PGconn *c, const char *sql, const char *param, json_t **out, attn_error *err)
{
    PGresult *r = PQexecParams(c, sql, param ? 1 : 0, NULL, param ? &param : NULL, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *msg = PQresultErrorMessage(r);
        attn_error_set(err, ATTN_EDB, "PostgreSQL: %.*s", (int)strcspn(msg, "\n"), msg);
        PQclear(r);
        return ATTN_EDB;
    }
    *out = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(*out, json_string(PQgetisnull(r, i, 0) ? "" : PQgetvalue(r, i, 0)));
    PQclear(r);
    return 0;
}

static int has_string(const json_t *a, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) if (!strcmp(json_string_value(v), s)) return 1;
    return 0;
}

static int check_table(PGconn *c, const char *table, const char *const *cols, json_t *checks, int *ok,
                       attn_error *err)
{
    json_t *have = NULL;
    attn_buf missing = ATTN_BUF_INIT;
    char name[128];
    int rc = pg_strings(c,
                        "SELECT column_name::text FROM information_schema.columns WHERE table_schema ="
                        " current_schema() AND table_name = $1",
                        table, &have, err);
    if (rc)
        return rc;
    for (int i = 0; cols[i]; i++)
        if (!has_string(have, cols[i]))
            attn_buf_printf(&missing, "%s%s", missing.len ? ", " : "", cols[i]);
    snprintf(name, sizeof(name), "table %s", table);
    if (json_array_size(have) == 0)
        add_check(checks, ok, name, 0, "missing; run 'attn records push' to create it");
    else
        add_check(checks, ok, name, missing.len == 0,
                  missing.len ? attn_buf_cstr(&missing) : "all contract columns present");
    attn_buf_free(&missing);
    json_decref(have);
    return 0;
}

static int check_constraints(PGconn *c, json_t *checks, int *ok, attn_error *err)
{
    json_t *cons = NULL;
    int rc = pg_strings(c,
                        "SELECT conrelid::regclass::text || ':' || contype::text FROM pg_constraint WHERE"
                        " conrelid::regclass::text IN ('eval_runs', 'eval_samples') ORDER BY 1",
                        NULL, &cons, err);
    if (rc)
        return rc;
    add_check(checks, ok, "eval_runs primary key", has_string(cons, "eval_runs:p"), "PRIMARY KEY (run_id)");
    add_check(checks, ok, "eval_samples primary key", has_string(cons, "eval_samples:p"),
              "PRIMARY KEY (run_id, pr_number, router, policy)");
    add_check(checks, ok, "eval_samples foreign key", has_string(cons, "eval_samples:f"),
              "run_id REFERENCES eval_runs");
    add_check(checks, ok, "check constraints", has_string(cons, "eval_samples:c") && has_string(cons, "eval_runs:c"),
              "value checks on both tables");
    json_decref(cons);
    return 0;
}

static int check_runs(PGconn *c, const char *data_dir, const char *repo, json_t *runs, int *ok, attn_error *err)
{
    const char *p = repo;
    PGresult *r = PQexecParams(c,
                               "SELECT r.run_id, r.report_sha256, (SELECT count(*) FROM eval_samples s"
                               " WHERE s.run_id = r.run_id) FROM eval_runs r WHERE r.repo = $1 ORDER BY 1",
                               1, NULL, &p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *msg = PQresultErrorMessage(r);
        attn_error_set(err, ATTN_EDB, "PostgreSQL: %.*s", (int)strcspn(msg, "\n"), msg);
        PQclear(r);
        return ATTN_EDB;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        const char *id = PQgetvalue(r, i, 0);
        long long in_db = atoll(PQgetvalue(r, i, 2));
        run_info ri;
        attn_error e;
        json_t *o = json_pack("{s:s, s:I}", "run_id", id, "samples_db", (json_int_t)in_db);
        attn_error_clear(&e);
        if (load_run(data_dir, repo, id, &ri, &e) == 0) {
            int same = in_db == ri.n_samples && !strcmp(ri.sha, PQgetvalue(r, i, 1));
            json_object_set_new(o, "samples_dir", json_integer(ri.n_samples));
            json_object_set_new(o, "report_sha256_match", json_boolean(!strcmp(ri.sha, PQgetvalue(r, i, 1))));
            json_object_set_new(o, "ok", json_boolean(same));
            if (!same)
                *ok = 0;
        } else {
            json_object_set_new(o, "ok", json_null());
            json_object_set_new(o, "note", json_string(e.msg));
        }
        run_free(&ri);
        json_array_append_new(runs, o);
    }
    PQclear(r);
    return 0;
}

int attn_records_check(const char *data_dir, const char *repo, const char *pg_url, json_t **report,
                       attn_error *err)
{
    char owner[ATTN_NAME_MAX + 1], name[ATTN_NAME_MAX + 1];
    PGconn *c = NULL;
    json_t *checks = json_array(), *runs = json_array(), *views = NULL, *mig = NULL;
    int ok = 1, rc;

    *report = NULL;
    if ((rc = attn_path_parse_repo(repo, owner, name, err)) || (rc = pg_connect(pg_url, &c, err)))
        goto out;
    if ((rc = check_table(c, "eval_runs", RUN_COLS, checks, &ok, err)) ||
        (rc = check_table(c, "eval_samples", SAMPLE_COL_NAMES, checks, &ok, err)) ||
        (rc = check_constraints(c, checks, &ok, err)) ||
        (rc = pg_strings(c, "SELECT table_name::text FROM information_schema.views WHERE table_schema ="
                            " current_schema()", NULL, &views, err)))
        goto out;
    add_check(checks, &ok, "view eval_headline", has_string(views, "eval_headline"), "per run, router, policy");
    add_check(checks, &ok, "view eval_router_leaderboard", has_string(views, "eval_router_leaderboard"),
              "across runs");
    /* the rest needs both tables */
    if (json_is_true(json_object_get(json_array_get(checks, 0), "ok")) &&
        json_is_true(json_object_get(json_array_get(checks, 1), "ok"))) {
        char want[16];
        snprintf(want, sizeof(want), "%d", attn_records_n_migrations());
        if ((rc = pg_strings(c, "SELECT max(version)::text FROM attn_schema_migrations", NULL, &mig, err)))
            goto out;
        add_check(checks, &ok, "migrations applied",
                  !strcmp(json_string_value(json_array_get(mig, 0)) ?: "", want), want);
        if ((rc = check_runs(c, data_dir, repo, runs, &ok, err)))
            goto out;
    }
    *report = json_pack("{s:s, s:s, s:b, s:o, s:o}", "contract_version", ATTN_RECORDS_CONTRACT, "repo", repo,
                        "ok", ok, "checks", checks, "runs", runs);
    checks = runs = NULL;
out:
    json_decref(checks);
    json_decref(runs);
    json_decref(views);
    json_decref(mig);
    PQfinish(c);
    return rc;
}
