/*
 * inbox/comments.h - comments on the business's posts and media: Instagram `comments`
 * changes and Page `feed` comments (meta-platform.md 1.7, 6, 2.3).
 *
 * A new comment from someone else is stored once (store_comment_insert) and queued as a
 * comment job. The job does what the settings say: by default it leaves the comment alone;
 * comments.mode = reply_public answers under it (POST /{comment-id}/replies on Instagram,
 * /{comment-id}/comments on a Page), reply_private sends the commenter the one private
 * message Meta allows per comment (Send API recipient.comment_id, within 7 days of it); the
 * reply is the agent's answer to the comment's text (retrieval or the LLM, with every
 * guardrail), and when the agent would hand off, the comment is left for a person. With
 * comments.hide_offensive on, a comment holding a word of comments.offensive_words is hidden
 * (hide=true / is_hidden=true) and not answered. What was done is stored on the row.
 * A per-account mode overrides the global one: the key "comments.mode:<account external id>".
 * Threads: the pure functions anywhere; the job on workers.
 */
#ifndef SB_INBOX_COMMENTS_H
#define SB_INBOX_COMMENTS_H

#include <stdbool.h>
#include <stdint.h>

#define INBOX_SETTING_COMMENTS_MODE      "comments.mode"
#define INBOX_SETTING_COMMENTS_HIDE      "comments.hide_offensive"
#define INBOX_SETTING_COMMENTS_OFFENSIVE "comments.offensive_words"
#define INBOX_PRIVATE_REPLY_MAX_AGE_MS   (7LL * 24 * 3600 * 1000)
#define INBOX_OFFENSIVE_MAX_BYTES        8192 /* the lexicon setting's cap */

enum inbox_comment_mode {
    INBOX_COMMENTS_LEAVE,
    INBOX_COMMENTS_PUBLIC,
    INBOX_COMMENTS_PRIVATE,
};

/* "leave", "reply_public", "reply_private" -> the mode; false for anything else. */
bool inbox_comment_mode_parse(const char *s, enum inbox_comment_mode *out);
/* The default of a comments.* key as a person would store it; NULL for another key. */
const char *inbox_comment_setting_default(const char *key);
/* Whether text holds one of lexicon's words (one a line; case ignored for ASCII letters;
 * whole words only, so "class" never matches "ass"). NULL lexicon: the default one. */
bool inbox_comment_is_offensive(const char *text, const char *lexicon);

#endif
