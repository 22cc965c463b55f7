/*
 * inbox/gapfill.c - the gap filler: webhooks do go missing, so every SB_GAPFILL_INTERVAL_S
 * each active account's recent conversations are read through the Conversations API
 * (meta/convo.h) and every customer message of the last GAPFILL_LOOKBACK_MS that we never
 * stored is stored now, exactly as if its webhook had come (inbox_apply_event(): it opens the
 * window and, where the AI answers, queues its turn, which answers only while the window is
 * open). A webhook that arrives later finds the message stored and changes nothing.
 *
 * Owns: scheduling one gapfill job per active account per interval (worker 0 does it; the
 * dedupe key holds it to one per interval across processes), and the job.
 * Limits (Meta's): one page of the most recently active conversations (GAPFILL_CONVERSATIONS)
 * and their 20 newest messages each; older gaps cannot be seen.
 * The call runs with no transaction open; what it found and the job's ack commit together.
 * Never logs message text.
 */
#include "inbox/inbox_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/metrics.h"
#include "meta/convo.h"
#include "meta/meta.h"
#include "meta/vault.h"
#include "queue/queue.h"

#define GAPFILL_LOOKBACK_MS   (7LL * 24 * 3600 * 1000) /* the longest any reply may still go */
#define GAPFILL_CONVERSATIONS 25

static struct metric *m_found;

void inbox_gapfill_metrics(void)
{
    m_found =
        metrics_counter("switchboard_gapfill_messages_total",
                        "Customer messages found by the gap filler that no webhook brought", NULL);
}

enum err inbox_schedule_gapfill(struct inbox *in, struct store *s, int64_t now_ms)
{
    struct arena a;
    arena_init(&a);
    struct store_account *rows = NULL;
    size_t n = 0;
    enum err rc = store_accounts_list(s, &a, &rows, &n);
    int64_t slot = in->gapfill_interval_ms > 0 ? now_ms / in->gapfill_interval_ms : 0;
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        if (rows[i].status != STORE_ACCOUNT_ACTIVE)
            continue;
        char payload[32], key[48], dedupe[64];
        int len = snprintf(payload, sizeof payload, "%lld", (long long)rows[i].id);
        snprintf(key, sizeof key, "gapfill:%lld", (long long)rows[i].id);
        snprintf(dedupe, sizeof dedupe, "gapfill:%lld:%lld", (long long)rows[i].id,
                 (long long)slot);
        struct queue_job j = {.kind = INBOX_JOB_GAPFILL,
                              .key = key,
                              .dedupe = dedupe,
                              .payload = payload,
                              .payload_len = (size_t)len,
                              .run_at_ms = now_ms,
                              .max_attempts = 3};
        int64_t id;
        rc = queue_enqueue(in->queue, s, &j, &id);
    }
    arena_release(&a);
    return rc;
}

/* ---- the job ---- */

struct gap {
    struct worker *w;
    struct arena *a;
    struct store_account acct;
    int64_t now;
    struct meta_convo *cv;
    size_t n_cv;
    int n_found;
};

/* The account's recent conversations, with no transaction open. A failure is logged and
 * left for the next round. */
static enum err read_meta(struct gap *g)
{
    char *token = NULL;
    if (meta_vault_open(g->w->in->vault, &g->acct, &token) != ERR_OK)
        return ERR_AUTH; /* the sender and the token check say so to the operators */
    const struct meta_convo_account ca = {.platform = g->acct.platform,
                                          .page_id = g->acct.page_id,
                                          .business_id = g->acct.external_id,
                                          .page_token = token};
    struct meta_graph_error gerr;
    enum err rc = meta_list_conversations(g->w->in->graph, g->a, &ca, NULL, GAPFILL_CONVERSATIONS,
                                          &g->cv, &g->n_cv, &gerr);
    crypto_cleanse(token, strlen(token));
    free(token);
    if (rc != ERR_OK) {
        log_info("gapfill.failed", LOG_INT("account", g->acct.id),
                 LOG_STR("class", meta_err_class_name(gerr.cls)), LOG_INT("code", gerr.code));
    }
    return rc;
}

/* A message Meta has and we may not, as the webhook event it should have been. */
static void as_event(struct gap *g, const struct meta_convo *c, const struct meta_convo_msg *m,
                     struct meta_event *e)
{
    memset(e, 0, sizeof *e);
    e->kind = META_EV_MESSAGE;
    e->object = g->acct.platform == STORE_INSTAGRAM ? "instagram" : "page";
    e->channel = "messaging";
    e->entry_id = g->acct.external_id;
    e->sender_id = c->customer_id;
    e->recipient_id = g->acct.external_id;
    e->ts_ms = m->created_ms;
    e->mid = m->id;
    e->text = m->text;
    e->key = m->id;
    if (m->n_attachments) {
        e->attachments = arena_alloc(g->a, m->n_attachments * sizeof *e->attachments);
        for (size_t i = 0; i < m->n_attachments; i++)
            e->attachments[i] = (struct meta_attachment){.type = m->attachments[i].type,
                                                         .url = m->attachments[i].url};
        e->n_attachments = m->n_attachments;
    }
}

/* One conversation's customer messages we lack, oldest first, applied as their webhooks. */
static enum err fill_one(struct gap *g, struct inbox_apply_ctx *ctx, const struct meta_convo *c)
{
    struct store *s = g->w->store;
    int64_t since = g->now - GAPFILL_LOOKBACK_MS;
    if (!c->customer_id || (c->updated_ms && c->updated_ms < since))
        return ERR_OK;
    int64_t conv = 0;
    enum err rc = ERR_OK;
    for (size_t k = c->n_msgs; rc == ERR_OK && k-- > 0;) {
        const struct meta_convo_msg *m = &c->msgs[k];
        if (m->is_business || !m->created_ms || m->created_ms < since ||
            (!m->text && !m->n_attachments))
            continue;
        if (!conv)
            rc = store_conversation_ensure(s, g->acct.id, c->customer_id, g->now, &conv, NULL);
        int64_t have = 0;
        if (rc == ERR_OK)
            rc = store_message_id_by_mid(s, conv, m->id, &have);
        if (rc != ERR_OK || have)
            continue;
        struct meta_event e;
        as_event(g, c, m, &e);
        enum inbox_applied how;
        rc = inbox_apply_event(s, ctx, &e, g->now, &how);
        if (rc == ERR_OK && how == INBOX_APPLIED)
            g->n_found++;
    }
    return rc;
}

/* What was found and the job's ack, in one transaction. */
static enum err settle(struct gap *g, const struct store_job *job)
{
    struct store *s = g->w->store;
    struct inbox *in = g->w->in;
    struct inbox_apply_ctx ctx = {.app_id = in->meta_app_id,
                                  .queue = in->queue,
                                  .turn_burst_ms = in->turn_burst_ms,
                                  .arena = g->a,
                                  .pause_on_business_reply = -1};
    enum err rc = store_begin(s);
    if (rc != ERR_OK)
        return rc;
    for (size_t i = 0; rc == ERR_OK && i < g->n_cv; i++)
        rc = fill_one(g, &ctx, &g->cv[i]);
    if (rc == ERR_OK)
        rc = queue_ack(in->queue, s, job);
    if (rc == ERR_OK)
        rc = store_commit(s);
    else
        store_rollback(s);
    return rc;
}

enum err inbox_run_gapfill(struct worker *w, const struct store_job *job, const char **reason)
{
    int64_t id;
    if (!inbox_job_ids(job, &id, 1)) {
        *reason = "bad gapfill payload";
        return ERR_INVALID;
    }
    struct arena a;
    arena_init(&a);
    struct gap g = {.w = w, .a = &a, .now = clock_now_ms()};
    enum err rc = store_account_by_id(w->store, &a, id, &g.acct);
    bool skip = rc == ERR_NOT_FOUND ||
                (rc == ERR_OK && (g.acct.status != STORE_ACCOUNT_ACTIVE || !w->in->is_replying));
    if (rc == ERR_OK && !skip && read_meta(&g) != ERR_OK)
        skip = true; /* logged; the next round reads again */
    if (skip)
        rc = queue_ack(w->in->queue, w->store, job);
    else if (rc == ERR_OK)
        rc = settle(&g, job);
    if (!skip && rc == ERR_OK && g.n_found) { /* a webhook went missing: worth a warning */
        log_warn("gapfill.found", LOG_INT("account", id), LOG_INT("messages", g.n_found));
        if (m_found)
            metrics_inc(m_found, (uint64_t)g.n_found);
    }
    arena_release(&a);
    return rc;
}
