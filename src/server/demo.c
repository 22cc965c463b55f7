/*
 * server/demo.c - `switchboard demo`: the running server fed a handful of real-shaped,
 * signed Meta deliveries, with a plain account on stdout of what happened to each.
 *
 * It talks to the server over HTTP on loopback exactly as Meta would, so what it shows is
 * what production does. (The Meta emulator and the customer simulator come with issue #3.)
 */
#include "server/demo_int.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "http/client.h"
#include "store/store.h"

#define DEMO_SECRET "switchboard-demo-app-secret"
#define DEMO_TOKEN  "switchboard-demo-verify-token"
#define IG_ID       "17841400000000001"
#define PAGE_ID     "104000000000001"

enum sig_mode { SIGN_GOOD, SIGN_BAD, SIGN_NONE };

struct step {
    const char *what;
    const char *fmt; /* "@NOW@" stands for the current time in ms */
    enum sig_mode sig;
};

static const struct step steps[] = {
    {"Instagram DM with an emoji (escaped as Meta sends it)",
     "{\"object\":\"instagram\",\"entry\":[{\"time\":@NOW@,\"id\":\"" IG_ID "\",\"messaging\":"
     "[{\"sender\":{\"id\":\"5512345678901234\"},\"recipient\":{\"id\":\"" IG_ID "\"},"
     "\"timestamp\":@NOW@,\"message\":{\"mid\":\"aWdfZAG1faXRlbToxOklHTWVzc2FnZUlEOmRlbW8x\","
     "\"text\":\"Hi! Do you ship to Canada? \\ud83d\\udce6\"}}]}]}",
     SIGN_GOOD},
    {"the same delivery again (Meta redelivers)", NULL, SIGN_GOOD},
    {"Instagram story reply",
     "{\"object\":\"instagram\",\"entry\":[{\"time\":@NOW@,\"id\":\"" IG_ID "\",\"messaging\":"
     "[{\"sender\":{\"id\":\"5512345678901234\"},\"recipient\":{\"id\":\"" IG_ID "\"},"
     "\"timestamp\":@NOW@,\"message\":{\"mid\":\"aWdfZAG1faXRlbToxOklHTWVzc2FnZUlEOmRlbW8y\","
     "\"text\":\"love this colour\",\"reply_to\":{\"story\":{\"id\":\"17900000000000001\","
     "\"url\":\"https:\\/\\/lookaside.fbsbx.com\\/ig_messaging_cdn\\/?asset_id=1\"}}}}]}]}",
     SIGN_GOOD},
    {"Messenger reaction on the Page",
     "{\"object\":\"page\",\"entry\":[{\"id\":\"" PAGE_ID "\",\"time\":@NOW@,\"messaging\":"
     "[{\"sender\":{\"id\":\"6600000000000001\"},\"recipient\":{\"id\":\"" PAGE_ID "\"},"
     "\"timestamp\":@NOW@,\"reaction\":{\"mid\":\"m_demo_page_message\",\"action\":\"react\","
     "\"reaction\":\"love\",\"emoji\":\"\\u2764\\ufe0f\"}}]}]}",
     SIGN_GOOD},
    {"Instagram comment on a post",
     "{\"object\":\"instagram\",\"entry\":[{\"id\":\"" IG_ID "\",\"time\":@NOW@,\"changes\":"
     "[{\"field\":\"comments\",\"value\":{\"id\":\"17865799348089039\",\"text\":\"price?\","
     "\"from\":{\"id\":\"5512345678901234\",\"username\":\"demo.customer\"},"
     "\"media\":{\"id\":\"17900000000000002\",\"media_product_type\":\"FEED\"}}}]}]}",
     SIGN_GOOD},
    {"a delivery signed with the wrong secret", "{\"object\":\"page\",\"entry\":[]}", SIGN_BAD},
    {"a delivery with no signature", "{\"object\":\"page\",\"entry\":[]}", SIGN_NONE},
    {"a signed body that is not JSON", "{\"object\":\"page\",\"entry\":[", SIGN_GOOD},
};

#define SIG_HEADER_PREFIX "X-Hub-Signature-256: sha256="
#define SIG_HEADER_LEN    (sizeof SIG_HEADER_PREFIX + (size_t)2 * 32)

static void make_signature(const char *secret, const char *body, char out[SIG_HEADER_LEN])
{
    unsigned char mac[32];
    crypto_hmac_sha256(secret, strlen(secret), body, strlen(body), mac);
    memcpy(out, SIG_HEADER_PREFIX, sizeof SIG_HEADER_PREFIX - 1);
    hex_encode(mac, sizeof mac, out + sizeof SIG_HEADER_PREFIX - 1);
}

static int post(const char *url, const char *body, enum sig_mode mode, const char *secret)
{
    char sig[SIG_HEADER_LEN];
    make_signature(mode == SIGN_BAD ? "not-the-app-secret" : secret, body, sig);
    const char *headers[] = {"Content-Type: application/json", mode == SIGN_NONE ? NULL : sig,
                             NULL};
    struct http_client_resp resp;
    if (http_client_do("POST", url, headers, body, strlen(body), 5000, 4096, &resp) != ERR_OK)
        return -1;
    free(resp.body);
    return resp.status;
}

static void fill_template(char *out, size_t cap, const char *tmpl, long long now)
{
    char num[24];
    int nlen = snprintf(num, sizeof num, "%lld", now);
    size_t o = 0;
    for (const char *p = tmpl; *p && o + (size_t)nlen + 1 < cap;) {
        if (strncmp(p, "@NOW@", 5) == 0) {
            memcpy(out + o, num, (size_t)nlen);
            o += (size_t)nlen;
            p += 5;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

static void send_steps(const char *base, const char *secret)
{
    char url[600], body[2048] = "";
    snprintf(url, sizeof url, "%s/webhooks/meta", base);
    long long now = (long long)clock_now_ms();
    printf("\nSending Meta-style webhook deliveries to %s\n\n", url);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (steps[i].fmt)
            fill_template(body, sizeof body, steps[i].fmt, now + (long long)i);
        int status = post(url, body, steps[i].sig, secret);
        printf("  %-55s -> HTTP %d\n", steps[i].what, status);
    }
}

static const char *event_text(struct arena *a, const struct store_event *e)
{
    json_t *v = json_loads(e->raw_json, 0, NULL);
    if (!v)
        return "";
    const char *t = json_string_value(json_object_get(json_object_get(v, "message"), "text"));
    if (!t)
        t = json_string_value(json_object_get(json_object_get(v, "value"), "text"));
    if (!t)
        t = json_string_value(json_object_get(json_object_get(v, "reaction"), "emoji"));
    const char *r = arena_strdup(a, t ? t : "");
    json_decref(v);
    return r;
}

static void show_events(struct store *s)
{
    int64_t n = 0;
    for (int i = 0; i < 100 && n < 4; i++) { /* parsing happens on the workers: wait a moment */
        if (store_events_count(s, &n) != ERR_OK)
            break;
        clock_sleep_ms(50);
    }
    struct arena a;
    arena_init(&a);
    struct store_event ev[16];
    size_t k = 0;
    if (store_events_recent(s, 16, &a, ev, &k) == ERR_OK) {
        printf("\nEvents parsed off the request path and stored once each (table `events`):\n\n");
        printf("  %-10s %-10s %-12s %-18s %s\n", "object", "channel", "kind", "sender", "text");
        for (size_t i = 0; i < k; i++)
            printf("  %-10s %-10s %-12s %-18s %s\n", ev[i].object, ev[i].channel, ev[i].kind,
                   ev[i].sender_id ? ev[i].sender_id : "-", event_text(&a, &ev[i]));
    }
    arena_release(&a);
}

static void show_metrics(const char *base)
{
    static const char *const wanted[] = {"switchboard_webhooks_received_total{",
                                         "switchboard_events_total{", "switchboard_dead_letters "};
    char url[600];
    snprintf(url, sizeof url, "%s/metrics", base);
    struct http_client_resp resp;
    if (http_client_do("GET", url, NULL, NULL, 0, 5000, 1 << 20, &resp) != ERR_OK) {
        return;
    }
    printf("\nFrom %s:\n\n", url);
    for (char *line = resp.body; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++)
            if (strncmp(line, wanted[i], strlen(wanted[i])) == 0)
                printf("  %s\n", line);
        line = nl ? nl + 1 : NULL;
    }
    free(resp.body);
}

/* The server's own address as a client can reach it (0.0.0.0 means this machine). */
static void local_base(const struct config *cfg, char *out, size_t len)
{
    const char *h = cfg->listen_host;
    if (strcmp(h, "0.0.0.0") == 0 || strcmp(h, "localhost") == 0)
        h = "127.0.0.1";
    else if (strcmp(h, "::") == 0)
        h = "::1";
    bool v6 = strchr(h, ':') != NULL;
    snprintf(out, len, "http://%s%s%s:%d", v6 ? "[" : "", h, v6 ? "]" : "", cfg->listen_port);
}

static void replace(char **field, const char *value)
{
    free(*field);
    *field = xstrdup(value);
}

enum err demo_run(struct config *cfg, const sigset_t *stop_signals)
{
    if (!*cfg->meta_app_secret)
        replace(&cfg->meta_app_secret, DEMO_SECRET);
    if (!*cfg->meta_verify_token)
        replace(&cfg->meta_verify_token, DEMO_TOKEN);
    if (!log_enabled(LOG_DEBUG))
        log_set_level(LOG_WARN); /* stdout tells the story; stderr keeps warnings */
    http_client_global_init();
    struct server *srv = NULL;
    enum err rc = server_start(cfg, ROLE_ALL, &srv);
    if (rc != ERR_OK)
        return rc;
    char base[300];
    local_base(cfg, base, sizeof base);
    printf("Switchboard demo: serving at %s (data in %s)\n", cfg->public_url, cfg->data_dir);
    send_steps(base, cfg->meta_app_secret);
    show_events(server_store(srv));
    show_metrics(base);
    printf("\nStill serving at %s: /healthz, /readyz, /metrics, /webhooks/meta "
           "(verify token: %s). Ctrl-C stops it.\n",
           cfg->public_url,
           strcmp(cfg->meta_verify_token, DEMO_TOKEN) == 0 ? DEMO_TOKEN : "as configured");
    fflush(stdout);
    int sig = 0;
    while (sigwait(stop_signals, &sig) != 0) {
    }
    server_stop(srv);
    printf("Stopped.\n");
    return ERR_OK;
}
