/*
 * server/cli_conversations.c - listing conversations from the command line.
 *
 * Columns: id, platform, account, customer (name, @username or scoped id), mode, window
 * state (from inbox/window.h, the one policy: "open 5h left", "human-only 3d left",
 * "closed"), handoff reason, last message time. --json prints one object per line.
 * Never prints message text.
 */
#include "server/cli_conversations.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "inbox/window.h"
#include "store/store.h"

#define HOUR_MS (3600LL * 1000)
#define DAY_MS  (24 * HOUR_MS)

struct filter {
    const char *mode; /* NULL: any */
    bool only_closed, as_json;
};

static int usage(const char *why, const char *arg)
{
    fprintf(stderr,
            "switchboard conversations: %s%s%s (usage: conversations list "
            "[--mode ai|human|paused|closed] [--json])\n",
            why, arg ? ": " : "", arg ? arg : "");
    return 2;
}

static const char *customer_of(const struct store_conversation *c, char *buf, size_t cap)
{
    if (c->contact_name && *c->contact_name)
        return c->contact_name;
    if (c->contact_username && *c->contact_username) {
        snprintf(buf, cap, "@%s", c->contact_username);
        return buf;
    }
    return c->scoped_id;
}

/* Rounded up, so "0h left" never shows while the window is still open. */
static const char *window_text(const struct store_conversation *c, int64_t now, char *buf,
                               size_t cap)
{
    int64_t until = 0;
    enum window_state st = window_state_of(c->last_customer_at, now, &until);
    int64_t left = until - now;
    if (st == WINDOW_OPEN)
        snprintf(buf, cap, "open %lldh left", (long long)((left + HOUR_MS - 1) / HOUR_MS));
    else if (st == WINDOW_HUMAN_ONLY)
        snprintf(buf, cap, "human-only %lldd left", (long long)((left + DAY_MS - 1) / DAY_MS));
    else
        snprintf(buf, cap, "closed");
    return buf;
}

static const char *iso(int64_t ms, char *buf, size_t cap)
{
    if (!ms)
        return "-";
    clock_format_iso(ms, buf, cap);
    return buf;
}

static void print_row(const struct store_conversation *c, int64_t now)
{
    char who[600], win[48], last[32];
    printf("%-6lld %-10s %-20s %-24s %-7s %-20s %-24s %s\n", (long long)c->id,
           store_platform_name(c->platform),
           c->account_name ? c->account_name : c->account_external_id,
           customer_of(c, who, sizeof who), c->mode, window_text(c, now, win, sizeof win),
           c->handoff_reason ? c->handoff_reason : "-", iso(c->last_message_at, last, sizeof last));
}

static json_t *iso_or_null(int64_t ms)
{
    char buf[32];
    return ms ? json_string(iso(ms, buf, sizeof buf)) : json_null();
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static void print_json(const struct store_conversation *c, int64_t now)
{
    int64_t until = 0;
    enum window_state st = window_state_of(c->last_customer_at, now, &until);
    char who[600];
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(c->id));
    json_object_set_new(o, "platform", json_string(store_platform_name(c->platform)));
    json_object_set_new(o, "account", json_string(c->account_external_id));
    json_object_set_new(o, "account_name", str_or_null(c->account_name));
    json_object_set_new(o, "customer", json_string(customer_of(c, who, sizeof who)));
    json_object_set_new(o, "scoped_id", json_string(c->scoped_id));
    json_object_set_new(o, "mode", json_string(c->mode));
    json_object_set_new(o, "window", json_string(window_state_name(st)));
    json_object_set_new(o, "window_until", iso_or_null(until));
    json_object_set_new(o, "standby", json_boolean(c->is_standby));
    json_object_set_new(o, "handoff_reason", str_or_null(c->handoff_reason));
    json_object_set_new(o, "handoff_cause", str_or_null(c->handoff_cause));
    json_object_set_new(o, "assigned_operator",
                        c->assigned_operator_id ? json_integer(c->assigned_operator_id)
                                                : json_null());
    json_object_set_new(o, "last_customer_at", iso_or_null(c->last_customer_at));
    json_object_set_new(o, "last_message_at", iso_or_null(c->last_message_at));
    json_object_set_new(o, "unread", json_integer(c->unread));
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf("%s\n", line ? line : "{}");
    free(line);
    json_decref(o);
}

static void print_all(const struct store_conversation *rows, size_t n, const struct filter *f)
{
    int64_t now = clock_now_ms();
    if (!f->as_json)
        printf("%-6s %-10s %-20s %-24s %-7s %-20s %-24s %s\n", "ID", "PLATFORM", "ACCOUNT",
               "CUSTOMER", "MODE", "WINDOW", "HANDOFF", "LAST MESSAGE");
    for (size_t i = 0; i < n; i++) {
        if (f->only_closed && window_state_of(rows[i].last_customer_at, now, NULL) != WINDOW_CLOSED)
            continue;
        if (f->as_json)
            print_json(&rows[i], now);
        else
            print_row(&rows[i], now);
    }
}

static int list(const struct config *cfg, const struct filter *f)
{
    struct store_opts so = {.data_dir = cfg->data_dir,
                            .database_url = cfg->database_url,
                            .sync_full = strcmp(cfg->db_sync, "full") == 0};
    struct store *s = NULL;
    struct arena a;
    arena_init(&a);
    struct store_conversation *rows = NULL;
    size_t n = 0;
    enum err rc = store_open(&so, &s);
    if (rc == ERR_OK)
        rc = store_migrate(s, NULL, NULL);
    if (rc == ERR_OK)
        rc = store_conversations_list(s, &a, f->mode, STORE_CONVERSATIONS_MAX, &rows, &n);
    if (rc == ERR_OK)
        print_all(rows, n, f);
    else
        fprintf(stderr, "switchboard conversations: cannot read the store: %s\n", err_name(rc));
    arena_release(&a);
    store_free(s);
    return rc == ERR_OK ? 0 : 1;
}

static int parse_mode(const char *m, struct filter *f)
{
    static const char *const modes[] = {"ai", "human", "paused"};
    if (strcmp(m, "closed") == 0) {
        f->only_closed = true;
        return 0;
    }
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(m, modes[i]) == 0) {
            f->mode = modes[i];
            return 0;
        }
    return usage("unknown mode (ai, human, paused, closed)", m);
}

int cli_conversations(const struct config *cfg, int argc, const char **argv)
{
    if (argc < 1 || strcmp(argv[0], "list") != 0)
        return usage(argc < 1 ? "missing subcommand" : "unknown subcommand",
                     argc < 1 ? NULL : argv[0]);
    struct filter f = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            f.as_json = true;
        else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
            int code = parse_mode(argv[++i], &f);
            if (code)
                return code;
        } else
            return usage("unexpected argument", argv[i]);
    }
    return list(cfg, &f);
}
