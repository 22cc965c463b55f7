/*
 * meta/convo.c - the Conversations API: the request and its answer (see convo.h).
 *
 *   {"data":[{"id":"t_1","updated_time":"2026-09-01T10:00:00+0000",
 *             "participants":{"data":[{"id":"<PSID>",...},{"id":"<PAGE_ID>",...}]},
 *             "messages":{"data":[{"id":"m_1","created_time":"...","from":{"id":".."},
 *                                  "message":"Hi","attachments":{"data":[{"mime_type":
 *                                  "image/jpeg","image_data":{"url":".."}}]}}],
 *                         "paging":{...}}}],
 *    "paging":{...}}
 *
 * Ids may arrive as strings or numbers; anything else unexpected is skipped, never an error.
 */
#include "meta/convo.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "meta/graph_int.h"

#define MESSAGE_FIELDS "id,created_time,from,message,attachments"

static bool two(const char *s, int *v)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return false;
    *v = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

/* "+0000", "+00:00", "-0530" or "Z" -> seconds east of UTC. */
static bool zone(const char *z, long *east_s)
{
    if (z[0] == 'Z' && z[1] == '\0') {
        *east_s = 0;
        return true;
    }
    int h, m;
    if ((z[0] != '+' && z[0] != '-') || !two(z + 1, &h))
        return false;
    const char *mm = z[3] == ':' ? z + 4 : z + 3;
    if (!two(mm, &m) || mm[2] != '\0' || h > 23 || m > 59)
        return false;
    *east_s = (z[0] == '-' ? -1 : 1) * (long)(h * 3600 + m * 60);
    return true;
}

enum err meta_parse_graph_time(const char *s, int64_t *ms)
{
    if (!s || strlen(s) < 20 || strlen(s) > 40)
        return ERR_INVALID;
    int y1, y2, mo, d, h, mi, se;
    if (!two(s, &y1) || !two(s + 2, &y2) || s[4] != '-' || !two(s + 5, &mo) || s[7] != '-' ||
        !two(s + 8, &d) || s[10] != 'T' || !two(s + 11, &h) || s[13] != ':' || !two(s + 14, &mi) ||
        s[16] != ':' || !two(s + 17, &se))
        return ERR_INVALID;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return ERR_INVALID;
    const char *z = s + 19;
    if (*z == '.' && z[1] >= '0' && z[1] <= '9') /* a fraction of a second: dropped */
        z += 1 + strspn(z + 1, "0123456789");
    long east;
    if (!zone(z, &east))
        return ERR_INVALID;
    struct tm tm = {.tm_year = y1 * 100 + y2 - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = se};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return ERR_INVALID;
    *ms = ((int64_t)t - east) * 1000;
    return ERR_OK;
}

/* ---- parsing ---- */

static const char *attachment_type(const json_t *att)
{
    const char *mime = json_get_str(att, "mime_type");
    static const char *const kinds[] = {"image", "video", "audio"};
    for (size_t i = 0; mime && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strncmp(mime, kinds[i], strlen(kinds[i])) == 0)
            return kinds[i];
    if (json_object_get(att, "image_data"))
        return "image";
    if (json_object_get(att, "video_data"))
        return "video";
    return "file";
}

static const char *attachment_url(const json_t *att)
{
    const char *url = json_get_str(json_object_get(att, "image_data"), "url");
    if (!url)
        url = json_get_str(json_object_get(att, "video_data"), "url");
    if (!url)
        url = json_get_str(att, "file_url");
    return url;
}

static void parse_attachments(struct arena *a, const json_t *m, struct meta_convo_msg *out)
{
    const json_t *data = json_object_get(json_object_get(m, "attachments"), "data");
    size_t n = json_is_array(data) ? json_array_size(data) : 0;
    if (n > META_CONVO_MAX_MSGS) /* the same small cap: a message carries a handful */
        n = META_CONVO_MAX_MSGS;
    out->attachments = n ? arena_alloc(a, n * sizeof *out->attachments) : NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *att = json_array_get(data, i);
        if (!json_is_object(att))
            continue;
        const char *url = attachment_url(att);
        out->attachments[out->n_attachments++] = (struct meta_convo_attachment){
            .type = attachment_type(att), .url = url ? arena_strdup(a, url) : NULL};
    }
}

static bool parse_msg(struct arena *a, const json_t *m, const char *business_id,
                      struct meta_convo_msg *out)
{
    memset(out, 0, sizeof *out);
    out->id = json_is_object(m) ? json_get_id(a, m, "id") : NULL;
    if (!out->id || !*out->id)
        return false;
    if (meta_parse_graph_time(json_get_str(m, "created_time"), &out->created_ms) != ERR_OK)
        out->created_ms = 0;
    out->from_id = json_get_id(a, json_object_get(m, "from"), "id");
    out->is_business = out->from_id && business_id && strcmp(out->from_id, business_id) == 0;
    const char *text = json_get_str(m, "message");
    out->text = text && *text ? arena_strdup(a, text) : NULL;
    parse_attachments(a, m, out);
    return true;
}

/* The participant that is not the business; else the author of a customer message. */
static const char *customer_of(struct arena *a, const json_t *c, const char *business_id,
                               const struct meta_convo *cv)
{
    const json_t *people = json_object_get(json_object_get(c, "participants"), "data");
    size_t i;
    const json_t *p;
    json_array_foreach(people, i, p)
    {
        const char *id = json_is_object(p) ? json_get_id(a, p, "id") : NULL;
        if (id && *id && (!business_id || strcmp(id, business_id) != 0))
            return id;
    }
    for (size_t k = 0; cv->msgs && k < cv->n_msgs; k++)
        if (!cv->msgs[k].is_business && cv->msgs[k].from_id)
            return cv->msgs[k].from_id;
    return NULL;
}

static bool parse_convo(struct arena *a, const json_t *c, const char *business_id,
                        struct meta_convo *out)
{
    memset(out, 0, sizeof *out);
    out->id = json_is_object(c) ? json_get_id(a, c, "id") : NULL;
    if (!out->id || !*out->id)
        return false;
    if (meta_parse_graph_time(json_get_str(c, "updated_time"), &out->updated_ms) != ERR_OK)
        out->updated_ms = 0;
    const json_t *data = json_object_get(json_object_get(c, "messages"), "data");
    size_t n = json_is_array(data) ? json_array_size(data) : 0;
    if (n > META_CONVO_MAX_MSGS)
        n = META_CONVO_MAX_MSGS;
    out->msgs = n ? arena_alloc(a, n * sizeof *out->msgs) : NULL;
    for (size_t i = 0; i < n; i++)
        if (parse_msg(a, json_array_get(data, i), business_id, &out->msgs[out->n_msgs]))
            out->n_msgs++;
    out->customer_id = customer_of(a, c, business_id, out);
    return true;
}

enum err meta_parse_conversations(struct arena *a, const json_t *body, const char *business_id,
                                  struct meta_convo **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    const json_t *data = json_object_get(body, "data");
    if (!json_is_array(data))
        return ERR_INVALID;
    size_t cap = json_array_size(data);
    if (cap > META_CONVO_MAX_CONVS)
        cap = META_CONVO_MAX_CONVS;
    *out = cap ? arena_alloc(a, cap * sizeof **out) : NULL;
    for (size_t i = 0; i < cap; i++)
        if (parse_convo(a, json_array_get(data, i), business_id, &(*out)[*n]))
            (*n)++;
    return ERR_OK;
}

/* ---- the call ---- */

enum err meta_list_conversations(struct meta_graph *g, struct arena *a,
                                 const struct meta_convo_account *acct, const char *user_id,
                                 size_t max, struct meta_convo **out, size_t *n,
                                 struct meta_graph_error *gerr)
{
    *out = NULL;
    *n = 0;
    if (!acct || !acct->page_id || !*acct->page_id || !acct->page_token || !*acct->page_token ||
        max == 0 || max > META_CONVO_MAX_CONVS) {
        meta_graph_error_set(gerr, 0, META_ERR_INVALID, "bad account or limit");
        return ERR_INVALID;
    }
    char limit[16], fields[160];
    snprintf(limit, sizeof limit, "%zu", max);
    snprintf(fields, sizeof fields, "id,updated_time,participants,messages.limit(%d){%s}",
             META_CONVO_MAX_MSGS, MESSAGE_FIELDS);
    const struct meta_param p[] = {
        {"platform", acct->platform == STORE_INSTAGRAM ? "instagram" : "messenger"},
        {"fields", fields},
        {"limit", limit},
        {"user_id", user_id},
    };
    const struct meta_graph_req req = {.method = "GET",
                                       .path = arena_printf(a, "/%s/conversations", acct->page_id),
                                       .params = p,
                                       .n_params = sizeof p / sizeof p[0],
                                       .access_token = acct->page_token};
    struct meta_graph_resp resp;
    enum err rc = meta_graph_call(g, a, &req, &resp, gerr);
    if (rc != ERR_OK)
        return rc;
    rc = meta_parse_conversations(a, resp.json, acct->business_id, out, n);
    if (rc != ERR_OK)
        meta_graph_error_set(gerr, resp.http_status, META_ERR_INVALID, "no data in the answer");
    return rc == ERR_OK ? ERR_OK : ERR_UPSTREAM;
}
