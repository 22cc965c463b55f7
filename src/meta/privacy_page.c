/*
 * meta/privacy_page.c - the status page of a data deletion request, for the person who asked
 * (Meta links to it): the status in plain words, what was deleted, or why it could not be.
 *
 * Every value that came from storage is HTML-escaped. The page needs nothing else: no
 * script, no external style, no image.
 */
#include "meta/privacy.h"

#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"

#define PAGE_MAX ((size_t)16 * 1024)

static const char head[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<meta name=\"robots\" content=\"noindex\">"
    "<title>Data deletion request</title><style>body{font:16px/1.5 system-ui,sans-serif;"
    "max-width:40em;margin:2em auto;padding:0 1em;color:#222}code{font-size:.9em}</style>"
    "</head><body><main><h1>Data deletion request</h1>\n";

static void put(struct buf *b, const char *s)
{
    err_ignore(buf_puts(b, s)); /* the cap is far above any page; a cut page is still safe */
}

static void put_time(struct buf *b, const char *label, int64_t ms)
{
    char iso[32];
    clock_format_iso(ms, iso, sizeof iso);
    iso[19] = '\0'; /* to the second */
    err_ignore(buf_printf(b, "<p>%s: <time datetime=\"%sZ\">%s UTC</time></p>\n", label, iso, iso));
}

static const struct {
    const char *key, *one, *many;
} deleted_words[] = {
    {"conversations", "conversation with this business", "conversations with this business"},
    {"messages", "message", "messages"},
    {"contacts", "contact record (your name, username and picture as we kept them)",
     "contact records (your name, username and picture as we kept them)"},
    {"events", "raw notification from Meta about your messages",
     "raw notifications from Meta about your messages"},
    {"dead_letters", "unreadable notification that mentioned you",
     "unreadable notifications that mentioned you"},
    {"comments", "comment of yours as we kept it (Meta keeps the comment itself)",
     "comments of yours as we kept them (Meta keeps the comments themselves)"},
    {"accounts", "account connection you made (its access token and your id were erased)",
     "account connections you made (their access tokens and your id were erased)"},
};

#define N_DELETED_WORDS (sizeof deleted_words / sizeof deleted_words[0])

/* The counts of a completed request (its detail JSON) as a list in plain words. */
static void put_deleted(struct buf *b, const char *detail)
{
    json_t *c = detail ? json_loads(detail, 0, NULL) : NULL;
    int64_t n[N_DELETED_WORDS] = {0}, total = 0;
    for (size_t i = 0; i < N_DELETED_WORDS; i++)
        if (json_get_i64(c, deleted_words[i].key, &n[i]) && n[i] > 0)
            total += n[i];
    json_decref(c);
    if (total == 0) {
        put(b, "<p>We held no data about you, so there was nothing to delete.</p>\n");
        return;
    }
    put(b, "<h2>What was deleted</h2>\n<ul>\n");
    for (size_t i = 0; i < N_DELETED_WORDS; i++)
        if (n[i] > 0)
            err_ignore(buf_printf(b, "<li>%lld %s</li>\n", (long long)n[i],
                                  n[i] == 1 ? deleted_words[i].one : deleted_words[i].many));
    put(b, "</ul>\n");
}

static void put_status(struct buf *b, const struct store_deletion *d)
{
    put(b, "<p>Confirmation code: <code>");
    err_ignore(buf_html_escape(b, d->code));
    put(b, "</code></p>\n");
    put_time(b, "Received", d->created_at);
    if (strcmp(d->status, "completed") == 0) {
        put(b, "<p role=\"status\"><strong>Status: completed.</strong> Your data has been "
               "deleted.</p>\n");
        put_time(b, "Completed", d->completed_at);
        put_deleted(b, d->detail);
    } else if (strcmp(d->status, "pending") == 0) {
        put(b, "<p role=\"status\"><strong>Status: in progress.</strong> We received your "
               "request and are deleting your data. This usually takes less than a minute; "
               "reload this page to see when it is done.</p>\n");
    } else {
        put(b, "<p role=\"status\"><strong>Status: ");
        err_ignore(buf_html_escape(b, d->status));
        put(b, ".</strong> The deletion could not be completed.</p>\n<h2>Why</h2>\n<p>");
        err_ignore(
            buf_html_escape(b, d->detail && *d->detail ? d->detail : "No reason was recorded."));
        put(b, "</p>\n");
    }
}

char *meta_deletion_page(struct arena *a, const struct store_deletion *d)
{
    struct buf b;
    buf_init(&b, PAGE_MAX);
    put(&b, head);
    if (d)
        put_status(&b, d);
    else
        put(&b, "<p role=\"alert\">There is no deletion request with this confirmation code. "
                "Check the link you were given.</p>\n");
    put(&b, "</main></body></html>\n");
    char *out = arena_strndup(a, b.data, b.len);
    buf_release(&b);
    return out;
}
