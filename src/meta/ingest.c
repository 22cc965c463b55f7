/*
 * meta/ingest.c - the webhook endpoint: verify, queue durably, then answer.
 *
 * POST does only what must happen before the 200: check the signature over the raw bytes,
 * check that the body is JSON (without building a tree), and append it to the queue's
 * intake journal (durable when the append returns). Parsing into events happens later on a
 * worker. A redelivered body is recognised by its HMAC (the same bytes give the same digest)
 * and answered 200 without being written again.
 */
#include "meta/meta.h"

#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/recent.h"
#include "queue/queue.h"

#define METRIC_RECEIVED "switchboard_webhooks_received_total"

struct meta_ingest {
    struct crypto_hmac *app_key; /* NULL when no app secret is configured */
    char *verify_token;
    struct queue *queue;
    struct recent *recent; /* deliveries seen lately, by the HMAC of their bytes */
};

static struct metric *m_accepted, *m_rejected, *m_duplicate, *m_dead_letter, *m_failed,
    *m_ack_seconds;

static void register_metrics(void)
{
    static const char help[] = "Webhook deliveries received, by result";
    static const double ack_bounds[] = {0.0005, 0.001, 0.002, 0.005, 0.01,
                                        0.025,  0.05,  0.1,   0.25,  1.0};
    m_accepted = metrics_counter(METRIC_RECEIVED, help, "result=\"accepted\"");
    m_rejected = metrics_counter(METRIC_RECEIVED, help, "result=\"rejected\"");
    m_duplicate = metrics_counter(METRIC_RECEIVED, help, "result=\"duplicate\"");
    m_dead_letter = metrics_counter(METRIC_RECEIVED, help, "result=\"dead_letter\"");
    m_failed = metrics_counter(METRIC_RECEIVED, help, "result=\"failed\"");
    m_ack_seconds = metrics_histogram("switchboard_webhook_ack_seconds",
                                      "Time from a complete webhook body to its answer", ack_bounds,
                                      sizeof ack_bounds / sizeof ack_bounds[0]);
}

enum err meta_ingest_new(const struct meta_ingest_opts *o, struct meta_ingest **out)
{
    struct meta_ingest *in = xcalloc(1, sizeof *in);
    if (o->app_secret && *o->app_secret)
        in->app_key = crypto_hmac_new(o->app_secret, strlen(o->app_secret));
    in->verify_token = xstrdup(o->verify_token ? o->verify_token : "");
    in->queue = o->queue;
    in->recent = recent_new();
    register_metrics();
    if (!in->app_key)
        log_warn("webhook.no_app_secret", LOG_STR("effect", "every delivery is rejected"));
    *out = in;
    return ERR_OK;
}

void meta_ingest_free(struct meta_ingest *in)
{
    if (!in)
        return;
    crypto_hmac_free(in->app_key);
    recent_free(in->recent);
    free(in->verify_token);
    free(in);
}

void meta_webhook_verify(struct http_req *req, void *ctx)
{
    struct meta_ingest *in = ctx;
    const char *mode = http_req_query(req, "hub.mode");
    const char *token = http_req_query(req, "hub.verify_token");
    const char *challenge = http_req_query(req, "hub.challenge");
    size_t want = strlen(in->verify_token);
    bool ok = mode && strcmp(mode, "subscribe") == 0 && token && want && strlen(token) == want &&
              crypto_equal(token, in->verify_token, want);
    if (!ok) {
        log_info("webhook.verify_rejected", LOG_BOOL("token_present", token != NULL));
        http_reply_text(req, 403, "forbidden\n");
        return;
    }
    if (!challenge) {
        http_reply_text(req, 400, "missing hub.challenge\n");
        return;
    }
    log_info("webhook.verified");
    http_reply(req, 200, "text/plain", challenge, strlen(challenge));
}

/* Success is counted and logged at debug (a line per delivery at 100k/s is a cost, not a
 * record anyone reads); anything else is logged at info or above by the caller. */
static void answered(struct http_req *req, struct metric *m, enum log_level level,
                     const char *event, size_t bytes)
{
    long long us = http_req_age_us(req);
    metrics_inc(m, 1);
    metrics_observe(m_ack_seconds, (double)us / 1e6);
    if (log_enabled(level))
        log_write(level, event, LOG_STR("rid", http_req_id(req)), LOG_INT("bytes", bytes),
                  LOG_INT("us", us), LOG_END);
}

static const char *signature_problem(const char *header)
{
    unsigned char d[META_SIGNATURE_LEN];
    if (!header)
        return "missing";
    if (meta_parse_signature_header(header, strlen(header), d) != ERR_OK)
        return "malformed";
    return "mismatch";
}

void meta_webhook_receive(struct http_req *req, void *ctx)
{
    struct meta_ingest *in = ctx;
    size_t len;
    const char *body = http_req_body(req, &len);
    const char *sig = http_req_header(req, "X-Hub-Signature-256");
    unsigned char mac[META_SIGNATURE_LEN];
    if (meta_verify_signature_keyed(in->app_key, body, len, sig, mac) != ERR_OK) {
        static struct log_limit limit;
        int suppressed;
        metrics_inc(m_rejected, 1); /* every one is counted; a flood is not every one logged */
        if (log_allow(&limit, 20, &suppressed))
            log_info("webhook.rejected", LOG_STR("signature", signature_problem(sig)),
                     LOG_INT("bytes", len), LOG_INT("suppressed_before", suppressed));
        http_reply_text(req, 403, "invalid signature\n");
        return;
    }
    struct json_error jerr;
    if (json_validate(body, len, JSON_MAX_DEPTH, &jerr) != ERR_OK) {
        char *reason = arena_printf(http_req_arena(req), "invalid JSON at byte %zu: %s",
                                    jerr.offset, jerr.reason);
        if (queue_submit_dead_letter(in->queue, "webhook", reason, body, len) != ERR_OK) {
            answered(req, m_failed, LOG_ERROR, "webhook.store_failed", len);
            http_reply_text(req, 503, "try again\n"); /* Meta retries: nothing is lost */
            return;
        }
        log_warn("webhook.dead_letter", LOG_STR("reason", reason), LOG_INT("bytes", len));
        answered(req, m_dead_letter, LOG_DEBUG, "webhook.dead_letter", len);
        http_reply_text(req, 200, "EVENT_RECEIVED");
        return;
    }
    /* The HMAC of the raw bytes names the delivery: a redelivery has the same digest and is
     * answered from memory. What the memory has forgotten (or a restart lost) is caught when
     * the delivery is parsed: each event is stored once by its message id. */
    char seen[2 * META_SIGNATURE_LEN + 1];
    hex_encode(mac, sizeof mac, seen);
    if (!recent_insert(in->recent, seen)) {
        answered(req, m_duplicate, LOG_DEBUG, "webhook.duplicate", len);
        http_reply_static(req, 200, "text/plain", "EVENT_RECEIVED");
        return;
    }
    struct queue_job job = {.kind = META_JOB_WEBHOOK, .payload = body, .payload_len = len};
    if (queue_submit(in->queue, &job) != ERR_OK) {
        recent_remove(in->recent, seen); /* not stored: Meta's retry must not be a duplicate */
        answered(req, m_failed, LOG_ERROR, "webhook.store_failed", len);
        http_reply_text(req, 503, "try again\n");
        return;
    }
    answered(req, m_accepted, LOG_DEBUG, "webhook.accepted", len);
    http_reply_static(req, 200, "text/plain", "EVENT_RECEIVED");
}
