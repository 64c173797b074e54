/* init.c - placeholder until implemented. */
#include "cmd/cmd.h"
int cmd_init(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "attn: 'init' is not implemented yet\n");
    return 1;
}
