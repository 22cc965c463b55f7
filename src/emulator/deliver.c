/* deliver.c - placeholder until written */
#include "emulator/emu_int.h"
enum err emu_deliver_start(struct emulator *e)
{
    (void)e;
    return ERR_OK;
}
void emu_deliver_stop(struct emulator *e)
{
    (void)e;
}
void emu_webhook_push(struct emulator *e, const char *object, const char *entry_id, const char *key,
                      const char *field, json_t *ev)
{
    (void)e;
    (void)object;
    (void)entry_id;
    (void)key;
    (void)field;
    json_decref(ev);
}
char *emu_signed_request(const struct emulator *e, const char *user_id)
{
    (void)e;
    (void)user_id;
    return NULL;
}
