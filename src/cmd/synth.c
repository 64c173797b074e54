/* synth.c - placeholder until implemented. */
#include "cmd/cmd.h"
int cmd_synth(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "attn: 'synth' is not implemented yet\n");
    return 1;
}
