/*
 * server/cli_accounts.c - connecting and listing accounts from the command line.
 *
 * `accounts connect` runs meta_connect_accounts() (the same code as the dashboard's OAuth
 * callback) and prints what it stored and what it found wrong; findings are warnings (exit
 * 0). The token is read from the argument or, with "-", from stdin; it is wiped after use and
 * never printed. `accounts list` needs no key: it reads only what is stored beside the sealed
 * token (expiry, status, subscription).
 */
#include "server/cli_accounts.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "http/client.h"
#include "meta/connect.h"
#include "meta/graph.h"
#include "meta/vault.h"
#include "store/store.h"

#define TOKEN_MAX      4096
#define EXPIRY_SOON_MS (7LL * 24 * 3600 * 1000)

static int usage(const char *why)
{
    fprintf(stderr,
            "switchboard accounts: %s (usage: accounts connect --user-token TOKEN|- | "
            "accounts list [--json])\n",
            why);
    return 2;
}

static int failure(const char *what, const char *detail)
{
    fprintf(stderr, "switchboard accounts: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    return 1;
}

static enum err open_store(const struct config *cfg, struct store **s)
{
    struct store_opts so = {.data_dir = cfg->data_dir,
                            .database_url = cfg->database_url,
                            .sync_full = strcmp(cfg->db_sync, "full") == 0};
    enum err rc = store_open(&so, s);
    if (rc == ERR_OK)
        rc = store_migrate(*s, NULL, NULL);
    return rc;
}

/* ---- printing accounts ---- */

static const char *expiry_text(int64_t at_ms, int64_t now_ms, char *buf, size_t cap)
{
    if (!at_ms)
        return "never";
    if (at_ms <= now_ms)
        return "EXPIRED";
    char iso[32];
    clock_format_iso(at_ms, iso, sizeof iso);
    snprintf(buf, cap, "%.10s%s", iso, at_ms - now_ms < EXPIRY_SOON_MS ? " (soon)" : "");
    return buf;
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

static void print_row(const struct store_account *a, int64_t now_ms)
{
    char name[256], exp[40];
    if (a->platform == STORE_INSTAGRAM && a->username)
        snprintf(name, sizeof name, "@%s", a->username);
    else
        snprintf(name, sizeof name, "%s", or_dash(a->name));
    const char *page = a->platform == STORE_INSTAGRAM ? or_dash(a->page_id) : "-";
    printf("%-10s %-18s %-24s %-16s %-19s %-16s %-6s %s\n", store_platform_name(a->platform),
           a->external_id, name, page, expiry_text(a->token_expires_at, now_ms, exp, sizeof exp),
           store_account_status_name(a->status), "-", or_dash(a->subscribed_fields));
}

static void print_header(void)
{
    printf("%-10s %-18s %-24s %-16s %-19s %-16s %-6s %s\n", "PLATFORM", "ID", "NAME", "PAGE",
           "TOKEN EXPIRES", "STATUS", "QUOTA", "SUBSCRIBED");
}

/* A status reason, and data access that ends within 7 days (section 4.3's alert). */
static void print_note(const struct store_account *a, int64_t now_ms)
{
    if (a->status_reason)
        printf("note: %s %s is %s: %s\n", store_platform_name(a->platform), a->external_id,
               store_account_status_name(a->status), a->status_reason);
    int64_t end = a->data_access_expires_at;
    char iso[32];
    if (end && end - now_ms < EXPIRY_SOON_MS) {
        clock_format_iso(end, iso, sizeof iso);
        printf("note: %s %s: data access for its login %s on %.10s; reconnect\n",
               store_platform_name(a->platform), a->external_id, end <= now_ms ? "ended" : "ends",
               iso);
    }
}

static void print_table(const struct store_account *rows, size_t n, int64_t now_ms)
{
    print_header();
    for (size_t i = 0; i < n; i++)
        print_row(&rows[i], now_ms);
    for (size_t i = 0; i < n; i++)
        print_note(&rows[i], now_ms);
}

static json_t *iso_or_null(int64_t ms)
{
    if (!ms)
        return json_null();
    char iso[32];
    clock_format_iso(ms, iso, sizeof iso);
    return json_string(iso);
}

static json_t *csv_array(const char *csv)
{
    json_t *arr = json_array();
    for (const char *p = csv; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n)
            json_array_append_new(arr, json_stringn(p, n));
        p += n + (p[n] == ',');
    }
    return arr;
}

static const char *token_state(int64_t at_ms, int64_t now_ms)
{
    if (!at_ms)
        return "never_expires";
    if (at_ms <= now_ms)
        return "expired";
    return at_ms - now_ms < EXPIRY_SOON_MS ? "expiring" : "valid";
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static void print_json(const struct store_account *a, int64_t now_ms)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(a->id));
    json_object_set_new(o, "platform", json_string(store_platform_name(a->platform)));
    json_object_set_new(o, "external_id", json_string(a->external_id));
    json_object_set_new(o, "name", str_or_null(a->name));
    json_object_set_new(o, "username", str_or_null(a->username));
    json_object_set_new(o, "page_id", str_or_null(a->page_id));
    json_object_set_new(o, "token_expires_at", iso_or_null(a->token_expires_at));
    json_object_set_new(o, "token_state", json_string(token_state(a->token_expires_at, now_ms)));
    json_object_set_new(o, "data_access_expires_at", iso_or_null(a->data_access_expires_at));
    json_object_set_new(o, "data_access_state",
                        json_string(a->data_access_expires_at
                                        ? token_state(a->data_access_expires_at, now_ms)
                                        : "unknown"));
    json_object_set_new(o, "status", json_string(store_account_status_name(a->status)));
    json_object_set_new(o, "status_reason", str_or_null(a->status_reason));
    json_object_set_new(o, "user_id", str_or_null(a->user_id));
    json_object_set_new(o, "scopes", csv_array(a->scopes));
    json_object_set_new(o, "subscribed_fields", csv_array(a->subscribed_fields));
    json_object_set_new(o, "subscribed_at", iso_or_null(a->subscribed_at));
    json_object_set_new(o, "quota", json_null()); /* publishing quota: not tracked yet */
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf("%s\n", line ? line : "{}");
    free(line);
    json_decref(o);
}

/* ---- accounts list ---- */

static int list(const struct config *cfg, bool as_json)
{
    struct store *s = NULL;
    struct arena a;
    arena_init(&a);
    struct store_account *rows = NULL;
    size_t n = 0;
    enum err rc = open_store(cfg, &s);
    if (rc == ERR_OK)
        rc = store_accounts_list(s, &a, &rows, &n);
    int64_t now = clock_now_ms();
    if (rc == ERR_OK && as_json)
        for (size_t i = 0; i < n; i++)
            print_json(&rows[i], now);
    else if (rc == ERR_OK && n == 0)
        printf("No accounts are connected yet: run switchboard accounts connect --user-token -\n");
    else if (rc == ERR_OK)
        print_table(rows, n, now);
    store_free(s);
    arena_release(&a);
    return rc == ERR_OK ? 0 : failure("could not read the accounts", err_name(rc));
}

/* ---- accounts connect ---- */

/* One token from stdin: surrounding whitespace dropped. false when empty or too long. */
static bool read_token(char *out, size_t cap)
{
    size_t n = fread(out, 1, cap - 1, stdin);
    out[n] = '\0';
    if (n == cap - 1 && fgetc(stdin) != EOF)
        return false;
    char *start = out + strspn(out, " \t\r\n");
    size_t len = strcspn(start, " \t\r\n");
    memmove(out, start, len);
    out[len] = '\0';
    return len > 0;
}

static void print_report(const struct meta_connect_report *r, int64_t now_ms)
{
    char exp[40], data[40];
    printf("Connected %zu account%s for user %s (user token: %s; data access until: %s).\n",
           r->n_accounts, r->n_accounts == 1 ? "" : "s", or_dash(r->user_id),
           expiry_text(r->user_token_expires_at, now_ms, exp, sizeof exp),
           r->data_access_expires_at
               ? expiry_text(r->data_access_expires_at, now_ms, data, sizeof data)
               : "unknown");
    print_header();
    for (size_t i = 0; i < r->n_accounts; i++)
        print_row(&r->accounts[i].acct, now_ms);
    for (size_t i = 0; i < r->n_accounts; i++)
        print_note(&r->accounts[i].acct, now_ms);
    if (r->n_findings == 0) {
        printf("Self-test: nothing wrong found.\n");
        return;
    }
    printf("Self-test found %zu thing%s to fix:\n", r->n_findings, r->n_findings == 1 ? "" : "s");
    for (size_t i = 0; i < r->n_findings; i++)
        printf("  - %s\n", r->findings[i].text);
}

static enum err new_graph(const struct config *cfg, struct meta_graph **g)
{
    const struct meta_graph_opts o = {.graph_url = cfg->meta_graph_url,
                                      .version = cfg->meta_graph_version,
                                      .app_id = cfg->meta_app_id,
                                      .app_secret = cfg->meta_app_secret};
    return meta_graph_new(&o, g);
}

static int run_connect(const struct config *cfg, struct store *s, struct meta_vault *v,
                       struct meta_graph *g, const char *token)
{
    struct arena a;
    arena_init(&a);
    struct meta_connect_report r;
    const struct meta_connect_opts o = {.wanted_scopes = cfg->meta_scopes};
    enum err rc = meta_connect_accounts(g, s, v, token, &o, &a, &r);
    int code = 0;
    if (rc == ERR_OK)
        print_report(&r, clock_now_ms());
    else
        code = failure("connect failed", r.error ? r.error : err_name(rc));
    arena_release(&a);
    return code;
}

static int connect_with(const struct config *cfg, const char *token)
{
    struct store *s = NULL;
    struct meta_vault *v = NULL;
    struct meta_graph *g = NULL;
    int code = 1;
    enum err rc = open_store(cfg, &s);
    if (rc != ERR_OK)
        failure("could not open the database", err_name(rc));
    else if ((rc = meta_vault_new(cfg->master_key, cfg->data_dir, &v)) != ERR_OK)
        failure("could not load the master key (SB_MASTER_KEY or SB_DATA_DIR/master.key)",
                err_name(rc));
    else if (new_graph(cfg, &g) != ERR_OK)
        failure("bad Graph API settings (SB_META_GRAPH_URL, SB_META_GRAPH_VERSION)", NULL);
    else
        code = run_connect(cfg, s, v, g, token);
    meta_graph_free(g);
    meta_vault_free(v);
    store_free(s);
    return code;
}

static int connect_cmd(const struct config *cfg, const char *arg)
{
    if (!*cfg->meta_app_id || !*cfg->meta_app_secret)
        return failure("SB_META_APP_ID and SB_META_APP_SECRET must be set to connect accounts",
                       NULL);
    char token[TOKEN_MAX];
    if (strcmp(arg, "-") == 0) {
        if (!read_token(token, sizeof token))
            return usage("--user-token -: no token (or one over 4 KiB) on stdin");
    } else if (snprintf(token, sizeof token, "%s", arg) >= (int)sizeof token) {
        return usage("--user-token: the token is over 4 KiB");
    }
    http_client_global_init();
    int code = connect_with(cfg, token);
    crypto_cleanse(token, sizeof token);
    return code;
}

int cli_accounts(const struct config *cfg, int argc, const char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "list") == 0) {
        bool as_json = false;
        for (int i = 1; i < argc; i++) {
            if (strcmp(argv[i], "--json") != 0)
                return usage("unexpected argument");
            as_json = true;
        }
        return list(cfg, as_json);
    }
    if (argc >= 1 && strcmp(argv[0], "connect") == 0) {
        if (argc != 3 || strcmp(argv[1], "--user-token") != 0)
            return usage("connect needs --user-token TOKEN (or - to read it from stdin)");
        return connect_cmd(cfg, argv[2]);
    }
    return usage("unknown subcommand");
}
