/*
 * server/cli_kb.c - the knowledge base from the command line.
 *
 *   kb add PATH...    one line per file: "added|updated|unchanged|skipped|removed PATH (...)"
 *   kb list           documents: path, title, chunks, vectors, last indexed
 *   kb search QUERY   the 5 best passages: title | heading | score, then a snippet
 *
 * Runtime problems (a missing path, an unreadable file, the store) go to stderr, one line
 * each, and make the exit code 1; the other lines go to stdout.
 */
#include "server/cli_kb.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "kb/kb.h"
#include "store/store.h"

#define SEARCH_TOP    5
#define SNIPPET_BYTES 200
#define QUERY_CAP     4096

static int usage(const char *why)
{
    fprintf(stderr, "switchboard kb: %s (usage: kb add PATH... | kb list | kb search QUERY)\n",
            why);
    return 2;
}

static enum err open_kb(const struct config *cfg, struct store **s, struct kb **k)
{
    struct store_opts so = {.data_dir = cfg->data_dir,
                            .database_url = cfg->database_url,
                            .sync_full = strcmp(cfg->db_sync, "full") == 0};
    struct kb_opts ko = {
        .embed_url = cfg->embed_url, .embed_model = cfg->embed_model, .api_key = cfg->llm_api_key};
    enum err rc = store_open(&so, s);
    if (rc == ERR_OK)
        rc = store_migrate(*s, NULL, NULL);
    if (rc == ERR_OK)
        rc = kb_new(*s, &ko, k);
    if (rc != ERR_OK)
        fprintf(stderr, "switchboard kb: could not open the store: %s\n", err_name(rc));
    return rc;
}

/* ---- add ---- */

static void print_report(void *ctx, const struct kb_report *r)
{
    (void)ctx;
    bool runtime = r->outcome == KB_SKIPPED && (r->err == ERR_NOT_FOUND || r->err == ERR_IO ||
                                                r->err == ERR_AGAIN || r->err == ERR_INTERNAL);
    if (runtime) {
        fflush(stdout);
        fprintf(stderr, "switchboard kb: %s: %s\n", r->path, r->reason ? r->reason : "failed");
        return;
    }
    printf("%-9s %s", kb_outcome_name(r->outcome), r->path);
    if (r->outcome == KB_SKIPPED)
        printf(" (%s)", r->reason ? r->reason : "skipped");
    else if (r->outcome != KB_REMOVED)
        printf(" (%zu chunk%s%s)", r->n_chunks, r->n_chunks == 1 ? "" : "s",
               r->has_vectors ? ", with embeddings" : "");
    printf("\n");
}

static int add(struct kb *k, int argc, const char **argv)
{
    int code = 0;
    for (int i = 0; i < argc; i++)
        if (kb_add_path(k, argv[i], print_report, NULL) != ERR_OK)
            code = 1;
    return code;
}

/* ---- list ---- */

static int list(struct kb *k)
{
    struct arena a;
    arena_init(&a);
    struct store_kb_doc *docs = NULL;
    size_t n = 0;
    enum err rc = kb_list(k, &a, &docs, &n);
    if (rc != ERR_OK) {
        fprintf(stderr, "switchboard kb: could not list the documents: %s\n", err_name(rc));
        arena_release(&a);
        return 1;
    }
    if (n == 0)
        printf("no documents (add some with: switchboard kb add PATH...)\n");
    int wp = 4, wt = 5;
    for (size_t i = 0; i < n; i++) {
        int lp = (int)strlen(docs[i].path), lt = docs[i].title ? (int)strlen(docs[i].title) : 0;
        wp = lp > wp ? (lp < 80 ? lp : 80) : wp;
        wt = lt > wt ? (lt < 40 ? lt : 40) : wt;
    }
    if (n)
        printf("%-*s  %-*s  %6s  %-7s  %s\n", wp, "PATH", wt, "TITLE", "CHUNKS", "VECTORS",
               "UPDATED");
    for (size_t i = 0; i < n; i++) {
        char when[40];
        clock_format_iso(docs[i].updated_at, when, sizeof when);
        printf("%-*s  %-*s  %6lld  %-7s  %s\n", wp, docs[i].path, wt,
               docs[i].title ? docs[i].title : "", (long long)docs[i].n_chunks,
               docs[i].embed_model ? "yes" : "no", when);
    }
    arena_release(&a);
    return 0;
}

/* ---- search ---- */

/* The first SNIPPET_BYTES of text on one line, cut between characters. */
static void print_snippet(const char *text)
{
    size_t n = strlen(text), cut = n > SNIPPET_BYTES ? SNIPPET_BYTES : n;
    while (cut < n && cut > 0 && ((unsigned char)text[cut] & 0xc0) == 0x80)
        cut--;
    printf("   ");
    for (size_t i = 0; i < cut; i++)
        if (text[i] != '\n' || (i + 1 < cut && text[i + 1] != '\n'))
            putchar(text[i] == '\n' ? ' ' : text[i]); /* "\n\n" -> one space */
    printf("%s\n", cut < n ? " ..." : "");
}

static int search(struct kb *k, int argc, const char **argv)
{
    char query[QUERY_CAP];
    size_t len = 0;
    for (int i = 0; i < argc && len < sizeof query - 1; i++)
        len += (size_t)snprintf(query + len, sizeof query - len, "%s%s", i ? " " : "", argv[i]);
    struct arena a;
    arena_init(&a);
    struct kb_results res;
    enum err rc = kb_search(k, &a, query, SEARCH_TOP, &res);
    if (rc != ERR_OK) {
        fprintf(stderr, "switchboard kb: search failed: %s\n", err_name(rc));
        arena_release(&a);
        return 1;
    }
    if (res.n == 0)
        printf("no matching passages\n");
    for (size_t i = 0; i < res.n; i++) {
        const struct kb_hit *h = &res.hits[i];
        printf("%zu. %s | %s | score %.4f, terms %ld/%zu", i + 1, h->title ? h->title : "",
               *h->heading ? h->heading : "-", h->score, lround(h->coverage * (double)res.n_terms),
               res.n_terms);
        if (res.used_vectors)
            printf(", cosine %.3f", h->cosine);
        printf("\n");
        print_snippet(h->text);
    }
    arena_release(&a);
    return 0;
}

int cli_kb(const struct config *cfg, int argc, const char **argv)
{
    if (argc == 0)
        return usage("missing subcommand");
    const char *sub = argv[0];
    bool is_add = strcmp(sub, "add") == 0, is_list = strcmp(sub, "list") == 0,
         is_search = strcmp(sub, "search") == 0;
    if (!is_add && !is_list && !is_search)
        return usage("unknown subcommand");
    if (is_add && argc < 2)
        return usage("add needs at least one PATH");
    if (is_list && argc > 1)
        return usage("list takes no arguments");
    if (is_search && argc < 2)
        return usage("search needs a QUERY");
    struct store *s = NULL;
    struct kb *k = NULL;
    int code = 1;
    if (open_kb(cfg, &s, &k) == ERR_OK)
        code = is_add    ? add(k, argc - 1, argv + 1)
               : is_list ? list(k)
                         : search(k, argc - 1, argv + 1);
    kb_free(k);
    store_free(s);
    return code;
}
