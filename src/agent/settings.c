/*
 * agent/settings.c - the agent.* settings: their defaults, their validation (the dashboard
 * calls agent_setting_check() before it saves) and reading them over the defaults.
 *
 * A stored value that is no longer valid (edited in the database by hand, or from an older
 * version) keeps the default: the agent never runs on a value it would have refused.
 */
#include "agent/agent_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PERSONA_MAX 4000
#define TONE_MAX    200

const char *const agent_setting_keys[] = {
    AGENT_SETTING_PERSONA,          AGENT_SETTING_TONE,
    AGENT_SETTING_HANDOFF_KEYWORDS, AGENT_SETTING_SENTIMENT_THRESHOLD,
    AGENT_SETTING_HISTORY_TURNS,    AGENT_SETTING_HANDOFF_COOLDOWN_S,
};

_Static_assert(sizeof agent_setting_keys / sizeof agent_setting_keys[0] == AGENT_N_SETTINGS,
               "one entry per key");

const char agent_default_persona[] =
    "You are the customer support assistant of {business_name}, answering its customers' direct "
    "messages on Instagram and Facebook Messenger. Your tone is {tone}. Help the way the "
    "business's best support person would: briefly, truthfully, and only from the business's "
    "own policies and data.";

static const char default_tone[] = "warm, friendly and to the point";

void agent_settings_init(struct agent_settings *st)
{
    *st = (struct agent_settings){.persona = agent_default_persona,
                                  .tone = default_tone,
                                  .keywords = agent_keywords_default(),
                                  .sentiment_threshold = -0.5,
                                  .history_turns = 12,
                                  .handoff_cooldown_ms = 600LL * 1000};
}

const char *agent_setting_default(const char *key)
{
    static const struct {
        const char *key, *value;
    } plain[] = {{AGENT_SETTING_PERSONA, agent_default_persona},
                 {AGENT_SETTING_TONE, default_tone},
                 {AGENT_SETTING_SENTIMENT_THRESHOLD, "-0.5"},
                 {AGENT_SETTING_HISTORY_TURNS, "12"},
                 {AGENT_SETTING_HANDOFF_COOLDOWN_S, "600"}};
    if (key && strcmp(key, AGENT_SETTING_HANDOFF_KEYWORDS) == 0)
        return agent_keywords_default_setting();
    for (size_t i = 0; key && i < sizeof plain / sizeof plain[0]; i++)
        if (strcmp(key, plain[i].key) == 0)
            return plain[i].value;
    return NULL;
}

static bool valid_utf8(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = agent_utf8_next(s + i, n - i, &cp);
        if (cp == 0xFFFD && k == 1)
            return false;
        i += k;
    }
    return true;
}

/* Only {business_name} and {tone} may appear in braces. */
static bool placeholders_ok(const char *s)
{
    for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{'))
        if (strncmp(p, "{business_name}", 15) != 0 && strncmp(p, "{tone}", 6) != 0)
            return false;
    return true;
}

static bool parse_int(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

static bool parse_threshold(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x) || x < -1 || x > 1)
        return false;
    *out = x;
    return true;
}

static enum err check_text(const char *key, const char *v, const char **err_text)
{
    bool persona = strcmp(key, AGENT_SETTING_PERSONA) == 0;
    size_t max = persona ? PERSONA_MAX : TONE_MAX;
    if (!*v || strlen(v) > max || !valid_utf8(v)) {
        *err_text = persona ? "the persona must be 1 to 4000 bytes of text"
                            : "the tone must be 1 to 200 bytes of text";
        return ERR_INVALID;
    }
    if (persona && !placeholders_ok(v)) {
        *err_text = "the persona may use only {business_name} and {tone} in braces";
        return ERR_INVALID;
    }
    return ERR_OK;
}

enum err agent_setting_check(const char *key, const char *value, const char **err_text)
{
    *err_text = NULL;
    const char *v = value ? value : "";
    long l;
    double d;
    if (!key)
        return ERR_NOT_FOUND;
    if (strcmp(key, AGENT_SETTING_PERSONA) == 0 || strcmp(key, AGENT_SETTING_TONE) == 0)
        return check_text(key, v, err_text);
    if (strcmp(key, AGENT_SETTING_HANDOFF_KEYWORDS) == 0) {
        struct arena a;
        arena_init(&a);
        struct agent_keywords k;
        enum err rc = valid_utf8(v) ? agent_keywords_parse(&a, v, &k, err_text) : ERR_INVALID;
        if (rc != ERR_OK && !*err_text)
            *err_text = "the handoff keywords must be text";
        arena_release(&a);
        return rc;
    }
    if (strcmp(key, AGENT_SETTING_SENTIMENT_THRESHOLD) == 0) {
        if (parse_threshold(v, &d))
            return ERR_OK;
        *err_text = "the sentiment threshold must be a number from -1 to 1";
        return ERR_INVALID;
    }
    if (strcmp(key, AGENT_SETTING_HISTORY_TURNS) == 0) {
        if (parse_int(v, 10, 20, &l))
            return ERR_OK;
        *err_text = "the history length must be a whole number from 10 to 20";
        return ERR_INVALID;
    }
    if (strcmp(key, AGENT_SETTING_HANDOFF_COOLDOWN_S) == 0) {
        if (parse_int(v, 1, 604800, &l))
            return ERR_OK;
        *err_text = "the handoff cool-down must be a whole number of seconds from 1 to 604800";
        return ERR_INVALID;
    }
    return ERR_NOT_FOUND;
}

enum err agent_settings_apply(struct agent_settings *st, struct arena *a, const char *key,
                              const char *value, const char **err_text)
{
    enum err rc = agent_setting_check(key, value, err_text);
    if (rc != ERR_OK)
        return rc;
    long l = 0;
    if (strcmp(key, AGENT_SETTING_PERSONA) == 0) {
        st->persona = arena_strdup(a, value);
    } else if (strcmp(key, AGENT_SETTING_TONE) == 0) {
        st->tone = arena_strdup(a, value);
    } else if (strcmp(key, AGENT_SETTING_HANDOFF_KEYWORDS) == 0) {
        struct agent_keywords *k = arena_alloc(a, sizeof *k);
        rc = agent_keywords_parse(a, value, k, err_text);
        st->keywords = rc == ERR_OK ? k : st->keywords;
    } else if (strcmp(key, AGENT_SETTING_SENTIMENT_THRESHOLD) == 0) {
        (void)parse_threshold(value, &st->sentiment_threshold); /* checked above */
    } else if (strcmp(key, AGENT_SETTING_HISTORY_TURNS) == 0 && parse_int(value, 10, 20, &l)) {
        st->history_turns = (int)l;
    } else if (parse_int(value, 1, 604800, &l)) {
        st->handoff_cooldown_ms = (int64_t)l * 1000;
    }
    return rc;
}
