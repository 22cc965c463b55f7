/*
 * inbox/comments.c - comments on the business's posts: stored from their webhook, then
 * left, answered in public, answered privately (once, within 7 days) or hidden, as the
 * settings say (see comments.h).
 *
 * The job settles itself, like the sender: the settings and the row are read with no
 * transaction open, the agent and Meta are called with none, and the outcome and the ack
 * commit together. A retryable Meta error (transient, rate limit) retries the job; Meta's
 * "already replied" (10900) means our earlier attempt went through and is stored as done.
 * Never logs comment or reply text.
 */
#include "inbox/comments.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "inbox/inbox_int.h"
#include "meta/send.h"
#include "meta/vault.h"
#include "queue/queue.h"

#define META_ALREADY_REPLIED 10900 /* "Activity already replied to" */
#define META_TOO_OLD         10903 /* "This user can't reply to this activity" */

/* A few words nobody wants under their posts, in the languages the agent's keywords cover;
 * the setting replaces the whole list. */
static const char DEFAULT_OFFENSIVE[] = "asshole\nbastard\nbitch\nbullshit\ncunt\ndickhead\n"
                                        "fuck\nfucker\nfucking\nidiot\nidiots\nmoron\nmorons\n"
                                        "retard\nscumbag\nshit\nwanker\n"
                                        "cabron\ngilipollas\nidiota\nmierda\npendejo\nputa\n"
                                        "connard\nconnasse\nmerde\nsalope\n"
                                        "arschloch\nscheisse\nwichser\n"
                                        "cazzo\nstronzo\nvaffanculo\n"
                                        "caralho\nporra\nidiotas\n";

bool inbox_comment_mode_parse(const char *s, enum inbox_comment_mode *out)
{
    static const struct {
        const char *name;
        enum inbox_comment_mode mode;
    } modes[] = {{"leave", INBOX_COMMENTS_LEAVE},
                 {"reply_public", INBOX_COMMENTS_PUBLIC},
                 {"reply_private", INBOX_COMMENTS_PRIVATE}};
    for (size_t i = 0; s && i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(s, modes[i].name) == 0) {
            *out = modes[i].mode;
            return true;
        }
    return false;
}

const char *inbox_comment_setting_default(const char *key)
{
    if (!key)
        return NULL;
    if (strcmp(key, INBOX_SETTING_COMMENTS_MODE) == 0)
        return "leave";
    if (strcmp(key, INBOX_SETTING_COMMENTS_HIDE) == 0)
        return "false";
    if (strcmp(key, INBOX_SETTING_COMMENTS_OFFENSIVE) == 0)
        return DEFAULT_OFFENSIVE;
    return NULL;
}

/* ---- the lexicon ---- */

static bool is_word_byte(unsigned char c)
{
    return isalnum(c) || c >= 0x80 || c == '\'';
}

/* Whether word[0..n) is one of the lexicon's lines (ASCII case ignored). */
static bool in_lexicon(const char *word, size_t n, const char *lexicon)
{
    for (const char *p = lexicon; *p;) {
        size_t len = strcspn(p, "\n");
        size_t k = len;
        while (k > 0 && (p[k - 1] == '\r' || p[k - 1] == ' '))
            k--;
        if (k == n && k > 0 && strncasecmp(p, word, n) == 0)
            return true;
        p += len + (p[len] == '\n');
    }
    return false;
}

bool inbox_comment_is_offensive(const char *text, const char *lexicon)
{
    if (!text)
        return false;
    if (!lexicon)
        lexicon = DEFAULT_OFFENSIVE;
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        while (*s && !is_word_byte(*s))
            s++;
        const unsigned char *start = s;
        while (*s && is_word_byte(*s))
            s++;
        if (s > start && in_lexicon((const char *)start, (size_t)(s - start), lexicon))
            return true;
    }
    return false;
}

/* ---- queueing, from the webhook job ---- */

enum err inbox_queue_comment(struct queue *q, struct store *s, int64_t comment_row, int64_t now_ms)
{
    return inbox_enqueue_id(q, s, INBOX_JOB_COMMENT, NULL, comment_row, now_ms);
}

/* ---- the job ---- */

struct cjob {
    struct worker *w;
    const struct store_job *job;
    struct arena *a;
    int64_t now;
    struct store_comment cm;
    struct store_account acct;
    enum inbox_comment_mode mode;
    bool hide_offensive;
    const char *lexicon;
    /* the outcome */
    struct store_comment_settle out;
    struct meta_graph_error gerr;
    bool retry;
    int64_t retry_at_ms;
};

static const char *setting(struct cjob *c, const char *key)
{
    const char *v = NULL;
    if (store_setting_get(c->w->store, c->a, key, &v) == ERR_OK && v)
        return v;
    return inbox_comment_setting_default(key);
}

static void read_settings(struct cjob *c)
{
    const char *own = NULL;
    const char *key = arena_printf(c->a, "%s:%s", INBOX_SETTING_COMMENTS_MODE, c->acct.external_id);
    if (store_setting_get(c->w->store, c->a, key, &own) != ERR_OK)
        own = NULL;
    c->mode = INBOX_COMMENTS_LEAVE;
    if (!inbox_comment_mode_parse(own, &c->mode) &&
        !inbox_comment_mode_parse(setting(c, INBOX_SETTING_COMMENTS_MODE), &c->mode))
        c->mode = INBOX_COMMENTS_LEAVE;
    c->hide_offensive = strcmp(setting(c, INBOX_SETTING_COMMENTS_HIDE), "true") == 0;
    c->lexicon = setting(c, INBOX_SETTING_COMMENTS_OFFENSIVE);
}

static void done(struct cjob *c, const char *action, const char *why)
{
    c->out = (struct store_comment_settle){.status = "done", .action = action, .error = why};
}

/* What Meta's error means for the comment. */
static void settle_error(struct cjob *c, const char *action)
{
    long delay = 0;
    if (c->gerr.code == META_ALREADY_REPLIED) { /* an earlier attempt of ours went through */
        done(c, action, "Meta says it was already replied to");
        return;
    }
    if (c->gerr.code == META_TOO_OLD) {
        done(c, "left", "too old for a private reply");
        return;
    }
    if (meta_graph_retry_delay_ms(&c->gerr, c->job->attempts, &delay)) {
        c->retry = true;
        c->retry_at_ms = c->now + delay;
        return;
    }
    c->out = (struct store_comment_settle){
        .status = "failed", .action = action, .error = meta_err_class_name(c->gerr.cls)};
}

/* The agent's answer to the comment, or NULL (then the comment is left for a person). */
static const char *answer(struct cjob *c, const char **why)
{
    bool ig = c->acct.platform == STORE_INSTAGRAM;
    bool public = c->mode == INBOX_COMMENTS_PUBLIC;
    struct agent_message in = {
        .role = AGENT_ROLE_CUSTOMER, .text = c->cm.text, .at_ms = c->cm.meta_ts};
    struct inbox_lease lease = {c->w, c->job, c->now + INBOX_LEASE_MS / 2};
    struct agent_context ctx = {
        .platform = ig ? "Instagram" : "Messenger",
        .max_bytes = !public && ig ? META_IG_TEXT_MAX_BYTES : 0,
        .max_chars = public ? META_COMMENT_MAX_CHARS
                     : ig   ? 0
                            : META_MESSENGER_TEXT_MAX_CHARS,
        .customer_username = c->cm.from_name,
        .incoming = &in,
        .n_incoming = 1,
        .needs_disclosure = true, /* a first word to this person, in public or in private */
        .now_ms = c->now,
        .keepalive = inbox_lease_keep,
        .keepalive_ctx = &lease,
    };
    struct agent_settings st;
    inbox_agent_settings(c->w->store, c->a, &st);
    struct agent_decision d;
    if (agent_decide(c->w->in->agent, c->w->kb, c->a, &st, &ctx, &d) != ERR_OK ||
        d.action != AGENT_ANSWER || !d.text) {
        *why = d.action == AGENT_HANDOFF ? "the agent would hand it to a person" : "nothing to say";
        return NULL;
    }
    return d.text;
}

static void reply(struct cjob *c, const struct meta_send_account *who)
{
    const char *why = NULL;
    const char *text = answer(c, &why);
    const char *action = c->mode == INBOX_COMMENTS_PUBLIC ? "public" : "private";
    if (!text) {
        done(c, "left", why);
        return;
    }
    const char *id = NULL;
    enum err rc;
    if (c->mode == INBOX_COMMENTS_PUBLIC) {
        rc = meta_comment_reply(c->w->in->graph, c->a, who, c->cm.comment_id, text, &id, &c->gerr);
    } else {
        struct meta_message m = {.kind = META_CONTENT_TEXT,
                                 .u.text = text,
                                 .metadata =
                                     arena_printf(c->a, "sb:comment:%lld", (long long)c->cm.id)};
        struct meta_send_result res = {0};
        rc = meta_private_reply(c->w->in->graph, c->a, who, c->cm.comment_id, &m, &res, &c->gerr);
        id = res.message_id;
    }
    if (rc != ERR_OK) {
        settle_error(c, action);
        return;
    }
    c->out = (struct store_comment_settle){
        .status = "done", .action = action, .reply_text = text, .reply_id = id};
}

static void act(struct cjob *c)
{
    char *token = NULL;
    if (meta_vault_open(c->w->in->vault, &c->acct, &token) != ERR_OK) {
        c->out = (struct store_comment_settle){.status = "failed",
                                               .error = "the account's token cannot be opened"};
        return;
    }
    struct meta_send_account who = {
        .platform = c->acct.platform, .page_id = c->acct.page_id, .page_token = token};
    if (c->hide_offensive && inbox_comment_is_offensive(c->cm.text, c->lexicon)) {
        if (meta_comment_hide(c->w->in->graph, &who, c->cm.comment_id, true, &c->gerr) == ERR_OK)
            c->out = (struct store_comment_settle){
                .status = "done", .action = "hidden", .is_hidden = true};
        else
            settle_error(c, "hidden");
    } else if (c->mode == INBOX_COMMENTS_LEAVE) {
        done(c, "left", NULL);
    } else if (c->mode == INBOX_COMMENTS_PRIVATE &&
               c->now - c->cm.meta_ts >= INBOX_PRIVATE_REPLY_MAX_AGE_MS) {
        done(c, "left", "too old for a private reply");
    } else {
        reply(c, &who);
    }
    crypto_cleanse(token, strlen(token));
    free(token);
}

static enum err settle(struct cjob *c)
{
    struct store *s = c->w->store;
    struct queue *q = c->w->in->queue;
    enum err rc = store_begin(s);
    if (rc != ERR_OK)
        return rc;
    if (!c->retry && c->out.status)
        rc = store_comment_settle(s, c->cm.id, &c->out, c->now);
    if (rc == ERR_OK)
        rc = c->retry ? queue_retry_at(q, s, c->job, c->retry_at_ms, "comment retry")
                      : queue_ack(q, s, c->job);
    if (rc == ERR_OK)
        rc = store_commit(s);
    else
        store_rollback(s);
    return rc;
}

enum err inbox_run_comment(struct worker *w, const struct store_job *job, const char **reason)
{
    int64_t id;
    if (!inbox_job_ids(job, &id, 1)) {
        *reason = "bad comment payload";
        return ERR_INVALID;
    }
    struct arena a;
    arena_init(&a);
    struct cjob c = {.w = w, .job = job, .a = &a, .now = clock_now_ms()};
    enum err rc = store_comment_get(w->store, &a, id, &c.cm);
    if (rc == ERR_OK)
        rc = store_account_by_id(w->store, &a, c.cm.account_id, &c.acct);
    if (rc == ERR_NOT_FOUND || (rc == ERR_OK && strcmp(c.cm.status, "new") != 0)) {
        rc = queue_ack(w->in->queue, w->store, job); /* gone, or done already */
    } else if (rc == ERR_OK) {
        read_settings(&c);
        if (!w->in->is_replying || c.acct.status != STORE_ACCOUNT_ACTIVE)
            done(&c, "left", w->in->is_replying ? "the account is not active" : "replies off");
        else
            act(&c);
        rc = settle(&c);
        if (rc == ERR_OK && !c.retry)
            log_info("comment.settled", LOG_INT("comment", id), LOG_STR("status", c.out.status),
                     LOG_STR("action", c.out.action));
    }
    arena_release(&a);
    return rc;
}
