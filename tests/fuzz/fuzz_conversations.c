/*
 * tests/fuzz/fuzz_conversations.c - meta_parse_conversations() and meta_parse_graph_time() on
 * arbitrary bytes.
 *
 * The input is a Conversations API answer; the business id is fixed ("104000000000001", the
 * emulator's Page). Properties: never crashes or leaks; ERR_OK or ERR_INVALID; at most
 * META_CONVO_MAX_CONVS conversations of at most META_CONVO_MAX_MSGS messages, each with an id;
 * a message is the business's exactly when its author is the business id; a conversation's
 * customer is never the business. The first 32 bytes are also read as a Graph time, which
 * must come back as a time that formats to the same second or be refused.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "meta/convo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BUSINESS "104000000000001"

static void require(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_conversations: %s\n", what);
        abort();
    }
}

static void check_time(const uint8_t *data, size_t size)
{
    char text[33];
    size_t n = size < 32 ? size : 32;
    memcpy(text, data, n);
    text[n] = '\0';
    int64_t ms = 0;
    if (meta_parse_graph_time(text, &ms) == ERR_OK)
        require(ms % 1000 == 0, "a Graph time with milliseconds");
}

static void check_convo(const struct meta_convo *c)
{
    require(c->id && *c->id, "a conversation without an id");
    require(c->n_msgs <= META_CONVO_MAX_MSGS, "too many messages");
    require(!c->customer_id || strcmp(c->customer_id, BUSINESS) != 0, "the business as customer");
    for (size_t k = 0; k < c->n_msgs; k++) {
        const struct meta_convo_msg *m = &c->msgs[k];
        require(m->id && *m->id, "a message without an id");
        bool ours = m->from_id && strcmp(m->from_id, BUSINESS) == 0;
        require(ours == m->is_business, "is_business disagrees with from");
        require(!m->text || *m->text, "an empty text instead of NULL");
        for (size_t i = 0; i < m->n_attachments; i++)
            require(m->attachments[i].type != NULL, "an attachment without a type");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_time(data, size);
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!root)
        return 0;
    struct arena a;
    arena_init(&a);
    struct meta_convo *cv = NULL;
    size_t n = 0;
    enum err rc = meta_parse_conversations(&a, root, BUSINESS, &cv, &n);
    require(rc == ERR_OK || rc == ERR_INVALID, "unexpected code");
    require(rc == ERR_OK || n == 0, "conversations on error");
    require(n <= META_CONVO_MAX_CONVS, "too many conversations");
    for (size_t i = 0; i < n; i++)
        check_convo(&cv[i]);
    arena_release(&a);
    json_decref(root);
    return 0;
}
