/* send.c - placeholder until written */
#include "emulator/emu_int.h"
void emu_h_messages(struct http_req *r, void *ctx)
{
    (void)ctx;
    emu_error(r, 501, 1, 0, NULL, "not built yet");
}
