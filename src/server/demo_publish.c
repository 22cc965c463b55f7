/*
 * server/demo_publish.c - the demo's post: an image drawn by the built-in template renderer,
 * queued as `switchboard publish` queues one, fitted, checked against the quota, sent through
 * the local Meta's container, status and media_publish, and printed once it is live.
 */
#include "server/demo_int.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "content/content.h"
#include "core/clock.h"

#define WAIT_MS 30000
#define POLL_MS 200

static const char caption[] = "Autumn blend is back \xE2\x98\x95 Roasted this week in small "
                              "batches. #coffee #autumn @northwind.coffee";

static int64_t instagram_account(struct store *s, struct arena *a)
{
    struct store_account *rows = NULL;
    size_t n = 0;
    if (store_accounts_list(s, a, &rows, &n) != ERR_OK)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].platform == STORE_INSTAGRAM && rows[i].status == STORE_ACCOUNT_ACTIVE)
            return rows[i].id;
    return 0;
}

/* The template image, kept as an upload; *source in the arena. */
static enum err draw(struct content_media *m, struct arena *a, const char **source)
{
    struct content_template t = {.layout = "split",
                                 .headline = "Autumn blend is back",
                                 .body = "Caramel, fig and a little smoke. Roasted this week in "
                                         "small batches.",
                                 .bg = {0xFA, 0xF5, 0xEE},
                                 .fg = {0x2B, 0x1D, 0x14},
                                 .accent = {0x8C, 0x4A, 0x2F}};
    void *png = NULL;
    size_t len = 0;
    char why[CONTENT_WHY_MAX];
    enum err rc = content_template_render(&t, &png, &len, why);
    if (rc == ERR_OK)
        rc = content_media_put_source(m, a, png, len, source);
    else
        printf("  (the template could not be drawn: %s)\n", why);
    g_free(png);
    return rc;
}

static void show_result(const struct store_post *p)
{
    if (strcmp(p->state, "published") != 0) {
        printf("  post %lld is %s%s%s\n", (long long)p->id, p->state, p->reason ? ": " : "",
               p->reason ? p->reason : "");
        return;
    }
    printf("  post %lld published to Instagram: media %s, %s\n", (long long)p->id,
           p->media_id ? p->media_id : "?", p->permalink ? p->permalink : "(no permalink)");
    if (p->n_items > 0 && p->items[0].fit_decision)
        printf("  the fit, as recorded: %s\n", p->items[0].fit_decision);
}

void demo_publish(const struct config *cfg, struct store *s)
{
    printf("\nPublishing one post through the local Meta (template image, quota checked, "
           "container, status, media_publish):\n\n");
    struct arena a;
    arena_init(&a);
    struct content_media *m = NULL;
    const char *source = NULL;
    int64_t account = instagram_account(s, &a), id = 0;
    char why[CONTENT_WHY_MAX] = "";
    enum err rc = account ? content_media_open(cfg->data_dir, &m) : ERR_NOT_FOUND;
    if (rc == ERR_OK)
        rc = draw(m, &a, &source);
    struct content_post_new np = {.account_id = account, .caption = caption,
                                  .fit = CONTENT_FIT_PAD, .sources = &source, .n_sources = 1};
    if (rc == ERR_OK)
        rc = content_post_create(s, &np, clock_now_ms(), &id, why);
    content_media_free(m);
    if (rc != ERR_OK) {
        printf("  (no post: %s)\n", why[0] ? why : account ? err_name(rc)
                                                           : "no Instagram account connected");
        arena_release(&a);
        return;
    }
    printf("  post %lld queued (as `switchboard publish` does); waiting for the worker...\n",
           (long long)id);
    fflush(stdout);
    struct store_post p = {0};
    for (int64_t waited = 0; waited <= WAIT_MS; waited += POLL_MS) {
        if (store_post_get(s, &a, id, &p) == ERR_OK &&
            (strcmp(p.state, "published") == 0 || strcmp(p.state, "failed") == 0))
            break;
        clock_sleep_ms(POLL_MS);
    }
    show_result(&p);
    arena_release(&a);
}
