/*
 * contract.c - `attn contract check --repo O/R [--data-dir D] [--json]`.
 *
 * Opens the repository's store read-only and prints one line per finding,
 * then "contract attn.contract.v2: OK (...)" or "... FAILED (K findings)".
 * Exit 0 when every invariant holds, 1 when one fails or the store cannot be
 * read, 2 on bad usage. It never modifies the store.
 */
#include "cmd/cmd.h"
#include "store/store.h"
#include "util/alloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "attn contract check --repo OWNER/NAME [--data-dir DIR] [--json] [--quiet]";

static void print_json(const char *path, const attn_contract_report *r)
{
    json_t *o = json_object(), *f = json_array();
    char *text;
    for (int i = 0; i < r->n_findings; i++)
        json_array_append_new(f, json_string(r->findings[i]));
    json_object_set_new(o, "contract", json_string(ATTN_CONTRACT_VERSION));
    json_object_set_new(o, "database", json_string(path));
    json_object_set_new(o, "findings", f);
    json_object_set_new(o, "intervals_checked", json_integer(r->n_intervals));
    json_object_set_new(o, "ok", json_boolean(r->ok));
    json_object_set_new(o, "schema_version", json_integer(r->schema_version));
    json_object_set_new(o, "tables_checked", json_integer(r->n_tables));
    text = attn_xcheck(json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2)));
    json_decref(o);
    printf("%s\n", text);
    free(text);
}

int cmd_contract(int argc, char **argv)
{
    static const struct option longopts[] = {ATTN_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
    attn_cli cli;
    attn_error err;
    attn_store *s = NULL;
    attn_contract_report rep;
    char path[4200];
    int64_t repo_id = ATTN_NULL_I64;
    int rc;

    attn_error_clear(&err);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        attn_cli_help(stdout, USAGE);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "check"))
        return attn_cli_usage(USAGE, "expected the subcommand 'check'");
    argc--;
    argv++;
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, 0, &cli, NULL, NULL, NULL)) >= 0)
        return rc;
    if (!cli.repo)
        return attn_cli_usage(USAGE, "--repo OWNER/NAME is required");
    if (attn_cli_db_path(&cli, path, sizeof(path), &err))
        return attn_cli_fail(&err);
    if (attn_store_open_readonly(path, &s, &err))
        return attn_cli_fail(&err);
    /* A store made by `attn init` has no repository row yet; that is fine. */
    if (attn_store_repo_id(s, cli.repo, &repo_id, &err) && err.code != ATTN_ENOTFOUND) {
        attn_store_close(s);
        return attn_cli_fail(&err);
    }
    attn_error_clear(&err);
    rc = attn_store_contract_check(s, repo_id, &rep, &err);
    attn_store_close(s);
    if (rc)
        return attn_cli_fail(&err);
    if (cli.json) {
        print_json(path, &rep);
    } else {
        if (!cli.quiet)
            for (int i = 0; i < rep.n_findings; i++)
                printf("%s\n", rep.findings[i]);
        if (rep.ok)
            printf("contract %s: OK (%d tables, %lld intervals checked)\n", ATTN_CONTRACT_VERSION,
                   rep.n_tables, (long long)rep.n_intervals);
        else
            printf("contract %s: FAILED (%d finding%s)\n", ATTN_CONTRACT_VERSION, rep.n_findings,
                   rep.n_findings == 1 ? "" : "s");
    }
    rc = rep.ok ? 0 : 1;
    attn_contract_report_free(&rep);
    return rc;
}
