/* load.c - placeholder until implemented. */
#include "cmd/cmd.h"
int cmd_load(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "attn: 'load' is not implemented yet\n");
    return 1;
}
