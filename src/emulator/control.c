/*
 * emulator/control.c - the emulator's own API (/_emulator/..., not Meta's): the world as JSON,
 * one thread's messages, faults, the clock, callback URLs, the delivery log and published
 * images. The customer's actions are in customer.c, the user callbacks in account.c, the
 * simulator page in simulator.c.
 *
 * Contract: docs/emulator.md. Bodies are JSON; bad input answers 400 {"error":"..."}.
 * Locking: each handler holds e->mu while it reads or changes the world, never while it
 * answers.
 */
#include "emulator/emu_deliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CTL_MAX_JSON_DEPTH 16

void emu_ctl_error(struct http_req *r, int status, const char *message)
{
    http_reply_json(r, status, json_pack("{s:s}", "error", message));
}

json_t *emu_ctl_body(struct http_req *r)
{
    size_t len = 0;
    const char *body = http_req_body(r, &len);
    if (!body || len == 0)
        return json_object();
    json_error_t jerr;
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(v)) {
        json_decref(v);
        emu_ctl_error(r, 400, "the body must be a JSON object");
        return NULL;
    }
    return v;
}

int emu_ctl_index(const char *s, int limit)
{
    if (!s || !*s || strlen(s) > 6 || strspn(s, "0123456789") != strlen(s))
        return -1;
    long v = strtol(s, NULL, 10);
    return v < limit ? (int)v : -1;
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* ---- GET /_emulator/state ---- */

static json_t *field_list(const char *csv)
{
    json_t *out = json_array();
    for (const char *p = csv; *p;) {
        size_t k = strcspn(p, ",");
        if (k)
            json_array_append_new(out, json_stringn(p, k));
        p += k;
        p += *p == ',';
    }
    return out;
}

static json_t *state_pages(const struct emulator *e)
{
    json_t *out = json_array();
    for (int i = 0; i < e->n_pages; i++) {
        const struct emu_page *p = &e->pages[i];
        json_array_append_new(out,
                              json_pack("{s:i, s:s, s:s, s:o, s:o, s:o, s:b}", "index", i, "id",
                                        p->id, "name", p->name, "ig_id", str_or_null(p->ig_id),
                                        "ig_username", str_or_null(p->ig_username),
                                        "subscribed_fields", field_list(p->subscribed_fields),
                                        "messaging_disabled", p->messaging_disabled));
    }
    return out;
}

static json_t *state_customers(const struct emulator *e)
{
    json_t *out = json_array();
    for (int i = 0; i < e->n_customers; i++) {
        const struct emu_customer *c = &e->customers[i];
        json_t *psid = json_object();
        for (int p = 0; p < e->n_pages; p++)
            json_object_set_new(psid, e->pages[p].id, json_string(c->psid[p]));
        json_array_append_new(out, json_pack("{s:i, s:s, s:s, s:o, s:s, s:s, s:b}", "index", i,
                                             "name", c->name, "ig_username", c->ig_username, "psid",
                                             psid, "igsid", c->igsid, "asid", c->asid,
                                             "unavailable", c->unavailable));
    }
    return out;
}

static int thread_msg_count(const struct emulator *e, int thread)
{
    int n = 0;
    for (size_t i = 0; i < e->n_msgs; i++)
        n += e->msgs[i].thread == thread;
    return n;
}

static json_t *thread_json(const struct emulator *e, int i)
{
    const struct emu_thread *t = &e->threads[i];
    return json_pack("{s:s, s:i, s:i, s:s, s:I, s:I, s:i}", "id", t->id, "page", t->page,
                     "customer", t->customer, "channel",
                     t->ch == EMU_INSTAGRAM ? "instagram" : "messenger", "last_inbound_ms",
                     (json_int_t)t->last_inbound_ms, "updated_ms", (json_int_t)t->updated_ms,
                     "messages", thread_msg_count(e, i));
}

static json_t *comment_json(const struct emulator *e, const struct emu_comment *c)
{
    const char *from =
        c->customer >= 0 ? e->customers[c->customer].ig_username : e->pages[c->page].ig_username;
    return json_pack("{s:s, s:s, s:o, s:b, s:I, s:s}", "id", c->id, "text", c->text ? c->text : "",
                     "parent_id", str_or_null(c->parent_id), "from_business", c->customer < 0,
                     "ts_ms", (json_int_t)c->ts_ms, "username", from);
}

/* A post, with its comment count and its latest comments (for the simulator). */
static json_t *media_json(const struct emulator *e, const struct emu_media *m)
{
    json_t *latest = json_array();
    int n = 0;
    for (size_t i = 0; i < e->n_comments; i++) {
        const struct emu_comment *c = &e->comments[i];
        if (strcmp(c->media_id, m->id) != 0 || c->hidden)
            continue;
        n++;
        json_array_append_new(latest, comment_json(e, c));
    }
    while (json_array_size(latest) > 10)
        json_array_remove(latest, 0);
    return json_pack("{s:s, s:i, s:o, s:I, s:i, s:b, s:o}", "id", m->id, "page", m->page, "caption",
                     str_or_null(m->caption), "ts_ms", (json_int_t)m->ts_ms, "comments", n,
                     "has_image", m->jpeg != NULL, "latest_comments", latest);
}

static json_t *state_json(const struct emulator *e)
{
    json_t *users = json_array(), *threads = json_array(), *media = json_array();
    for (int i = 0; i < e->n_users; i++)
        json_array_append_new(users, json_pack("{s:s, s:s, s:b}", "asid", e->users[i].asid, "name",
                                               e->users[i].name, "has_app", e->users[i].has_app));
    for (int i = 0; i < e->n_threads; i++)
        json_array_append_new(threads, thread_json(e, i));
    for (size_t i = 0; i < e->n_media; i++)
        json_array_append_new(media, media_json(e, &e->media[i]));
    return json_pack("{s:{s:s}, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:i}", "app", "id",
                     e->app_id, "users", users, "pages", state_pages(e), "customers",
                     state_customers(e), "threads", threads, "media", media, "webhook_url",
                     str_or_null(e->webhook_url), "clock_offset_ms", (json_int_t)e->clock_offset_ms,
                     "now_ms", (json_int_t)emu_now_ms(e), "quota_total", e->o.quota_total);
}

void emu_h_control_state(struct http_req *r, void *ctx)
{
    struct emulator *e = ctx;
    pthread_mutex_lock(&e->mu);
    json_t *v = state_json(e);
    pthread_mutex_unlock(&e->mu);
    http_reply_json(r, 200, v);
}

/* ---- GET /_emulator/threads/{id} ---- */

static json_t *msg_json(const struct emu_msg *m)
{
    json_t *att = m->attachment_json ? json_loads(m->attachment_json, 0, NULL) : NULL;
    return json_pack("{s:s, s:s, s:o, s:o, s:I, s:o, s:o, s:o}", "mid", m->mid, "direction",
                     m->inbound ? "in" : "out", "text", str_or_null(m->text), "attachment",
                     att ? att : json_null(), "ts_ms", (json_int_t)m->ts_ms, "messaging_type",
                     str_or_null(m->messaging_type), "tag", str_or_null(m->tag), "metadata",
                     str_or_null(m->metadata));
}

void emu_h_control_thread(struct http_req *r, void *ctx)
{
    struct emulator *e = ctx;
    pthread_mutex_lock(&e->mu);
    int t = emu_thread_by_id(e, http_req_param(r, "id"));
    if (t < 0) {
        pthread_mutex_unlock(&e->mu);
        emu_ctl_error(r, 404, "no such thread");
        return;
    }
    json_t *msgs = json_array();
    for (size_t i = 0; i < e->n_msgs; i++)
        if (e->msgs[i].thread == t)
            json_array_append_new(msgs, msg_json(&e->msgs[i]));
    json_t *v = json_pack("{s:o, s:o}", "thread", thread_json(e, t), "messages", msgs);
    pthread_mutex_unlock(&e->mu);
    http_reply_json(r, 200, v);
}

/* ---- /_emulator/faults ---- */

static const struct {
    const char *name;
    unsigned bit;
} methods[] = {{"GET", HTTP_GET}, {"POST", HTTP_POST}, {"DELETE", HTTP_DELETE}};

static json_t *faults_json(const struct emulator *e)
{
    json_t *out = json_array();
    for (int i = 0; i < e->n_faults; i++) {
        const struct emu_fault *f = &e->faults[i];
        const char *method = NULL;
        for (size_t k = 0; k < sizeof methods / sizeof methods[0] && !method; k++)
            if (f->methods & methods[k].bit)
                method = methods[k].name;
        json_array_append_new(out,
                              json_pack("{s:s, s:s, s:o, s:i, s:i, s:i}", "kind",
                                        emu_fault_kind_name(f->kind), "path", f->path_has, "method",
                                        method ? json_string(method) : json_null(), "count",
                                        f->remaining, "code", f->code, "delay_ms", f->delay_ms));
    }
    return json_pack("{s:o}", "faults", out);
}

static bool int_member(const json_t *o, const char *key, long long lo, long long hi, long long *out)
{
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return false;
    *out = json_integer_value(v);
    return true;
}

/* Reads a fault from the body; returns the reason it is bad, or NULL. */
static const char *parse_fault(const json_t *b, struct emu_fault *f)
{
    *f = (struct emu_fault){.remaining = 1};
    if (!emu_fault_kind_parse(json_string_value(json_object_get(b, "kind")), &f->kind))
        return "kind must be one of http_500, timeout, rate_limit, window_closed, "
               "token_expired, user_unavailable, slow, slow_answer, lost_answer, drop_webhook, "
               "drop_echo";
    const json_t *m = json_object_get(b, "method");
    for (size_t k = 0; json_is_string(m) && k < sizeof methods / sizeof methods[0]; k++)
        if (strcasecmp(json_string_value(m), methods[k].name) == 0)
            f->methods = methods[k].bit;
    if (m && !json_is_null(m) && !f->methods)
        return "method must be GET, POST or DELETE";
    const json_t *path = json_object_get(b, "path");
    if (path && (!json_is_string(path) || json_string_length(path) >= sizeof f->path_has))
        return "path must be a string shorter than 128 bytes";
    snprintf(f->path_has, sizeof f->path_has, "%s", path ? json_string_value(path) : "");
    long long count = 1, code = 0, delay = 0;
    if (!int_member(b, "count", 1, 1000000, &count) || !int_member(b, "code", 0, 99999999, &code) ||
        !int_member(b, "delay_ms", 0, 600000, &delay))
        return "count (>= 1), code and delay_ms (>= 0) must be integers";
    f->remaining = (int)count;
    f->code = (int)code;
    f->delay_ms = (int)delay;
    return NULL;
}

static void fault_add(struct http_req *r, struct emulator *e)
{
    json_t *b = emu_ctl_body(r);
    if (!b)
        return;
    struct emu_fault f;
    const char *bad = parse_fault(b, &f);
    json_decref(b);
    if (bad) {
        emu_ctl_error(r, 400, bad);
        return;
    }
    pthread_mutex_lock(&e->mu);
    bool full = e->n_faults >= EMU_MAX_FAULTS;
    if (!full)
        e->faults[e->n_faults++] = f;
    json_t *v = faults_json(e);
    pthread_mutex_unlock(&e->mu);
    if (full) {
        json_decref(v);
        emu_ctl_error(r, 409, "too many faults pending (32)");
        return;
    }
    http_reply_json(r, 200, v);
}

void emu_h_control_faults(struct http_req *r, void *ctx)
{
    struct emulator *e = ctx;
    if (http_req_method(r) == HTTP_POST) {
        fault_add(r, e);
        return;
    }
    pthread_mutex_lock(&e->mu);
    if (http_req_method(r) == HTTP_DELETE)
        e->n_faults = 0;
    json_t *v = faults_json(e);
    pthread_mutex_unlock(&e->mu);
    http_reply_json(r, 200, v);
}

/* ---- POST /_emulator/clock ---- */

void emu_h_control_clock(struct http_req *r, void *ctx)
{
    struct emulator *e = ctx;
    json_t *b = emu_ctl_body(r);
    if (!b)
        return;
    const json_t *adv = json_object_get(b, "advance_ms");
    bool ok = json_is_integer(adv) && json_integer_value(adv) >= 0 &&
              json_integer_value(adv) <= 100LL * 365 * EMU_DAY_MS;
    int64_t ms = ok ? (int64_t)json_integer_value(adv) : 0;
    json_decref(b);
    if (!ok) {
        emu_ctl_error(r, 400, "advance_ms must be an integer >= 0");
        return;
    }
    pthread_mutex_lock(&e->mu);
    e->clock_offset_ms += ms;
    json_t *v = json_pack("{s:I, s:I}", "now_ms", (json_int_t)emu_now_ms(e), "clock_offset_ms",
                          (json_int_t)e->clock_offset_ms);
    pthread_mutex_unlock(&e->mu);
    http_reply_json(r, 200, v);
}

/* ---- POST /_emulator/config ---- */

static const char *const config_keys[] = {"webhook_url", "deauthorize_url", "deletion_url"};

static char **config_slot(struct emulator *e, size_t i)
{
    return i == 0 ? &e->webhook_url : i == 1 ? &e->deauthorize_url : &e->deletion_url;
}

void emu_h_control_config(struct http_req *r, void *ctx)
{
    struct emulator *e = ctx;
    json_t *b = emu_ctl_body(r);
    if (!b)
        return;
    for (size_t i = 0; i < 3; i++) {
        const json_t *v = json_object_get(b, config_keys[i]);
        if (v && !json_is_string(v) && !json_is_null(v)) {
            json_decref(b);
            emu_ctl_error(r, 400, "webhook_url, deauthorize_url and deletion_url are strings");
            return;
        }
    }
    pthread_mutex_lock(&e->mu);
    json_t *out = json_object();
    for (size_t i = 0; i < 3; i++) {
        const json_t *v = json_object_get(b, config_keys[i]);
        char **slot = config_slot(e, i);
        if (v) {
            free(*slot);
            const char *s = json_string_value(v);
            *slot = s && *s ? xstrdup(s) : NULL;
        }
        json_object_set_new(out, config_keys[i], str_or_null(*slot));
    }
    emu_deliver_kick(e); /* events held for want of a URL may go now */
    pthread_mutex_unlock(&e->mu);
    json_decref(b);
    http_reply_json(r, 200, out);
}

/* ---- GET /_emulator/deliveries ---- */

void emu_h_control_deliveries(struct http_req *r, void *ctx)
{
    struct emulator *e = ctx;
    pthread_mutex_lock(&e->mu);
    json_t *v = json_pack("{s:o, s:i, s:I}", "deliveries", emu_deliver_log_json(e), "pending",
                          emu_deliver_pending(e), "total", (json_int_t)e->n_dlog);
    pthread_mutex_unlock(&e->mu);
    http_reply_json(r, 200, v);
}

/* ---- GET /_emulator/media/{id}.jpg ---- */

void emu_h_control_media_image(struct http_req *r, void *ctx)
{
    struct emulator *e = ctx;
    const char *file = http_req_param(r, "file");
    size_t n = file ? strlen(file) : 0;
    if (n <= 4 || n >= EMU_ID_LEN + 4 || strcmp(file + n - 4, ".jpg") != 0) {
        emu_ctl_error(r, 404, "no such image");
        return;
    }
    char id[EMU_ID_LEN + 4];
    snprintf(id, sizeof id, "%.*s", (int)(n - 4), file);
    pthread_mutex_lock(&e->mu);
    int64_t i = emu_media_by_id(e, id);
    unsigned char *copy = NULL;
    size_t len = 0;
    if (i >= 0 && e->media[i].jpeg) {
        len = e->media[i].jpeg_len;
        copy = xmalloc(len ? len : 1);
        memcpy(copy, e->media[i].jpeg, len);
    }
    pthread_mutex_unlock(&e->mu);
    if (!copy) {
        emu_ctl_error(r, 404, "no such image");
        return;
    }
    http_set_header(r, "Cache-Control", "max-age=3600");
    http_reply(r, 200, "image/jpeg", copy, len);
    free(copy);
}

/* GET /_emulator/stats: what the Graph calls answered so far cost the emulator itself. */
void emu_h_control_stats(struct http_req *r, void *ctx)
{
    struct emulator *e = ctx;
    uint64_t n = __atomic_load_n(&e->n_graph_calls, __ATOMIC_RELAXED);
    uint64_t us = __atomic_load_n(&e->graph_busy_us, __ATOMIC_RELAXED);
    http_reply_json(
        r, 200,
        json_pack("{s:I, s:I}", "graph_calls", (json_int_t)n, "graph_busy_us", (json_int_t)us));
}
