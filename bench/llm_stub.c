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

/* Replies unlike one another, one for each of bench/pipeline_load.py's questions (the one whose
 * word comes last in the request: the newest message), so the agent's loop check (the AI about
 * to say again what it just said) never mistakes the benchmark for a conversation going in
 * circles. */
static const char *const WORDS[] = {"canada", "open", "return", "store", "gift", "decaf"};
static const char *const REPLIES[] = {
    "Yes, we ship to Canada and the United States.",
    "Our cafe opens early every morning and closes in the evening.",
    "Returns are accepted within a month when the bag is unopened.",
    "Whole beans keep best in an airtight jar away from sunlight.",
    "Gift cards never expire and work online as well as in store.",
    "Decaf is made with the Swiss water process, without chemicals.",
};
#define N_REPLIES (sizeof REPLIES / sizeof REPLIES[0])
static const char REPLY_FMT[] =
    "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1800000000,"
    "\"model\":\"bench\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
    "\"content\":\"%s\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":100,"
    "\"completion_tokens\":10,\"total_tokens\":110}}";

static atomic_ullong n_requests, busy_us;

#define BODY_MAX (256 * 1024)

struct req {
    uint64_t t0;
    char *body;
    size_t len;
};

static size_t pick(const struct req *q)
{
    size_t best = 0;
    const char *best_at = NULL;
    for (size_t i = 0; i < N_REPLIES; i++) {
        const char *at = NULL, *p = q->body;
        while (p && (p = strstr(p, WORDS[i])) != NULL)
            at = p++;
        if (at && (!best_at || at > best_at)) {
            best_at = at;
            best = i;
        }
    }
    return best;
}

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
    if (!*state) { /* the first call: headers only */
        struct req *q = calloc(1, sizeof *q);
        q->t0 = now_us();
        q->body = calloc(1, BODY_MAX + 1);
        *state = q;
        return MHD_YES;
    }
    struct req *q = *state;
    if (*size) { /* body bytes: kept up to BODY_MAX */
        size_t n = *size < BODY_MAX - q->len ? *size : BODY_MAX - q->len;
        memcpy(q->body + q->len, data, n);
        q->len += n;
        *size = 0;
        return MHD_YES;
    }
    uint64_t t0 = q->t0;
    size_t which = pick(q);
    free(q->body);
    free(q);
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
    char body[1024];
    snprintf(body, sizeof body, REPLY_FMT, REPLIES[which]);
    atomic_fetch_add(&n_requests, 1);
    enum MHD_Result rc = answer(c, 200, body);
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
