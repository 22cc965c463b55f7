/*
 * store/sqlite_agent.c - what the agent's turn reads and records (SQLite).
 *
 * Owns: the SQL behind store.h's agent section: the earlier messages of a conversation, the
 * facts the disclosure rule and the context need, a message's sentiment, a turn's token usage.
 * The rules are in agent/ and inbox/turn.c. Prepared per call: a few statements a turn.
 */
#include "store/sqlite_int.h"

#include <string.h>

#define SQ(b) ((struct sqlite_store *)(b))

static enum err messages_before(struct store *base, struct arena *a, int64_t conv,
                                int64_t before_id, size_t max, struct store_message **out,
                                size_t *n)
{
    struct sqlite_store *s = SQ(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "SELECT * FROM (SELECT " SQLITE_MESSAGE_COLUMNS " FROM messages"
                               " WHERE conversation_id = ?1 AND id < ?2 AND status <> 'deleted'"
                               " AND NOT (direction = 'out' AND status = 'failed')"
                               " ORDER BY id DESC LIMIT ?3) ORDER BY id");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    sqlite3_bind_int64(st, 2, before_id);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    if (max)
        *out = arena_alloc(a, max * sizeof **out);
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        sqlite_read_message(a, st, &(*out)[(*n)++]);
    enum err e = *n == max || rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "messages_before");
    sqlite3_finalize(st);
    return e;
}

static enum err agent_facts(struct store *base, struct arena *a, int64_t conv,
                            struct store_agent_facts *out)
{
    struct sqlite_store *s = SQ(base);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "SELECT coalesce(v.ai_disclosed_at, 0),"
           " (SELECT coalesce(max(m.created_at), 0) FROM messages m WHERE m.conversation_id = v.id"
           "   AND m.author = 'ai' AND m.status <> 'failed'),"
           " (SELECT json_extract(m.meta, '$.referral') FROM messages m"
           "   WHERE m.conversation_id = v.id AND m.direction = 'in'"
           "   AND json_extract(m.meta, '$.referral') IS NOT NULL ORDER BY m.id DESC LIMIT 1)"
           " FROM conversations v WHERE v.id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    int rc = sqlite3_step(st);
    enum err e = rc == SQLITE_ROW    ? ERR_OK
                 : rc == SQLITE_DONE ? ERR_NOT_FOUND
                                     : sqlite_err(s, rc, "agent_facts");
    if (rc == SQLITE_ROW) {
        out->ai_disclosed_at = sqlite3_column_int64(st, 0);
        out->last_ai_at = sqlite3_column_int64(st, 1);
        out->referral = sqlite_col_text(a, st, 2);
    }
    sqlite3_finalize(st);
    return e;
}

static enum err message_set_sentiment(struct store *base, int64_t id, double score)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "UPDATE messages SET sentiment = ?2 WHERE id = ?1 AND sentiment IS NOT ?2");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_double(st, 2, score);
    return sqlite_run_once(s, st, "message_set_sentiment", NULL);
}

static enum err llm_usage_add(struct store *base, int64_t conv, const char *model,
                              int64_t prompt_tokens, int64_t completion_tokens, int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "INSERT INTO llm_usage (conversation_id, model, prompt_tokens, completion_tokens,"
           " created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    sqlite_bind_text_or_null(st, 2, model);
    sqlite3_bind_int64(st, 3, prompt_tokens);
    sqlite3_bind_int64(st, 4, completion_tokens);
    sqlite3_bind_int64(st, 5, now_ms);
    return sqlite_run_once(s, st, "llm_usage_add", NULL);
}

const struct store_agent_ops sqlite_agent_ops = {
    .messages_before = messages_before,
    .agent_facts = agent_facts,
    .message_set_sentiment = message_set_sentiment,
    .llm_usage_add = llm_usage_add,
};
