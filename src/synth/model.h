/*
 * model.h - the synthetic world and per-item stories behind `attn synth`
 * (internal to src/synth/). model.c owns the world (areas, people, teams,
 * CODEOWNERS revisions, the creation timeline) and simulates one PR or issue
 * at a time; emit.c turns those plain structs into GitHub-shaped JSON.
 * Nothing here touches files; the model is described in synth.h.
 */
#ifndef ATTN_SYNTH_MODEL_H
#define ATTN_SYNTH_MODEL_H

#include <stdint.h>
#include "synth/synth.h"
#include "util/prng.h"
#include "util/time.h"

#define SYN_NAREAS 10
#define SYN_NTEAMS 7
#define SYN_NLABELS 14
#define SYN_NMILESTONES 3
#define SYN_NREVS 4          /* CODEOWNERS revisions */
#define SYN_WEEK (7 * 86400)

#define SYN_MAX_FILES 16
#define SYN_MAX_EVENTS 120
#define SYN_MAX_REVIEWS 16
#define SYN_MAX_RCOMMENTS 48
#define SYN_MAX_COMMENTS 32
#define SYN_MAX_HEADS 8
#define SYN_MAX_REQ 8

/* Kinds of id ranges (see synth.h). */
#define SYN_ID_USER INT64_C(1000000)
#define SYN_ID_TEAM INT64_C(2000000)
#define SYN_ID_LABEL INT64_C(3000000)
#define SYN_ID_MILESTONE INT64_C(4000000)
#define SYN_ID_REPO INT64_C(700000)
#define SYN_ID_ORG INT64_C(900000)
#define SYN_ID_PULL INT64_C(1000000000)
#define SYN_ID_ISSUE INT64_C(2000000000)
#define SYN_ID_REVIEW INT64_C(3000000000)
#define SYN_ID_COMMENT INT64_C(4000000000)
#define SYN_ID_RCOMMENT INT64_C(5000000000)
#define SYN_ID_EVENT INT64_C(6000000000)

enum { BOT_DEPENDABOT = 0, BOT_ACTIONS = 1, BOT_CI = 2, SYN_NBOTS = 3 };

typedef struct {
    const char *name;        /* "parser" */
    const char *prefix;      /* "src/parser/" : CODEOWNERS pattern is "/" + prefix */
    const char *files[7];    /* paths under the prefix (NULL-terminated) */
    const char *tests[3];    /* paths under tests/ (NULL-terminated) */
    const char *topics[6];   /* things PR titles talk about */
    int team;                /* index into the team table, -1 when none */
    double weight;           /* share of people whose home it is */
} syn_area;

typedef struct {
    char login[40];
    int64_t id;
    int bot;                 /* 0 human, 1 bot */
    int maintainer;
    int home, home2;         /* area indexes; home2 = -1 when none */
    int moved_to;            /* -1, or the area that becomes home at moved_at */
    int64_t moved_at;
    double level, author_rate, review_rate, latency_h;
    int64_t joined_at, left_at;   /* left_at = INT64_MAX when staying */
} syn_user;

typedef struct {
    const char *slug, *name, *description;
    int areas[3];            /* -1 terminated */
} syn_team;

typedef struct {
    int64_t t;       /* creation instant */
    int is_pr;
    int author;
} syn_slot;

/* CODEOWNERS revision: effective from week `from_week`, owners per area. */
typedef struct {
    int from_week;
    int64_t effective_at;
    int owners[SYN_NAREAS][2];   /* user indexes, -1 when none */
    int team_owned[SYN_NAREAS];  /* 1 when the area's team is listed */
} syn_rev;

typedef struct {
    attn_synth_opts o;
    int64_t end;
    int nusers;                  /* humans + bots */
    int nhumans;
    syn_user *users;
    const syn_area *areas;
    const syn_team *teams;
    syn_rev revs[SYN_NREVS];
    int nweeks;
    int nitems;                  /* PRs + issues; numbers 1..nitems */
    int nissues;
    syn_slot *slots;             /* slots[number - 1] */
} syn_world;

/* Issue event kinds, in the order of the names table in emit.c. */
enum {
    EV_LABELED, EV_UNLABELED, EV_ASSIGNED, EV_UNASSIGNED, EV_MILESTONED, EV_CLOSED,
    EV_REOPENED, EV_RENAMED, EV_REVIEW_REQUESTED, EV_REVIEW_REQUEST_REMOVED,
    EV_READY_FOR_REVIEW, EV_CONVERT_TO_DRAFT, EV_HEAD_REF_FORCE_PUSHED, EV_MERGED,
    EV_MENTIONED, EV_SUBSCRIBED, EV_HEAD_REF_DELETED, EV_REFERENCED, EV_NKINDS
};

enum { RV_APPROVED, RV_CHANGES_REQUESTED, RV_COMMENTED };

typedef struct {
    int64_t t;
    int k;           /* id = SYN_ID_EVENT + number * 1000 + k */
    int type;
    int actor;
    int arg;         /* label, user, team, milestone or head index */
    int team;        /* review requests: 1 when arg is a team */
    int by;          /* assigned/review requests: the assigner/requester */
} syn_event;

typedef struct {
    int64_t t;
    int k;
    int user, state, head, body;
} syn_review;

typedef struct {
    int64_t t;
    int k;
    int user, review_k, file, line, reply_to_k, head, body;
} syn_rcomment;

typedef struct {
    int64_t t, edited;   /* edited = t when never edited */
    int k;
    int user, kind, arg;
} syn_comment;

typedef struct {
    char path[96];
    int status;          /* 0 modified, 1 added, 2 removed */
    int additions, deletions;
} syn_file;

typedef struct {
    int number, is_pr, author, area, topic, verb;
    int64_t created, updated, closed_at, merged_at;
    int closed, merged, merger, closer, draft, state_reason;
    char title[200], title0[200], title1[200];   /* final, at creation, after rename */
    char body[1400];
    int has_body;
    int fixes, mention_user, mention_team, ai_line;
    char head_ref[120];
    char heads[SYN_MAX_HEADS][41];
    int nheads, head;
    char merge_sha[41], base_sha[41];
    int base_week;
    syn_file files[SYN_MAX_FILES];
    int nfiles;
    syn_event ev[SYN_MAX_EVENTS];
    int nev;
    syn_review rv[SYN_MAX_REVIEWS];
    int nrv;
    syn_rcomment rc[SYN_MAX_RCOMMENTS];
    int nrc;
    syn_comment cm[SYN_MAX_COMMENTS];
    int ncm;
    /* Final state at the end of the window. */
    uint32_t labels;             /* bit per label index */
    int assignees[4], nassignees;
    int milestone;               /* -1 none */
    int req_users[SYN_MAX_REQ], nreq_users;
    int req_teams[SYN_MAX_REQ], nreq_teams;
} syn_item;

extern const char *const syn_label_names[SYN_NLABELS];
extern const char *const syn_label_colors[SYN_NLABELS];
extern const char *const syn_label_descs[SYN_NLABELS];
extern const char *const syn_milestone_titles[SYN_NMILESTONES];

/* Build the world from the options; 0 (memory failures exit: util/alloc.h). */
int syn_world_init(syn_world *w, const attn_synth_opts *o, attn_error *err);
void syn_world_free(syn_world *w);

/* Simulate item `number` (1-based) into *it (fully overwritten). */
void syn_item_build(const syn_world *w, int number, syn_item *it);

/* 40-hex SHA for (tag, a, b), a pure function of the seed. */
void syn_sha(const syn_world *w, uint64_t tag, uint64_t a, uint64_t b, char out[41]);

/* Main branch SHA of a week (the base SHA of PRs created that week). */
void syn_week_sha(const syn_world *w, int week, char out[41]);

/* CODEOWNERS text of revision r into buf (cap bytes). */
void syn_codeowners_text(const syn_world *w, int r, char *buf, size_t cap);

/* Revision in effect in week `week`. */
int syn_rev_for_week(const syn_world *w, int week);

/* activity(u, t) as described in synth.h. */
double syn_activity(const syn_world *w, int u, int64_t t);

/* Home area of u at t (after a move, the new one). */
int syn_home_at(const syn_world *w, int u, int64_t t);

/* The team index whose members include u (for author_association), -1 if none. */
int syn_user_in_team(const syn_world *w, int u, int team);

/* Body text of a comment (kind/arg from syn_comment) into buf. */
void syn_comment_body(const syn_world *w, const syn_item *it, const syn_comment *c, char *buf,
                      size_t cap);
/* Body text of a review / review comment. */
const char *syn_review_body(int body);
const char *syn_rcomment_body(int body);

#endif
