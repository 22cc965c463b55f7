/*
 * inbox/sender.c - the send job: one stored outgoing row to the Send API, and what Meta's
 * answer means for the row, the conversation, the account and the job.
 *
 * Owns: the checks at send time (the account still active, the window still open for this
 * row's author: window_decide_ai() for the AI, which can only say RESPONSE), mark_seen and
 * typing_on before the message, and the error classes (meta-platform.md 2.7): transient and
 * rate limits retried when meta_graph_retry_delay_ms() says (the row stays queued); window,
 * recipient, permission and invalid failed for good with the conversation handed to a person
 * in plain words; a dead token marks the account; an ambiguous answer keeps the row "sending"
 * and looks again later: an echo carrying the row's correlation settles it as sent meanwhile
 * (inbox/apply.c), otherwise it is sent once more.
 * No transaction is open during the Meta calls (the write lock would stall every worker):
 * reads run alone, and the outcome, the row and the job's ack or retry commit together.
 * Pacing (inbox/pace.h): a reply costs CALLS_PER_REPLY calls of the account's bucket; a short
 * wait is slept, a longer one defers the job (queue_defer: no attempt counted). Meta's own
 * throttling (rate-limit codes 4/17/32/613/800xx, or usage headers at 100 % or with an
 * estimated_time_to_regain_access) pauses every send of that account until then
 * (accounts.send_paused_until, seen by every worker and process): its jobs are deferred
 * without calling Meta, and other accounts' conversations go on.
 * Reconciliation: a row that may already have reached Meta (its job ran before: a crash
 * between the call and its commit, a lost or ambiguous answer) is looked for in Meta's copy of
 * the thread (the Conversations API) before it is sent again: a message from the business
 * with the same text, no older than the row, that no other row of ours holds, settles it.
 * Remaining at-least-once window: when that look cannot see the message (the Conversations
 * API fails; Meta does not list it yet, which includes a call still in flight at the crash
 * that Meta carries out only after the look; 20 newer messages pushed it out of what Meta
 * shows) the row is sent again, so a crash right after Meta accepted it can still make a
 * second reply; an echo that arrived first still settles it without a send.
 * Never logs message text or tokens.
 */
#include "inbox/inbox_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "inbox/handoff.h"
#include "inbox/pace.h"
#include "inbox/window.h"
#include "meta/convo.h"
#include "meta/send.h"
#include "meta/token_check.h"
#include "meta/vault.h"
#include "queue/queue.h"

#define AMBIGUOUS_RECHECK_MS 3000 /* time for the echo of a send that may have happened */
#define CALLS_PER_REPLY      3    /* mark_seen, typing_on, the message */
#define PACE_SLEEP_MAX_MS    20   /* a pacing wait this short is slept; a longer one defers */
#define PAUSE_SPREAD_MS      1000 /* deferred sends of a paused account resume spread over this */
#define RECONCILE_SKEW_MS    (5LL * 60 * 1000) /* Meta's clock and ours may differ this much */

enum send_outcome {
    SEND_DONE,     /* ack: sent, or nothing (left) to do */
    SEND_RETRY_AT, /* try again at retry_at_ms */
    SEND_FAILED,   /* the row fails for good; ack */
    SEND_DEFER,    /* not run: back at retry_at_ms, no attempt counted (pacing, a pause) */
};

struct send {
    struct worker *w;
    const struct store_job *job;
    struct arena *a;
    int64_t now;
    struct store_message row;
    struct store_conversation cv;
    struct store_account acct;
    /* the outcome */
    enum send_outcome out;
    struct store_message_settle settle; /* status NULL: the row is left as it is */
    const char *handoff;                /* plain words for the conversation; NULL: none */
    bool is_dead_token;
    struct meta_graph_error gerr;
    int64_t retry_at_ms;
    int64_t pause_until; /* Meta throttles the account: every send of it waits until then */
};

static void fail(struct send *s, const char *handoff, const char *why)
{
    s->out = SEND_FAILED;
    s->settle = (struct store_message_settle){.status = "failed",
                                              .error_code = s->gerr.code,
                                              .error_subcode = s->gerr.subcode,
                                              .error_message = why};
    s->handoff = handoff;
}

static enum err load(struct send *s, int64_t id)
{
    struct store *st = s->w->store;
    enum err rc = store_message_get(st, s->a, id, &s->row);
    if (rc == ERR_OK)
        rc = store_conversation_get(st, s->a, s->row.conversation_id, &s->cv);
    if (rc == ERR_OK)
        rc = store_account_by_id(st, s->a, s->cv.account_id, &s->acct);
    return rc;
}

/* The window for this row's author; false (and the row failed) when closed. */
static bool window_kind(struct send *s, struct meta_send_kind *kind)
{
    if (strcmp(s->row.author, "ai") == 0) {
        struct window_ai_decision d = window_decide_ai(s->cv.last_customer_at, s->now);
        kind->mode = META_SEND_RESPONSE; /* the only mode the AI path can name */
        if (!d.allowed)
            fail(s, "window closed", d.reason);
        return d.allowed;
    }
    struct window_decision d = window_decide(WINDOW_SENDER_HUMAN, s->cv.last_customer_at, s->now);
    kind->mode = d.send == WINDOW_SEND_HUMAN_AGENT ? META_SEND_HUMAN_AGENT : META_SEND_RESPONSE;
    if (d.send == WINDOW_SEND_NONE)
        fail(s, "window closed", d.reason);
    return d.send != WINDOW_SEND_NONE;
}

/* What Meta's error means (meta-platform.md 2.7). */
static void classify(struct send *s)
{
    long delay = 0;
    switch (s->gerr.cls) {
    case META_ERR_TRANSIENT:
    case META_ERR_RATE_LIMIT:
        if (s->gerr.cls == META_ERR_RATE_LIMIT) /* the whole account waits, not just this */
            s->pause_until = s->now + (int64_t)s->gerr.retry_after_s * 1000;
        if (meta_graph_retry_delay_ms(&s->gerr, s->job->attempts, &delay)) {
            s->out = SEND_RETRY_AT;
            s->retry_at_ms = s->now + delay;
            return;
        }
        fail(s, "sending kept failing", "Meta kept failing");
        return;
    case META_ERR_AMBIGUOUS:
        if (strcmp(s->row.status, "queued") == 0) {
            s->out = SEND_RETRY_AT;
            s->retry_at_ms = s->now + AMBIGUOUS_RECHECK_MS;
            s->settle = (struct store_message_settle){.status = "sending"};
            return;
        }
        fail(s, "delivery uncertain", "no clear answer from Meta, twice");
        return;
    case META_ERR_AUTH:
        s->is_dead_token = true;
        fail(s, "account needs reconnect", "account needs reconnect");
        return;
    case META_ERR_WINDOW:
        fail(s, "window closed", "window closed");
        return;
    case META_ERR_RECIPIENT:
        fail(s, "the customer cannot be reached", "the customer cannot be reached");
        return;
    case META_ERR_PERMISSION:
        fail(s, "missing permission to send", "missing permission to send");
        return;
    default:
        fail(s, "Meta refused the message", "Meta refused the message");
        return;
    }
}

/* A successful call's usage headers: at 100 % (or with a time to regain access) Meta is about
 * to throttle, so the account pauses as if it had; close to it, the pace halves. */
static void read_usage(struct send *s, const struct meta_usage *u)
{
    if (!u->is_present)
        return;
    if (u->regain_min > 0 || u->max_pct >= 100) {
        int64_t ms = u->regain_min > 0 ? (int64_t)u->regain_min * 60000
                                       : (int64_t)META_RATE_LIMIT_DEFAULT_S * 1000;
        s->pause_until = s->now + ms;
        return;
    }
    inbox_pace_usage(s->w->in->pace, s->acct.id, u->max_pct, s->now);
}

static int64_t spread(int64_t span_ms)
{
    uint32_t r;
    crypto_random(&r, sizeof r);
    return (int64_t)(r % (uint32_t)(span_ms + 1));
}

/* Whether the account may call Meta now: not paused by Meta's throttling, and within its
 * pace. Otherwise the job is deferred (nothing is called, no attempt counted). */
static bool may_call(struct send *s)
{
    if (s->acct.send_paused_until > s->now) {
        s->out = SEND_DEFER;
        s->retry_at_ms = s->acct.send_paused_until + spread(PAUSE_SPREAD_MS);
        return false;
    }
    struct inbox_pace *p = s->w->in->pace;
    int64_t wait = inbox_pace_take(p, s->acct.id, CALLS_PER_REPLY, clock_now_ms());
    if (wait > 0 && wait <= PACE_SLEEP_MAX_MS) {
        clock_sleep_ms(wait);
        wait = inbox_pace_take(p, s->acct.id, CALLS_PER_REPLY, clock_now_ms());
    }
    if (wait > 0) {
        s->out = SEND_DEFER;
        s->retry_at_ms = clock_now_ms() + wait;
        return false;
    }
    return true;
}

/* Whether an earlier run of this job may have reached Meta with the row. */
static bool may_have_been_sent(const struct send *s)
{
    return s->job->attempts > 1 || strcmp(s->row.status, "sending") == 0;
}

/* The row in Meta's copy of the thread: settled as sent with that mid, and true. A failed
 * look is "not found" (logged): the row is then sent. */
static bool found_at_meta(struct send *s, const char *token)
{
    const struct meta_convo_account ca = {.platform = s->acct.platform,
                                          .page_id = s->acct.page_id,
                                          .business_id = s->acct.external_id,
                                          .page_token = token};
    struct meta_convo *cv = NULL;
    size_t n = 0;
    struct meta_graph_error gerr;
    enum err rc =
        meta_list_conversations(s->w->in->graph, s->a, &ca, s->cv.scoped_id, 1, &cv, &n, &gerr);
    if (rc != ERR_OK) {
        log_info("send.reconcile_failed", LOG_INT("message", s->row.id),
                 LOG_STR("class", meta_err_class_name(gerr.cls)), LOG_INT("code", gerr.code));
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = cv[i].n_msgs; k-- > 0;) { /* oldest first */
            const struct meta_convo_msg *m = &cv[i].msgs[k];
            int64_t holder = 0;
            if (!m->is_business || !m->text || !s->row.text || strcmp(m->text, s->row.text) != 0 ||
                (m->created_ms && m->created_ms < s->row.created_at - RECONCILE_SKEW_MS))
                continue;
            if (store_message_id_by_mid(s->w->store, s->cv.id, m->id, &holder) != ERR_OK ||
                (holder && holder != s->row.id))
                continue;
            s->out = SEND_DONE;
            s->settle = (struct store_message_settle){.status = "sent", .mid = m->id};
            log_info("send.reconciled", LOG_INT("message", s->row.id),
                     LOG_INT("conversation", s->cv.id));
            return true;
        }
    }
    return false;
}

/* mark_seen, typing_on, then the message, with the token opened for this call. */
static void send_with(struct send *s, const struct meta_send_kind *kind, const char *token)
{
    struct meta_send_account who = {
        .platform = s->acct.platform, .page_id = s->acct.page_id, .page_token = token};
    struct meta_graph *g = s->w->in->graph;
    struct meta_graph_error ignored;
    err_ignore(meta_send_action(g, &who, s->cv.scoped_id, META_ACTION_MARK_SEEN, &ignored));
    err_ignore(meta_send_action(g, &who, s->cv.scoped_id, META_ACTION_TYPING_ON, &ignored));
    struct meta_message m = {
        .kind = META_CONTENT_TEXT, .u.text = s->row.text, .metadata = s->row.correlation};
    struct meta_send_result res = {0};
    enum err rc = meta_send_message(g, s->a, &who, s->cv.scoped_id, *kind, &m, &res, &s->gerr);
    if (rc == ERR_OK) {
        s->out = SEND_DONE;
        s->settle = (struct store_message_settle){.status = "sent", .mid = res.message_id};
        read_usage(s, &res.usage);
        return;
    }
    classify(s);
}

static void call_meta(struct send *s, const struct meta_send_kind *kind)
{
    char *token = NULL;
    if (meta_vault_open(s->w->in->vault, &s->acct, &token) != ERR_OK) {
        fail(s, "account needs reconnect", "the account's token cannot be opened");
        return;
    }
    if (!may_have_been_sent(s) || !found_at_meta(s, token))
        send_with(s, kind, token);
    crypto_cleanse(token, strlen(token));
    free(token);
}

static void decide(struct send *s)
{
    s->out = SEND_DONE;
    if (strcmp(s->row.direction, "out") != 0 ||
        (strcmp(s->row.status, "queued") != 0 && strcmp(s->row.status, "sending") != 0))
        return; /* settled already (a replay, or the echo came first) */
    if (s->acct.status != STORE_ACCOUNT_ACTIVE) {
        fail(s, "account needs reconnect", "account needs reconnect");
        return;
    }
    struct meta_send_kind kind;
    if (window_kind(s, &kind) && may_call(s))
        call_meta(s, &kind);
}

static enum err settle_job(const struct send *s, struct queue *q, struct store *st)
{
    switch (s->out) {
    case SEND_RETRY_AT:
        return queue_retry_at(q, st, s->job, s->retry_at_ms, "send retry");
    case SEND_DEFER:
        return queue_defer(q, st, s->job, s->retry_at_ms,
                           s->acct.send_paused_until > s->now ? "account paused" : "paced");
    default:
        return queue_ack(q, st, s->job);
    }
}

/* The row, the conversation, the account and the job, in one transaction. */
static enum err settle(struct send *s)
{
    struct store *st = s->w->store;
    struct queue *q = s->w->in->queue;
    bool changed = false;
    enum err rc = store_begin(st);
    if (rc != ERR_OK)
        return rc;
    if (s->settle.status)
        rc = store_message_settle(st, s->row.id, &s->settle, s->now, &changed);
    if (rc == ERR_OK && s->handoff && changed) {
        struct inbox_handoff_outcome h;
        rc = inbox_handoff(st, s->cv.id, INBOX_CAUSE_SEND_REFUSED, s->handoff, 0, s->now, &h);
    }
    if (rc == ERR_OK && s->is_dead_token)
        rc = meta_account_mark_dead(st, &s->acct, &s->gerr, s->now, NULL);
    if (rc == ERR_OK && s->pause_until > s->acct.send_paused_until)
        rc = store_account_pause_sends(st, s->acct.id, s->pause_until, s->now);
    if (rc == ERR_OK)
        rc = settle_job(s, q, st);
    if (rc == ERR_OK)
        rc = store_commit(st);
    else
        store_rollback(st);
    return rc;
}

static void log_outcome(const struct send *s)
{
    if (s->pause_until > s->acct.send_paused_until)
        log_warn("send.account_paused", LOG_INT("account", s->acct.id),
                 LOG_INT("for_ms", s->pause_until - s->now),
                 LOG_STR("class", meta_err_class_name(s->gerr.cls)), LOG_INT("code", s->gerr.code));
    if (s->out == SEND_DEFER)
        return; /* queue.defer logs at debug: a paced account defers often */
    if (s->out == SEND_RETRY_AT)
        log_info("send.retry", LOG_INT("message", s->row.id), LOG_INT("attempt", s->job->attempts),
                 LOG_STR("class", meta_err_class_name(s->gerr.cls)),
                 LOG_INT("in_ms", s->retry_at_ms - s->now));
    else if (s->out == SEND_FAILED)
        log_warn("send.failed", LOG_INT("message", s->row.id), LOG_INT("conversation", s->cv.id),
                 LOG_STR("class", meta_err_class_name(s->gerr.cls)), LOG_INT("code", s->gerr.code),
                 LOG_INT("subcode", s->gerr.subcode), LOG_STR("why", s->settle.error_message));
    else if (s->settle.status)
        log_info("send.sent", LOG_INT("message", s->row.id), LOG_INT("conversation", s->cv.id));
}

enum err inbox_run_send(struct worker *w, const struct store_job *job, const char **reason)
{
    int64_t id;
    if (!inbox_job_ids(job, &id, 1)) {
        *reason = "bad send payload";
        return ERR_INVALID;
    }
    struct arena a;
    arena_init(&a);
    struct send s = {.w = w, .job = job, .a = &a, .now = clock_now_ms()};
    enum err rc = load(&s, id);
    if (rc == ERR_OK) {
        if (w->in->is_replying)
            decide(&s);
        rc = settle(&s);
    } else if (rc == ERR_NOT_FOUND) { /* erased meanwhile: nothing to send */
        rc = queue_ack(w->in->queue, w->store, job);
    }
    if (rc == ERR_OK)
        log_outcome(&s);
    arena_release(&a);
    return rc;
}
