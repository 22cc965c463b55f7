/*
 * agent/smalltalk.c - messages that are only a greeting, a thank-you or an "ok", answered
 * without an LLM the way a person would: a greeting is returned, thanks are answered with
 * "you're welcome", an acknowledgement ("ok", "got it", a thumbs-up) needs no reply at all,
 * and none of them goes to a person. In the customer's language when the words say which (English,
 * Spanish, Portuguese, French, German, Italian). With an LLM the model answers these itself.
 */
#include "agent/agent_int.h"

#include <string.h>

#define TALK_MAX_WORDS 8

enum lang { EN, ES, PT, FR, DE, IT, N_LANGS };

enum role { GREET, THANK, ACK };

static const struct {
    const char *word;
    enum role role;
    enum lang lang;
} words[] = {
    {"hi", GREET, EN},
    {"hello", GREET, EN},
    {"hey", GREET, EN},
    {"hiya", GREET, EN},
    {"howdy", GREET, EN},
    {"morning", GREET, EN},
    {"afternoon", GREET, EN},
    {"evening", GREET, EN},
    {"hola", GREET, ES},
    {"buenos", GREET, ES},
    {"buenas", GREET, ES},
    {"oi", GREET, PT},
    {"ola", GREET, PT},
    {"bom", GREET, PT},
    {"bonjour", GREET, FR},
    {"salut", GREET, FR},
    {"bonsoir", GREET, FR},
    {"hallo", GREET, DE},
    {"guten", GREET, DE},
    {"moin", GREET, DE},
    {"servus", GREET, DE},
    {"ciao", GREET, IT},
    {"salve", GREET, IT},
    {"buongiorno", GREET, IT},
    {"buonasera", GREET, IT},
    {"thanks", THANK, EN},
    {"thank", THANK, EN},
    {"thx", THANK, EN},
    {"ty", THANK, EN},
    {"cheers", THANK, EN},
    {"appreciate", THANK, EN},
    {"gracias", THANK, ES},
    {"obrigado", THANK, PT},
    {"obrigada", THANK, PT},
    {"merci", THANK, FR},
    {"danke", THANK, DE},
    {"dank", THANK, DE},
    {"grazie", THANK, IT},
    {"ok", ACK, EN},
    {"okay", ACK, EN},
    {"k", ACK, EN},
    {"kk", ACK, EN},
    {"cool", ACK, EN},
    {"great", ACK, EN},
    {"perfect", ACK, EN},
    {"got", ACK, EN},
    {"alright", ACK, EN},
    {"sure", ACK, EN},
    {"noted", ACK, EN},
    {"understood", ACK, EN},
    {"vale", ACK, ES},
    {"perfecto", ACK, ES},
    {"genial", ACK, ES},
    {"entendido", ACK, ES},
    {"beleza", ACK, PT},
    {"certo", ACK, PT},
    {"parfait", ACK, FR},
    {"accord", ACK, FR},
    {"klar", ACK, DE},
    {"gut", ACK, DE},
    {"super", ACK, DE},
    {"perfetto", ACK, IT},
    {"bene", ACK, IT},
    {"\xf0\x9f\x91\x8d", ACK, EN},
    {"\xf0\x9f\x91\x8c", ACK, EN},
    {"\xf0\x9f\x99\x8f", THANK, EN},
    {"\xf0\x9f\x91\x8b", GREET, EN},
};

/* Words that may ride along ("thank you so much", "good morning", "muchas gracias"). */
static const char *const fillers[] = {"you",
                                      "so",
                                      "much",
                                      "very",
                                      "a",
                                      "lot",
                                      "it",
                                      "good",
                                      "there",
                                      "all",
                                      "team",
                                      "guys",
                                      "again",
                                      "dia",
                                      "dias",
                                      "tardes",
                                      "noches",
                                      "muchas",
                                      "muito",
                                      "tarde",
                                      "noite",
                                      "beaucoup",
                                      "d",
                                      "vielen",
                                      "schon",
                                      "tag",
                                      "abend",
                                      "mille",
                                      "va",
                                      "that",
                                      "oh",
                                      "ah",
                                      "and",
                                      "\xe2\x9d\xa4",
                                      "\xf0\x9f\x98\x8a",
                                      "\xf0\x9f\x99\x82"};

static const char *const greetings[N_LANGS] = {
    "Hi! How can I help you today?", "¡Hola! ¿En qué puedo ayudarte?",
    "Olá! Como posso ajudar?",       "Bonjour ! Comment puis-je vous aider ?",
    "Hallo! Wie kann ich helfen?",   "Ciao! Come posso aiutarti?"};
static const char *const welcomes[N_LANGS] = {
    "You're welcome! Is there anything else I can help with?",
    "¡De nada! ¿Algo más en lo que pueda ayudarte?",
    "De nada! Posso ajudar em mais alguma coisa?",
    "Avec plaisir ! Puis-je vous aider avec autre chose ?",
    "Gern geschehen! Kann ich sonst noch helfen?",
    "Prego! Posso aiutarti con qualcos'altro?"};

static bool is_filler(const char *w)
{
    for (size_t i = 0; i < sizeof fillers / sizeof fillers[0]; i++)
        if (strcmp(w, fillers[i]) == 0)
            return true;
    return false;
}

/* The reply to small talk: NULL with *is_talk false when text is more than that; NULL with
 * *is_talk true for an acknowledgement (nothing to say); else the words to say. */
const char *agent_small_talk(struct arena *a, const char *text, bool *is_talk)
{
    const char *w[TALK_MAX_WORDS + 1];
    size_t n = agent_words(a, text, w, TALK_MAX_WORDS + 1);
    bool any[3] = {0};
    enum lang lang = EN;
    *is_talk = false;
    if (n == 0 || n > TALK_MAX_WORDS)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < sizeof words / sizeof words[0] && strcmp(w[i], words[k].word) != 0)
            k++;
        if (k == sizeof words / sizeof words[0]) {
            if (!is_filler(w[i]))
                return NULL;
            continue;
        }
        if (!any[GREET] && !any[THANK] && words[k].role != ACK)
            lang = words[k].lang;
        any[words[k].role] = true;
    }
    *is_talk = any[GREET] || any[THANK] || any[ACK];
    return any[THANK] ? welcomes[lang] : any[GREET] ? greetings[lang] : NULL;
}

const char *agent_greeting(void)
{
    return greetings[EN];
}
