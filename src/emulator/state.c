/*
 * emulator/state.c - the emulator's world: the seed, ids, emulator time and lookups.
 *
 * Every function here expects e->mu held (except emu_random_text and emu_window_open, which
 * touch no state). Ids look like Meta's: numeric strings for objects, "m_..." Messenger mids,
 * base64 "ig_dm_item:1:IGMessageID:..." Instagram mids, "t_..." Messenger conversation ids.
 */
#include "emulator/emu_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"

static const struct {
    const char *name, *username;
} seed_customers[] = {
    {"Maya Lopez", "maya.lopez"},
    {"Sam Chen", "samchen.eats"},
    {"Priya Nair", "priya.nair"},
    {"Jonas Berg", "jonasberg"},
};

void emu_grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return;
    size_t ncap = *cap ? *cap * 2 : 16;
    *p = xrealloc(*p, ncap * size);
    memset((char *)*p + *cap * size, 0, (ncap - *cap) * size);
    *cap = ncap;
}

int64_t emu_now_ms(const struct emulator *e)
{
    return clock_now_ms() + e->clock_offset_ms;
}

void emu_new_id(struct emulator *e, char out[EMU_ID_LEN])
{
    snprintf(out, EMU_ID_LEN, "%llu", (unsigned long long)(17900000000000000ULL + ++e->next_id));
}

void emu_random_text(char *out, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[256];
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < sizeof rnd ? n - done : sizeof rnd;
        crypto_random(rnd, k);
        for (size_t i = 0; i < k; i++)
            out[done + i] = abc[rnd[i] % (sizeof abc - 1)];
        done += k;
    }
    out[n] = '\0';
}

/* The four named customers, then generated ones up to --customers (ids of their own shape,
 * so they never meet the named ones'). */
static void seed_customers_all(struct emulator *e)
{
    size_t named = sizeof seed_customers / sizeof seed_customers[0];
    size_t n = e->o.customers > (int)named ? (size_t)e->o.customers : named;
    if (n > EMU_MAX_CUSTOMERS)
        n = EMU_MAX_CUSTOMERS;
    e->customers = xcalloc(n, sizeof *e->customers);
    for (size_t i = 0; i < n; i++) {
        struct emu_customer *c = &e->customers[e->n_customers++];
        if (i < named) {
            snprintf(c->name, sizeof c->name, "%s", seed_customers[i].name);
            snprintf(c->ig_username, sizeof c->ig_username, "%s", seed_customers[i].username);
            snprintf(c->asid, sizeof c->asid, "1017000000000%04zu", i + 1);
            for (int p = 0; p < EMU_MAX_PAGES; p++)
                snprintf(c->psid[p], sizeof c->psid[p], "2%d%02zu4619347%06zu", p + 4, i + 1,
                         (i + 1) * 7919);
            snprintf(c->igsid, sizeof c->igsid, "17%02zu84211569%05zu", i + 1, (i + 1) * 4241);
            continue;
        }
        snprintf(c->name, sizeof c->name, "Customer %zu", i + 1);
        snprintf(c->ig_username, sizeof c->ig_username, "customer.%zu", i + 1);
        snprintf(c->asid, sizeof c->asid, "1018%013zu", i + 1);
        for (int p = 0; p < EMU_MAX_PAGES; p++)
            snprintf(c->psid[p], sizeof c->psid[p], "3%d9%012zu", p + 4, i + 1);
        snprintf(c->igsid, sizeof c->igsid, "179%013zu", i + 1);
    }
}

static void seed_page(struct emulator *e, const char *id, const char *name, const char *ig_id,
                      const char *ig_user, const char *ig_name)
{
    struct emu_page *p = &e->pages[e->n_pages++];
    snprintf(p->id, sizeof p->id, "%s", id);
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->category, sizeof p->category, "Coffee Shop");
    p->owner = 0;
    snprintf(p->ig_id, sizeof p->ig_id, "%s", ig_id);
    snprintf(p->ig_username, sizeof p->ig_username, "%s", ig_user);
    snprintf(p->ig_name, sizeof p->ig_name, "%s", ig_name);
}

void emu_world_seed(struct emulator *e)
{
    struct emu_user *u = &e->users[e->n_users++];
    snprintf(u->asid, sizeof u->asid, "10160000000000001");
    snprintf(u->name, sizeof u->name, "Dana Admin");
    u->has_app = true;

    seed_page(e, "104000000000001", "Northwind Coffee", "17841400000000001", "northwind.coffee",
              "Northwind Coffee");
    seed_page(e, "104000000000002", "Northwind Outlet", "", "", "");

    seed_customers_all(e);

    struct emu_media *m = xcalloc(1, sizeof *m);
    e->media = m;
    e->cap_media = 1;
    e->n_media = 1;
    snprintf(m->id, sizeof m->id, "17900000000000001");
    m->page = 0;
    m->caption = xstrdup("Our autumn blend is back: notes of fig, cocoa and orange peel.");
    m->ts_ms = emu_now_ms(e) - 3 * EMU_DAY_MS;
    m->width = 1080;
    m->height = 1350;
    e->next_id = 100;
}

void emu_world_free(struct emulator *e)
{
    for (size_t i = 0; i < e->n_msgs; i++) {
        free(e->msgs[i].text);
        free(e->msgs[i].attachment_json);
    }
    for (size_t i = 0; i < e->n_comments; i++)
        free(e->comments[i].text);
    for (size_t i = 0; i < e->n_containers; i++) {
        free(e->containers[i].caption);
        free(e->containers[i].image_url);
        free(e->containers[i].jpeg);
    }
    for (size_t i = 0; i < e->n_media; i++) {
        free(e->media[i].caption);
        free(e->media[i].jpeg);
    }
    free(e->customers);
    free(e->threads);
    free(e->msgs);
    free(e->comments);
    free(e->containers);
    free(e->media);
    free(e->publishes);
    free(e->publish_page);
    free(e->tokens);
    free(e->codes);
}

int emu_page_by_id(const struct emulator *e, const char *id)
{
    for (int i = 0; id && i < e->n_pages; i++)
        if (strcmp(e->pages[i].id, id) == 0)
            return i;
    return -1;
}

int emu_page_by_ig_id(const struct emulator *e, const char *id)
{
    for (int i = 0; id && i < e->n_pages; i++)
        if (e->pages[i].ig_id[0] && strcmp(e->pages[i].ig_id, id) == 0)
            return i;
    return -1;
}

int emu_customer_by_scoped_id(const struct emulator *e, int page, enum emu_channel ch,
                              const char *id)
{
    if (!id || page < 0 || page >= e->n_pages)
        return -1;
    for (int i = 0; i < e->n_customers; i++) {
        const struct emu_customer *c = &e->customers[i];
        const char *scoped = ch == EMU_MESSENGER ? c->psid[page] : c->igsid;
        if (ch == EMU_INSTAGRAM && !e->pages[page].ig_id[0])
            return -1;
        if (strcmp(scoped, id) == 0)
            return i;
    }
    return -1;
}

static void thread_id(struct emulator *e, struct emu_thread *t)
{
    if (t->ch == EMU_MESSENGER) {
        char page_id[EMU_ID_LEN];
        memcpy(page_id, e->pages[t->page].id, sizeof page_id);
        snprintf(t->id, sizeof t->id, "t_10%s%02d", page_id + 3, t->customer + 1);
        return;
    }
    /* Instagram conversation ids are base64 of an internal key, like the mids. */
    char raw[128];
    int n = snprintf(raw, sizeof raw, "ig_thread:1:%s:%s", e->pages[t->page].ig_id,
                     e->customers[t->customer].igsid);
    base64url_encode(raw, (size_t)n, t->id);
}

int emu_thread_get(struct emulator *e, int page, int customer, enum emu_channel ch)
{
    for (int i = 0; i < e->n_threads; i++) {
        const struct emu_thread *t = &e->threads[i];
        if (t->page == page && t->customer == customer && t->ch == ch)
            return i;
    }
    emu_grow((void **)&e->threads, &e->cap_threads, (size_t)e->n_threads, sizeof *e->threads);
    struct emu_thread *t = &e->threads[e->n_threads];
    *t = (struct emu_thread){.page = page, .customer = customer, .ch = ch};
    thread_id(e, t);
    return e->n_threads++;
}

int emu_thread_by_id(const struct emulator *e, const char *id)
{
    for (int i = 0; id && i < e->n_threads; i++)
        if (strcmp(e->threads[i].id, id) == 0)
            return i;
    return -1;
}

/* Meta's Instagram ids: base64 with '=' written as "ZD" (and a literal 'Z' as "ZA"). */
static void ig_mid(const char *raw, char *out, size_t out_len)
{
    char b64[EMU_MID_LEN];
    base64_encode(raw, strlen(raw), b64);
    size_t o = 0;
    for (const char *p = b64; *p && o + 3 < out_len; p++) {
        if (*p == '=' || *p == 'Z') {
            out[o++] = 'Z';
            out[o++] = *p == '=' ? 'D' : 'A';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

size_t emu_msg_add(struct emulator *e, int thread, bool inbound, const char *text,
                   const char *attachment_json)
{
    emu_grow((void **)&e->msgs, &e->cap_msgs, e->n_msgs, sizeof *e->msgs);
    struct emu_msg *m = &e->msgs[e->n_msgs];
    memset(m, 0, sizeof *m);
    struct emu_thread *t = &e->threads[thread];
    m->thread = thread;
    m->inbound = inbound;
    m->ts_ms = emu_now_ms(e);
    m->text = text ? xstrdup(text) : NULL;
    m->attachment_json = attachment_json ? xstrdup(attachment_json) : NULL;
    unsigned long long seq = ++e->seq;
    if (t->ch == EMU_MESSENGER) {
        char rnd[48];
        emu_random_text(rnd, 40);
        snprintf(m->mid, sizeof m->mid, "m_%s%llu", rnd, seq);
    } else {
        char raw[128];
        snprintf(raw, sizeof raw, "ig_dm_item:1:IGMessageID:%s:%llu%06llu", e->pages[t->page].ig_id,
                 (unsigned long long)m->ts_ms, seq);
        ig_mid(raw, m->mid, sizeof m->mid);
    }
    t->updated_ms = m->ts_ms;
    return e->n_msgs++;
}

int64_t emu_msg_by_mid(const struct emulator *e, const char *mid)
{
    for (size_t i = e->n_msgs; mid && i-- > 0;)
        if (strcmp(e->msgs[i].mid, mid) == 0)
            return (int64_t)i;
    return -1;
}

size_t emu_comment_add(struct emulator *e, int page, enum emu_channel ch, const char *media_id,
                       const char *parent_id, int customer, const char *text)
{
    emu_grow((void **)&e->comments, &e->cap_comments, e->n_comments, sizeof *e->comments);
    struct emu_comment *c = &e->comments[e->n_comments];
    memset(c, 0, sizeof *c);
    emu_new_id(e, c->id);
    snprintf(c->media_id, sizeof c->media_id, "%s", media_id ? media_id : "");
    snprintf(c->parent_id, sizeof c->parent_id, "%s", parent_id ? parent_id : "");
    c->page = page;
    c->ch = ch;
    c->customer = customer;
    c->text = xstrdup(text ? text : "");
    c->ts_ms = emu_now_ms(e);
    return e->n_comments++;
}

int64_t emu_comment_by_id(const struct emulator *e, const char *id)
{
    for (size_t i = 0; id && i < e->n_comments; i++)
        if (strcmp(e->comments[i].id, id) == 0)
            return (int64_t)i;
    return -1;
}

int64_t emu_media_by_id(const struct emulator *e, const char *id)
{
    for (size_t i = 0; id && i < e->n_media; i++)
        if (strcmp(e->media[i].id, id) == 0)
            return (int64_t)i;
    return -1;
}

int64_t emu_container_by_id(const struct emulator *e, const char *id)
{
    for (size_t i = 0; id && i < e->n_containers; i++)
        if (strcmp(e->containers[i].id, id) == 0)
            return (int64_t)i;
    return -1;
}

size_t emu_token_issue(struct emulator *e, enum emu_token_kind kind, int user, int page,
                       int64_t expires_ms, const char *scopes)
{
    emu_grow((void **)&e->tokens, &e->cap_tokens, e->n_tokens, sizeof *e->tokens);
    struct emu_token *t = &e->tokens[e->n_tokens];
    memset(t, 0, sizeof *t);
    /* Meta's tokens start "EAA" and run to about 200 characters; ours are shorter. */
    char rnd[100];
    emu_random_text(rnd, 96);
    snprintf(t->value, sizeof t->value, "EAA%s%s", kind == EMU_TOK_PAGE ? "P" : "U", rnd);
    t->kind = kind;
    t->user = user;
    t->page = page;
    t->issued_ms = emu_now_ms(e);
    t->expires_ms = expires_ms;
    snprintf(t->scopes, sizeof t->scopes, "%s", scopes ? scopes : "");
    return e->n_tokens++;
}

int64_t emu_token_find(const struct emulator *e, const char *value)
{
    for (size_t i = 0; value && i < e->n_tokens; i++)
        if (strcmp(e->tokens[i].value, value) == 0)
            return (int64_t)i;
    return -1;
}

bool emu_window_open(int64_t last_inbound_ms, int64_t now_ms, bool human_agent)
{
    if (last_inbound_ms <= 0)
        return false;
    int64_t limit = human_agent ? 7 * EMU_DAY_MS : EMU_DAY_MS;
    return now_ms - last_inbound_ms < limit;
}
