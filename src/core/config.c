/*
 * core/config.c - the key table, the KEY=value parser and the validators.
 */
#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/mem.h"

#define CONFIG_FILE_MAX (64 * 1024)

enum vkind { V_ANY, V_URL, V_URL_OPT, V_DIR_OPT, V_FILE_OPT, V_INT, V_LISTEN, V_NONEMPTY };

struct key {
    const char *name;
    size_t offset; /* of a char* or an int64_t in struct config */
    bool is_int, is_secret;
    const char *def; /* NULL = empty */
    enum vkind kind;
    int64_t min, max; /* V_INT range */
};

#define S(field) offsetof(struct config, field), false
#define I(field) offsetof(struct config, field), true

static const struct key keys[] = {
    {"SB_LISTEN", S(listen), false, "127.0.0.1:8080", V_LISTEN, 0, 0},
    {"SB_PUBLIC_URL", S(public_url), false, NULL, V_URL_OPT, 0, 0},
    {"SB_DATA_DIR", S(data_dir), false, "./data", V_NONEMPTY, 0, 0},
    {"SB_DATABASE_URL", S(database_url), true, NULL, V_ANY, 0, 0},
    {"SB_REDIS_URL", S(redis_url), true, NULL, V_ANY, 0, 0},
    {"SB_META_APP_ID", S(meta_app_id), false, NULL, V_ANY, 0, 0},
    {"SB_META_APP_SECRET", S(meta_app_secret), true, NULL, V_ANY, 0, 0},
    {"SB_META_VERIFY_TOKEN", S(meta_verify_token), true, NULL, V_ANY, 0, 0},
    {"SB_META_GRAPH_URL", S(meta_graph_url), false, "https://graph.facebook.com", V_URL, 0, 0},
    {"SB_META_GRAPH_VERSION", S(meta_graph_version), false, "v24.0", V_ANY, 0, 0},
    {"SB_META_OAUTH_URL", S(meta_oauth_url), false, "https://www.facebook.com", V_URL, 0, 0},
    {"SB_META_SCOPES", S(meta_scopes), false,
     "pages_show_list,pages_messaging,pages_manage_metadata,pages_read_engagement,"
     "instagram_basic,instagram_manage_messages,instagram_manage_comments,"
     "instagram_content_publish,business_management",
     V_NONEMPTY, 0, 0},
    {"SB_LLM_URL", S(llm_url), false, NULL, V_URL_OPT, 0, 0},
    {"SB_LLM_MODEL", S(llm_model), false, NULL, V_ANY, 0, 0},
    {"SB_LLM_API_KEY", S(llm_api_key), true, NULL, V_ANY, 0, 0},
    {"SB_EMBED_URL", S(embed_url), false, NULL, V_URL_OPT, 0, 0},
    {"SB_EMBED_MODEL", S(embed_model), false, NULL, V_ANY, 0, 0},
    {"SB_IMAGE_URL", S(image_url), false, NULL, V_URL_OPT, 0, 0},
    {"SB_IMAGE_MODEL", S(image_model), false, NULL, V_ANY, 0, 0},
    {"SB_MASTER_KEY", S(master_key), true, NULL, V_ANY, 0, 0},
    {"SB_BUSINESS_NAME", S(business_name), false, "our business", V_NONEMPTY, 0, 0},
    {"SB_KB_DIR", S(kb_dir), false, NULL, V_DIR_OPT, 0, 0},
    {"SB_TOOLS_FILE", S(tools_file), false, NULL, V_FILE_OPT, 0, 0},
    {"SB_LOG_LEVEL", S(log_level), false, NULL, V_ANY, 0, 0}, /* empty: the command's own */
    {"SB_DB_SYNC", S(db_sync), false, "normal", V_ANY, 0, 0},
    {"SB_WEBHOOK_MAX_BYTES", I(webhook_max_bytes), false, "1048576", V_INT, 1024, 64 << 20},
    {"SB_HTTP_THREADS", I(http_threads), false, "0", V_INT, 0, 64},
    {"SB_WORKERS", I(workers), false, "4", V_INT, 1, 64},
    {"SB_QUEUE_MAX_ATTEMPTS", I(queue_max_attempts), false, "8", V_INT, 1, 100},
    {"SB_SHUTDOWN_GRACE_MS", I(shutdown_grace_ms), false, "10000", V_INT, 0, 600000},
    {"SB_TOKEN_CHECK_INTERVAL_S", I(token_check_interval_s), false, "21600", V_INT, 1, 604800},
    {"SB_TURN_BURST_MS", I(turn_burst_ms), false, "2000", V_INT, 0, 30000},
    {"SB_LLM_TIMEOUT_MS", I(llm_timeout_ms), false, "30000", V_INT, 1000, 300000},
    /* the messaging pipeline: pacing, the gap filler, the silent-account alert */
    {"SB_SEND_RATE", I(send_rate), false, "100", V_INT, 1, 100000},
    {"SB_GAPFILL_INTERVAL_S", I(gapfill_interval_s), false, "300", V_INT, 0, 86400},
    {"SB_SILENT_FLOOR_S", I(silent_floor_s), false, "14400", V_INT, 1, 2592000},
    /* the dashboard's WebSocket gateway */
    {"SB_WS_PING_MS", I(ws_ping_ms), false, "25000", V_INT, 200, 300000},
    {"SB_WS_MAX_QUEUE_BYTES", I(ws_max_queue_bytes), false, "1048576", V_INT, 4096, 64 << 20},
    {"SB_BUS_POLL_MS", I(bus_poll_ms), false, "250", V_INT, 10, 10000},
};

#define N_KEYS (sizeof keys / sizeof keys[0])

static char **str_field(struct config *cfg, const struct key *k)
{
    return (char **)((char *)cfg + k->offset);
}

static int64_t *int_field(struct config *cfg, const struct key *k)
{
    return (int64_t *)((char *)cfg + k->offset);
}

static const struct key *find_key(const char *name, size_t len)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
            return &keys[i];
    return NULL;
}

static enum err errf(struct config_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum err errf(struct config_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return ERR_INVALID;
}

/* One value from any source, through one check. Strings are stored verbatim (validated
 * later, as a whole); integers must be plain decimal. */
static enum err apply_value(struct config *cfg, const struct key *k, const char *v, size_t n,
                            const char *origin, struct config_error *err)
{
    if (memchr(v, '\0', n))
        return errf(err, "%s: %s contains a NUL byte", origin, k->name);
    if (!k->is_int) {
        char **slot = str_field(cfg, k);
        free(*slot);
        *slot = xstrndup(v, n);
        return ERR_OK;
    }
    char tmp[32];
    if (n == 0 || n >= sizeof tmp)
        return errf(err, "%s: %s must be an integer", origin, k->name);
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    long long x = strtoll(tmp, &end, 10);
    if (*end || errno == ERANGE || !(isdigit((unsigned char)tmp[0]) || tmp[0] == '-'))
        return errf(err, "%s: %s must be an integer, got '%s'", origin, k->name, tmp);
    *int_field(cfg, k) = x;
    return ERR_OK;
}

void config_init(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_KEYS; i++) {
        const struct key *k = &keys[i];
        if (k->is_int)
            *int_field(cfg, k) = k->def ? strtoll(k->def, NULL, 10) : 0;
        else
            *str_field(cfg, k) = xstrdup(k->def ? k->def : "");
    }
}

void config_release(struct config *cfg)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (!keys[i].is_int)
            free(*str_field(cfg, &keys[i]));
    memset(cfg, 0, sizeof *cfg);
}

bool config_key_is_secret(const char *key)
{
    const struct key *k = find_key(key, strlen(key));
    return k && k->is_secret;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && isspace((unsigned char)**s))
        (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

static enum err parse_line(struct config *cfg, const char *s, const char *e, const char *origin,
                           int line_no, struct config_error *err)
{
    trim(&s, &e);
    if (s == e || *s == '#')
        return ERR_OK;
    if (e - s > 7 && memcmp(s, "export ", 7) == 0)
        s += 7;
    const char *eq = memchr(s, '=', (size_t)(e - s));
    if (!eq)
        return errf(err, "%s:%d: expected KEY=value", origin, line_no);
    const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
    trim(&ks, &ke);
    trim(&vs, &ve);
    if (ve - vs >= 2 && (*vs == '"' || *vs == '\'') && ve[-1] == *vs)
        vs++, ve--;
    const struct key *k = find_key(ks, (size_t)(ke - ks));
    if (!k) {
        int n = (int)(ke - ks > 64 ? 64 : ke - ks);
        return errf(err, "%s:%d: unknown key '%.*s'", origin, line_no, n, ks);
    }
    char where[300];
    snprintf(where, sizeof where, "%s:%d", origin, line_no);
    return apply_value(cfg, k, vs, (size_t)(ve - vs), where, err);
}

enum err config_parse_text(struct config *cfg, const char *text, size_t len, const char *origin,
                           struct config_error *err)
{
    if (len > CONFIG_FILE_MAX)
        return errf(err, "%s: larger than %d bytes", origin, CONFIG_FILE_MAX);
    const char *p = text, *end = text + len;
    int line_no = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        enum err rc = parse_line(cfg, p, le, origin, ++line_no, err);
        if (rc != ERR_OK)
            return rc;
        p = nl ? nl + 1 : end;
    }
    return ERR_OK;
}

enum err config_load_file(struct config *cfg, const char *path, struct config_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errf(err, "--config %s: %s", path, strerror(errno));
    char *text = xmalloc(CONFIG_FILE_MAX + 1);
    size_t n = fread(text, 1, CONFIG_FILE_MAX + 1, f);
    int bad = ferror(f);
    fclose(f);
    enum err rc = bad ? errf(err, "--config %s: read error", path)
                      : config_parse_text(cfg, text, n, path, err);
    free(text);
    return rc;
}

enum err config_apply_env(struct config *cfg, struct config_error *err)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const char *v = getenv(keys[i].name);
        if (!v)
            continue;
        enum err rc = apply_value(cfg, &keys[i], v, strlen(v), "environment", err);
        if (rc != ERR_OK)
            return rc;
    }
    return ERR_OK;
}

static bool has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static bool is_http_url(const char *s)
{
    const char *host = NULL;
    if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    else if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    if (!host || !*host || *host == '/' || *host == ':' || strlen(s) > 2048)
        return false;
    for (const char *p = s; *p; p++)
        if (isspace((unsigned char)*p))
            return false;
    return true;
}

static void strip_trailing_slash(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        s[--n] = '\0';
}

static enum err check_listen(struct config *cfg, struct config_error *err)
{
    const char *s = cfg->listen;
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return errf(err, "SB_LISTEN must be host:port, got '%.100s'", s);
    size_t hlen = (size_t)(colon - s);
    if (s[0] == '[' && hlen >= 2 && s[hlen - 1] == ']')
        s++, hlen -= 2;
    if (hlen >= sizeof cfg->listen_host)
        return errf(err, "SB_LISTEN host is too long");
    memcpy(cfg->listen_host, s, hlen);
    cfg->listen_host[hlen] = '\0';
    unsigned char addr[16];
    if (strcmp(cfg->listen_host, "localhost") != 0 &&
        inet_pton(AF_INET, cfg->listen_host, addr) != 1 &&
        inet_pton(AF_INET6, cfg->listen_host, addr) != 1)
        return errf(err, "SB_LISTEN host must be an IP address or localhost, got '%.100s'",
                    cfg->listen_host);
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || errno || port < 1 || port > 65535)
        return errf(err, "SB_LISTEN port must be 1-65535, got '%.20s'", colon + 1);
    cfg->listen_port = (int)port;
    return ERR_OK;
}

static enum err check_key(struct config *cfg, const struct key *k, struct config_error *err)
{
    if (k->is_int) {
        int64_t v = *int_field(cfg, k);
        if (v < k->min || v > k->max)
            return errf(err, "%s must be between %lld and %lld, got %lld", k->name,
                        (long long)k->min, (long long)k->max, (long long)v);
        return ERR_OK;
    }
    char *v = *str_field(cfg, k);
    if (has_ctl(v))
        return errf(err, "%s contains a control character", k->name);
    struct stat st;
    switch (k->kind) {
    case V_URL:
    case V_URL_OPT:
        if (!*v && k->kind == V_URL_OPT)
            return ERR_OK;
        if (!is_http_url(v))
            return errf(err, "%s must be an http:// or https:// URL, got '%.200s'", k->name, v);
        strip_trailing_slash(v);
        return ERR_OK;
    case V_NONEMPTY:
        return *v ? ERR_OK : errf(err, "%s must not be empty", k->name);
    case V_DIR_OPT:
        if (*v && (stat(v, &st) != 0 || !S_ISDIR(st.st_mode)))
            return errf(err, "%s: '%.200s' is not a readable directory", k->name, v);
        return ERR_OK;
    case V_FILE_OPT:
        if (*v && (stat(v, &st) != 0 || !S_ISREG(st.st_mode) || access(v, R_OK) != 0))
            return errf(err, "%s: '%.200s' is not a readable file", k->name, v);
        return ERR_OK;
    case V_LISTEN:
        return check_listen(cfg, err);
    case V_ANY:
    case V_INT:
        break;
    }
    return ERR_OK;
}

static bool is_graph_version(const char *s)
{
    if (*s++ != 'v' || !isdigit((unsigned char)*s))
        return false;
    while (isdigit((unsigned char)*s))
        s++;
    if (*s++ != '.' || !isdigit((unsigned char)*s))
        return false;
    while (isdigit((unsigned char)*s))
        s++;
    return *s == '\0';
}

static enum err check_specific(struct config *cfg, struct config_error *err)
{
    const char *db = cfg->database_url;
    if (*db && strncmp(db, "postgres://", 11) != 0 && strncmp(db, "postgresql://", 13) != 0)
        return errf(err, "SB_DATABASE_URL must start with postgres:// or postgresql://");
    if (*cfg->redis_url && strncmp(cfg->redis_url, "redis://", 8) != 0)
        return errf(err, "SB_REDIS_URL must start with redis://");
    for (const char *p = cfg->meta_app_id; *p; p++)
        if (!isdigit((unsigned char)*p))
            return errf(err, "SB_META_APP_ID must be digits, got '%.40s'", cfg->meta_app_id);
    if (!is_graph_version(cfg->meta_graph_version))
        return errf(err, "SB_META_GRAPH_VERSION must look like v24.0, got '%.40s'",
                    cfg->meta_graph_version);
    if (*cfg->master_key) {
        unsigned char key[48];
        size_t n = 0;
        if (base64_decode(cfg->master_key, strlen(cfg->master_key), key, sizeof key, &n) !=
                ERR_OK ||
            n != 32)
            return errf(err, "SB_MASTER_KEY must be the base64 of exactly 32 bytes");
    }
    if (*cfg->log_level && strcmp(cfg->log_level, "debug") && strcmp(cfg->log_level, "info") &&
        strcmp(cfg->log_level, "warn") && strcmp(cfg->log_level, "error"))
        return errf(err, "SB_LOG_LEVEL must be debug, info, warn or error, got '%.40s'",
                    cfg->log_level);
    if (strcmp(cfg->db_sync, "normal") && strcmp(cfg->db_sync, "full"))
        return errf(err, "SB_DB_SYNC must be normal or full, got '%.40s'", cfg->db_sync);
    if (strlen(cfg->business_name) > 200)
        return errf(err, "SB_BUSINESS_NAME is longer than 200 bytes");
    return ERR_OK;
}

enum err config_validate(struct config *cfg, struct config_error *err)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        enum err rc = check_key(cfg, &keys[i], err);
        if (rc != ERR_OK)
            return rc;
    }
    enum err rc = check_specific(cfg, err);
    if (rc != ERR_OK)
        return rc;
    if (!*cfg->public_url) {
        free(cfg->public_url);
        const char *h = cfg->listen_host;
        bool v6 = strchr(h, ':') != NULL;
        size_t n = strlen(h) + 32;
        cfg->public_url = xmalloc(n);
        snprintf(cfg->public_url, n, "http://%s%s%s:%d", v6 ? "[" : "", h, v6 ? "]" : "",
                 cfg->listen_port);
    }
    return ERR_OK;
}

enum err config_load(struct config *cfg, const char *path, struct config_error *err)
{
    config_init(cfg);
    enum err rc = path ? config_load_file(cfg, path, err) : ERR_OK;
    if (rc == ERR_OK)
        rc = config_apply_env(cfg, err);
    if (rc == ERR_OK)
        rc = config_validate(cfg, err);
    return rc;
}
