/* publish.c - placeholder until written */
#include "emulator/emu_int.h"
void emu_h_media(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_media_publish(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_publishing_limit(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
bool emu_publish_node(struct emu_call *c, const char *id, const json_t *fields)
{
    (void)c;
    (void)id;
    (void)fields;
    return false;
}
