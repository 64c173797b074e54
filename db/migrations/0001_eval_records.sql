-- 0001_eval_records.sql - attn evaluation records (contract attn.records.v1).
-- eval_runs: one row per evaluation run; eval_samples: one row per
-- (run, PR, router, policy). Views: eval_headline (per run, router, policy
-- over observed truth) and eval_router_leaderboard (across runs).
-- Safe to apply again: every statement is IF NOT EXISTS / OR REPLACE.
CREATE TABLE IF NOT EXISTS attn_schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS eval_runs (
    run_id text PRIMARY KEY CHECK (run_id ~ '^[A-Za-z0-9._-]{1,128}$'),
    repo text NOT NULL CHECK (repo ~ '^[A-Za-z0-9._-]+/[A-Za-z0-9._-]+$'),
    report_version text NOT NULL,
    primary_policy text,
    n_prs integer NOT NULL CHECK (n_prs >= 0),
    routers text[] NOT NULL,
    headline jsonb NOT NULL,
    report_sha256 text NOT NULL CHECK (report_sha256 ~ '^[0-9a-f]{64}$')
);
CREATE TABLE IF NOT EXISTS eval_samples (
    run_id text NOT NULL REFERENCES eval_runs (run_id) ON DELETE CASCADE,
    pr_number bigint NOT NULL CHECK (pr_number > 0),
    router text NOT NULL,
    policy text NOT NULL,
    cutoff timestamptz,
    truth_status text,
    n_truth_targets integer NOT NULL CHECK (n_truth_targets >= 0),
    first_hit_rank integer CHECK (first_hit_rank IS NULL OR first_hit_rank >= 1),
    hit_at_1 boolean,
    hit_at_3 boolean,
    hit_at_5 boolean,
    reciprocal_rank double precision
        CHECK (reciprocal_rank IS NULL OR (reciprocal_rank >= 0 AND reciprocal_rank <= 1)),
    top1 text,
    n_candidates integer NOT NULL CHECK (n_candidates >= 0),
    PRIMARY KEY (run_id, pr_number, router, policy),
    CHECK ((truth_status = 'observed') = (reciprocal_rank IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS ix_eval_samples_router_policy ON eval_samples (router, policy);
CREATE OR REPLACE VIEW eval_headline AS
    SELECT run_id, router, policy,
           count(*) AS n,
           count(*) FILTER (WHERE truth_status = 'observed') AS n_observed,
           avg(hit_at_1::int) FILTER (WHERE truth_status = 'observed') AS hit_at_1,
           avg(hit_at_3::int) FILTER (WHERE truth_status = 'observed') AS hit_at_3,
           avg(hit_at_5::int) FILTER (WHERE truth_status = 'observed') AS hit_at_5,
           avg(reciprocal_rank) FILTER (WHERE truth_status = 'observed') AS mrr
    FROM eval_samples GROUP BY run_id, router, policy;
CREATE OR REPLACE VIEW eval_router_leaderboard AS
    SELECT h.router, h.policy,
           count(DISTINCT h.run_id) AS runs,
           sum(h.n_observed) AS n_observed,
           sum(h.hit_at_1 * h.n_observed) / nullif(sum(h.n_observed), 0) AS hit_at_1,
           sum(h.mrr * h.n_observed) / nullif(sum(h.n_observed), 0) AS mrr,
           rank() OVER (PARTITION BY h.policy
                        ORDER BY sum(h.mrr * h.n_observed) / nullif(sum(h.n_observed), 0) DESC NULLS LAST)
               AS mrr_rank
    FROM eval_headline h GROUP BY h.router, h.policy;
INSERT INTO attn_schema_migrations (version, name) VALUES (1, 'eval_runs, eval_samples, views')
    ON CONFLICT (version) DO NOTHING;
