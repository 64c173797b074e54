/*
 * review_requests.c - the `review_requests` router: the users and teams whose
 * review was requested and still pending at the cutoff (SPEC §7).
 *
 * Owns only the scoring of q->snapshot's review_requests (built by the as-of
 * reader from review-request intervals active at the cutoff). Must never read
 * anything else, except the roster at q->as_of for team expansion.
 *
 * Scoring. The snapshot lists requests sorted by (type, name), not in the
 * order they were made, so there is no request order to rank by: every user
 * asked by name scores 1.0 and ties are ordered by router.c (by name). A team
 * request is named "org/slug"; the snapshot gives the bare slug, qualified
 * here with the repo owner (teams belong to the repo's organization).
 * Evidence: {kind:"review_request", data:{type:"user"|"team"}}.
 *
 * Config (default_config below):
 *   expand_teams       true: a requested team that has members at the cutoff
 *                      in routing/team_roster.json is replaced by those
 *                      members; a team the roster does not know, or any team
 *                      when no roster is loaded, stays a team target (so the
 *                      default changes nothing without a roster). false:
 *                      teams always stay team targets.
 *   team_member_score  score of a member reached through a team, in (0, 1]
 *                      (default 0.5: a person asked by name is the stronger
 *                      signal; a member also asked by name keeps 1.0).
 *                      Member evidence: data {type:"team", via_team}.
 *
 * Risk: "low" when some user is a candidate (other than the author or a bot,
 * which router.c removes), "medium" when only teams are, "high" (with a
 * note) when nothing is left. Confidence stays "unknown".
 */
#include <stdlib.h>
#include <string.h>
#include "route/baselines.h"
#include "util/alloc.h"
#include "route/router.h"
#include "util/buf.h"

typedef struct {
    int expand_teams;
    double member_score;
} rr_state;

static const char *NAME = "review_requests";

static int rr_init(const json_t *config, const attn_route_ctx *ctx, void **state,
                   attn_error *err)
{
    rr_state *st = attn_xcalloc(1, sizeof(*st));
    (void)ctx;
    if (attn_bl_bool(config, NAME, "expand_teams", &st->expand_teams, err) ||
        attn_bl_number(config, NAME, "team_member_score", 0, 1, 1, &st->member_score, err)) {
        free(st);
        return ATTN_EINVAL;
    }
    *state = st;
    return 0;
}

static void rr_cand(attn_route_result *res, const char *type, const char *name, double score,
                    const char *req_type, const char *via_team)
{
    attn_cand *c = attn_result_cand(res, type, name);
    json_t *data;
    if (!c)
        return;
    data = attn_xcheck(json_pack("{s:s}", "type", req_type));
    if (via_team)
        attn_xcheck_rc(json_object_set_new(data, "via_team", attn_xcheck(json_string(via_team))));
    attn_cand_evidence(c, "review_request", data);
    if (attn_cand_score(c) < score)
        attn_cand_set_score(c, score);
}

static int rr_route(void *state, const attn_route_ctx *ctx, const attn_route_query *q,
                    attn_route_result *res, attn_error *err)
{
    rr_state *st = state;
    const json_t *reqs = json_object_get(q->snapshot, "review_requests"), *r;
    attn_buf team = ATTN_BUF_INIT;
    size_t i, n_users = 0, n_teams = 0, unexpanded = 0;

    json_array_foreach(reqs, i, r) {
        const char *type = json_string_value(json_object_get(r, "type"));
        const char *name = json_string_value(json_object_get(r, "name"));
        if (!type || !name || !*name)
            continue;
        if (!strcmp(type, "user")) {
            rr_cand(res, "user", name, 1.0, "user", NULL);
            n_users++;
            continue;
        }
        if (strcmp(type, "team"))
            continue;
        attn_bl_team_name(ctx->repo, name, &team);
        if (st->expand_teams && ctx->roster) {
            const char **members;
            size_t nm;
            attn_bl_team_members(ctx->roster, team.ptr, q->as_of, &members, &nm);
            for (size_t k = 0; k < nm; k++)
                rr_cand(res, "user", members[k], st->member_score, "team", team.ptr);
            free(members);
            if (nm) {
                n_users += nm;
                continue;
            }
            unexpanded++;
        }
        rr_cand(res, "team", team.ptr, 1.0, "team", NULL);
        n_teams++;
    }
    attn_buf_free(&team);

    if (unexpanded)
        attn_result_note(res, "%zu requested team%s without members in the roster at the cutoff"
                         " kept as team targets", unexpanded, unexpanded == 1 ? "" : "s");
    attn_result_set_confidence(res, "unknown");
    if (attn_bl_survivors(res, ctx, q->snapshot, "user")) {
        attn_result_set_risk(res, "low");
    } else if (n_teams) {
        attn_result_set_risk(res, "medium");
    } else {
        attn_result_set_risk(res, "high");
        attn_result_note(res, n_users ? "no review requests active at the cutoff but for the"
                                        " author or bots"
                                      : "no review requests active at the cutoff");
    }
    return 0;
}

static void rr_free(void *state)
{
    free(state);
}

const attn_router_def attn_router_review_requests = {
    "review_requests",
    "review_requests.v1",
    "users and teams whose review was requested and still pending at the cutoff",
    "{\"expand_teams\": true, \"team_member_score\": 0.5}",
    rr_init,
    rr_route,
    rr_free,
};
