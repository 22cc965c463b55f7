/*
 * server/demo_browser.c - what a person's browser does in the demo: sign in to the dashboard,
 * press "Connect" (/oauth/start), press "Continue" on the (emulated) Facebook Login dialog,
 * and land on /oauth/callback. Plain HTTP on loopback, cookies and redirects by hand, so the
 * demo goes through exactly the code a real login goes through.
 */
#include "server/demo_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "http/client.h"
#include "http/http.h"

#define PAGE_MAX ((size_t)1 << 20)

struct step {
    int status;
    char *location, *cookie, *body;
};

static void step_release(struct step *s)
{
    free(s->location);
    free(s->cookie);
    free(s->body);
    memset(s, 0, sizeof *s);
}

/* One request; keeps Location, the first Set-Cookie value (name=value) and the body. */
static enum err go(const char *method, const char *url, const char *cookie, const char *ctype,
                   const char *body, struct step *out)
{
    char hc[512], ht[128];
    const char *headers[3] = {NULL, NULL, NULL};
    int n = 0;
    if (cookie) {
        snprintf(hc, sizeof hc, "Cookie: %s", cookie);
        headers[n++] = hc;
    }
    if (ctype) {
        snprintf(ht, sizeof ht, "Content-Type: %s", ctype);
        headers[n++] = ht;
    }
    static const char *const want[] = {"Location", "Set-Cookie", NULL};
    struct http_client_req req = {.method = method,
                                  .url = url,
                                  .headers = headers,
                                  .body = body,
                                  .len = body ? strlen(body) : 0,
                                  .timeout_ms = 30000,
                                  .max_resp = PAGE_MAX,
                                  .want_headers = want};
    struct http_client_resp resp = {0};
    enum err rc = http_client_do_ex(&req, &resp);
    if (rc != ERR_OK)
        return rc;
    *out = (struct step){.status = resp.status, .location = resp.headers[0], .body = resp.body};
    if (resp.headers[1])
        out->cookie = xstrndup(resp.headers[1], strcspn(resp.headers[1], ";"));
    free(resp.headers[1]);
    return ERR_OK;
}

struct form {
    struct buf b;
};

static void add_pair(void *ctx, const char *k, const char *v)
{
    struct form *f = ctx;
    struct arena a;
    arena_init(&a);
    if (strcmp(k, "response_type") != 0)
        err_ignore(buf_printf(&f->b, "%s=%s&", http_url_encode(&a, k), http_url_encode(&a, v)));
    arena_release(&a);
}

/* The dialog's form, as pressing "Continue" posts it: the dialog URL's parameters plus
 * decision=allow, to the dialog's /confirm address. */
static enum err press_continue(const char *dialog_url, struct step *out)
{
    const char *q = strchr(dialog_url, '?');
    if (!q)
        return ERR_UPSTREAM;
    struct form f;
    buf_init(&f.b, 16 * 1024);
    struct arena a;
    arena_init(&a);
    http_form_each(&a, q + 1, strlen(q + 1), add_pair, &f);
    err_ignore(buf_puts(&f.b, "decision=allow"));
    char *confirm = arena_printf(&a, "%.*s/confirm", (int)(q - dialog_url), dialog_url);
    enum err rc = go("POST", confirm, NULL, "application/x-www-form-urlencoded", f.b.data, out);
    arena_release(&a);
    buf_release(&f.b);
    return rc;
}

/* Prints one character of HTML text, decoding the entities buf_html_escape() writes; returns
 * how many bytes it consumed. */
static size_t print_char(const char *c)
{
    static const struct {
        const char *entity;
        char ch;
    } entities[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
    for (size_t i = 0; i < sizeof entities / sizeof entities[0]; i++) {
        size_t n = strlen(entities[i].entity);
        if (strncmp(c, entities[i].entity, n) == 0) {
            putchar(entities[i].ch);
            return n;
        }
    }
    putchar(*c);
    return 1;
}

/* Prints the text of each <li> of the callback page (entities decoded). */
static void print_items(const char *html)
{
    for (const char *p = strstr(html, "<li>"); p; p = strstr(p, "<li>")) {
        p += 4;
        const char *end = strstr(p, "</li>");
        if (!end)
            break;
        fputs("    - ", stdout);
        for (const char *c = p; c < end; c++)
            c += print_char(c) - 1;
        putchar('\n');
        p = end;
    }
}

static enum err sign_in(const char *base, const char *email, const char *password, char **cookie)
{
    json_t *j = json_pack("{s:s, s:s}", "email", email, "password", password);
    char *body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    char url[512];
    snprintf(url, sizeof url, "%s/api/login", base);
    struct step s = {0};
    enum err rc = go("POST", url, NULL, "application/json", body, &s);
    free(body);
    if (rc == ERR_OK && (s.status != 200 || !s.cookie))
        rc = ERR_AUTH;
    if (rc == ERR_OK) {
        *cookie = s.cookie;
        s.cookie = NULL;
    }
    step_release(&s);
    return rc;
}

enum err demo_connect(const char *base, const char *email, const char *password)
{
    char *cookie = NULL;
    enum err rc = sign_in(base, email, password, &cookie);
    char url[512];
    snprintf(url, sizeof url, "%s/oauth/start", base);
    struct step s = {0}, dialog = {0}, back = {0}, page = {0};
    if (rc == ERR_OK)
        rc = go("GET", url, cookie, NULL, NULL, &s);
    if (rc == ERR_OK && (s.status != 302 || !s.location))
        rc = ERR_UPSTREAM;
    if (rc == ERR_OK) {
        printf("  1. %s sends the browser to Facebook Login:\n     %.*s...\n", url, 72, s.location);
        rc = go("GET", s.location, NULL, NULL, NULL, &dialog); /* the page a person sees */
    }
    if (rc == ERR_OK && dialog.status == 200)
        rc = press_continue(s.location, &back);
    if (rc == ERR_OK && (back.status != 302 || !back.location))
        rc = ERR_UPSTREAM;
    if (rc == ERR_OK) {
        back.location[strcspn(back.location, "#")] = '\0';
        printf("  2. \"Continue as Dana Admin\" on the dialog; it redirects back with a code\n");
        rc = go("GET", back.location, cookie, NULL, NULL, &page);
    }
    if (rc == ERR_OK) {
        printf("  3. /oauth/callback answered %d:\n", page.status);
        print_items(page.body ? page.body : "");
        if (page.status != 200)
            rc = ERR_UPSTREAM;
    }
    step_release(&s);
    step_release(&dialog);
    step_release(&back);
    step_release(&page);
    free(cookie);
    return rc;
}
