/* route.c - `attn route` (placeholder until the routers land). */
#include "cmd/cmd.h"

int cmd_route(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "attn: route is not built yet\n");
    return 1;
}
