/* contract.c - placeholder until implemented. */
#include "cmd/cmd.h"
int cmd_contract(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "attn: 'contract' is not implemented yet\n");
    return 1;
}
