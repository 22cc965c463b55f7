/*
 * bench/kb_bench.c - retrieval over a large knowledge base, and assembling a prompt.
 *
 *   kb_bench DIR [RUNS] [QUERIES]
 *
 * Writes a generated knowledge base of 10,000 chunks under DIR (200 Markdown files of 50
 * sections, each section one chunk about one product: its name (a made-up word of its own and
 * a shop word) as the heading, and 5 to 7 sentences of shop words, prices, times and made-up
 * names drawn by Zipf's law from 8,000), indexes it into a fresh SQLite store, then per run:
 *   - search: kb_search() for QUERIES customer-style questions (3 to 8 words; the top 3, as
 *     the agent asks), each timed alone;
 *   - answer: the retrieval-only answer (agent_decide() without an LLM: the search, sentence
 *     scoring, guardrails), each timed alone;
 *   - prompt: everything the LLM path does before the network (the search, the system prompt
 *     with persona, rules and passages, 12 turns of history, the tools, the request JSON).
 * Prints p50 and p99 of each per run, then the median of the runs. Times are wall clock on a
 * warm cache; the machine may be shared, so read medians. Prints figures, asserts nothing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/agent_int.h"
#include "core/clock.h"
#include "kb/kb.h"
#include "store/store.h"

#define FILES    200
#define SECTIONS 50

/* The shop's common words (every section uses some), then a long tail of made-up product,
 * origin and place names drawn by Zipf's law, as the words of real documents are. */
static const char *const common[] = {
    "espresso", "blend",        "roast",    "grinder", "kettle",   "dripper",  "filter",  "mug",
    "bean",     "subscription", "refund",   "return",  "shipping", "delivery", "order",   "parcel",
    "label",    "warranty",     "voucher",  "gift",    "card",     "account",  "invoice", "receipt",
    "box",      "bag",          "scale",    "timer",   "press",    "carafe",   "milk",    "cocoa",
    "tea",      "pastry",       "workshop", "class",   "tasting",  "store",    "cafe",    "barista",
    "machine",  "seasonal",     "organic",  "decaf",   "light",    "medium",   "dark",    "single",
    "origin",   "washed",       "natural",  "fresh",   "ground",   "whole",    "ceramic", "steel",
    "glass",    "manual",       "electric", "express", "standard", "free",     "damaged", "unused",
    "opened",   "sealed",       "weekly",   "monthly", "large",    "small",    "vegan",   "local"};
static const char *const verbs[] = {"ships", "arrives", "costs",   "includes", "takes",  "needs",
                                    "comes", "works",   "returns", "brews",    "grinds", "delivers",
                                    "keeps", "serves",  "changes", "cancels"};

#define TAIL_WORDS 8000
#define ZIPF_S     1.07

static char tail[TAIL_WORDS][16];
static double zipf_cdf[TAIL_WORDS];

static unsigned long rng = 88172645463325252UL;

static unsigned long next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

#define PICK(list) list[next() % (sizeof list / sizeof list[0])]

static void make_vocabulary(void)
{
    static const char *const syl[] = {"ka", "lo", "mi", "ne", "ru", "sa", "to",  "vi", "zu", "ba",
                                      "de", "fo", "gi", "ha", "ju", "pe", "qui", "ro", "ti", "wa"};
    double sum = 0;
    for (int i = 0; i < TAIL_WORDS; i++) {
        int n = 2 + (int)(next() % 3);
        tail[i][0] = '\0';
        for (int k = 0; k < n; k++)
            strncat(tail[i], syl[next() % 20], sizeof tail[i] - strlen(tail[i]) - 1);
        sum += 1.0 / pow(i + 1, ZIPF_S);
        zipf_cdf[i] = sum;
    }
    for (int i = 0; i < TAIL_WORDS; i++)
        zipf_cdf[i] /= sum;
}

static const char *tail_word(void)
{
    double u = (double)(next() % 1000000) / 1e6;
    int lo = 0, hi = TAIL_WORDS - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (zipf_cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return tail[lo];
}

static void sentence(FILE *f, const char *name)
{
    switch (next() % 4) {
    case 0:
        fprintf(f, "The %s %s %s in %lu to %lu business days from %s. ", PICK(common), name,
                PICK(verbs), 1 + next() % 5, 6 + next() % 9, tail_word());
        break;
    case 1:
        fprintf(f, "A %s %s costs $%lu.%02lu and %s a %s %s. ", tail_word(), PICK(common),
                5 + next() % 90, next() % 100, PICK(verbs), PICK(common), tail_word());
        break;
    case 2:
        fprintf(f, "Customers in %s can ask for a %s %s within %lu days of delivery. ", tail_word(),
                PICK(common), PICK(common), 7 + next() % 50);
        break;
    default:
        fprintf(f, "Our %s %s %s with every %s %s from %s. ", name, PICK(common), PICK(verbs),
                tail_word(), PICK(common), tail_word());
    }
}

/* The name each section is about, for the questions. */
static char names[FILES * SECTIONS][40];

static void write_kb(const char *dir)
{
    mkdir(dir, 0755);
    make_vocabulary();
    for (int i = 0; i < FILES; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/doc-%03d.md", dir, i);
        FILE *f = fopen(path, "w");
        if (!f) {
            perror(path);
            exit(2);
        }
        fprintf(f, "# %s guide %d\n\n", PICK(common), i);
        for (int s = 0; s < SECTIONS; s++) {
            char *name = names[i * SECTIONS + s];
            /* a product's name is its own (uniform over the tail), the words around it are not */
            snprintf(name, sizeof names[0], "%s %s", tail[next() % TAIL_WORDS], PICK(common));
            fprintf(f, "## %s\n\n", name);
            int n = 5 + (int)(next() % 3);
            for (int k = 0; k < n; k++)
                sentence(f, name);
            fprintf(f, "\n\n");
        }
        fclose(f);
    }
}

/* A customer's question about one section's subject, in a few shapes. */
static const char *query(struct arena *a)
{
    const char *name = names[next() % (FILES * SECTIONS)];
    switch (next() % 4) {
    case 0:
        return arena_printf(a, "how much is the %s?", name);
    case 1:
        return arena_printf(a, "do you ship the %s to %s", name, tail_word());
    case 2:
        return arena_printf(a, "Can I get a refund for a %s I bought last week?", name);
    default:
        return arena_printf(a, "how long does the %s %s take", name, PICK(common));
    }
}

static int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static double pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

struct rig {
    struct store *s;
    struct kb *kb;
    struct agent *ag;
    struct agent_settings st;
};

static struct agent_message history[12];

static struct agent_context context(struct agent_message *m, const char *text)
{
    for (int i = 0; i < 12; i++)
        history[i] = (struct agent_message){
            .role = i % 2 ? AGENT_ROLE_AI : AGENT_ROLE_CUSTOMER,
            .text = i % 2 ? "Our seasonal blend ships in 3 to 5 business days from Portland."
                          : "Thanks! And what about the ceramic grinder, is it in stock?"};
    *m = (struct agent_message){.role = AGENT_ROLE_CUSTOMER, .text = text};
    return (struct agent_context){.platform = "Instagram",
                                  .max_bytes = 1000,
                                  .customer_name = "Maya Lopez",
                                  .history = history,
                                  .n_history = 12,
                                  .incoming = m,
                                  .n_incoming = 1,
                                  .needs_disclosure = true,
                                  .now_ms = clock_now_ms()};
}

/* This thread's CPU time in ms: what a query costs, apart from waiting for a busy CPU. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double search_cpu; /* the last search's CPU time */

static double time_search(struct rig *r, const char *q)
{
    struct arena a;
    arena_init(&a);
    struct kb_results res;
    double c0 = cpu_ms();
    int64_t t0 = clock_mono_us();
    enum err rc = kb_search(r->kb, &a, q, 3, &res);
    int64_t t1 = clock_mono_us();
    search_cpu = cpu_ms() - c0;
    arena_release(&a);
    return rc == ERR_OK ? (double)(t1 - t0) / 1000.0 : -1;
}

static double time_answer(struct rig *r, const char *q)
{
    struct arena a;
    arena_init(&a);
    struct agent_message m;
    struct agent_context ctx = context(&m, q);
    ctx.n_history = 0;
    struct agent_decision d;
    int64_t t0 = clock_mono_us();
    enum err rc = agent_decide(r->ag, r->kb, &a, &r->st, &ctx, &d);
    int64_t t1 = clock_mono_us();
    arena_release(&a);
    return rc == ERR_OK ? (double)(t1 - t0) / 1000.0 : -1;
}

static double time_prompt(struct rig *r, const char *q, size_t *bytes)
{
    struct arena a;
    arena_init(&a);
    struct agent_message m;
    struct agent_context ctx = context(&m, q);
    int64_t t0 = clock_mono_us();
    struct agent_passage p[AGENT_PASSAGES];
    size_t np = agent_find_passages(r->kb, &a, q, p, AGENT_PASSAGES);
    const char *sys = agent_system_prompt(&a, "Northwind Coffee", &r->st, &ctx, p, np);
    json_t *msgs = agent_messages(&a, sys, &ctx);
    json_t *tools = agent_tools_json(NULL);
    char *body = agent_request_body(&a, "bench-model", msgs, tools);
    int64_t t1 = clock_mono_us();
    *bytes = body ? strlen(body) : 0;
    json_decref(msgs);
    json_decref(tools);
    arena_release(&a);
    return (double)(t1 - t0) / 1000.0;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: kb_bench DIR [RUNS] [QUERIES]\n");
        return 2;
    }
    int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
    int nq = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 1000;
    if (runs < 1 || runs > 64 || nq < 1)
        return 2;
    char kbdir[512], data[512];
    snprintf(kbdir, sizeof kbdir, "%s/kb", argv[1]);
    snprintf(data, sizeof data, "%s/data", argv[1]);
    mkdir(data, 0755);
    write_kb(kbdir);
    struct rig r = {0};
    static const struct kb_opts ko = {0};
    char why[AGENT_WHY_MAX];
    if (store_open(&(struct store_opts){.data_dir = data}, &r.s) != ERR_OK ||
        store_migrate(r.s, NULL, NULL) != ERR_OK || kb_new(r.s, &ko, &r.kb) != ERR_OK ||
        agent_new(&(struct agent_opts){.business_name = "Northwind Coffee"}, &r.ag, why) != ERR_OK)
        return 1;
    agent_settings_init(&r.st);
    int64_t t0 = clock_mono_us();
    if (kb_add_path(r.kb, kbdir, NULL, NULL) != ERR_OK)
        return 1;
    struct arena a;
    arena_init(&a);
    struct store_kb_doc *docs;
    size_t n_docs = 0, chunks = 0;
    if (kb_list(r.kb, &a, &docs, &n_docs) != ERR_OK)
        return 1;
    for (size_t i = 0; i < n_docs; i++)
        chunks += (size_t)docs[i].n_chunks;
    printf("knowledge base: %zu documents, %zu chunks, indexed in %.1f s\n", n_docs, chunks,
           (double)(clock_mono_us() - t0) / 1e6);
    const char **qs = arena_alloc(&a, (size_t)nq * sizeof *qs);
    for (int i = 0; i < nq; i++)
        qs[i] = query(&a);
    double *v = malloc((size_t)nq * sizeof *v);
    double med[8][64];
    double *cpu = malloc((size_t)nq * sizeof *cpu);
    size_t bytes = 0;
    for (int run = 0; run < runs && run < 64; run++) {
        for (int i = 0; i < nq; i++) {
            v[i] = time_search(&r, qs[i]);
            cpu[i] = search_cpu;
        }
        med[0][run] = pct(v, (size_t)nq, 0.5), med[1][run] = pct(v, (size_t)nq, 0.99);
        med[6][run] = pct(cpu, (size_t)nq, 0.5), med[7][run] = pct(cpu, (size_t)nq, 0.99);
        for (int i = 0; i < nq; i++)
            v[i] = time_answer(&r, qs[i]);
        med[2][run] = pct(v, (size_t)nq, 0.5), med[3][run] = pct(v, (size_t)nq, 0.99);
        for (int i = 0; i < nq; i++)
            v[i] = time_prompt(&r, qs[i], &bytes);
        med[4][run] = pct(v, (size_t)nq, 0.5), med[5][run] = pct(v, (size_t)nq, 0.99);
        printf("run %d: search p50 %.3f ms p99 %.3f ms (CPU p50 %.3f p99 %.3f) | answer p50 %.3f "
               "ms p99 %.3f ms | "
               "prompt p50 %.3f ms p99 %.3f ms (%zu bytes)\n",
               run + 1, med[0][run], med[1][run], med[6][run], med[7][run], med[2][run],
               med[3][run], med[4][run], med[5][run], bytes);
    }
    printf("median of %d runs, %d queries each, over %zu chunks:\n", runs, nq, chunks);
    static const char *const what[] = {"search (kb_search, top 3)", "retrieval answer (no LLM)",
                                       "prompt assembly (LLM path, no network)",
                                       "search, CPU time of the thread"};
    for (int k = 0; k < 4; k++) {
        double p50 = median(med[2 * k], runs), p99 = median(med[2 * k + 1], runs);
        printf("  %-40s p50 %.3f ms   p99 %.3f ms\n", what[k], p50, p99);
    }
    free(cpu);
    free(v);
    arena_release(&a);
    agent_free(r.ag);
    kb_free(r.kb);
    store_free(r.s);
    return 0;
}
