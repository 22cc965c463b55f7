/* convo.c - placeholder until written */
#include "emulator/emu_int.h"
void emu_h_conversations(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_comments(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_replies(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_node(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
