/* oauth.c - placeholder until written */
#include "emulator/emu_int.h"
void emu_h_dialog(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_dialog_confirm(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_access_token(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_debug_token(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_me(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_me_accounts(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_me_permissions(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_subscribed_apps(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
