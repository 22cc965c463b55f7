/*
 * emulator/simulator.c - GET /: the customer simulator page (web/simulator/).
 *
 * The three files are embedded in the binary with .incbin (paths relative to the repository
 * root, where make runs; the Makefile makes this object depend on them). The route table has
 * only "/" for the page, so its stylesheet and module script are inlined into the HTML, in
 * place of the <link> and <script src> tags that let the files also work on their own.
 * Memory: the page is composed once and lives until the process exits.
 */
#include "emulator/emu_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"

#define SIM_ASSET(sym, path)                                                                       \
    ".pushsection .rodata\n.balign 16\n.globl " sym "\n.hidden " sym "\n" sym ":\n.incbin \"" path \
    "\"\n.byte 0\n.popsection\n"

__asm__(SIM_ASSET("emu_sim_index_html", "web/simulator/index.html")
            SIM_ASSET("emu_sim_js", "web/simulator/simulator.js")
                SIM_ASSET("emu_sim_css", "web/simulator/simulator.css"));

extern const char emu_sim_index_html[], emu_sim_js[], emu_sim_css[];

#define SIM_CSS_TAG "<link rel=\"stylesheet\" href=\"simulator.css\">"
#define SIM_JS_TAG  "<script type=\"module\" src=\"simulator.js\"></script>"
#define SIM_MAX     ((size_t)4 * 1024 * 1024)

static pthread_once_t page_once = PTHREAD_ONCE_INIT;
static char *page; /* the composed page, for the life of the process */

/* Appends html with the tag `tag` replaced by open + asset + close (or html unchanged). */
static enum err put_inlined(struct buf *b, const char *html, size_t n, const char *tag,
                            const char *open, const char *asset, const char *close)
{
    const char *at = strstr(html, tag);
    if (!at || (size_t)(at - html) >= n)
        return buf_append(b, html, n);
    enum err rc = buf_append(b, html, (size_t)(at - html));
    if (rc == ERR_OK)
        rc = buf_puts(b, open);
    if (rc == ERR_OK)
        rc = buf_puts(b, asset);
    if (rc == ERR_OK)
        rc = buf_puts(b, close);
    const char *rest = at + strlen(tag);
    return rc == ERR_OK ? buf_append(b, rest, n - (size_t)(rest - html)) : rc;
}

static void compose(void)
{
    struct buf one, two;
    buf_init(&one, SIM_MAX);
    buf_init(&two, SIM_MAX);
    enum err rc = put_inlined(&one, emu_sim_index_html, strlen(emu_sim_index_html), SIM_CSS_TAG,
                              "<style>\n", emu_sim_css, "</style>");
    if (rc == ERR_OK)
        rc = put_inlined(&two, one.data, one.len, SIM_JS_TAG, "<script type=\"module\">\n",
                         emu_sim_js, "</script>");
    if (rc != ERR_OK)
        log_error("emulator.simulator_page", LOG_ERR(rc));
    size_t len = 0;
    page = rc == ERR_OK ? buf_detach(&two, &len) : NULL;
    buf_release(&one);
    buf_release(&two);
}

void emu_h_simulator(struct http_req *r, void *ctx)
{
    (void)ctx;
    pthread_once(&page_once, compose);
    if (!page) {
        http_reply_text(r, 500, "simulator page unavailable");
        return;
    }
    http_set_header(r, "Cache-Control", "no-cache");
    http_set_header(r, "X-Content-Type-Options", "nosniff");
    http_reply_static(r, 200, "text/html; charset=utf-8", page);
}
