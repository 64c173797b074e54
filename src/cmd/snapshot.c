/* snapshot.c - placeholder until implemented. */
#include "cmd/cmd.h"
int cmd_snapshot(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "attn: 'snapshot' is not implemented yet\n");
    return 1;
}
