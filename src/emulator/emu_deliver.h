/*
 * emulator/emu_deliver.h - what the control API reads of webhook delivery (deliver.c), and
 * the small helpers the control files (control.c, customer.c, account.c) share.
 *
 * Private to src/emulator/: nothing outside the module includes it.
 * Locking: every function marked "mu held" expects e->mu locked by the caller.
 */
#ifndef SB_EMULATOR_EMU_DELIVER_H
#define SB_EMULATOR_EMU_DELIVER_H

#include <jansson.h>

#include "emulator/emu_int.h"

/* ---- deliver.c ---- */
/* Events not yet delivered or dropped: waiting, in a batch being retried, or in flight
 * (mu held). */
int emu_deliver_pending(const struct emulator *e);
/* The delivery log, oldest first, as a JSON array the caller owns (mu held). */
json_t *emu_deliver_log_json(const struct emulator *e);
/* Wakes the delivery thread, e.g. after the webhook URL changed (mu held). */
void emu_deliver_kick(struct emulator *e);

/* ---- control.c: shared by the control handlers ---- */
/* Answers {"error":message} with status. */
void emu_ctl_error(struct http_req *r, int status, const char *message);
/* The request's JSON object body (an empty object when there is no body), owned by the
 * caller; NULL after answering 400 when the body is not a JSON object. */
json_t *emu_ctl_body(struct http_req *r);
/* A non-negative decimal path parameter below limit, or -1. */
int emu_ctl_index(const char *s, int limit);

#endif
