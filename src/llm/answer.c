/*
 * answer.c - answer validation and prices (answer.h). Must never accept a
 * login that was not a candidate, or guess at a malformed answer.
 */
#include "llm/answer.h"
#include "util/fs.h"
#include "util/json.h"

#include <string.h>
#include <strings.h>

static long usage_of(const json_t *root, const char *k)
{
    const json_t *v = json_object_get(json_object_get(root, "usage"), k);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (long)json_integer_value(v) : 0;
}

/* The content without one surrounding ```json ... ``` fence. */
static void unfence(const char **s, size_t *n)
{
    const char *p = *s, *e = *s + *n;
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\r' || e[-1] == '\t'))
        e--;
    if (e - p >= 6 && !strncmp(p, "```", 3) && !strncmp(e - 3, "```", 3)) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (nl && nl < e - 3) {
            p = nl + 1;
            e -= 3;
        }
    }
    *s = p;
    *n = (size_t)(e - p);
}

static int check_item(const json_t *it, size_t i, const char *const *cands, size_t n,
                      const char **login, attn_error *err)
{
    const json_t *l = json_object_get(it, "login"), *r = json_object_get(it, "reason");
    if (!json_is_object(it) || json_object_size(it) != 2 || !json_is_string(l) ||
        !json_is_string(r))
        return attn_error_set(err, ATTN_EINVAL,
                              "ranking[%zu] is not {\"login\": string, \"reason\": string}", i);
    if (json_string_length(r) > 500)
        return attn_error_set(err, ATTN_EINVAL, "ranking[%zu].reason is over 500 bytes", i);
    for (size_t k = 0; k < n; k++)
        if (!strcasecmp(cands[k], json_string_value(l))) {
            *login = cands[k];
            return 0;
        }
    return attn_error_set(err, ATTN_EINVAL, "ranking[%zu].login '%.80s' is not a candidate", i,
                          json_string_value(l));
}

int attn_llm_answer_parse(const char *body, size_t len, const char *const *cands, size_t n,
                          json_t **ranking, long *tokens_in, long *tokens_out, attn_error *err)
{
    json_t *root, *content = NULL, *arr, *it, *out;
    json_error_t je;
    const char *c;
    size_t cn, i;
    int rc = 0;
    *ranking = NULL;
    *tokens_in = *tokens_out = 0;
    if (!(root = json_loadb(body, len, 0, &je)))
        return attn_error_set(err, ATTN_EINVAL, "the answer is not JSON (%s)", je.text);
    *tokens_in = usage_of(root, "prompt_tokens");
    *tokens_out = usage_of(root, "completion_tokens");
    c = json_string_value(
        json_object_get(json_object_get(json_array_get(json_object_get(root, "choices"), 0),
                                        "message"),
                        "content"));
    if (!c) {
        json_decref(root);
        return attn_error_set(err, ATTN_EINVAL, "the answer has no choices[0].message.content");
    }
    cn = strlen(c);
    unfence(&c, &cn);
    if (!(content = json_loadb(c, cn, 0, &je))) {
        json_decref(root);
        return attn_error_set(err, ATTN_EINVAL, "the message content is not JSON (%s)", je.text);
    }
    arr = json_object_get(content, "ranking");
    if (!json_is_object(content) || json_object_size(content) != 1 || !json_is_array(arr) ||
        !json_array_size(arr)) {
        rc = attn_error_set(err, ATTN_EINVAL,
                            "the content is not {\"ranking\": [non-empty array]} (schema)");
        goto done;
    }
    out = json_array();
    json_array_foreach(arr, i, it) {
        const char *login = NULL;
        size_t j;
        json_t *prev;
        if ((rc = check_item(it, i, cands, n, &login, err)))
            break;
        json_array_foreach(out, j, prev) if (!strcmp(attn_json_str(prev, "login"), login)) {
            rc = attn_error_set(err, ATTN_EINVAL, "ranking[%zu].login '%s' appears twice", i,
                                login);
            break;
        }
        if (rc)
            break;
        json_array_append_new(out, json_pack("{s:s, s:O}", "login", login, "reason",
                                             json_object_get(it, "reason")));
    }
    if (rc)
        json_decref(out);
    else
        *ranking = out;
done:
    json_decref(content);
    json_decref(root);
    return rc;
}

int attn_llm_price_lookup(const char *path, const char *model, double *in_per_mtok,
                          double *out_per_mtok, int *found, attn_error *err)
{
    json_t *t = NULL, *m;
    int rc;
    *found = 0;
    *in_per_mtok = *out_per_mtok = 0;
    if (!attn_fs_exists(path))
        return 0;
    if ((rc = attn_json_load_file(path, &t, err)))
        return rc;
    if (!json_is_object(t)) {
        json_decref(t);
        return attn_error_set(err, ATTN_EINVAL, "%s: must be an object {model: prices}", path);
    }
    if ((m = json_object_get(t, model))) {
        const json_t *i = json_object_get(m, "input_usd_per_mtok"),
                     *o = json_object_get(m, "output_usd_per_mtok");
        if (!json_is_number(i) || !json_is_number(o) || json_number_value(i) < 0 ||
            json_number_value(o) < 0) {
            json_decref(t);
            return attn_error_set(err, ATTN_EINVAL,
                                  "%s: model '%s' needs input_usd_per_mtok and "
                                  "output_usd_per_mtok (numbers >= 0)",
                                  path, model);
        }
        *in_per_mtok = json_number_value(i);
        *out_per_mtok = json_number_value(o);
        *found = 1;
    }
    json_decref(t);
    return 0;
}
