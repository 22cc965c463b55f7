/*
 * core/recent.h - a bounded in-memory set of recently seen keys.
 *
 * Lets the webhook path answer a redelivery at once without touching the disk. It forgets
 * (two generations of a fixed size), so it is an optimisation, never the authority: what
 * must not happen twice is guarded by a unique key in the database (for webhooks, each
 * event's message id).
 * Threads: any; sharded locks.
 */
#ifndef SB_CORE_RECENT_H
#define SB_CORE_RECENT_H

#include <stdbool.h>
#include <stddef.h>

struct recent;

struct recent *recent_new(void);
void recent_free(struct recent *r);
/* Inserts key; false if it was already present (a duplicate). */
bool recent_insert(struct recent *r, const char *key);
/* Forgets key (its submission failed, so a retry must not look like a duplicate). */
void recent_remove(struct recent *r, const char *key);

#endif
