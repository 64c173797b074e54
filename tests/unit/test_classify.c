/*
 * test_classify.c - classify/: the datadecide registry on the W&B run-id
 * corpus (../shared/data/wandb-run-ids, skipped when absent), converters and
 * metric canonicalisation (data-driven, tests/data/classify), config
 * validation (one clear line per malformed config), post-processing and the
 * decisions on the reference's defects (docs/classify.md).
 */
#include "testutil.h"
#include "classify/classify.h"

#include <jansson.h>
#include <math.h>

static json_t *load_jsonl(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    json_t *a = json_array();
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_error_t je;
        json_t *o = json_loads(line, JSON_DECODE_ANY, &je);
        if (!o)
            fail_msg("%s: %s", path, je.text);
        json_array_append_new(a, o);
    }
    free(line);
    fclose(f);
    return a;
}

static json_t *load_data(const char *name)
{
    char p[1024];
    test_data_path(name, p, sizeof p);
    json_t *a = load_jsonl(p);
    assert_non_null(a);
    assert_true(json_array_size(a) > 0);
    return a;
}

static const char *shared_path(const char *name, char *out, size_t cap)
{
    const char *root = getenv("ATTN_ROOT");
    snprintf(out, cap, "%s/../shared/data/wandb-run-ids/%s", root ? root : ".", name);
    return out;
}

static attn_classify_cfg *datadecide(attn_classify_matcher **m)
{
    attn_classify_cfg *c = NULL;
    attn_error err;
    attn_error_clear(&err);
    if (attn_classify_cfg_load("datadecide", &c, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(attn_classify_matcher_new(c, m, &err), 0);
    return c;
}

static void test_corpus(void **state)
{
    (void)state;
    char p[1024];
    json_t *corpus = load_jsonl(shared_path("run_ids.jsonl", p, sizeof p));
    if (!corpus) {
        printf("# SKIP corpus %s absent\n", p);
        return;
    }
    json_t *exc = load_data("classify/corpus_exceptions.jsonl");
    attn_classify_matcher *m;
    attn_classify_cfg *c = datadecide(&m);
    size_t i, j, n_exc = 0;
    json_t *d, *e;
    json_array_foreach(corpus, i, d) {
        const char *id = json_string_value(json_object_get(d, "run_id"));
        json_t *rec = attn_classify_record(m, id, strlen(id));
        json_t *want = json_deep_copy(json_object_get(d, "expected_fields"));
        json_t *pat = json_incref(json_object_get(want, "pattern_name"));
        const char *type = json_string_value(json_object_get(d, "expected_type"));
        json_object_del(want, "pattern_name");
        json_array_foreach(exc, j, e) if (!strcmp(json_string_value(json_object_get(e, "run_id")), id)) {
            /* Deliberately different from the reference: see "reason". */
            assert_true(strlen(json_string_value(json_object_get(e, "reason"))) > 20);
            json_decref(want);
            json_decref(pat);
            want = json_incref(json_object_get(e, "fields"));
            pat = json_incref(json_object_get(e, "pattern"));
            type = json_string_value(json_object_get(e, "run_type"));
            n_exc++;
        }
        if (strcmp(json_string_value(json_object_get(rec, "run_type")), type) ||
            !json_equal(json_object_get(rec, "fields"), want) ||
            !json_equal(json_object_get(rec, "pattern"), pat ? pat : json_null()))
            fail_msg("%s: got %s", id, json_dumps(rec, JSON_SORT_KEYS));
        /* Every matching pattern is reported (as a set: the order is ours). */
        json_t *all = json_object_get(d, "all_matching_patterns"), *got = json_object_get(rec, "matches");
        assert_int_equal(json_array_size(all), json_array_size(got));
        json_array_foreach(all, j, e) {
            int found = 0;
            for (size_t k = 0; k < json_array_size(got); k++)
                found |= json_equal(e, json_array_get(got, k));
            if (!found)
                fail_msg("%s: %s not reported", id, json_string_value(e));
        }
        json_decref(want);
        json_decref(pat);
        json_decref(rec);
    }
    assert_int_equal(n_exc, json_array_size(exc)); /* every exception names a corpus id */
    attn_classify_matcher_free(m);
    attn_classify_cfg_free(c);
    json_decref(exc);
    json_decref(corpus);
}

static void test_tokens(void **state)
{
    (void)state;
    json_t *cases = load_data("classify/tokens.jsonl"), *t;
    size_t i;
    json_array_foreach(cases, i, t) {
        json_t *got = attn_classify_convert("tokens_to_number", json_object_get(t, "in"));
        json_t *want = json_object_get(t, "out");
        if (json_is_null(want) ? !json_is_null(got)
                               : !json_is_number(got) || fabs(json_number_value(got) - json_number_value(want)) > 1e-6 * fabs(json_number_value(want)))
            fail_msg("tokens case %zu: %s -> %s", i + 1, json_dumps(json_object_get(t, "in"), JSON_ENCODE_ANY), json_dumps(got, JSON_ENCODE_ANY));
        json_decref(got);
    }
    json_decref(cases);
}

static void test_timestamps(void **state)
{
    (void)state;
    json_t *cases = load_data("classify/timestamps.jsonl"), *t;
    size_t i;
    json_array_foreach(cases, i, t) {
        json_t *got = attn_classify_convert("timestamp", json_object_get(t, "in"));
        if (!json_equal(got, json_object_get(t, "out")))
            fail_msg("timestamp case %zu: got %s", i + 1, json_dumps(got, JSON_ENCODE_ANY));
        json_decref(got);
    }
    json_decref(cases);
}

static void assert_str_or_null(const char *got, const json_t *want, size_t i, const char *what)
{
    if (json_is_null(want) ? got != NULL : !got || strcmp(got, json_string_value(want)))
        fail_msg("metric case %zu %s: got %s", i + 1, what, got ? got : "(null)");
}

static void test_metrics(void **state)
{
    (void)state;
    attn_classify_matcher *m;
    attn_classify_cfg *c = datadecide(&m);
    json_t *cases = load_data("classify/metrics.jsonl"), *t;
    size_t i;
    json_array_foreach(cases, i, t) {
        const char *in = json_string_value(json_object_get(t, "in"));
        char *task, *metric, *rest;
        assert_int_equal(attn_classify_metric_parse(attn_classify_cfg_catalogue(c), in, &task, &metric, &rest), 0);
        assert_str_or_null(task, json_object_get(t, "task"), i, "task");
        assert_str_or_null(metric, json_object_get(t, "metric"), i, "metric");
        assert_str_or_null(rest, json_object_get(t, "unmatched"), i, "unmatched");
        char *canon = attn_classify_metric_canonical(attn_classify_cfg_catalogue(c), in);
        assert_str_or_null(canon, json_object_get(t, "canonical"), i, "canonical");
        free(task);
        free(metric);
        free(rest);
        free(canon);
    }
    json_decref(cases);
    attn_classify_matcher_free(m);
    attn_classify_cfg_free(c);
}

static void test_bad_configs(void **state)
{
    (void)state;
    json_t *cases = load_data("classify/bad_configs.jsonl"), *t;
    size_t i;
    json_array_foreach(cases, i, t) {
        const char *text = json_string_value(json_object_get(t, "text"));
        char *dump = text ? NULL : json_dumps(json_object_get(t, "config"), JSON_ENCODE_ANY);
        attn_classify_cfg *c = NULL;
        attn_error err;
        attn_error_clear(&err);
        int rc = attn_classify_cfg_parse(text ? text : dump, strlen(text ? text : dump), "cfg.json", &c, &err);
        assert_int_equal(rc, ATTN_EINVAL);
        assert_null(c);
        if (!strstr(err.msg, json_string_value(json_object_get(t, "error"))) || strchr(err.msg, '\n'))
            fail_msg("bad config %zu: message '%s'", i + 1, err.msg);
        assert_true(!strncmp(err.msg, "cfg.json", 8));
        free(dump);
    }
    json_decref(cases);
}

/* File order decides, and every match is reported; ids are anchored at both
 * ends (no trailing-newline slack, reference 2.4.5). */
static void test_order_and_anchoring(void **state)
{
    (void)state;
    const char *cfg = "{\"fragments\": {\"W\": \"(?<w>[a-z]+)\"}, \"patterns\": ["
                      "{\"name\": \"B\", \"run_type\": \"b\", \"components\": [\"W\", \"literal:.x\"]},"
                      "{\"name\": \"A\", \"run_type\": \"a\", \"components\": [\"regex:[a-z.]+\"]}],"
                      "\"legacy\": {\"run_type\": \"old\", \"contains\": [\"main_default\"], \"not_contains\": [\"dpo\"]}}";
    attn_classify_cfg *c;
    attn_classify_matcher *m;
    attn_error err;
    assert_int_equal(attn_classify_cfg_parse(cfg, strlen(cfg), "t", &c, &err), 0);
    assert_int_equal(attn_classify_matcher_new(c, &m, &err), 0);
    attn_classify_result r;
    attn_classify_id(m, "ab.x", 4, &r);
    assert_string_equal(r.run_type, "b");
    assert_int_equal(r.n_matches, 2);
    assert_int_equal(r.matches[0], 0);
    assert_int_equal(r.matches[1], 1);
    attn_classify_id(m, "ab-x", 4, &r);
    assert_string_equal(r.run_type, "other");
    attn_classify_id(m, "ab.x\n", 5, &r);
    assert_string_equal(r.run_type, "other");
    attn_classify_id(m, "x_main_default", 14, &r);
    assert_string_equal(r.run_type, "old");
    attn_classify_id(m, "dpo_main_default", 16, &r);
    assert_string_equal(r.run_type, "other");
    json_t *rec = attn_classify_record(m, "ab.x", 4);
    assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "fields"), "w")), "ab");
    json_decref(rec);
    attn_classify_matcher_free(m);
    attn_classify_cfg_free(c);
}

/* A pattern that stops at PCRE2's match limit counts as no match and is
 * reported as failed, never as a crash or a hang. */
static void test_match_limit(void **state)
{
    (void)state;
    const char *cfg = "{\"patterns\": [{\"name\": \"bad\", \"run_type\": \"b\", \"components\": [\"regex:(a|aa)+(a|aa)+[^a]\"]},"
                      "{\"name\": \"ok\", \"run_type\": \"o\", \"components\": [\"regex:a+\"]}]}";
    attn_classify_cfg *c;
    attn_classify_matcher *m;
    attn_error err;
    assert_int_equal(attn_classify_cfg_parse(cfg, strlen(cfg), "t", &c, &err), 0);
    assert_int_equal(attn_classify_matcher_new(c, &m, &err), 0);
    char id[121];
    memset(id, 'a', 120);
    id[120] = 0;
    json_t *rec = attn_classify_record(m, id, 120);
    assert_string_equal(json_string_value(json_object_get(rec, "run_type")), "o");
    assert_int_equal(json_integer_value(json_object_get(rec, "failed_patterns")), 1);
    json_decref(rec);
    attn_classify_matcher_free(m);
    attn_classify_cfg_free(c);
}

static json_t *find_row(json_t *groups, const char *type, const char *prefix)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(groups, type), i, r)
        if (!strncmp(json_string_value(json_object_get(r, "run_id")), prefix, strlen(prefix)))
            return r;
    fail_msg("no %s row %s", type, prefix);
    return NULL;
}

static double num(const json_t *row, const char *k)
{
    const json_t *v = json_object_get(row, k);
    if (!json_is_number(v))
        fail_msg("%s is not a number", k);
    return json_number_value(v);
}

/* The reference fixture runs (runs_sample.jsonl) through the datadecide steps. */
static void test_process_fixture(void **state)
{
    (void)state;
    char p[1024];
    attn_error err;
    json_t *runs = NULL;
    if (attn_classify_read_runs(shared_path("runs_sample.jsonl", p, sizeof p), &runs, &err) < 0) {
        printf("# SKIP %s absent\n", p);
        return;
    }
    attn_classify_matcher *m;
    attn_classify_cfg *c = datadecide(&m);
    json_t *g;
    assert_int_equal(attn_classify_group(m, c, runs, 0, &g, &err), 0);
    assert_null(json_object_get(g, "old")); /* dropped */
    json_t *ft1 = find_row(g, "simple_ft_vary_tokens", "2025_08_21");
    assert_string_equal(json_string_value(json_object_get(ft1, "ckpt_data")), "Dolma1.7");
    assert_string_equal(json_string_value(json_object_get(ft1, "ckpt_steps")), "main");
    assert_string_equal(json_string_value(json_object_get(ft1, "timestamp")), "2025-08-21T08:24:43");
    assert_true(num(ft1, "num_finetune_tokens") == 1e6);
    assert_null(json_object_get(ft1, "_config"));
    json_t *dpo = find_row(g, "dpo", "2025_08_27");
    assert_true(num(dpo, "num_finetune_tokens") == 1e8);
    json_t *ft4 = find_row(g, "simple_ft", "2025_08_30"), *ft5 = find_row(g, "simple_ft", "250901");
    assert_true(num(ft4, "num_finetune_tokens_per_epoch") == 665127434);
    assert_true(num(ft4, "num_finetune_epochs") == 2);
    assert_true(num(ft4, "num_finetune_tokens") == 1330254868);
    /* Decision (reference 7.6): the summary's real token count is kept. */
    assert_true(num(ft4, "num_finetuned_tokens_real") == 665079539);
    assert_true(num(ft5, "num_finetuned_tokens_real") == 1330254868);
    json_t *mt = find_row(g, "matched", "250912");
    assert_true(num(mt, "num_finetune_tokens") == 1e8);
    assert_true(num(mt, "num_finetuned_tokens_real") == 91330008);
    assert_string_equal(json_string_value(json_object_get(mt, "lr")), "5e-06");
    /* Decision (reference 7.5): "c4" stays "c4", not "None None c4". */
    assert_string_equal(json_string_value(json_object_get(mt, "comparison_metric")), "c4");
    json_decref(g);
    json_decref(runs);
    attn_classify_matcher_free(m);
    attn_classify_cfg_free(c);
}

/* Decision (reference 7.6): reduce_loss ids carry a sample count, kept as
 * max_train_samples, never read as tokens. */
static void test_reduce_samples(void **state)
{
    (void)state;
    attn_classify_matcher *m;
    attn_classify_cfg *c = datadecide(&m);
    json_t *runs = json_pack("[{s:s}]", "run_id", "2025_08_20-12_12_19_test_data_rep_finetune_DD-dolma1_7-4M_main_default_--max_train_samples=51200_--reduce_loss=sum");
    json_t *g;
    attn_error err;
    assert_int_equal(attn_classify_group(m, c, runs, 0, &g, &err), 0);
    json_t *r = json_array_get(json_object_get(g, "reduce_type"), 0);
    assert_true(num(r, "max_train_samples") == 51200);
    assert_null(json_object_get(r, "num_finetune_tokens"));
    assert_string_equal(json_string_value(json_object_get(r, "reduce_loss")), "sum");
    char *csv;
    size_t len;
    attn_classify_csv(json_object_get(g, "reduce_type"), &csv, &len);
    assert_true(!strncmp(csv, "run_id,pattern_name,timestamp,", 30));
    free(csv);
    json_decref(g);
    json_decref(runs);
    attn_classify_matcher_free(m);
    attn_classify_cfg_free(c);
}

/* Each step on its own, data-driven (tests/data/classify/steps.jsonl). */
static void test_steps(void **state)
{
    (void)state;
    json_t *cases = load_data("classify/steps.jsonl"), *t;
    size_t i;
    json_array_foreach(cases, i, t) {
        json_t *cfgj = json_pack("{s:[], s:O}", "patterns", "steps", json_object_get(t, "steps"));
        if (json_object_get(t, "catalogue"))
            json_object_set(cfgj, "catalogue", json_object_get(t, "catalogue"));
        char *text = json_dumps(cfgj, 0);
        attn_classify_cfg *c;
        attn_error err;
        if (attn_classify_cfg_parse(text, strlen(text), "steps", &c, &err) < 0)
            fail_msg("%s: %s", json_string_value(json_object_get(t, "name")), err.msg);
        json_t *rows = json_deep_copy(json_object_get(t, "in"));
        assert_int_equal(attn_classify_process(c, "matched", rows, &err), 0);
        if (!json_equal(rows, json_object_get(t, "out")))
            fail_msg("%s: got %s", json_string_value(json_object_get(t, "name")), json_dumps(rows, JSON_COMPACT));
        json_decref(rows);
        free(text);
        json_decref(cfgj);
        attn_classify_cfg_free(c);
    }
    json_decref(cases);
}

static void test_flatten_summary(void **state)
{
    (void)state;
    json_t *s = json_loads("{\"oe_eval_metrics/arc_easy\": {\"acc\": 0.5, \"task_config\": {}, \"extra_metrics\": {\"b\": 1, \"n\": null}, \"value\": 2},"
                           " \"oe_eval_metrics/pile/valppl\": 3.5, \"oe_eval_metrics/boolq\": 0.5,"
                           " \"oe_eval_metricsX/t\": 1, \"other/x\": 1, \"oe_eval_metrics/a/b/c\": 1,"
                           " \"oe_eval_metrics/empty\": {\"task_config\": {}}, \"oe_eval_metrics/nul\": null}", 0, NULL);
    json_t *f = attn_classify_flatten_summary(s);
    char *d = json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(d, "{\"arc_easy\":{\"acc\":0.5,\"b\":1,\"value\":2},\"pile\":{\"valppl\":3.5},\"boolq\":0.5,\"t\":1}");
    free(d);
    json_decref(f);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),          cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_timestamps),      cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_bad_configs),     cmocka_unit_test(test_order_and_anchoring),
        cmocka_unit_test(test_process_fixture), cmocka_unit_test(test_reduce_samples),
        cmocka_unit_test(test_flatten_summary), cmocka_unit_test(test_steps),
        cmocka_unit_test(test_match_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
