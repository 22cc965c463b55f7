/* control.c - placeholder until written */
#include "emulator/emu_int.h"
void emu_h_control_state(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_control_customer_message(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_control_comment(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_control_thread(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_control_faults(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_control_clock(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_control_config(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_control_deliveries(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_control_user_action(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_control_media_image(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
void emu_h_simulator(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
