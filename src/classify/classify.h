/*
 * classify.h - run classification by a declarative pattern registry (SPEC §9,
 * issue 14): run ids (W&B and others) -> run type + fields, then per-type
 * post-processing, all declared in one JSON config (docs/classify.md).
 *
 * Owns: the config model (fragments composed into anchored PCRE2 patterns in
 * file order, a legacy rule, a fallback type, processing steps, a task/metric
 * catalogue), matching every pattern against an id, and the converters. It
 * never reads the network or a store; the command front ends do I/O.
 *
 * Config (JSON object; unknown keys are errors):
 *   name, description        strings
 *   fragments {NAME: "regex" | [component...]}  composition may nest, no cycles
 *   patterns  [{name, run_type, components:[...]}]  tried in this order
 *     component: a fragment NAME | "literal:TEXT" (escaped) | "regex:SRC" (raw)
 *     every pattern is anchored at both ends (no trailing-newline slack)
 *   legacy    {run_type, contains:[...], not_contains:[...]}  after patterns
 *   fallback  run type when nothing matches (default "other")
 *   drop_run_types [...]     types left out of --group tables
 *   catalogue {tasks:[...], metrics:[...]}  for canonicalize_metric
 *   steps     [{step, run_types?:[...], ...}]  see process.c
 */
#ifndef ATTN_CLASSIFY_CLASSIFY_H
#define ATTN_CLASSIFY_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "util/error.h"

#define ATTN_CLASSIFY_MAX_PATTERNS 256

typedef struct attn_classify_cfg attn_classify_cfg;

/* Parse and validate a config text; `what` names it in messages. Errors are
 * ATTN_EINVAL with one line naming the pattern/fragment/step at fault. */
int attn_classify_cfg_parse(const char *text, size_t len, const char *what,
                            attn_classify_cfg **out, attn_error *err);
/* NAME of a built-in config ("datadecide") or a FILE path. */
int attn_classify_cfg_load(const char *name_or_file, attn_classify_cfg **out, attn_error *err);
void attn_classify_cfg_free(attn_classify_cfg *c);
/* The text of a built-in config, NULL if no such name. */
const char *attn_classify_builtin(const char *name);

size_t attn_classify_cfg_npatterns(const attn_classify_cfg *c);
const char *attn_classify_cfg_pattern_name(const attn_classify_cfg *c, size_t i);
const char *attn_classify_cfg_pattern_type(const attn_classify_cfg *c, size_t i);
const char *attn_classify_cfg_pattern_source(const attn_classify_cfg *c, size_t i);
const char *attn_classify_cfg_name(const attn_classify_cfg *c);
int attn_classify_cfg_drops(const attn_classify_cfg *c, const char *run_type);
const json_t *attn_classify_cfg_steps(const attn_classify_cfg *c);
const json_t *attn_classify_cfg_catalogue(const attn_classify_cfg *c);

/* Per-thread matching state (PCRE2 match data); one per caller. */
typedef struct attn_classify_matcher attn_classify_matcher;
int attn_classify_matcher_new(const attn_classify_cfg *c, attn_classify_matcher **out,
                              attn_error *err);
void attn_classify_matcher_free(attn_classify_matcher *m);

typedef struct {
    const char *run_type;    /* winner's type, legacy type or fallback (cfg-owned) */
    int winner;              /* pattern index, -1 for legacy/fallback */
    size_t n_matches;
    int failed;              /* patterns that stopped with an error (PCRE2 match or JIT
                              * stack limit) instead of a yes/no: counted as no match */
    uint16_t matches[ATTN_CLASSIFY_MAX_PATTERNS]; /* every matching pattern, in order */
} attn_classify_result;

/* Classify one id: every pattern is tried, the first match wins. */
void attn_classify_id(attn_classify_matcher *m, const char *id, size_t len,
                      attn_classify_result *r);
/* The winner's named groups as {name: string} (empty object without a
 * winner). Re-matches the winner; NULL on out of memory. */
json_t *attn_classify_fields(attn_classify_matcher *m, const char *id, size_t len,
                             const attn_classify_result *r);
/* {"run_id","run_type","pattern","fields","matches"} for one id. */
json_t *attn_classify_record(attn_classify_matcher *m, const char *id, size_t len);

/* ---- converters (convert.c) ---------------------------------------------- */
/* Token counts: "10M" -> 1e7, "2.5Mt" -> 2.5e6; 0 and *out set, or -1 (null). */
int attn_classify_tokens(const char *s, double *out);
/* "YYYY_MM_DD-HH_MM_SS" or "YYMMDD-HHMMSS" -> "YYYY-MM-DDTHH:MM:SS"; -1 if invalid. */
int attn_classify_timestamp(const char *s, char out[20]);
/* The reference's string normalisation: trim, lower, "-_/()%+," -> space,
 * collapse spaces. Returns a malloc'd string, NULL for an empty result. */
char *attn_classify_normalize(const char *s);
/* Parse a metric label against the catalogue: task, metric and unmatched
 * rest (each malloc'd or NULL). Returns -1 on out of memory. */
int attn_classify_metric_parse(const json_t *catalogue, const char *label, char **task,
                               char **metric, char **unmatched);
/* Canonical label: present parts joined by one space (NULL when all absent). */
char *attn_classify_metric_canonical(const json_t *catalogue, const char *label);
/* oe_eval_metrics/<task>[/<metric>] summary keys -> {task: scalar | {metric: v}}. */
json_t *attn_classify_flatten_summary(const json_t *summary);

/* ---- post-processing (process.c) ----------------------------------------- */
/* One value through a converter (timestamp | tokens_to_number | number):
 * a new reference, JSON null when the value does not convert. A JSON number
 * is taken as it is (the reference printed 1e20 as "1e+20" and lost it). */
json_t *attn_classify_convert(const char *converter, const json_t *v);
/* Run the config's steps over one run type's rows (array of objects with
 * run_id, fields, and optional "_config"/"_summary" objects, which are removed). */
int attn_classify_process(const attn_classify_cfg *c, const char *run_type, json_t *rows,
                          attn_error *err);
/* Validate one step object (used by the parser). */
int attn_classify_step_check(const json_t *step, size_t index, attn_error *err);

/* ---- input and output (io.c) --------------------------------------------- */
/* Read a JSONL file of runs: each line an object with a string "run_id" and
 * optional "config"/"summary" (objects or JSON text; unparsable text is
 * ignored, like the reference). Returns an array of the line objects with
 * config/summary replaced by parsed objects. A bad line: ATTN_EINVAL naming
 * FILE:LINE. "-" reads stdin. */
int attn_classify_read_runs(const char *path, json_t **out, attn_error *err);
/* Group records by run type after classification and processing:
 * {type: [rows sorted by run_id, pattern_name]}; dropped types left out
 * (all kept when keep_all). Each row: run_id, pattern_name, fields and, from
 * the input, _config/_summary for the fill steps. */
int attn_classify_group(attn_classify_matcher *m, const attn_classify_cfg *c, const json_t *runs,
                        int keep_all, json_t **groups, attn_error *err);
/* CSV of rows: run_id first, then columns in order of first appearance. */
void attn_classify_csv(const json_t *rows, char **out, size_t *len);

#endif
