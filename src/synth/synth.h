/*
 * synth.h - the deterministic synthetic GitHub history generator (`attn synth`).
 *
 * Writes a bundle (docs/bundle.md) for a made-up repository whose reviewing
 * behaviour has a known cause, so evaluations can check that routers using
 * the right signals win. Same options give a byte-identical file. The output
 * is streamed object by object: memory grows with the number of PRs active at
 * once (plus a few bytes per PR), not with the size of the bundle.
 *
 * THE MODEL (all draws from util/prng.h; the ground truth is written to the
 * bundle's "generator" object):
 * - Areas: ten code areas (core, parser, net, storage, cli, web, docs, ci,
 *   build, examples), each a set of path prefixes with fixed files, plus test
 *   files under tests/<area>/. Note src/parser and src/net share the first
 *   path segment "src", so the default first-segment area model is wrong for
 *   them on purpose.
 * - People: U humans (--users, default 40). The first few (3 when U >= 12)
 *   are maintainers: home area core, high activity, review anywhere, merge
 *   most PRs. Everyone else has a home area (weighted: core/parser/net are
 *   busiest), sometimes a second one, an activity level (log-normal), author
 *   and review propensities, a review latency (hours, log-normal, 1-96 h), a
 *   join date (a quarter join during the window) and, for about one in six, a
 *   leave date after which activity decays with a 10-day time constant. About
 *   one in ten moves to a new home area during the window.
 *   activity(u, t) = level * [joined] * exp(-(t - left) / 10 d) after leaving.
 * - Bots: dependabot[bot] (dependency bumps of Cargo.toml/Cargo.lock or
 *   web/package.json/web/package-lock.json), github-actions[bot] (benchmark
 *   and stale comments), synth-ci (type Bot without the [bot] suffix; CI
 *   result comments).
 * - Teams: <owner>/core (maintainers) and one team per area group (parser,
 *   net, storage, web, docs, infra), members = people whose home areas fall
 *   in the group.
 * - CODEOWNERS (.github/CODEOWNERS) has four revisions over the window; each
 *   names the area's team plus up to two stewards chosen from people whose
 *   home area it is at that time. It lags reality: leavers stay listed until
 *   the next revision, movers are listed where they were. A PR's base SHA is
 *   the main branch SHA of its creation week; "codeowners" maps each such SHA
 *   to the revision in effect then.
 * - Timeline: PR and issue creation times are drawn over the window with a
 *   weekday/weekend and time-of-day profile; authors are drawn by
 *   activity(t) * author propensity (7% of PRs are dependabot's). Issues are
 *   30% as many as PRs and share the number space, as on GitHub.
 * - A PR (own PRNG sub-stream, so a PR's story does not depend on others):
 *   its area is the author's home area (80%), second home (10%) or another
 *   (10%); 1-6 files there, often a test file, sometimes docs. The body
 *   sometimes @mentions a likely reviewer or the area's team, says
 *   "Fixes #N" for an earlier issue, or carries an AI-assistance disclosure.
 *   15% open as draft and become ready later. When it is ready, GitHub
 *   requests the CODEOWNERS owners (review_requested, actor = author) and the
 *   author sometimes requests an expert by hand; some requests are removed.
 *   Reviewers (0-3) are drawn by activity(t) * review propensity * area match
 *   (home 1, second home 0.6, maintainer 0.25, other 0.02), boosted x4 when
 *   requested and x3 when mentioned; each responds after an exponential
 *   delay with their own latency. Reviews are APPROVED, CHANGES_REQUESTED or
 *   COMMENTED; non-approvals carry review comments on the PR's files, the
 *   author replies, force-pushes a new head (head_ref_force_pushed) and the
 *   reviewer comes back. Approved PRs are mostly merged by a maintainer, the
 *   approver or a maintainer-author after the last approval and push;
 *   unapproved ones are sometimes closed, else stay open. Labels, title
 *   edits (renamed), assignments, milestones, convert_to_draft, bot and human
 *   comments, mentioned/subscribed events happen along the way.
 * - Everything after the window's end is cut off, and the final objects
 *   (PR state, title, labels, head, pending review requests) are the fold of
 *   what remains, so the bundle looks like an API crawl at the end instant.
 * Ids: every kind has its own range (users 1e6+, teams 2e6+, labels 3e6+,
 * milestones 4e6+, pulls 1e9+number, issues 2e9+number, reviews, issue
 * comments, review comments and issue events 3e9/4e9/5e9/6e9 + number*1000
 * + k), so ids never collide across kinds.
 */
#ifndef ATTN_SYNTH_SYNTH_H
#define ATTN_SYNTH_SYNTH_H

#include <stdint.h>
#include <stdio.h>
#include "util/error.h"

#define ATTN_SYNTH_MAX_PRS 500000
#define ATTN_SYNTH_MAX_USERS 10000
#define ATTN_SYNTH_MAX_DAYS 3650

typedef struct {
    int64_t prs;        /* number of pull requests (issues are 30% of this) */
    uint64_t seed;
    char owner[101];
    char name[101];
    int64_t start;      /* window start, epoch seconds */
    int64_t days;       /* window length in days */
    int64_t users;      /* human users; 0 means the default (40) */
} attn_synth_opts;

/* Defaults: 200 PRs, seed 1, synth/sample, 2024-01-01T00:00:00Z, 180 days, 40 users. */
void attn_synth_opts_init(attn_synth_opts *o);

/* Set one option from its command-line text: name is "prs", "seed", "repo",
 * "start", "days" or "users". ATTN_EINVAL with a one-line message when the
 * value is malformed or out of range. */
int attn_synth_opts_set(attn_synth_opts *o, const char *name, const char *value,
                        attn_error *err);

/* Stream the bundle to f. Only fails on write errors or out of memory. */
int attn_synth_write(const attn_synth_opts *o, FILE *f, attn_error *err);

/* Write the bundle to path atomically (temporary file in the same directory,
 * fsync, rename); on failure the target is untouched. */
int attn_synth_write_file(const attn_synth_opts *o, const char *path, attn_error *err);

#endif
