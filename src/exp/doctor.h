/*
 * doctor.h - is a store ready for an evaluation of these PRs? (issue 6
 * `attn doctor`).
 *
 * Owns: the readiness checks and their report. Reads the store, the pinned
 * file store and nothing else; never writes, never reads the wall clock.
 *
 * Checks, in order, each {"name", "status": ok | warn | fail, "message",
 * "advice" (may be ""), "details"}:
 *   horizon      the store horizon (max event time of the repository);
 *                fail when there are no events
 *   ingestion    the last whole-repository ingestion run (qa_reports); a
 *                store loaded from a bundle has none (ok, said so)
 *   prs          cohort PRs unknown to the store or without a cutoff: fail
 *   stale        cutoffs after the horizon (eval refuses them): fail
 *   pins         base SHAs at the cutoffs without a pinned manifest: warn,
 *                suggests `attn pin`; PRs with no base SHA at the cutoff and
 *                pinned SHAs without a CODEOWNERS file are counted
 *   truth        statuses of the truth policy (default first_response) over
 *                the PRs; ready share = PRs whose window end is within the
 *                horizon. unknown_ingestion_gap on > 20% of the PRs: fail;
 *                on any: warn
 *   gaps         unresolved ingestion gaps: repository-level (by resource)
 *                and per cohort PR: warn
 *   leak_risk    counts of each snapshot leak_risk flag at the cutoffs;
 *                files_unknown_at_cutoff, base_sha_unknown and
 *                head_sha_unknown: warn (routers see less than they should)
 * "ready" is false when any check failed.
 */
#ifndef ATTN_EXP_DOCTOR_H
#define ATTN_EXP_DOCTOR_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "store/store.h"
#include "util/error.h"

typedef struct {
    int64_t number;
    int64_t cutoff;     /* ATTN_NULL_I64: resolve with cutoff_policy */
} attn_doctor_pr;

typedef struct {
    attn_store *store;
    const char *repo;          /* owner/name */
    const char *repo_dir;      /* DATA/github/<o>/<r> (pinned files) */
    const attn_doctor_pr *prs;
    size_t n_prs;
    const char *cutoff_policy; /* NULL: created_at */
    const char *truth;         /* NULL: first_response */
} attn_doctor_opts;

/* *out: {"repo", "n_prs", "ready": bool, "failures", "warnings",
 * "checks": [...]} (new reference). Errors only for unusable input (bad
 * policy: ATTN_EINVAL; unknown repository: ATTN_ENOTFOUND) or I/O. */
int attn_doctor_run(const attn_doctor_opts *o, json_t **out, attn_error *err);

#endif
