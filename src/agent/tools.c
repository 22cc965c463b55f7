/*
 * agent/tools.c - the HTTP tools of SB_TOOLS_FILE (INTERFACE.md) and the built-in
 * handoff_to_human tool.
 *
 * Owns: reading and checking the file once at start (every problem is one line naming the
 * tool and the field), the "tools" array offered to the model, and running one call: the
 * model's arguments checked against the tool's required parameters, {name} in the URL
 * replaced by that argument URL-encoded, the other arguments in the query string (GET) or as
 * a JSON object body (POST), ${VAR} in headers read from the environment when the file is
 * loaded, the tool's timeout, and the answer truncated to 8 KiB (on a character boundary).
 * A transport failure or a 5xx is a failed call (the agent hands off after repeated ones);
 * any other status goes back to the model as "HTTP <status>: <body>".
 * Never logs arguments, header values or answers: the tool's name, status and size.
 */
#include "agent/agent_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "http/client.h"
#include "http/http.h"

#define TOOLS_FILE_MAX      ((size_t)256 * 1024)
#define TOOLS_MAX           32
#define TOOL_HEADERS_MAX    16
#define TOOL_RESULT_MAX     8192
#define TOOL_RESP_MAX       (TOOL_RESULT_MAX + 8) /* read: the result and a cut character */
#define TOOL_TIMEOUT_DEF_MS 5000
#define TOOL_TIMEOUT_MAX_MS 60000

static const char handoff_tool_json[] =
    "{\"type\":\"function\",\"function\":{\"name\":\"" AGENT_HANDOFF_TOOL "\","
    "\"description\":\"Pass the conversation to a person on the team. Call it when you cannot "
    "answer from the knowledge passages or tool results, when you are unsure, when the customer "
    "asks for a person, or when the customer is upset.\",\"parameters\":{\"type\":\"object\","
    "\"properties\":{\"reason\":{\"type\":\"string\",\"description\":\"Why, in a few plain words "
    "for the team.\"}},\"required\":[\"reason\"]}}}";

/* ---- loading ---- */

static enum err bad(char *why, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum err bad(char *why, size_t i, const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(why, AGENT_WHY_MAX, "SB_TOOLS_FILE: tools[%zu]: %s", i, what);
    return ERR_INVALID;
}

static bool valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

static bool has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* value with each ${VAR} replaced from the environment, malloc'd; NULL (and *missing) when
 * a variable is not set or the result holds a control character. */
static char *substitute(const char *value, char *missing, size_t cap)
{
    struct buf b;
    buf_init(&b, 16384);
    for (const char *p = value; *p;) {
        const char *end = p[0] == '$' && p[1] == '{' ? strchr(p + 2, '}') : NULL;
        if (!end) {
            err_ignore(buf_append(&b, p++, 1));
            continue;
        }
        snprintf(missing, cap, "%.*s", (int)(end - p - 2), p + 2);
        const char *v = getenv(missing);
        if (!v) {
            buf_release(&b);
            return NULL;
        }
        err_ignore(buf_puts(&b, v));
        p = end + 1;
    }
    missing[0] = '\0';
    char *out = buf_detach(&b, NULL);
    if (out && has_ctl(out)) {
        snprintf(missing, cap, "(a control character)");
        crypto_cleanse_str(out);
        free(out);
        return NULL;
    }
    return out ? out : xstrdup("");
}

static enum err load_headers(struct agent_tool *t, json_t *h, size_t i, char *why)
{
    if (!h)
        return ERR_OK;
    if (!json_is_object(h) || json_object_size(h) > TOOL_HEADERS_MAX)
        return bad(why, i, "headers must be an object of at most 16 strings");
    t->headers = xcalloc(json_object_size(h) + 1, sizeof *t->headers);
    const char *name;
    json_t *v;
    json_object_foreach(h, name, v)
    {
        char missing[128];
        if (!valid_name(name) || !json_is_string(v))
            return bad(why, i, "header '%s' must be a token with a string value", name);
        char *val = substitute(json_string_value(v), missing, sizeof missing);
        if (!val)
            return bad(why, i, "a header uses ${%s}, which is not set", missing);
        size_t cap = strlen(name) + strlen(val) + 3;
        t->headers[t->n_headers] = xmalloc(cap);
        snprintf(t->headers[t->n_headers++], cap, "%s: %s", name, val);
        crypto_cleanse_str(val);
        free(val);
    }
    return ERR_OK;
}

/* Every {name} of the URL names a declared parameter. */
static enum err check_url(const struct agent_tool *t, size_t i, char *why)
{
    const char *u = t->url;
    if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
        return bad(why, i, "url must start with http:// or https://");
    if (has_ctl(u) || strchr(u, ' '))
        return bad(why, i, "url holds a space or a control character");
    const json_t *props = json_object_get(t->parameters, "properties");
    for (const char *p = strchr(u, '{'); p; p = strchr(p + 1, '{')) {
        const char *end = strchr(p, '}');
        char name[128];
        if (!end || end - p - 1 <= 0 || (size_t)(end - p) >= sizeof name)
            return bad(why, i, "url has an unclosed or empty {placeholder}");
        snprintf(name, sizeof name, "%.*s", (int)(end - p - 1), p + 1);
        if (!json_object_get(props, name))
            return bad(why, i, "url names {%s}, which is not in parameters.properties", name);
    }
    return ERR_OK;
}

static enum err load_one(struct agent_tool *t, const json_t *o, size_t i, char *why)
{
    if (!json_is_object(o))
        return bad(why, i, "must be an object");
    t->name = json_string_value(json_object_get(o, "name"));
    t->description = json_string_value(json_object_get(o, "description"));
    t->parameters = json_object_get(o, "parameters");
    const char *method = json_string_value(json_object_get(o, "method"));
    t->url = json_string_value(json_object_get(o, "url"));
    const json_t *timeout = json_object_get(o, "timeout_ms");
    if (!valid_name(t->name))
        return bad(why, i, "name must be 1 to 64 letters, digits, _ or -");
    if (strcmp(t->name, AGENT_HANDOFF_TOOL) == 0)
        return bad(why, i, "the name %s is built in", AGENT_HANDOFF_TOOL);
    if (!t->description || !*t->description || strlen(t->description) > 1024)
        return bad(why, i, "description must be a string of 1 to 1024 bytes");
    const char *ptype = json_string_value(json_object_get(t->parameters, "type"));
    if (!json_is_object(t->parameters) || !ptype || strcmp(ptype, "object") != 0)
        return bad(why, i, "parameters must be a JSON schema with \"type\": \"object\"");
    if (!method || (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0))
        return bad(why, i, "method must be GET or POST");
    t->is_post = strcmp(method, "POST") == 0;
    if (!t->url)
        return bad(why, i, "url is missing");
    t->timeout_ms = TOOL_TIMEOUT_DEF_MS;
    if (timeout && (!json_is_integer(timeout) || json_integer_value(timeout) < 1 ||
                    json_integer_value(timeout) > TOOL_TIMEOUT_MAX_MS))
        return bad(why, i, "timeout_ms must be an integer from 1 to 60000");
    if (timeout)
        t->timeout_ms = (long)json_integer_value(timeout);
    enum err rc = check_url(t, i, why);
    return rc == ERR_OK ? load_headers(t, json_object_get(o, "headers"), i, why) : rc;
}

static enum err load_all(struct agent_tools *ts, char *why)
{
    const json_t *list = json_object_get(ts->root, "tools");
    if (!json_is_array(list) || json_array_size(list) > TOOLS_MAX) {
        snprintf(why, AGENT_WHY_MAX,
                 "SB_TOOLS_FILE: expected {\"tools\": [...]} with at most %d "
                 "tools",
                 TOOLS_MAX);
        return ERR_INVALID;
    }
    ts->tools = xcalloc(json_array_size(list) + 1, sizeof *ts->tools);
    for (size_t i = 0; i < json_array_size(list); i++) {
        enum err rc = load_one(&ts->tools[i], json_array_get(list, i), i, why);
        ts->n = i + 1; /* so a failure frees what it loaded */
        for (size_t k = 0; rc == ERR_OK && k < i; k++)
            if (strcmp(ts->tools[k].name, ts->tools[i].name) == 0)
                rc = bad(why, i, "the name %s is used twice", ts->tools[i].name);
        if (rc != ERR_OK)
            return rc;
    }
    return ERR_OK;
}

enum err agent_tools_parse(const char *data, size_t len, struct agent_tools *out, char *why)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    if (len > TOOLS_FILE_MAX) {
        snprintf(why, AGENT_WHY_MAX, "SB_TOOLS_FILE: larger than 256 KiB");
        return ERR_TOO_LARGE;
    }
    out->root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!out->root) {
        snprintf(why, AGENT_WHY_MAX, "SB_TOOLS_FILE: not JSON (line %d: %.100s)", je.line, je.text);
        return ERR_INVALID;
    }
    enum err rc = load_all(out, why);
    if (rc != ERR_OK)
        agent_tools_release(out);
    return rc;
}

enum err agent_tools_load(const char *path, struct agent_tools *out, char *why)
{
    memset(out, 0, sizeof *out);
    if (!path || !*path)
        return ERR_OK;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, AGENT_WHY_MAX, "SB_TOOLS_FILE: cannot read %.150s", path);
        return ERR_IO;
    }
    char *data = xmalloc(TOOLS_FILE_MAX + 1);
    size_t n = fread(data, 1, TOOLS_FILE_MAX + 1, f);
    bool failed = ferror(f);
    fclose(f);
    enum err rc = failed ? ERR_IO : agent_tools_parse(data, n, out, why);
    if (failed)
        snprintf(why, AGENT_WHY_MAX, "SB_TOOLS_FILE: cannot read %.150s", path);
    free(data);
    return rc;
}

void agent_tools_release(struct agent_tools *ts)
{
    for (size_t i = 0; ts->tools && i < ts->n; i++) {
        for (size_t k = 0; k < ts->tools[i].n_headers; k++) {
            crypto_cleanse_str(ts->tools[i].headers[k]);
            free(ts->tools[i].headers[k]);
        }
        free(ts->tools[i].headers);
    }
    free(ts->tools);
    json_decref(ts->root);
    memset(ts, 0, sizeof *ts);
}

json_t *agent_tools_json(const struct agent_tools *ts)
{
    json_t *arr = json_array();
    json_array_append_new(arr, json_loads(handoff_tool_json, 0, NULL));
    for (size_t i = 0; ts && i < ts->n; i++) {
        const struct agent_tool *t = &ts->tools[i];
        json_t *fn = json_pack("{s:s, s:s, s:O}", "name", t->name, "description", t->description,
                               "parameters", t->parameters);
        json_array_append_new(arr, json_pack("{s:s, s:o}", "type", "function", "function", fn));
    }
    return arr;
}

const struct agent_tool *agent_tools_find(const struct agent_tools *ts, const char *name)
{
    for (size_t i = 0; ts && i < ts->n; i++)
        if (strcmp(ts->tools[i].name, name) == 0)
            return &ts->tools[i];
    return NULL;
}

/* ---- one call ---- */

/* An argument as text: strings as they are, other values as compact JSON. */
static const char *arg_text(struct arena *a, const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : json_dump_arena(a, v);
}

static const char *missing_required(const struct agent_tool *t, const json_t *args)
{
    const json_t *req = json_object_get(t->parameters, "required");
    size_t i;
    const json_t *r;
    json_array_foreach(req, i, r)
    {
        const char *name = json_string_value(r);
        if (name && !json_object_get(args, name))
            return name;
    }
    return NULL;
}

/* The URL with {name} filled in; the arguments used there are removed from rest. */
static const char *fill_url(struct arena *a, const struct agent_tool *t, json_t *rest,
                            const char **why)
{
    struct buf b;
    buf_init(&b, 8192);
    enum err rc = ERR_OK;
    for (const char *p = t->url; *p && rc == ERR_OK;) {
        const char *end = *p == '{' ? strchr(p, '}') : NULL;
        if (!end) {
            rc = buf_append(&b, p++, 1);
            continue;
        }
        char *name = arena_strndup(a, p + 1, (size_t)(end - p - 1));
        const json_t *v = json_object_get(rest, name);
        const char *text = v ? arg_text(a, v) : NULL;
        if (!text || !*text || strcmp(text, ".") == 0 || strcmp(text, "..") == 0) {
            *why = arena_printf(a, "the argument %s is missing or empty", name);
            buf_release(&b);
            return NULL;
        }
        rc = buf_puts(&b, http_url_encode(a, text));
        json_object_del(rest, name);
        p = end + 1;
    }
    const char *url = rc == ERR_OK ? arena_strndup(a, b.data, b.len) : NULL;
    if (!url)
        *why = "the URL is too long";
    buf_release(&b);
    return url;
}

static const char *with_query(struct arena *a, const char *url, json_t *rest)
{
    const char *key;
    json_t *v;
    bool first = strchr(url, '?') == NULL;
    json_object_foreach(rest, key, v)
    {
        url = arena_printf(a, "%s%c%s=%s", url, first ? '?' : '&', http_url_encode(a, key),
                           http_url_encode(a, arg_text(a, v)));
        first = false;
    }
    return url;
}

enum err agent_tool_request(struct arena *a, const struct agent_tool *t, const char *arguments,
                            struct agent_tool_req *out, const char **why)
{
    *out = (struct agent_tool_req){0};
    json_t *args = json_loads(arguments && *arguments ? arguments : "{}", 0, NULL);
    if (!json_is_object(args)) {
        json_decref(args);
        *why = "the arguments are not a JSON object";
        return ERR_INVALID;
    }
    arena_on_free(a, (arena_free_fn *)json_decref, args);
    const char *missing = missing_required(t, args);
    if (missing) {
        *why = arena_printf(a, "the required argument %s is missing", missing);
        return ERR_INVALID;
    }
    out->url = fill_url(a, t, args, why);
    if (!out->url)
        return ERR_INVALID;
    if (t->is_post)
        out->body = json_dump_arena(a, args);
    else
        out->url = with_query(a, out->url, args);
    return ERR_OK;
}

/* At most TOOL_RESULT_MAX bytes, ending on a whole character; invalid UTF-8 becomes '?'. */
static const char *result_text(struct arena *a, const char *prefix, const char *body, size_t len)
{
    struct buf b;
    buf_init(&b, TOOL_RESULT_MAX + 8);
    err_ignore(buf_puts(&b, prefix));
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = agent_utf8_next(body + i, len - i, &cp);
        bool ok = !(cp == 0xFFFD && k == 1) && cp != 0;
        if (b.len + (ok ? k : 1) > TOOL_RESULT_MAX)
            break;
        err_ignore(ok ? buf_append(&b, body + i, k) : buf_append(&b, "?", 1));
        i += k;
    }
    const char *out = arena_strndup(a, b.data, b.len);
    buf_release(&b);
    return out;
}

const char *agent_tool_run(struct arena *a, const struct agent_tool *t, const char *arguments,
                           bool *failed)
{
    *failed = false;
    struct agent_tool_req req;
    const char *why = NULL;
    if (agent_tool_request(a, t, arguments, &req, &why) != ERR_OK)
        return arena_printf(a, "error: %s", why);
    const char **headers = arena_alloc(a, (t->n_headers + 3) * sizeof *headers);
    size_t nh = 0;
    headers[nh++] = "Accept: application/json";
    if (t->is_post)
        headers[nh++] = "Content-Type: application/json";
    for (size_t i = 0; i < t->n_headers; i++)
        headers[nh++] = t->headers[i];
    headers[nh] = NULL;
    /* Only the first 8 KiB reach the model, so no more is read, however long the answer. */
    const struct http_client_req hr = {.method = t->is_post ? "POST" : "GET",
                                       .url = req.url,
                                       .headers = headers,
                                       .body = req.body,
                                       .len = req.body ? strlen(req.body) : 0,
                                       .timeout_ms = t->timeout_ms,
                                       .max_resp = TOOL_RESP_MAX,
                                       .may_truncate = true};
    struct http_client_resp r;
    enum err rc = http_client_do_ex(&hr, &r);
    if (rc != ERR_OK) {
        *failed = true;
        log_warn("tool.failed", LOG_STR("tool", t->name), LOG_ERR(rc));
        return "error: the tool did not answer";
    }
    log_info("tool.called", LOG_STR("tool", t->name), LOG_INT("status", r.status),
             LOG_INT("bytes", (long long)r.len));
    const char *out;
    if (r.status >= 500) {
        *failed = true;
        out = arena_printf(a, "error: the tool failed (HTTP %d)", r.status);
    } else if (r.status >= 200 && r.status < 300) {
        out = result_text(a, "", r.body, r.len);
    } else {
        out = result_text(a, arena_printf(a, "HTTP %d: ", r.status), r.body, r.len);
    }
    free(r.body);
    return out;
}
