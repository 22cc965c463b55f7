/*
 * core/thread.c - naming and prioritising our own threads (see thread.h).
 */
#include "core/thread.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/log.h"

void thread_set_background(const char *name)
{
    pthread_setname_np(pthread_self(), name);
    /* setpriority() on a thread id affects that thread only (Linux) */
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), THREAD_BACKGROUND_NICE) != 0)
        log_debug("thread.nice_failed", LOG_STR("thread", name));
}
