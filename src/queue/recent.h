/*
 * queue/recent.h - a bounded in-memory set of recently submitted dedupe keys.
 *
 * Lets the webhook path answer a redelivery at once without touching the disk. It forgets
 * (two generations, each at most RECENT_GEN_MAX keys); the database's unique index stays the
 * authority, so forgetting costs a row lookup later, never a lost or doubled job.
 * Threads: any; sharded locks.
 */
#ifndef SB_QUEUE_RECENT_H
#define SB_QUEUE_RECENT_H

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
