/*
 * pin.h - `attn pin`: fetch CODEOWNERS and other allow-listed files at every
 * base SHA a PR had, into the pinned-file store (store/pinned.h; SPEC §4
 * "Pinned files").
 *
 * Which SHAs: every base sha a PR had at any time (the base intervals, which
 * follow base_ref_changed, plus pull_requests.base_sha), or only those of the
 * PRs named. A sha whose manifest already covers the allow list is skipped
 * without a request, so a rerun costs nothing and an interrupted run resumes:
 * each sha is written atomically once all its files are in.
 *
 * Which files: the allow list is the three places GitHub reads CODEOWNERS
 * from (.github/CODEOWNERS, CODEOWNERS, docs/CODEOWNERS, in that order) plus
 * any --path. As GitHub uses the first one present, the lower ones are not
 * fetched once a higher one is found (at most one request per sha when the
 * repository keeps CODEOWNERS in .github/); every candidate looked at is
 * recorded, present or absent.
 *
 * Sources:
 *   - the contents API, GET /repos/{o}/{r}/contents/{path}?ref={sha} through
 *     github/client.h: 200 = the file (base64, checked against its size and
 *     blob sha), 404 = absent (unless GitHub says the commit does not exist),
 *     a directory or symlink = absent. Any other failure of one sha becomes
 *     an ingestion_gaps row (resource "contents") and that sha is left for the
 *     next run; errors that would fail every request (401, a rate-limit wait
 *     beyond the limit, network down) stop the run with an error, like
 *     `attn ingest`. A gap is marked resolved when its sha is pinned later.
 *   - a local clone (--git-dir) through libgit2: a commit missing from the
 *     clone is a warning naming the sha (run `git fetch`) and counts as
 *     failed; the run goes on.
 *
 * Must never: print or store the token; write a partial set for a sha; fetch
 * a path that fails attn_pinned_check_path.
 */
#ifndef ATTN_INGEST_PIN_H
#define ATTN_INGEST_PIN_H

#include <stdint.h>
#include <jansson.h>
#include "store/store.h"
#include "util/buf.h"
#include "util/error.h"

typedef struct {
    const char *repo;              /* "owner/name" */
    const char *repo_dir;          /* DATA/github/<owner>/<name> */
    const char *api_url;           /* NULL = https://api.github.com */
    const char *token;             /* may be NULL; never printed */
    const char *git_dir;           /* non-NULL: read this local clone, no requests */
    const char *const *paths;      /* extra allow-listed paths (after the CODEOWNERS three) */
    size_t n_paths;
    const int64_t *prs;            /* only these PRs' base SHAs; NULL = every PR */
    size_t n_prs;
    int max_retries;               /* client retries for 5xx/transport; < 0: client default */
    int progress;                  /* 0 none, 1 live line (tty), 2 a line every 10 s (util/progress.h) */
    int verbose;              /* log every request on stderr (github/client.h) */
    int quiet;                     /* no per-sha warnings */
} attn_pin_options;

typedef struct {
    int64_t shas;                  /* distinct base SHAs considered */
    int64_t already;               /* already pinned (no work) */
    int64_t pinned;                /* pinned by this run */
    int64_t with_codeowners;       /* of those, with a CODEOWNERS file */
    int64_t absent;                /* of those, with no CODEOWNERS at any of the three paths */
    int64_t failed;                /* left unpinned (gap, missing commit, bad sha) */
    int64_t gaps;                  /* ingestion_gaps rows written */
    int64_t requests;              /* HTTP requests sent (with retries) */
    double duration_s;
} attn_pin_report;

/* Pin the allow-listed files at the base SHAs of o->repo's PRs in s. Returns
 * 0 when the run went through, even if some SHAs failed (see rep->failed);
 * negative when it had to stop (bad --git-dir, unknown --pr, a fatal HTTP
 * error), after pinning what it could. */
int attn_pin_run(attn_store *s, const attn_pin_options *o, attn_pin_report *rep,
                 attn_error *err);

/* Decode base64 as the contents API sends it (line breaks allowed, padding
 * required, nothing else) into out (appended). ATTN_EINVAL on bad input. */
int attn_pin_base64_decode(const char *in, size_t len, attn_buf *out, attn_error *err);

/* A bundle's "codeowners" map (docs/bundle.md): {"<base sha>": "text" |
 * {path: text | null}}. A text alone is .github/CODEOWNERS. Check validates
 * shas, paths and value types without writing; apply pins every entry
 * (source "bundle"), recording the CODEOWNERS locations the entry does not
 * name as absent, since a bundle entry is the whole truth of its sha.
 * *pinned (may be NULL) counts the SHAs written. No map: nothing happens. */
int attn_pin_bundle_check(const json_t *bundle, attn_error *err);
int attn_pin_bundle_apply(const char *repo_dir, const json_t *bundle, int64_t *pinned,
                          attn_error *err);

#endif
