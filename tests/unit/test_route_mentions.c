/*
 * test_route_mentions.c - the @mention scanner as data
 * (tests/data/mentions/cases.txt) and the `mentions` router: scores,
 * title-before-body order, team expansion, notes, bad configs.
 */
#include "baseline_fixture.h"

#include "route/mentions.h"

/* Undo the \n \t \\ escapes of a case's text. */
static size_t unescape(const char *in, char *out)
{
    size_t n = 0;
    for (; *in; in++) {
        if (*in == '\\' && in[1]) {
            in++;
            out[n++] = *in == 'n' ? '\n' : *in == 't' ? '\t' : *in == 'r' ? '\r' : *in;
        } else {
            out[n++] = *in;
        }
    }
    out[n] = '\0';
    return n;
}

static void test_mention_cases(void **state)
{
    char path[1024], line[1024], text[1024];
    int n = 0, bad = 0;
    (void)state;
    test_data_path("mentions/cases.txt", path, sizeof(path));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *nl = strchr(line, '\n'), *t1, *t2;
        attn_error err;
        attn_buf got = ATTN_BUF_INIT;
        json_t *list = json_array(), *m;
        unsigned flags;
        size_t len, i;
        if (nl)
            *nl = '\0';
        if (line[0] == '#' || !(t1 = strchr(line, '\t')) || !(t2 = strchr(t1 + 1, '\t'))) {
            json_decref(list);
            continue;
        }
        *t1 = *t2 = '\0';
        flags = !strcmp(line, "body") ? ATTN_MENTIONS_BODY
              : !strcmp(line, "title") ? ATTN_MENTIONS_INLINE | ATTN_MENTIONS_SKIP_CODE |
                                         ATTN_MENTIONS_SKIP_HTML
              : 0;
        if (strcmp(line, "body") && strcmp(line, "title") && strcmp(line, "raw"))
            fail_msg("bad mode '%s'", line);
        len = unescape(t2 + 1, text);
        assert_int_equal(attn_mentions_extract(text, len, flags, "body", list, &err), 0);
        json_array_foreach(list, i, m) {
            if (i)
                attn_buf_putc(&got, ' ');
            attn_buf_printf(&got, "@%s", json_string_value(json_object_get(m, "name")));
            /* a team is exactly what has a '/' */
            assert_int_equal(!strcmp(json_string_value(json_object_get(m, "type")), "team"),
                             strchr(json_string_value(json_object_get(m, "name")), '/') != NULL);
        }
        if (!json_array_size(list))
            attn_buf_puts(&got, "-");
        if (strcmp(attn_buf_cstr(&got), t1 + 1)) {
            print_error("case '%s' (%s): want '%s' got '%s'\n", t2 + 1, line, t1 + 1,
                        attn_buf_cstr(&got));
            bad++;
        }
        attn_buf_free(&got);
        json_decref(list);
        n++;
    }
    fclose(f);
    assert_int_equal(bad, 0);
    assert_true(n >= 30);
}

/* Offsets point at the '@'; a shared list de-duplicates across calls. */
static void test_mention_offsets_and_shared_list(void **state)
{
    attn_error err;
    json_t *list = json_array();
    const char *title = "x @Alice", *body = "@alice @bob";
    (void)state;
    assert_int_equal(attn_mentions_extract(title, strlen(title), ATTN_MENTIONS_INLINE, "title",
                                           list, &err), 0);
    assert_int_equal(attn_mentions_extract(body, strlen(body), ATTN_MENTIONS_BODY, "body", list,
                                           &err), 0);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")),
                        "Alice");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "source")),
                        "title");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "offset")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "source")),
                        "body");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 1), "offset")), 7);
    json_decref(list);
}

/* A pathological body is linear enough and capped. */
static void test_mention_cap(void **state)
{
    attn_error err;
    json_t *list = json_array();
    attn_buf b = ATTN_BUF_INIT;
    (void)state;
    for (int i = 0; i < 3000; i++)
        attn_buf_printf(&b, "@u%d ", i);
    assert_int_equal(attn_mentions_extract(b.ptr, b.len, ATTN_MENTIONS_BODY, "body", list, &err),
                     1);
    assert_int_equal(json_array_size(list), 1000);
    attn_buf_free(&b);
    json_decref(list);
}

/* ------------------------------------------------------------------------
 * The router. A ctx without store or activity index: mentions reads only the
 * snapshot (and the roster). */

#define T0 1700000000

static attn_route_ctx plain_ctx(const attn_roster *roster)
{
    attn_route_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.repo = "acme/demo";
    ctx.roster = roster;
    return ctx;
}

static attn_roster *roster_of(const char *json)
{
    attn_error err;
    attn_roster *r = NULL;
    json_t *v = rf_parse(json);
    if (attn_roster_from_json(v, &r, &err))
        fail_msg("roster: %s", err.msg);
    json_decref(v);
    return r;
}

static void test_router_scores_title_first(void **state)
{
    attn_route_ctx ctx = plain_ctx(NULL);
    json_t *res;
    const json_t *d;
    (void)state;
    res = rf_route(&attn_router_mentions, NULL, &ctx,
                   "{\"number\": 7, \"author\": \"dave\", \"title\": \"Fix @bob's crash\","
                   " \"body\": \"cc @alice and @Carol\\n```\\n@zed\\n```\\nthanks @BOB\","
                   " \"leak_risk\": []}", T0, 10);
    /* bob (title, position 0) 1, alice 1/2, Carol 1/3; the body's @BOB is a duplicate */
    assert_cands(res, "user:bob=1 user:alice=0.5 user:Carol=0.333333");
    assert_string_equal(rf_str(res, "risk"), "low");
    assert_string_equal(rf_str(res, "confidence"), "unknown");
    d = rf_ev(res, 0, 0, "mention");
    assert_string_equal(rf_str(d, "source"), "title");
    assert_int_equal(json_integer_value(json_object_get(d, "position")), 0);
    assert_int_equal(json_object_size(d), 2);
    d = rf_ev(res, 2, 0, "mention");
    assert_string_equal(rf_str(d, "source"), "body");
    assert_int_equal(json_integer_value(json_object_get(d, "position")), 2);
    assert_int_equal(json_array_size(rf_evidence(res, 0)), 1);
    assert_int_equal(json_array_size(json_object_get(res, "notes")), 0);
    json_decref(res);

    /* top_k truncates after ordering */
    res = rf_route(&attn_router_mentions, NULL, &ctx,
                   "{\"number\": 7, \"author\": \"dave\", \"title\": \"@c @b @a\", \"body\": null,"
                   " \"leak_risk\": []}", T0, 2);
    assert_cands(res, "user:c=1 user:b=0.5");
    json_decref(res);
}

static void test_router_sources(void **state)
{
    attn_route_ctx ctx = plain_ctx(NULL);
    const char *snap = "{\"number\": 7, \"author\": \"dave\", \"title\": \"@tina\","
                       " \"body\": \"@bob\", \"leak_risk\": []}";
    json_t *res;
    (void)state;
    res = rf_route(&attn_router_mentions, "{\"sources\": [\"body\"]}", &ctx, snap, T0, 10);
    assert_cands(res, "user:bob=1");
    json_decref(res);
    /* the order written does not change the scan order */
    res = rf_route(&attn_router_mentions, "{\"sources\": [\"body\", \"title\"]}", &ctx, snap, T0,
                   10);
    assert_cands(res, "user:tina=1 user:bob=0.5");
    json_decref(res);
    res = rf_route(&attn_router_mentions, "{\"sources\": [\"title\"]}", &ctx,
                   "{\"number\": 7, \"author\": \"dave\", \"title\": \"x\", \"body\": \"@bob\","
                   " \"leak_risk\": []}", T0, 10);
    assert_cands(res, "-");
    assert_string_equal(rf_str(res, "risk"), "high");
    assert_true(rf_has_note(res, "no @mentions in the title"));
    json_decref(res);
    /* code is read when ignore_code is off */
    res = rf_route(&attn_router_mentions, "{\"ignore_code\": false}", &ctx,
                   "{\"number\": 7, \"author\": \"dave\", \"title\": \"\", \"body\": \"`@bob`\","
                   " \"leak_risk\": []}", T0, 10);
    assert_cands(res, "user:bob=1");
    json_decref(res);
}

static void test_router_author_and_bots(void **state)
{
    attn_route_ctx ctx = plain_ctx(NULL);
    json_t *res;
    (void)state;
    /* the author (any case) goes; positions keep counting it */
    res = rf_route(&attn_router_mentions, NULL, &ctx,
                   "{\"number\": 7, \"author\": \"dave\", \"title\": \"\","
                   " \"body\": \"@Dave @alice\", \"leak_risk\": []}", T0, 10);
    assert_cands(res, "user:alice=0.5");
    assert_true(rf_has_note(res, "author removed"));
    json_decref(res);
    /* only the author: empty, high risk, a note that says why */
    res = rf_route(&attn_router_mentions, NULL, &ctx,
                   "{\"number\": 7, \"author\": \"dave\", \"title\": \"\","
                   " \"body\": \"@dave\", \"leak_risk\": []}", T0, 10);
    assert_cands(res, "-");
    assert_string_equal(rf_str(res, "risk"), "high");
    assert_true(rf_has_note(res, "no @mentions of anyone but the author or bots"));
    json_decref(res);
}

static void test_router_teams(void **state)
{
    attn_roster *roster = roster_of(
        "{\"acme/web\": [\"gina\", \"erin\", {\"login\": \"frank\", \"from\": \"2030-01-01\"}],"
        " \"acme/empty\": [{\"login\": \"old\", \"until\": \"2001-01-01\"}]}");
    attn_route_ctx ctx = plain_ctx(roster), bare = plain_ctx(NULL);
    const char *snap = "{\"number\": 7, \"author\": \"dave\", \"title\": \"\","
                       " \"body\": \"@gina see @acme/web and @acme/empty, @other/team\","
                       " \"leak_risk\": []}";
    json_t *res;
    const json_t *d;
    (void)state;
    /* default: teams stay teams, named org/slug */
    res = rf_route(&attn_router_mentions, NULL, &ctx, snap, T0, 10);
    assert_cands(res, "user:gina=1 team:acme/web=0.5 team:acme/empty=0.333333 "
                      "team:other/team=0.25");
    json_decref(res);
    /* expanded: members at the cutoff take the team's score; gina keeps her own 1.0; teams
     * unknown to the roster or without members at the cutoff stay */
    res = rf_route(&attn_router_mentions, "{\"expand_teams\": true}", &ctx, snap, T0, 10);
    assert_cands(res, "user:gina=1 user:erin=0.5 team:acme/empty=0.333333 "
                      "team:other/team=0.25");
    assert_true(rf_has_note(res, "2 mentioned teams without members"));
    d = rf_ev(res, 1, 0, "mention");
    assert_string_equal(rf_str(d, "via_team"), "acme/web");
    assert_int_equal(json_integer_value(json_object_get(d, "position")), 1);
    assert_int_equal(json_array_size(rf_evidence(res, 0)), 2);   /* in person and via team */
    json_decref(res);
    /* expand_teams without a roster: a note, teams kept */
    res = rf_route(&attn_router_mentions, "{\"expand_teams\": true}", &bare, snap, T0, 10);
    assert_true(rf_has_note(res, "no team roster"));
    assert_int_equal(json_array_size(json_object_get(res, "candidates")), 4);
    json_decref(res);
    attn_roster_free(roster);
}

static void test_router_notes(void **state)
{
    attn_route_ctx ctx = plain_ctx(NULL);
    json_t *res;
    (void)state;
    res = rf_route(&attn_router_mentions, NULL, &ctx,
                   "{\"number\": 7, \"author\": \"dave\", \"title\": \"t\", \"body\": \"@bob\","
                   " \"leak_risk\": [\"body_observed_at_ingestion\"]}", T0, 10);
    assert_true(rf_has_note(res, "body observed at ingestion (may postdate the cutoff)"));
    json_decref(res);
    /* not reading the body: no such note */
    res = rf_route(&attn_router_mentions, "{\"sources\": [\"title\"]}", &ctx,
                   "{\"number\": 7, \"author\": \"dave\", \"title\": \"t\", \"body\": \"@bob\","
                   " \"leak_risk\": [\"body_observed_at_ingestion\"]}", T0, 10);
    assert_false(rf_has_note(res, "body observed"));
    json_decref(res);
    res = rf_route(&attn_router_mentions, NULL, &ctx,
                   "{\"number\": 7, \"author\": \"dave\", \"title\": null, \"body\": null,"
                   " \"leak_risk\": [\"content_unknown\"]}", T0, 10);
    assert_true(rf_has_note(res, "title and body unknown"));
    assert_true(rf_has_note(res, "no @mentions in the title or body"));
    assert_string_equal(rf_str(res, "risk"), "high");
    json_decref(res);
}

/* The route memo must never answer for a snapshot that is gone: a new
 * snapshot may be allocated at the freed one's address (issue 19: the memo
 * was keyed by that address alone). */
static void test_memo_not_fooled_by_reused_address(void **state)
{
    attn_route_ctx ctx = plain_ctx(NULL);
    attn_router *r = NULL;
    attn_error err;
    json_t *a, *b, *out = NULL;
    attn_route_query q = {7, T0, 10, NULL};
    (void)state;
    ctx.memo = attn_route_memo_new();
    assert_non_null(ctx.memo);
    assert_int_equal(attn_router_new(&attn_router_mentions, NULL, NULL, &ctx, &r, &err), 0);
    a = rf_parse("{\"number\": 7, \"author\": \"dave\", \"title\": \"@alice\", "
                 "\"body\": null, \"leak_risk\": []}");
    q.snapshot = a;
    assert_int_equal(attn_router_route(r, &ctx, &q, &out, &err), 0);
    assert_cands(out, "user:alice=1");
    json_decref(out);
    json_decref(a);   /* the caller drops its snapshot without clearing the memo */
    b = rf_parse("{\"number\": 7, \"author\": \"dave\", \"title\": \"@bob\", "
                 "\"body\": null, \"leak_risk\": []}");
    q.snapshot = b;
    assert_int_equal(attn_router_route(r, &ctx, &q, &out, &err), 0);
    assert_cands(out, "user:bob=1");
    json_decref(out);
    /* the same snapshot asked again is answered from the memo */
    assert_int_equal(attn_router_route(r, &ctx, &q, &out, &err), 0);
    assert_cands(out, "user:bob=1");
    assert_int_equal(attn_route_memo_hits(ctx.memo), 1);
    json_decref(out);
    json_decref(b);
    attn_router_free(r);
    attn_route_memo_free(ctx.memo);
}

static void test_router_bad_configs(void **state)
{
    attn_route_ctx ctx = plain_ctx(NULL);
    (void)state;
    rf_config_fails(&attn_router_mentions, "{\"source\": [\"body\"]}", &ctx,
                    "unknown key 'source'");
    rf_config_fails(&attn_router_mentions, "{\"sources\": \"body\"}", &ctx, "sources");
    rf_config_fails(&attn_router_mentions, "{\"sources\": []}", &ctx,
                    "mentions config: sources must be a non-empty array");
    rf_config_fails(&attn_router_mentions, "{\"sources\": [\"body\", \"head\"]}", &ctx,
                    "mentions config: sources[1] must be \"title\" or \"body\"");
    rf_config_fails(&attn_router_mentions, "{\"sources\": [\"body\", \"body\"]}", &ctx,
                    "sources[1]");
    rf_config_fails(&attn_router_mentions, "{\"sources\": [1]}", &ctx, "sources[0]");
    rf_config_fails(&attn_router_mentions, "{\"expand_teams\": \"yes\"}", &ctx, "expand_teams");
    rf_config_fails(&attn_router_mentions, "{\"ignore_code\": 1}", &ctx, "ignore_code");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mention_cases),
        cmocka_unit_test(test_mention_offsets_and_shared_list),
        cmocka_unit_test(test_mention_cap),
        cmocka_unit_test(test_router_scores_title_first),
        cmocka_unit_test(test_router_sources),
        cmocka_unit_test(test_router_author_and_bots),
        cmocka_unit_test(test_router_teams),
        cmocka_unit_test(test_router_notes),
        cmocka_unit_test(test_router_bad_configs),
        cmocka_unit_test(test_memo_not_fooled_by_reused_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
