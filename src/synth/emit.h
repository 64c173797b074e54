/*
 * emit.h - GitHub REST v3 shapes for the synthetic world (internal to
 * src/synth/). Each function returns a new jansson reference (the caller
 * owns it) for one API object built from model.h structs; nothing here
 * draws random numbers or writes files.
 */
#ifndef ATTN_SYNTH_EMIT_H
#define ATTN_SYNTH_EMIT_H

#include <jansson.h>
#include "synth/model.h"

typedef struct {
    const syn_world *w;
    char api[256];      /* https://api.github.com/repos/O/R */
    char html[256];     /* https://github.com/O/R */
    json_t **users;     /* simple-user object per user index (shared, incref'd on use) */
    json_t **teams;     /* team objects without members */
    json_t **labels;    /* full label objects */
    json_t *org;        /* the owner, an Organization */
    json_t *repo_min;   /* repository object embedded in head/base */
    const char **assoc; /* author_association per user */
    /* Totals over all items, filled by synth.c's first pass. */
    int ms_open[SYN_NMILESTONES], ms_closed[SYN_NMILESTONES];
    int open_issues;
} syn_emit;

int syn_emit_init(syn_emit *e, const syn_world *w, attn_error *err);
void syn_emit_free(syn_emit *e);

json_t *syn_json_generator(const syn_emit *e);
json_t *syn_json_repo(const syn_emit *e);
json_t *syn_json_user(const syn_emit *e, int u);
json_t *syn_json_team_full(const syn_emit *e, int t);
json_t *syn_json_label(const syn_emit *e, int l);
json_t *syn_json_milestone(const syn_emit *e, int m);
json_t *syn_json_pull(const syn_emit *e, const syn_item *it);
json_t *syn_json_issue(const syn_emit *e, const syn_item *it);
json_t *syn_json_issue_min(const syn_emit *e, const syn_item *it);
json_t *syn_json_file(const syn_emit *e, const syn_item *it, int i);
json_t *syn_json_review(const syn_emit *e, const syn_item *it, int i);
json_t *syn_json_rcomment(const syn_emit *e, const syn_item *it, int i);
json_t *syn_json_comment(const syn_emit *e, const syn_item *it, int i);
/* issue_min is the embedded "issue" (borrowed; incref'd inside). */
json_t *syn_json_event(const syn_emit *e, const syn_item *it, int i, json_t *issue_min);

/* Ids (see synth.h for the ranges). */
int64_t syn_id_event(const syn_item *it, int k);
int64_t syn_id_comment(const syn_item *it, int k);
int64_t syn_id_rcomment(const syn_item *it, int k);
int64_t syn_id_review(const syn_item *it, int k);

#endif
