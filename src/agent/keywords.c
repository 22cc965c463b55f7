/*
 * agent/keywords.c - the handoff keywords: phrases that mean "let me talk to a person".
 *
 * Owns: the default list (English, Spanish, Portuguese, French, German and Italian, written
 * as customers write them, chosen to avoid the words that also mean something else: "agent"
 * alone is a delivery agent as often as a support agent, so only "an agent", "live agent",
 * ... or a message that is nothing but "agent"), parsing the agent.handoff_keywords setting
 * (one phrase a line; a leading "=" means the whole message must be that phrase) and matching:
 * whole words and phrases, after folding case and accents on both sides, so "HABLAR CON UN
 * AGENTE" matches "hablar con un agente" and "humane" never matches "human".
 */
#include "agent/agent_int.h"

#include <pthread.h>
#include <string.h>

static const char *const default_keywords[] = {
    /* en */
    "human", "a real person", "real person", "actual person", "live person", "talk to a person",
    "speak to a person", "speak with a person", "talk to someone", "speak to someone",
    "speak with someone", "talk to somebody", "speak to somebody", "an agent", "live agent",
    "human agent", "real agent", "support agent", "agent please", "=agent", "=agents",
    "representative", "=operator", "an operator", "manager", "supervisor", "=person",
    "person please", "not a bot", "stop the bot", "lawyer", "attorney", "legal action",
    "chargeback", "make a complaint", "file a complaint", "customer service please",
    /* es */
    "humano", "una persona real", "persona real", "hablar con alguien", "hablar con una persona",
    "hablar con un agente", "un agente", "agente humano", "=agente", "un asesor", "representante",
    "operador", "encargado", "gerente", "abogado", "poner una queja", "una reclamacion",
    /* pt */
    "pessoa real", "uma pessoa de verdade", "falar com alguem", "falar com uma pessoa",
    "falar com um atendente", "atendente", "atendimento humano", "um agente", "advogado",
    "fazer uma reclamacao",
    /* fr */
    "humain", "un humain", "vraie personne", "une vraie personne", "personne reelle",
    "parler a quelqu un", "parler a une personne", "un conseiller", "une conseillere",
    "parler a un conseiller", "un agent", "un operateur", "operateur", "avocat", "porter plainte",
    /* de */
    "einem menschen", "echten menschen", "echter mensch", "echte person", "mit jemandem sprechen",
    "mit jemandem reden", "mit einem mitarbeiter", "einen mitarbeiter", "mitarbeiter sprechen",
    "kundenberater", "sachbearbeiter", "vorgesetzten", "anwalt", "beschwerde einreichen",
    /* it */
    "umano", "un umano", "persona reale", "una persona vera", "parlare con qualcuno",
    "parlare con una persona", "un operatore", "operatore umano", "=operatore", "assistente umano",
    "avvocato", "fare un reclamo"};

#define KEYWORDS_MAX      200
#define KEYWORD_MAX_BYTES 100

const char *agent_default_keywords_text(struct arena *a)
{
    size_t len = 0, n = sizeof default_keywords / sizeof default_keywords[0];
    for (size_t i = 0; i < n; i++)
        len += strlen(default_keywords[i]) + 1;
    char *out = arena_alloc(a, len + 1), *p = out;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(default_keywords[i]);
        memcpy(p, default_keywords[i], k);
        p += k;
        *p++ = '\n';
    }
    *p = '\0';
    return out;
}

static enum err add_phrase(struct arena *a, struct agent_keywords *k, const char *line, size_t len,
                           const char **why)
{
    if (len > KEYWORD_MAX_BYTES) {
        *why = "a handoff keyword is longer than 100 bytes";
        return ERR_INVALID;
    }
    bool whole = line[0] == '=';
    const char *folded = agent_fold(a, arena_strndup(a, line + whole, len - whole));
    if (!*folded)
        return ERR_OK; /* only punctuation: nothing to match */
    if (k->n == KEYWORDS_MAX) {
        *why = "more than 200 handoff keywords";
        return ERR_INVALID;
    }
    k->phrases[k->n] = folded;
    k->whole[k->n] = whole;
    k->n++;
    return ERR_OK;
}

enum err agent_keywords_parse(struct arena *a, const char *text, struct agent_keywords *out,
                              const char **why)
{
    *out = (struct agent_keywords){.phrases = arena_alloc(a, KEYWORDS_MAX * sizeof(char *)),
                                   .whole = arena_alloc(a, KEYWORDS_MAX * sizeof(bool))};
    *why = NULL;
    const char *p = text ? text : "";
    if (strlen(p) > (size_t)KEYWORDS_MAX * (KEYWORD_MAX_BYTES + 2)) {
        *why = "the handoff keywords are too long";
        return ERR_INVALID;
    }
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *s = p, *e = p + len;
        while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        enum err rc = e > s ? add_phrase(a, out, s, (size_t)(e - s), why) : ERR_OK;
        if (rc != ERR_OK)
            return rc;
        p = nl ? nl + 1 : p + len;
    }
    return ERR_OK;
}

static struct arena defaults_arena; /* lives as long as the process */
static struct agent_keywords defaults;
static const char *defaults_text;
static pthread_once_t defaults_once = PTHREAD_ONCE_INIT;

static void parse_defaults(void)
{
    arena_init(&defaults_arena);
    const char *why = NULL;
    defaults_text = agent_default_keywords_text(&defaults_arena);
    enum err rc = agent_keywords_parse(&defaults_arena, defaults_text, &defaults, &why);
    (void)rc;
    assert(rc == ERR_OK);
}

const struct agent_keywords *agent_keywords_default(void)
{
    pthread_once(&defaults_once, parse_defaults);
    return &defaults;
}

const char *agent_keywords_default_setting(void)
{
    pthread_once(&defaults_once, parse_defaults);
    return defaults_text;
}

/* Whether the words of phrase occur in folded as whole words. */
static bool contains_phrase(const char *folded, const char *phrase)
{
    size_t pl = strlen(phrase);
    for (const char *p = strstr(folded, phrase); p; p = strstr(p + 1, phrase)) {
        bool starts = p == folded || p[-1] == ' ';
        bool ends = p[pl] == '\0' || p[pl] == ' ';
        if (starts && ends)
            return true;
    }
    return false;
}

long agent_keywords_match(struct arena *a, const struct agent_keywords *k, const char *text)
{
    if (!k || !text)
        return -1;
    const char *folded = agent_fold(a, text);
    for (size_t i = 0; i < k->n; i++) {
        bool hit = k->whole[i] ? strcmp(folded, k->phrases[i]) == 0
                               : contains_phrase(folded, k->phrases[i]);
        if (hit)
            return (long)i;
    }
    return -1;
}
