/*
 * tests/fuzz/fuzz_tools_file.c - agent_tools_parse() (SB_TOOLS_FILE) on arbitrary bytes, and
 * for every file it accepts, the tools array offered to the model and the request each tool
 * would make for arguments taken from the same bytes.
 *
 * Properties: never crashes or leaks; a refusal is ERR_INVALID or ERR_TOO_LARGE with one line
 * that starts with "SB_TOOLS_FILE"; an accepted file has tools with valid names, http(s) URLs
 * and timeouts of 1..60000 ms; the offered array has handoff_to_human plus one entry per tool;
 * a built request's URL keeps the tool's scheme and host (arguments are URL-encoded, so none
 * can change where the call goes).
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
        fprintf(stderr, "fuzz_tools_file: %s\n", what);
        abort();
    }
}

/* "https://host" of a URL, up to the first '/', '?' or '{' after the scheme. */
static size_t origin_len(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    return strcspn(p, "/?{#") + (size_t)(p - url);
}

static void check_requests(const struct agent_tools *ts, const char *args)
{
    struct arena a;
    arena_init(&a);
    for (size_t i = 0; i < ts->n; i++) {
        const struct agent_tool *t = &ts->tools[i];
        require(strncmp(t->url, "http://", 7) == 0 || strncmp(t->url, "https://", 8) == 0, "url");
        require(t->timeout_ms >= 1 && t->timeout_ms <= 60000, "timeout");
        struct agent_tool_req req;
        const char *why = NULL;
        if (agent_tool_request(&a, t, args, &req, &why) != ERR_OK) {
            require(why != NULL, "refused arguments without words");
            continue;
        }
        size_t o = origin_len(t->url);
        require(strncmp(req.url, t->url, o) == 0 && strlen(req.url) >= o, "origin changed");
    }
    arena_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct agent_tools ts;
    char why[AGENT_WHY_MAX] = "";
    enum err rc = agent_tools_parse((const char *)data, size, &ts, why);
    if (rc != ERR_OK) {
        require(rc == ERR_INVALID || rc == ERR_TOO_LARGE, "unexpected code");
        require(strncmp(why, "SB_TOOLS_FILE", 13) == 0, "reason does not name the key");
        require(memchr(why, '\0', AGENT_WHY_MAX) != NULL, "reason unterminated");
        return 0;
    }
    json_t *offered = agent_tools_json(&ts);
    require(json_array_size(offered) == ts.n + 1, "offered tools");
    json_decref(offered);
    /* the arguments: the file's own bytes as a JSON object, when they are one */
    char *args = strndup((const char *)data, size);
    check_requests(&ts, args);
    check_requests(&ts, "{\"order_id\":\"../../admin?x=1#frag\",\"a\":{\"b\":[1,2]}}");
    free(args);
    agent_tools_release(&ts);
    return 0;
}
