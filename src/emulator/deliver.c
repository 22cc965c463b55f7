/*
 * emulator/deliver.c - webhooks as Meta sends them, and signed_request for the callbacks.
 *
 * Owns: the outbox (e->outbox) and the one delivery thread. An event pushed for a subscribed
 * Page waits until the outbox has been quiet for a few milliseconds (capped), so a burst
 * leaves in one body, as Meta batches what is ready together. Then up to 50 events of one
 * object are grouped into entries (one per entry id and key), serialised with Meta's escaping
 * (\uXXXX for non-ASCII, \/ for '/'), signed (X-Hub-Signature-256 and the legacy sha1
 * X-Hub-Signature) and POSTed with Meta's 5 s budget. A body not answered 200 is retried
 * unchanged: at once, then after webhook_retry_ms, doubling, until webhook_max_attempts, then
 * dropped. Newer batches go out meanwhile, so order is not kept after a failure (nor by Meta).
 * Does not own: building the events (control.c, customer.c, send.c, convo.c).
 * Locking: e->mu guards the outbox and the log; it is never held during HTTP.
 * Memory: the outbox is a list under a head node allocated on first use and freed by
 * emu_deliver_stop(); a batch's body is the exact bytes every attempt sends.
 */
#include "emulator/emu_deliver.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "http/client.h"

#define QUIET_US           INT64_C(8000)   /* a burst ends when nothing new came for this long */
#define LINGER_MAX_US      INT64_C(100000) /* ... or when its first event has waited this long */
#define BATCH_MAX          50
#define WEBHOOK_TIMEOUT_MS 5000 /* Meta's budget for the 200 */
#define WEBHOOK_MAX_RESP   ((size_t)64 * 1024)
#define OBJECT_LEN         16 /* "page", "instagram" */
#define DUMP_FLAGS         (JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH)

/* One node of the outbox: an event waiting for a batch, or a batch (sent, retried). The head
 * node (e->outbox) holds the list and whether the thread runs. */
struct emu_delivery {
    struct emu_delivery *next;
    /* head only */
    struct emu_delivery *tail;
    bool started;
    /* an event */
    bool is_batch;
    char object[OBJECT_LEN];
    char key[16]; /* "messaging" or "changes" */
    char field[64];
    char entry_id[EMU_ID_LEN];
    json_t *ev;
    int64_t queued_us;
    /* a batch */
    char *body;
    size_t len;
    int events, attempts;
    bool in_flight;
    int64_t due_us; /* monotonic time of the next attempt */
    int64_t log_id;
};

/* ---- the outbox list ---- */

static struct emu_delivery *outbox(struct emulator *e)
{
    if (!e->outbox)
        e->outbox = xcalloc(1, sizeof *e->outbox);
    return e->outbox;
}

static void append(struct emu_delivery *h, struct emu_delivery *d)
{
    d->next = NULL;
    if (h->tail)
        h->tail->next = d;
    else
        h->next = d;
    h->tail = d;
}

/* Unlinks d, whose predecessor is prev (the head itself for the first node). */
static void unlink_after(struct emu_delivery *h, struct emu_delivery *prev, struct emu_delivery *d)
{
    prev->next = d->next;
    if (h->tail == d)
        h->tail = prev == h ? NULL : prev;
    d->next = NULL;
}

static void node_free(struct emu_delivery *d)
{
    json_decref(d->ev);
    free(d->body);
    free(d);
}

static void remove_node(struct emu_delivery *h, struct emu_delivery *d)
{
    for (struct emu_delivery *prev = h; prev->next; prev = prev->next)
        if (prev->next == d) {
            unlink_after(h, prev, d);
            node_free(d);
            return;
        }
}

/* ---- subscriptions ---- */

static bool has_field(const char *list, const char *field)
{
    size_t n = strlen(field);
    for (const char *p = list; *p;) {
        p += strspn(p, " ");
        size_t k = strcspn(p, ", ");
        if (k == n && strncmp(p, field, n) == 0)
            return true;
        p += k;
        p += strspn(p, ", ");
    }
    return false;
}

static bool subscribed(const struct emulator *e, const char *object, const char *entry_id,
                       const char *field)
{
    bool ig = strcmp(object, "instagram") == 0;
    int p = ig ? emu_page_by_ig_id(e, entry_id) : emu_page_by_id(e, entry_id);
    if (p < 0 || !e->pages[p].subscribed_fields[0])
        return false; /* the app is not installed on the Page */
    /* Instagram via Facebook Login: the app-level instagram subscription is assumed. */
    return ig || has_field(e->pages[p].subscribed_fields, field);
}

void emu_webhook_push(struct emulator *e, const char *object, const char *entry_id, const char *key,
                      const char *field, json_t *ev)
{
    if (!subscribed(e, object, entry_id, field)) {
        log_debug("emulator.webhook_unsubscribed", LOG_STR("object", object),
                  LOG_STR("entry", entry_id), LOG_STR("field", field));
        json_decref(ev);
        return;
    }
    bool is_echo = json_is_true(json_object_get(json_object_get(ev, "message"), "is_echo"));
    if (emu_take_drop_fault(e, field, is_echo)) { /* a webhook Meta never sent */
        json_decref(ev);
        return;
    }
    struct emu_delivery *d = xcalloc(1, sizeof *d);
    snprintf(d->object, sizeof d->object, "%s", object);
    snprintf(d->key, sizeof d->key, "%s", key);
    snprintf(d->field, sizeof d->field, "%s", field);
    snprintf(d->entry_id, sizeof d->entry_id, "%s", entry_id);
    d->ev = ev;
    d->queued_us = clock_mono_us();
    struct emu_delivery *h = outbox(e);
    append(h, d);
    if (h->started) /* else the thread is not there yet: it looks at the outbox first */
        pthread_cond_signal(&e->deliver_cond);
}

/* ---- batches ---- */

/* The entry of entries for d's id and key, created (with Meta's delivery time: ms for
 * messaging, seconds for changes) when absent. */
static json_t *entry_for(json_t *entries, const struct emu_delivery *d, int64_t now_ms)
{
    size_t i;
    json_t *en;
    json_array_foreach(entries, i, en)
    {
        const char *id = json_string_value(json_object_get(en, "id"));
        if (id && strcmp(id, d->entry_id) == 0 && json_object_get(en, d->key))
            return en;
    }
    bool changes = strcmp(d->key, "changes") == 0;
    en = json_pack("{s:I, s:s, s:[]}", "time", (json_int_t)(changes ? now_ms / 1000 : now_ms), "id",
                   d->entry_id, d->key);
    json_array_append_new(entries, en);
    return en;
}

static void add_event(json_t *entries, struct emu_delivery *d, int64_t now_ms)
{
    json_t *list = json_object_get(entry_for(entries, d, now_ms), d->key);
    if (strcmp(d->key, "changes") == 0)
        json_array_append_new(list, json_pack("{s:s, s:O}", "field", d->field, "value", d->ev));
    else
        json_array_append(list, d->ev);
}

static void log_begin(struct emulator *e, struct emu_delivery *b)
{
    b->log_id = e->n_dlog++;
    struct emu_delivery_log *l = &e->dlog[b->log_id % EMU_DELIVERY_LOG];
    *l = (struct emu_delivery_log){.id = b->log_id, .events = b->events};
}

/* Meta writes \uXXXX escapes with lower-case hex ("\ud83d\ude00"); jansson writes upper
 * case. Only the digits of real escapes change: an escaped backslash is skipped whole. */
static void lower_escapes(char *s)
{
    for (char *p = s; *p; p++) {
        if (*p != '\\' || !p[1])
            continue;
        p++;
        for (int i = 1; *p == 'u' && i <= 4 && p[i]; i++)
            if (p[i] >= 'A' && p[i] <= 'F')
                p[i] = (char)(p[i] - 'A' + 'a');
    }
}

/* Takes up to BATCH_MAX waiting events of `object` out of the outbox, oldest first, and
 * queues them as one batch, due now. */
static struct emu_delivery *make_batch(struct emulator *e, const char *obj, int64_t now_us)
{
    char object[OBJECT_LEN];
    snprintf(object, sizeof object, "%s", obj); /* obj lives in an event freed below */
    struct emu_delivery *h = e->outbox;
    json_t *entries = json_array();
    int n = 0;
    int64_t now_ms = emu_now_ms(e);
    for (struct emu_delivery *prev = h, *d = h->next; d && n < BATCH_MAX;) {
        struct emu_delivery *next = d->next;
        if (!d->is_batch && strcmp(d->object, object) == 0) {
            add_event(entries, d, now_ms);
            unlink_after(h, prev, d);
            node_free(d);
            n++;
        } else {
            prev = d;
        }
        d = next;
    }
    json_t *doc = json_pack("{s:s, s:o}", "object", object, "entry", entries);
    struct emu_delivery *b = xcalloc(1, sizeof *b);
    b->is_batch = true;
    b->body = json_dumps(doc, DUMP_FLAGS);
    lower_escapes(b->body);
    b->len = strlen(b->body);
    json_decref(doc);
    b->events = n;
    b->due_us = now_us;
    log_begin(e, b);
    append(h, b);
    return b;
}

/* The next batch to attempt now, if any; otherwise *wake_us is lowered to when there will
 * be one (it stays -1 when only a new event can make one). */
static struct emu_delivery *next_batch(struct emulator *e, int64_t now_us, int64_t *wake_us)
{
    const struct emu_delivery *first = NULL;
    int64_t newest = 0;
    for (struct emu_delivery *d = e->outbox ? e->outbox->next : NULL; d; d = d->next) {
        if (d->is_batch && !d->in_flight && d->due_us <= now_us)
            return d;
        if (d->is_batch && !d->in_flight && (*wake_us < 0 || d->due_us < *wake_us))
            *wake_us = d->due_us;
        if (!d->is_batch && !first)
            first = d;
        if (!d->is_batch && d->queued_us > newest)
            newest = d->queued_us;
    }
    if (!first)
        return NULL;
    int64_t ready = newest + QUIET_US;
    if (first->queued_us + LINGER_MAX_US < ready)
        ready = first->queued_us + LINGER_MAX_US;
    if (ready <= now_us)
        return make_batch(e, first->object, now_us);
    if (*wake_us < 0 || ready < *wake_us)
        *wake_us = ready;
    return NULL;
}

/* ---- one attempt ---- */

static void sign_headers(const char *secret, const char *body, size_t len, char *h256,
                         size_t h256_len, char *h1, size_t h1_len)
{
    unsigned char mac[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    crypto_hmac_sha256(secret, strlen(secret), body, len, mac);
    hex_encode(mac, sizeof mac, hex);
    snprintf(h256, h256_len, "X-Hub-Signature-256: sha256=%s", hex);
    unsigned char mac1[EVP_MAX_MD_SIZE];
    unsigned int mac1_len = 0;
    HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac1,
         &mac1_len);
    hex_encode(mac1, mac1_len, hex);
    snprintf(h1, h1_len, "X-Hub-Signature: sha1=%s", hex);
}

/* POSTs body as Meta does; returns the HTTP status, 0 when the connection failed. */
static int post_signed(const char *url, const char *secret, const char *body, size_t len)
{
    char h256[128], h1[96];
    sign_headers(secret, body, len, h256, sizeof h256, h1, sizeof h1);
    const char *headers[] = {"Content-Type: application/json",
                             "User-Agent: facebookexternalua",
                             "Expect:",
                             h256,
                             h1,
                             NULL};
    struct http_client_resp resp;
    enum err rc = http_client_do("POST", url, headers, body, len, WEBHOOK_TIMEOUT_MS,
                                 WEBHOOK_MAX_RESP, &resp);
    free(resp.body);
    return rc == ERR_OK ? resp.status : 0;
}

/* Delay before the attempt after `attempts` failed ones: 0, then retry_ms, doubling. */
static int64_t retry_delay_us(const struct emulator *e, int attempts)
{
    if (attempts <= 1)
        return 0;
    int shift = attempts - 2 > 20 ? 20 : attempts - 2;
    return (int64_t)e->o.webhook_retry_ms * 1000 * ((int64_t)1 << shift);
}

static void log_attempt(struct emulator *e, const struct emu_delivery *b, int status, bool done,
                        bool dropped)
{
    struct emu_delivery_log *l = &e->dlog[b->log_id % EMU_DELIVERY_LOG];
    if (l->id != b->log_id)
        return; /* overwritten by newer batches in the ring */
    int64_t now_ms = emu_now_ms(e);
    if (l->attempts == 0)
        l->first_ms = now_ms;
    l->last_ms = now_ms;
    l->attempts = b->attempts;
    l->last_status = status;
    l->delivered = done && !dropped;
    l->dropped = dropped;
}

/* Sends b once, with mu released during the POST (b stays in the outbox, marked in flight,
 * so that only this thread touches it). */
static void attempt(struct emulator *e, struct emu_delivery *b)
{
    b->in_flight = true;
    char *url = xstrdup(e->webhook_url);
    pthread_mutex_unlock(&e->mu);
    int status = post_signed(url, e->app_secret, b->body, b->len);
    free(url);
    pthread_mutex_lock(&e->mu);
    b->in_flight = false;
    b->attempts++;
    bool ok = status == 200;
    bool dropped = !ok && b->attempts >= e->o.webhook_max_attempts;
    log_attempt(e, b, status, ok || dropped, dropped);
    if (dropped)
        log_warn("emulator.webhook_dropped", LOG_INT("delivery", b->log_id),
                 LOG_INT("attempts", b->attempts), LOG_INT("status", status));
    else if (!ok)
        log_info("emulator.webhook_failed", LOG_INT("delivery", b->log_id),
                 LOG_INT("attempt", b->attempts), LOG_INT("status", status));
    if (ok || dropped)
        remove_node(e->outbox, b);
    else
        b->due_us = clock_mono_us() + retry_delay_us(e, b->attempts);
}

/* ---- the thread ---- */

static void wait_until(struct emulator *e, int64_t wake_us)
{
    if (wake_us < 0) {
        pthread_cond_wait(&e->deliver_cond, &e->mu);
        return;
    }
    struct timespec ts = {.tv_sec = (time_t)(wake_us / 1000000),
                          .tv_nsec = (long)(wake_us % 1000000) * 1000};
    pthread_cond_timedwait(&e->deliver_cond, &e->mu, &ts);
}

static void *deliver_main(void *arg)
{
    struct emulator *e = arg;
    pthread_mutex_lock(&e->mu);
    while (!e->deliver_stop) {
        int64_t wake_us = -1;
        struct emu_delivery *b = NULL;
        if (e->webhook_url) /* without a URL, events wait */
            b = next_batch(e, clock_mono_us(), &wake_us);
        if (b)
            attempt(e, b);
        else
            wait_until(e, wake_us);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* The HTTP server is already up: handlers may push before the thread exists, so the
 * condition variable is used only once `started` is set, under mu, after its init. */
enum err emu_deliver_start(struct emulator *e)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* wake times are clock_mono_us() */
    pthread_cond_init(&e->deliver_cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_lock(&e->mu);
    struct emu_delivery *h = outbox(e);
    e->deliver_stop = false;
    bool ok = pthread_create(&e->deliver_thread, NULL, deliver_main, e) == 0;
    h->started = ok;
    pthread_mutex_unlock(&e->mu);
    if (!ok)
        pthread_cond_destroy(&e->deliver_cond);
    return ok ? ERR_OK : ERR_INTERNAL;
}

void emu_deliver_stop(struct emulator *e)
{
    pthread_mutex_lock(&e->mu);
    struct emu_delivery *h = e->outbox;
    bool started = h && h->started;
    e->deliver_stop = true;
    if (started)
        pthread_cond_broadcast(&e->deliver_cond);
    pthread_mutex_unlock(&e->mu);
    if (started) {
        pthread_join(e->deliver_thread, NULL);
        pthread_cond_destroy(&e->deliver_cond);
    }
    while (h && h->next) {
        struct emu_delivery *d = h->next;
        h->next = d->next;
        node_free(d);
    }
    free(h);
    e->outbox = NULL;
}

void emu_deliver_kick(struct emulator *e)
{
    if (e->outbox && e->outbox->started)
        pthread_cond_signal(&e->deliver_cond);
}

int emu_deliver_pending(const struct emulator *e)
{
    int n = 0;
    for (const struct emu_delivery *d = e->outbox ? e->outbox->next : NULL; d; d = d->next)
        n += d->is_batch ? d->events : 1;
    return n;
}

json_t *emu_deliver_log_json(const struct emulator *e)
{
    json_t *out = json_array();
    int64_t from = e->n_dlog > EMU_DELIVERY_LOG ? e->n_dlog - EMU_DELIVERY_LOG : 0;
    for (int64_t i = from; i < e->n_dlog; i++) {
        const struct emu_delivery_log *l = &e->dlog[i % EMU_DELIVERY_LOG];
        json_array_append_new(
            out, json_pack("{s:I, s:i, s:i, s:i, s:b, s:b, s:I, s:I}", "id", (json_int_t)l->id,
                           "attempts", l->attempts, "last_status", l->last_status, "events",
                           l->events, "delivered", l->delivered, "dropped", l->dropped, "first_ms",
                           (json_int_t)l->first_ms, "last_ms", (json_int_t)l->last_ms));
    }
    return out;
}

/* ---- signed_request ---- */

char *emu_signed_request(const struct emulator *e, const char *user_id)
{
    json_int_t issued = (json_int_t)emu_now_ms(e) / 1000;
    json_t *p = json_pack("{s:s, s:I, s:I, s:s}", "algorithm", "HMAC-SHA256", "expires",
                          issued + 3600, "issued_at", issued, "user_id", user_id);
    char *payload = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    size_t plen = strlen(payload);
    char *payload_b64 = xmalloc(4 * ((plen + 2) / 3) + 1);
    base64url_encode(payload, plen, payload_b64);
    free(payload);
    unsigned char mac[CRYPTO_SHA256_LEN];
    crypto_hmac_sha256(e->app_secret, strlen(e->app_secret), payload_b64, strlen(payload_b64), mac);
    char sig[4 * ((CRYPTO_SHA256_LEN + 2) / 3) + 1];
    base64url_encode(mac, sizeof mac, sig);
    size_t n = strlen(sig) + 1 + strlen(payload_b64) + 1;
    char *out = xmalloc(n);
    snprintf(out, n, "%s.%s", sig, payload_b64);
    free(payload_b64);
    return out;
}
