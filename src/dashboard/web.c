/*
 * dashboard/web.c - the page: GET / and GET /app/{file}, the files of web/dashboard/ embedded
 * in the binary with .incbin (paths relative to the repository root, where make runs; the
 * Makefile makes this object depend on them), so `serve` needs nothing beside itself.
 *
 * Adding a file (a new section's module): one WEB_ASSET line and one row in assets[].
 * Every answer carries a Content-Security-Policy that allows only this origin's scripts,
 * styles and connections (the WebSocket included), and no framing.
 */
#include "dashboard/dash_int.h"

#include <string.h>

#define WEB_ASSET(sym, path)                                                                       \
    ".pushsection .rodata\n.balign 16\n.globl " sym "\n.hidden " sym "\n" sym ":\n.incbin \"" path \
    "\"\n.byte 0\n.popsection\n"

__asm__(WEB_ASSET("dash_web_index", "web/dashboard/index.html")
            WEB_ASSET("dash_web_css", "web/dashboard/app.css") WEB_ASSET("dash_web_app",
                                                                         "web/dashboard/app.js")
                WEB_ASSET("dash_web_api", "web/dashboard/api.js") WEB_ASSET("dash_web_live",
                                                                            "web/dashboard/live.js")
                    WEB_ASSET("dash_web_ui", "web/dashboard/ui.js")
                        WEB_ASSET("dash_web_inbox", "web/dashboard/inbox.js")
                            WEB_ASSET("dash_web_conv", "web/dashboard/conversation.js")
                                WEB_ASSET("dash_web_accounts", "web/dashboard/accounts.js")
                                    WEB_ASSET("dash_web_kb", "web/dashboard/kb.js")
                                        WEB_ASSET("dash_web_settings", "web/dashboard/settings.js")
                                            WEB_ASSET("dash_web_posts", "web/dashboard/posts.js"));

extern const char dash_web_index[], dash_web_css[], dash_web_app[], dash_web_api[], dash_web_live[],
    dash_web_ui[], dash_web_inbox[], dash_web_conv[], dash_web_accounts[], dash_web_kb[],
    dash_web_settings[], dash_web_posts[];

#define JS  "text/javascript; charset=utf-8"
#define CSS "text/css; charset=utf-8"

static const struct {
    const char *name, *type;
    const char *body;
} assets[] = {
    {"app.css", CSS, dash_web_css},
    {"app.js", JS, dash_web_app},
    {"api.js", JS, dash_web_api},
    {"live.js", JS, dash_web_live},
    {"ui.js", JS, dash_web_ui},
    {"inbox.js", JS, dash_web_inbox},
    {"conversation.js", JS, dash_web_conv},
    {"accounts.js", JS, dash_web_accounts},
    {"kb.js", JS, dash_web_kb},
    {"settings.js", JS, dash_web_settings},
    {"posts.js", JS, dash_web_posts},
};

static void security_headers(struct http_req *r)
{
    http_set_header(r, "Content-Security-Policy",
                    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
                    "data: https:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
                    "frame-ancestors 'none'");
    http_set_header(r, "X-Content-Type-Options", "nosniff");
    http_set_header(r, "Referrer-Policy", "same-origin");
    http_set_header(r, "Cache-Control", "no-cache");
}

void dash_h_page(struct http_req *r, void *ctx)
{
    (void)ctx;
    security_headers(r);
    http_reply_static(r, 200, "text/html; charset=utf-8", dash_web_index);
}

void dash_h_asset(struct http_req *r, void *ctx)
{
    (void)ctx;
    const char *name = http_req_path(r) + strlen("/app/");
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
        if (strcmp(name, assets[i].name) == 0) {
            security_headers(r);
            http_reply_static(r, 200, assets[i].type, assets[i].body);
            return;
        }
    http_reply_error(r, ERR_NOT_FOUND, "no such file");
}
