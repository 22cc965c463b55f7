/*
 * server/demo_int.h - shared by server.c and demo.c only.
 */
#ifndef SB_SERVER_DEMO_INT_H
#define SB_SERVER_DEMO_INT_H

#include <signal.h>

#include "server/server.h"

MUST_USE enum err demo_run(struct config *cfg, const sigset_t *stop_signals);

#endif
