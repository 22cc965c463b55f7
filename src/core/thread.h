/*
 * core/thread.h - what a background thread says about itself to the kernel.
 */
#ifndef SB_CORE_THREAD_H
#define SB_CORE_THREAD_H

/* Names the calling thread (at most 15 bytes show in top -H and perf) and makes it a
 * background thread: nice THREAD_BACKGROUND_NICE, so that whenever the CPU is full the
 * request threads run first. The background threads (the queue's loader, the workers) move
 * and parse work that is already durable, so a flood of webhooks is acknowledged at full
 * speed and parsed behind it; they still get a small share of a full CPU (at nice 19 about
 * 1.5 % per competing request thread) and all of an idle one, so nothing starves. Measured on
 * 2 cores under a saturating webhook load: p99 at 4 connections 3 ms at nice 10, under 1 ms at
 * nice 19 (bench/webhook.sh). Raising one's own nice needs no privilege. */
#define THREAD_BACKGROUND_NICE 19
void thread_set_background(const char *name);

#endif
