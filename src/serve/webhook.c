/*
 * webhook.c - POST /webhook: GitHub deliveries.
 */
#include "serve/internal.h"

void attn_serve_webhook(attn_server *s, const attn_req *q, attn_resp *r)
{
    attn_resp_error(r, 503, "webhook_not_configured", "webhooks are not implemented yet");
}
