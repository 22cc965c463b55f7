/*
 * server/demo_int.h - shared by server.c and demo.c only.
 */
#ifndef SB_SERVER_DEMO_INT_H
#define SB_SERVER_DEMO_INT_H

#include <signal.h>

#include "server/server.h"

struct store;

MUST_USE enum err demo_run(struct config *cfg, const sigset_t *stop_signals);
/* demo_browser.c: signs in as the operator and connects accounts through /oauth/start, the
 * login dialog and /oauth/callback, printing each step. */
MUST_USE enum err demo_connect(const char *base, const char *email, const char *password);

/* demo_publish.c: draws a template image, queues it as a post for the connected Instagram
 * account and prints how it went once it is published (or failed). */
void demo_publish(const struct config *cfg, struct store *s);

#endif
