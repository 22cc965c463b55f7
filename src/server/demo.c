/*
 * server/demo.c - `switchboard demo`: the whole product on one machine with no Meta app and no
 * LLM account. It starts the local Meta (src/emulator/) and the server wired to it, creates an
 * operator, connects the demo Page and Instagram account through the real Facebook Login flow
 * (against the emulator), has customers write in through the emulator, which delivers signed
 * webhooks as Meta does, and explains on stdout what happened. Then it serves until Ctrl-C,
 * with the customer simulator open for people to try.
 *
 * Its data lives in SB_DATA_DIR/demo, emptied at every start: the emulator's world is in memory,
 * so tokens from an earlier run would be dead anyway.
 */
#include "server/demo_int.h"

#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "dashboard/dashboard.h"
#include "emulator/emulator.h"
#include "http/client.h"
#include "kb/kb.h"
#include "store/store.h"

#define DEMO_TOKEN    "switchboard-demo-verify-token"
#define DEMO_APP_ID   "1234567890123456"
#define DEMO_OPERATOR "demo@northwind.example"

enum sig_mode { SIGN_GOOD, SIGN_BAD, SIGN_NONE };

struct step {
    const char *what;
    const char *body;
    enum sig_mode sig;
};

/* What an attacker (or a misconfigured proxy) might send: refused, nothing stored. */
static const struct step forged[] = {
    {"a delivery signed with the wrong secret", "{\"object\":\"page\",\"entry\":[]}", SIGN_BAD},
    {"a delivery with no signature", "{\"object\":\"page\",\"entry\":[]}", SIGN_NONE},
};

/* What customers write in the demo (channel, customer index, text). */
static const struct {
    const char *channel;
    int customer;
    const char *text;
} chats[] = {
    {"instagram", 0, "Hi! Do you ship to Canada? \xF0\x9F\x93\xA6"},
    {"messenger", 1, "Are you open on Sunday afternoon?"},
    {"instagram", 2, "Can I return an opened bag of coffee?"},
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

static void send_forged(const char *base, const char *secret)
{
    char url[600];
    snprintf(url, sizeof url, "%s/webhooks/meta", base);
    printf("\nForged deliveries are refused before anything is stored:\n\n");
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++)
        printf("  %-55s -> HTTP %d\n", forged[i].what,
               post(url, forged[i].body, forged[i].sig, secret));
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

static void show_events(struct store *s, int64_t want)
{
    int64_t n = 0;
    for (int i = 0; i < 200 && n < want; i++) { /* parsing happens on the workers: wait a moment */
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

/* Empties SB_DATA_DIR/demo of what a server leaves there (nothing else is touched). */
static void fresh_demo_dir(struct config *cfg)
{
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s/demo", cfg->data_dir);
    mkdir(cfg->data_dir, 0700); /* the store creates only the last level */
    static const char *const files[] = {"switchboard.db", "switchboard.db-wal",
                                        "switchboard.db-shm", "master.key"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/journal", dir);
    DIR *d = opendir(path);
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
        char f[1500];
        snprintf(f, sizeof f, "%s/%s", path, e->d_name);
        if (e->d_name[0] != '.')
            unlink(f);
    }
    if (d)
        closedir(d);
    replace(&cfg->data_dir, dir);
}

/* Points the server at the emulator and gives it the demo app's credentials. */
static enum err start_meta(struct config *cfg, const char *base, struct emulator **emu)
{
    char secret_hex[33];
    unsigned char raw[16];
    crypto_random(raw, sizeof raw);
    hex_encode(raw, sizeof raw, secret_hex);
    replace(&cfg->meta_app_id, DEMO_APP_ID);
    if (strcmp(cfg->business_name, "our business") == 0)
        replace(&cfg->business_name, "Northwind Coffee"); /* the emulator's demo shop */
    replace(&cfg->meta_app_secret, secret_hex);           /* a fresh secret per run */
    if (!*cfg->meta_verify_token)
        replace(&cfg->meta_verify_token, DEMO_TOKEN);
    struct arena a;
    arena_init(&a);
    struct emulator_opts o = {.host = cfg->listen_host[0] && strcmp(cfg->listen_host, "0.0.0.0")
                                          ? cfg->listen_host
                                          : "127.0.0.1",
                              .port = 0,
                              .app_id = cfg->meta_app_id,
                              .app_secret = cfg->meta_app_secret,
                              .webhook_url = arena_printf(&a, "%s/webhooks/meta", base),
                              .deauthorize_url = arena_printf(&a, "%s/meta/deauthorize", base),
                              .deletion_url = arena_printf(&a, "%s/meta/data-deletion", base),
                              .container_ready_ms = 1500};
    enum err rc = emulator_start(&o, emu);
    arena_release(&a);
    if (rc != ERR_OK)
        return rc;
    char url[300];
    snprintf(url, sizeof url, "http://%s:%d", o.host, emulator_port(*emu));
    replace(&cfg->meta_graph_url, url);
    replace(&cfg->meta_oauth_url, url);
    return ERR_OK;
}

static enum err make_operator(struct store *s, char password[33])
{
    unsigned char raw[12];
    crypto_random(raw, sizeof raw);
    base64url_encode(raw, sizeof raw, password);
    int64_t id = 0;
    return dashboard_user_add(s, DEMO_OPERATOR, "admin", password, &id);
}

#define N_CHATS (sizeof chats / sizeof chats[0])

static void customers_write(const char *emu_base, char threads[][256])
{
    printf("\nCustomers write in through the local Meta, which delivers signed webhooks:\n\n");
    for (size_t i = 0; i < sizeof chats / sizeof chats[0]; i++) {
        char url[400];
        snprintf(url, sizeof url, "%s/_emulator/customers/%d/messages", emu_base,
                 chats[i].customer);
        json_t *j = json_pack("{s:s, s:s}", "channel", chats[i].channel, "text", chats[i].text);
        char *body = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        const char *h[] = {"Content-Type: application/json", NULL};
        struct http_client_resp resp;
        enum err rc = http_client_do("POST", url, h, body, strlen(body), 5000, 4096, &resp);
        printf("  %-9s customer %d: %-45s -> %s\n", chats[i].channel, chats[i].customer,
               chats[i].text, rc == ERR_OK && resp.status == 200 ? "sent" : "FAILED");
        threads[i][0] = '\0';
        if (rc == ERR_OK) {
            json_t *r = json_loads(resp.body, 0, NULL);
            const char *t = json_string_value(json_object_get(r, "thread"));
            snprintf(threads[i], 256, "%s", t ? t : "");
            json_decref(r);
            free(resp.body);
        }
        free(body);
    }
}

/* The business's newest message in an emulator thread (what the customer sees), or NULL. */
static char *business_reply(const char *emu_base, const char *thread)
{
    char url[1100];
    snprintf(url, sizeof url, "%s/_emulator/threads/%s", emu_base, thread);
    struct http_client_resp resp;
    if (!*thread || http_client_do("GET", url, NULL, NULL, 0, 5000, 1 << 20, &resp) != ERR_OK)
        return NULL;
    json_t *r = json_loads(resp.body, 0, NULL);
    free(resp.body);
    char *out = NULL;
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(r, "messages"), i, m)
    {
        const char *dir = json_string_value(json_object_get(m, "direction"));
        const char *text = json_string_value(json_object_get(m, "text"));
        if (dir && strcmp(dir, "out") == 0 && text) {
            free(out);
            out = xstrdup(text);
        }
    }
    json_decref(r);
    return out;
}

/* Waits for each answer: a few seconds without an LLM (the burst delay, then the send), up
 * to a minute with one. */
static void show_replies(const struct config *cfg, const char *emu_base, char threads[][256])
{
    bool llm = cfg->llm_url && *cfg->llm_url;
    if (llm)
        printf("\nSwitchboard answered (the LLM at SB_LLM_URL with the knowledge base and its "
               "guardrails, or a handoff to a person):\n\n");
    else
        printf("\nSwitchboard answered (no LLM configured: retrieval from the knowledge base, or "
               "a handoff to a person; set SB_LLM_URL for the LLM path):\n\n");
    for (size_t i = 0; i < N_CHATS; i++) {
        char *reply = NULL;
        for (int tries = 0; tries < (llm ? 600 : 100) && !reply; tries++) {
            reply = business_reply(emu_base, threads[i]);
            if (!reply)
                clock_sleep_ms(100);
        }
        printf("  customer %d <- %s\n", chats[i].customer, reply ? reply : "(no answer yet)");
        free(reply);
    }
}

/* The sample shop's policies (examples/kb/, when run from the repository). */
static void load_kb(const struct config *cfg, struct store *s)
{
    const char *dir = *cfg->kb_dir ? cfg->kb_dir : "examples/kb";
    struct kb_opts o = {
        .embed_url = cfg->embed_url, .embed_model = cfg->embed_model, .api_key = cfg->llm_api_key};
    struct kb *k = NULL;
    printf("\nKnowledge base: the shop's policy documents from %s\n\n", dir);
    if (kb_new(s, &o, &k) != ERR_OK || kb_add_path(k, dir, NULL, NULL) != ERR_OK) {
        printf("  (not loaded: %s is missing or unreadable; run the demo from the repository)\n",
               dir);
        kb_free(k);
        return;
    }
    struct arena a;
    arena_init(&a);
    struct store_kb_doc *docs = NULL;
    size_t n = 0;
    if (kb_list(k, &a, &docs, &n) == ERR_OK)
        printf("  %zu documents indexed for retrieval\n", n);
    struct kb_results res;
    const char *q = "do you ship to canada?";
    if (kb_search(k, &a, q, 1, &res) == ERR_OK && res.n > 0)
        printf("  best match for \"%s\": %s (%s)\n", q, res.hits[0].heading, res.hits[0].path);
    arena_release(&a);
    kb_free(k);
}

static void closing_words(const struct config *cfg, const char *emu_base, const char *password)
{
    printf("\nStill serving. Try it:\n\n"
           "  Customer simulator   %s/  (write as a customer, see replies, comment on posts)\n"
           "  Dashboard            %s/  (sign in as %s, password %s: the customers'\n"
           "                       conversations, live; take over, reply, hand back)\n"
           "  Webhooks             %s/webhooks/meta (verify token: %s)\n"
           "  Health and metrics   %s/healthz, %s/metrics\n\n"
           "Ctrl-C stops it.\n",
           emu_base, cfg->public_url, DEMO_OPERATOR, password, cfg->public_url,
           strcmp(cfg->meta_verify_token, DEMO_TOKEN) == 0 ? DEMO_TOKEN : "as configured",
           cfg->public_url, cfg->public_url);
    fflush(stdout);
}

static enum err demo_story(struct config *cfg, struct server *srv, const char *base,
                           const char *emu_base, char password[33])
{
    enum err rc = make_operator(server_store(srv), password);
    if (rc != ERR_OK)
        return rc;
    printf("Switchboard demo: serving at %s; the local Meta at %s\n", cfg->public_url, emu_base);
    printf("Operator %s created (argon2id; the password is printed below).\n", DEMO_OPERATOR);
    printf("\nConnecting the demo Page and Instagram account through Facebook Login:\n\n");
    if (demo_connect(base, DEMO_OPERATOR, password) != ERR_OK)
        printf("  (connecting did not complete: see the lines above)\n");
    load_kb(cfg, server_store(srv));
    char threads[N_CHATS][256];
    customers_write(emu_base, threads);
    show_events(server_store(srv), (int64_t)N_CHATS);
    show_replies(cfg, emu_base, threads);
    demo_publish(cfg, server_store(srv));
    send_forged(base, cfg->meta_app_secret);
    show_metrics(base);
    return ERR_OK;
}

enum err demo_run(struct config *cfg, const sigset_t *stop_signals)
{
    if (!log_enabled(LOG_DEBUG))
        log_set_level(LOG_WARN); /* stdout tells the story; stderr keeps warnings */
    http_client_global_init();
    fresh_demo_dir(cfg);
    char base[300];
    local_base(cfg, base, sizeof base);
    struct emulator *emu = NULL;
    enum err rc = start_meta(cfg, base, &emu);
    struct server *srv = NULL;
    if (rc == ERR_OK)
        rc = server_start(cfg, ROLE_ALL, &srv);
    char emu_base[300] = "", password[33] = "";
    if (rc == ERR_OK) {
        snprintf(emu_base, sizeof emu_base, "%s", cfg->meta_graph_url);
        rc = demo_story(cfg, srv, base, emu_base, password);
    }
    if (rc == ERR_OK) {
        closing_words(cfg, emu_base, password);
        int sig = 0;
        while (sigwait(stop_signals, &sig) != 0) {
        }
    }
    server_stop(srv);
    emulator_stop(emu);
    if (rc == ERR_OK)
        printf("Stopped.\n");
    return rc;
}
