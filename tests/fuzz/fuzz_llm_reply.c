/*
 * tests/fuzz/fuzz_llm_reply.c - the LLM client's parsers on arbitrary bytes: the answer of a
 * 200 (agent_llm_parse_reply) and an error body (agent_llm_parse_error).
 *
 * Properties: never crashes, leaks or reads past the input (it is not NUL-terminated); an
 * answer is ERR_OK or ERR_INVALID with a reason; on ERR_OK every tool call has a name of 1..64
 * bytes, an id and arguments, there are at most AGENT_MAX_TOOL_CALLS of them, the content is
 * within 16 KiB and the token counts are never negative; an error body's fields are terminated
 * inside their buffers and never cut inside a UTF-8 character.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_llm_reply: %s\n", what);
        abort();
    }
}

static void check_field(const char *s, size_t cap)
{
    const char *nul = memchr(s, '\0', cap);
    require(nul != NULL, "unterminated field");
    size_t n = (size_t)(nul - s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead < 0x80 ? 0 : lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
    require(n - i == want || lead < 0xC0, "field cut inside a character");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    arena_init(&a);
    struct agent_llm_reply r;
    const char *why = NULL;
    enum err rc = agent_llm_parse_reply(&a, (const char *)data, size, &r, &why);
    require(rc == ERR_OK || rc == ERR_INVALID, "unexpected code");
    if (rc == ERR_INVALID)
        require(why != NULL, "refused without a reason");
    if (rc == ERR_OK) {
        require(r.n_calls <= AGENT_MAX_TOOL_CALLS, "too many calls");
        for (size_t i = 0; i < r.n_calls; i++) {
            size_t n = strlen(r.calls[i].name);
            require(n >= 1 && n <= 64, "call name length");
            require(r.calls[i].id && *r.calls[i].id, "call without id");
            require(r.calls[i].arguments != NULL, "call without arguments");
        }
        require(!r.content || strlen(r.content) <= 16384, "content over its cap");
        require(r.prompt_tokens >= 0 && r.completion_tokens >= 0, "negative tokens");
    }
    struct agent_llm_error e;
    memset(&e, 0xA5, sizeof e);
    rc = agent_llm_parse_error((const char *)data, size, &e);
    require(rc == ERR_OK || rc == ERR_INVALID, "unexpected error-body code");
    check_field(e.type, sizeof e.type);
    check_field(e.code, sizeof e.code);
    check_field(e.message, sizeof e.message);
    arena_release(&a);
    return 0;
}
