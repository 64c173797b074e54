/*
 * compare_internal.h - what compare.c and compare_scan.c share: the flat
 * per-PR values of a run's per_pr.jsonl and the top-1 scores of its routes.
 * Nothing outside src/exp/compare*.c and tests/unit/test_compare.c includes it.
 */
#ifndef ATTN_EXP_COMPARE_INTERNAL_H
#define ATTN_EXP_COMPARE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "eval/metrics.h"
#include "eval/pack.h"
#include "util/error.h"

/* One line of per_pr.jsonl: the values the summary needs, and where the line
 * is (flips parse it again for cutoff and truth targets). */
typedef struct {
    int64_t number;       /* pr_number, -1 when absent or not an integer */
    size_t off, len;      /* the line within the file's text */
    int observed;         /* truth[primary].status == "observed" */
} cmp_row;

/* The values of every router of a run's manifest, row-major:
 * rank[row * n_names + router] (0 = no match) and empty (no candidate). */
typedef struct {
    cmp_row *rows;
    size_t n_rows;
    const char **names;   /* the manifest's router names (borrowed) */
    size_t n_names;
    int *rank;
    unsigned char *empty;
    char *text;           /* per_pr.jsonl, owned, read-only (may be mapped) */
    size_t text_len;      /* up to its first NUL byte, if any */
    size_t map_len;       /* 0: text is malloc'd */
} cmp_rows;

/* Read per_pr.jsonl at path into r (names and primary set by the caller).
 * A line is parsed as attn_json_parse would (same errors, same values). */
int cmp_rows_load(const char *path, const char *primary, cmp_rows *r, attn_error *err);
void cmp_rows_free(cmp_rows *r);
/* The index of a router name in r->names, or -1. */
int cmp_rows_router(const cmp_rows *r, const char *name);
/* Row i parsed as a JSON object (new reference; NULL on out of memory). */
json_t *cmp_rows_json(const cmp_rows *r, size_t i);

/* The routes of one run and router that flips show, kept from the top-1
 * scan (a seek per route in the pack reads every overflowing key on its way,
 * about as much as the scan itself): keep[i] marks nums[i]; once scanned,
 * route[i] is its route as attn_pack_read parses it (NULL: none). */
typedef struct {
    const void *run;      /* the caller's run, to find the entry again */
    const char *router;
    size_t n;
    unsigned char *keep;
    json_t **route;
    int scanned;          /* 0: not kept (read the route with attn_pack_read) */
} cmp_kept;

/* manifest.json's text as json_loadb(JSON_REJECT_DUPLICATES) reads it, but
 * with cohort.pr_cutoffs (10,000 entries the comparison only hashes) left
 * as {} and its attn_json_hash in hash. -1 when the skimmer cannot vouch
 * for the text: the caller then parses all of it. */
int cmp_manifest_skim(const char *text, size_t len, json_t **out, char hash[65]);

/* Top-1 scores of router's routes for the PR numbers nums[0..n): state[i]
 * 0 = scored (score[i]), 1 = the route has no candidate, 2 = no readable
 * route; exactly what parsing each route with attn_pack_read gives. The texts
 * of kept's PRs are kept when kept is not NULL. */
void cmp_top1_scores(attn_pack *p, const char *router, const int64_t *nums, size_t n,
                     double *score, int *state, cmp_kept *kept);
void cmp_kept_free(cmp_kept *k);

/* attn_bootstrap_paired_diff of nm (1..3) metrics (xa[j], xb[j]) over the same
 * n PRs, in one pass; out[j] is bit for bit what nm separate calls give. */
int cmp_boot_multi(const attn_bootstrap_options *b, double *const *xa, double *const *xb,
                   int nm, size_t n, attn_interval *out, attn_error *err);

#endif
