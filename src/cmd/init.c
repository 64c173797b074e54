/*
 * init.c - `attn init --repo O/R [--data-dir D] [--quiet]`: create the data
 * directory and an empty history store at the current schema.
 *
 * Idempotent: an existing store is opened (and migrated if older), never
 * emptied. It writes no rows; loading and ingestion fill the store.
 */
#include "cmd/cmd.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/path.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] = "attn init --repo OWNER/NAME [--data-dir DIR] [--quiet]";

int cmd_init(int argc, char **argv)
{
    static const struct option longopts[] = {ATTN_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
    attn_cli cli;
    attn_error err;
    attn_store *s = NULL;
    char path[4200];
    int rc;

    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, 0, &cli, NULL, NULL, NULL)) >= 0)
        return rc;
    if (!cli.repo)
        return attn_cli_usage(USAGE, "--repo OWNER/NAME is required");
    if (attn_cli_open_store(&cli, &s, path, sizeof(path), &err))
        return attn_cli_fail(&err);
    attn_store_close(s);
    if (!cli.quiet) {
        if (cli.json) {
            json_t *o = json_pack("{s:s, s:i}", "path", path, "schema_version",
                                  attn_store_schema_version());
            attn_cli_print_json(o);
        } else
            printf("%s\n", path);
    }
    return 0;
}
