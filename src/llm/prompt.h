/*
 * prompt.h - prompt bundles (seed 004 §1): a directory holding a bundle.json
 *
 *   {"name": "triage", "version": "1.0.0",
 *    "sections": {"system": "system.md", "task": "task.md",
 *                 "output_schema": "output_schema.json", "examples": "examples.md"}}
 *
 * and one file per section. A section whose file ends in ".json" is JSON
 * (parsed, so its key order and whitespace do not matter); any other is text.
 *
 * Canonical form (what is hashed and persisted with every run):
 *   {"name": N, "sections": {S: text-or-JSON}} as canonical JSON (sorted keys,
 *   no whitespace), text with CRLF/CR turned into LF, trailing whitespace of
 *   every line stripped and trailing blank lines dropped.
 * prompt_hash = SHA-256 of that. The human label ("version", major.minor.patch)
 * is not hashed: it names content, and the label registry
 * (DATA/prompts/<name>/<version>.json) refuses a label reused for different
 * content, naming both hashes.
 *
 * Must never: hash anything but the content, or let a reused label through.
 */
#ifndef ATTN_LLM_PROMPT_H
#define ATTN_LLM_PROMPT_H

#include <jansson.h>
#include "util/buf.h"
#include "util/error.h"

typedef struct {
    char *name;
    char *version;          /* "1.4.0" */
    char hash[65];          /* prompt_hash */
    json_t *sections;       /* {section: canonical text (string) or JSON} */
    json_t *source_paths;   /* {section: path as given} ([] for a registry snapshot) */
} attn_prompt;

/* Load a bundle directory (or a registry snapshot file ending in .json). */
int attn_prompt_load(const char *path, attn_prompt **out, attn_error *err);
void attn_prompt_free(attn_prompt *p);

/* Text canonicalization (appends to out). */
void attn_prompt_canon_text(const char *s, size_t n, attn_buf *out);

/* The persisted snapshot: {name, version, prompt_hash, sections, source_paths}. */
json_t *attn_prompt_snapshot(const attn_prompt *p);
/* Parse a snapshot back (verifies prompt_hash against the content). */
int attn_prompt_from_snapshot(const json_t *snap, const char *what, attn_prompt **out,
                              attn_error *err);

/* A section as text (JSON sections in canonical form); "" when absent. */
int attn_prompt_section_text(const attn_prompt *p, const char *section, attn_buf *out,
                             attn_error *err);

/* Label registry under data_dir/prompts: record p's label, or refuse when the
 * label already names other content (ATTN_ECONFLICT naming both hashes).
 * check_only: never write. */
int attn_prompt_register(const char *data_dir, const attn_prompt *p, int check_only,
                         attn_error *err);
/* Resolve "NAME@VERSION" from the registry, or a path. */
int attn_prompt_resolve(const char *data_dir, const char *ref, attn_prompt **out,
                        attn_error *err);

/* Section-by-section line diff of a and b: {same, a:{name,version,prompt_hash},
 * b:{...}, changed_sections:[...], sections:{S: {status: added|removed|changed,
 * lines: ["-old", "+new", " same"...]}}} (unchanged sections are omitted). */
json_t *attn_prompt_diff(const attn_prompt *a, const attn_prompt *b);
/* Diff of two snapshots (either may be NULL: no diff). */
json_t *attn_prompt_diff_snapshots(const json_t *a, const json_t *b);

#endif
