/* pin.c - `attn pin` (placeholder until the pin work lands). */
#include "cmd/cmd.h"

int cmd_pin(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "attn: pin is not built yet\n");
    return 1;
}
