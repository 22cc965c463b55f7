/*
 * bench/llm_stub.c - an instant OpenAI-compatible chat completions server for
 * bench/pipeline.sh: every POST .../chat/completions is answered at once with the same short
 * reply (a model that takes no time), so the benchmark measures Switchboard, not a model.
 * GET /stats answers {"requests":N,"busy_us":T}: the answers given and the microseconds
 * spent from a request's first byte to its answer, which the benchmark subtracts.
 *
 *   build/bench/llm_stub PORT
 *
 * libmicrohttpd with a thread pool; the request body is read and dropped.
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char REPLY[] =
    "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1800000000,"
    "\"model\":\"bench\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
    "\"content\":\"Yes, we ship to Canada and the United States.\"},"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":10,"
    "\"total_tokens\":110}}";

static atomic_ullong n_requests, busy_us;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static enum MHD_Result answer(struct MHD_Connection *c, int status, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **state)
{
    (void)cls;
    (void)version;
    (void)data;
    if (!*state) { /* the first call: headers only */
        uint64_t *t0 = malloc(sizeof *t0);
        *t0 = now_us();
        *state = t0;
        return MHD_YES;
    }
    if (*size) { /* body bytes: dropped */
        *size = 0;
        return MHD_YES;
    }
    uint64_t t0 = *(uint64_t *)*state;
    free(*state);
    *state = NULL;
    if (strcmp(method, "GET") == 0 && strcmp(url, "/stats") == 0) {
        char body[128];
        snprintf(body, sizeof body, "{\"requests\":%llu,\"busy_us\":%llu}",
                 (unsigned long long)atomic_load(&n_requests),
                 (unsigned long long)atomic_load(&busy_us));
        return answer(c, 200, body);
    }
    if (strcmp(method, "POST") != 0 || !strstr(url, "/chat/completions"))
        return answer(c, 404, "{\"error\":{\"message\":\"not found\"}}");
    enum MHD_Result rc = answer(c, 200, REPLY);
    atomic_fetch_add(&n_requests, 1);
    atomic_fetch_add(&busy_us, now_us() - t0);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: llm_stub PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)strtol(argv[1], NULL, 10), NULL, NULL,
        handle, NULL, MHD_OPTION_THREAD_POOL_SIZE, 4u, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "llm_stub: cannot listen on %s\n", argv[1]);
        return 1;
    }
    fprintf(stderr, "llm_stub: listening on %s\n", argv[1]);
    for (;;)
        pause();
}
