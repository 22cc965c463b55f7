/*
 * server/cli_posts.c - `switchboard publish` and `switchboard posts list|show`.
 *
 * publish validates everything it can at once (the account is an active Instagram account,
 * the caption's limits, each image a JPEG/PNG/WebP/HEIC within the caps, or an http(s) URL),
 * keeps uploaded files in the media store, stores the post with its job and prints its id;
 * the running server does the rest (content/publish.c). Nothing is fitted or sent here.
 * Exit codes: 0, 1 runtime failure, 2 usage or invalid input (one line on stderr).
 */
#include "server/cli_posts.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"
#include "core/clock.h"
#include "meta/publish.h"
#include "store/store.h"

#define POSTS_LIST_MAX 200

static int usage(const char *cmd, const char *why, const char *arg)
{
    fprintf(stderr, "switchboard %s: %s%s%s (usage: %s)\n", cmd, why, arg ? ": " : "",
            arg ? arg : "",
            strcmp(cmd, "publish") == 0
                ? "publish --account ID --image PATH|URL [--image ...] --caption TEXT "
                  "[--fit pad|blur|crop] [--at ISO8601]"
                : "posts list [--json] | posts show ID [--json]");
    return 2;
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

/* ---- publish ---- */

struct publish_args {
    const char *account, *caption, *fit, *at;
    const char *images[STORE_POST_ITEMS_MAX + 1];
    size_t n_images;
};

static int parse_publish(int argc, const char **argv, struct publish_args *pa)
{
    memset(pa, 0, sizeof *pa);
    for (int i = 0; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage("publish", "missing value for", k);
        if (strcmp(k, "--account") == 0)
            pa->account = v;
        else if (strcmp(k, "--caption") == 0)
            pa->caption = v;
        else if (strcmp(k, "--fit") == 0)
            pa->fit = v;
        else if (strcmp(k, "--at") == 0)
            pa->at = v;
        else if (strcmp(k, "--image") == 0 && pa->n_images <= STORE_POST_ITEMS_MAX)
            pa->images[pa->n_images++] = v;
        else if (strcmp(k, "--image") == 0)
            return usage("publish", "at most 10 images (a carousel)", NULL);
        else
            return usage("publish", "unexpected argument", k);
        i++;
    }
    if (!pa->account)
        return usage("publish", "--account is required", NULL);
    if (!pa->n_images)
        return usage("publish", "--image is required", NULL);
    if (!pa->caption)
        return usage("publish", "--caption is required", NULL);
    return 0;
}

/* The account by row id, Instagram account id or @username. */
static enum err find_account(struct store *s, struct arena *a, const char *want, int64_t *id)
{
    struct store_account *rows = NULL;
    size_t n = 0;
    enum err rc = store_accounts_list(s, a, &rows, &n);
    const char *user = want[0] == '@' ? want + 1 : want;
    char *end = NULL;
    long long num = strtoll(want, &end, 10);
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        const struct store_account *r = &rows[i];
        if ((*end == '\0' && num == r->id) || strcmp(r->external_id, want) == 0 ||
            (r->username && strcmp(r->username, user) == 0)) {
            *id = r->id;
            return ERR_OK;
        }
    }
    return rc == ERR_OK ? ERR_NOT_FOUND : rc;
}

/* An image argument as a post source: a URL as it is, a file kept in the media store. */
static int image_source(struct content_media *m, struct arena *a, const char *arg,
                        const char **source)
{
    if (content_source_is_url(arg)) {
        *source = arg;
        return 0;
    }
    unsigned char *bytes = NULL;
    size_t len = 0;
    char why[CONTENT_WHY_MAX];
    enum err rc = content_read_file(arg, CONTENT_INPUT_MAX_BYTES, &bytes, &len);
    if (rc != ERR_OK) {
        fprintf(stderr, "switchboard publish: cannot read %s: %s\n", arg,
                rc == ERR_TOO_LARGE ? "larger than 50 MiB" : err_name(rc));
        return rc == ERR_IO ? 1 : 2;
    }
    struct content_probe probe;
    rc = content_probe_image(bytes, len, &probe, why);
    if (rc == ERR_OK)
        rc = content_media_put_source(m, a, bytes, len, source);
    free(bytes);
    if (rc == ERR_IO) {
        fprintf(stderr, "switchboard publish: cannot keep %s in the media store\n", arg);
        return 1;
    }
    if (rc != ERR_OK) {
        fprintf(stderr, "switchboard publish: %s: %s\n", arg, why);
        return 2;
    }
    return 0;
}

static int publish_with(const struct config *cfg, struct store *s, struct arena *a,
                        const struct publish_args *pa, struct content_post_new *np)
{
    struct content_media *m = NULL;
    if (content_init("switchboard") != ERR_OK || content_media_open(cfg->data_dir, &m) != ERR_OK) {
        fprintf(stderr, "switchboard publish: cannot open the media store\n");
        return 1;
    }
    const char **sources = arena_alloc(a, pa->n_images * sizeof *sources);
    int code = 0;
    for (size_t i = 0; code == 0 && i < pa->n_images; i++)
        code = image_source(m, a, pa->images[i], &sources[i]);
    content_media_free(m);
    if (code)
        return code;
    np->sources = sources;
    np->n_sources = pa->n_images;
    char why[CONTENT_WHY_MAX];
    int64_t id = 0;
    enum err rc = content_post_create(s, np, clock_now_ms(), &id, why);
    if (rc != ERR_OK) {
        fprintf(stderr, "switchboard publish: %s\n", why[0] ? why : err_name(rc));
        return rc == ERR_INVALID || rc == ERR_NOT_FOUND || rc == ERR_CONFLICT ? 2 : 1;
    }
    printf("%lld\n", (long long)id);
    return 0;
}

static int cmd_publish(const struct config *cfg, int argc, const char **argv)
{
    struct publish_args pa;
    int code = parse_publish(argc, argv, &pa);
    if (code)
        return code;
    struct content_post_new np = {.caption = pa.caption};
    if (pa.fit && content_fit_mode_parse(pa.fit, &np.fit) != ERR_OK)
        return usage("publish", "--fit is pad, blur or crop", pa.fit);
    if (pa.at && meta_parse_graph_time(pa.at, &np.at_ms) != ERR_OK)
        return usage("publish", "--at is an ISO 8601 time (2026-12-24T09:00:00Z)", pa.at);
    struct store *s = NULL;
    struct arena a;
    arena_init(&a);
    enum err rc = open_store(cfg, &s);
    if (rc == ERR_OK)
        rc = find_account(s, &a, pa.account, &np.account_id);
    if (rc == ERR_NOT_FOUND)
        code = usage("publish", "no connected account is", pa.account);
    else if (rc != ERR_OK) {
        fprintf(stderr, "switchboard publish: cannot read the store: %s\n", err_name(rc));
        code = 1;
    } else {
        code = publish_with(cfg, s, &a, &pa, &np);
    }
    arena_release(&a);
    store_free(s);
    return code;
}

/* ---- posts list / show ---- */

static const char *iso(int64_t ms, char *buf, size_t cap)
{
    if (!ms)
        return "-";
    clock_format_iso(ms, buf, cap);
    return buf;
}

static void print_json(const struct store_post *p, bool with_items)
{
    json_t *o = content_post_json(p, with_items);
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf("%s\n", line ? line : "{}");
    free(line);
    json_decref(o);
}

static void print_row(const struct store_post *p)
{
    char at[32], done[32];
    printf("%-6lld %-7lld %-10s %-9s %-6d %-24s %-24s %s\n", (long long)p->id,
           (long long)p->account_id, p->state, p->step ? p->step : "-", p->n_items,
           iso(p->state[0] == 'd' ? p->deferred_until : p->scheduled_at, at, sizeof at),
           iso(p->published_at, done, sizeof done),
           p->reason ? p->reason : p->permalink ? p->permalink : "-");
}

static int list(struct store *s, struct arena *a, bool as_json)
{
    struct store_post *rows = NULL;
    size_t n = 0;
    enum err rc = store_posts_list(s, a, 0, 0, POSTS_LIST_MAX, &rows, &n);
    if (rc != ERR_OK) {
        fprintf(stderr, "switchboard posts: cannot read the store: %s\n", err_name(rc));
        return 1;
    }
    if (!as_json)
        printf("%-6s %-7s %-10s %-9s %-6s %-24s %-24s %s\n", "ID", "ACCOUNT", "STATE", "STEP",
               "IMAGES", "SCHEDULED/DEFERRED", "PUBLISHED", "REASON/PERMALINK");
    for (size_t i = 0; i < n; i++)
        if (as_json)
            print_json(&rows[i], false);
        else
            print_row(&rows[i]);
    return 0;
}

static void print_detail(const struct store_post *p)
{
    char buf[32];
    printf("post %lld (%s) for account %lld\n", (long long)p->id,
           p->n_items > 1 ? "carousel" : "image", (long long)p->account_id);
    printf("  state      %s%s%s\n", p->state, p->step ? " / " : "", p->step ? p->step : "");
    printf("  reason     %s\n", p->reason ? p->reason : "-");
    if (p->error_code)
        printf("  meta error %d / %d\n", p->error_code, p->error_subcode);
    printf("  scheduled  %s\n", iso(p->scheduled_at, buf, sizeof buf));
    if (p->deferred_until)
        printf("  deferred   until %s\n", iso(p->deferred_until, buf, sizeof buf));
    printf("  published  %s\n", iso(p->published_at, buf, sizeof buf));
    printf("  container  %s\n", p->container_id ? p->container_id : "-");
    printf("  media      %s\n", p->media_id ? p->media_id : "-");
    printf("  permalink  %s\n", p->permalink ? p->permalink : "-");
    printf("  fit        %s\n", p->fit);
    printf("  caption    %zu bytes\n", strlen(p->caption));
    for (int i = 0; i < p->n_items; i++)
        printf("  image %d    %s\n", i + 1,
               p->items[i].fit_decision ? p->items[i].fit_decision : "(not fitted yet)");
}

static int show(struct store *s, struct arena *a, const char *arg, bool as_json)
{
    char *end = NULL;
    long long id = strtoll(arg, &end, 10);
    if (!*arg || *end || id <= 0)
        return usage("posts", "not a post id", arg);
    struct store_post p;
    enum err rc = store_post_get(s, a, id, &p);
    if (rc == ERR_NOT_FOUND) {
        fprintf(stderr, "switchboard posts: no post has id %lld\n", id);
        return 1;
    }
    if (rc != ERR_OK) {
        fprintf(stderr, "switchboard posts: cannot read the store: %s\n", err_name(rc));
        return 1;
    }
    if (as_json)
        print_json(&p, true);
    else
        print_detail(&p);
    return 0;
}

static int cmd_posts(const struct config *cfg, int argc, const char **argv)
{
    if (argc < 1 || (strcmp(argv[0], "list") != 0 && strcmp(argv[0], "show") != 0))
        return usage("posts", argc < 1 ? "missing subcommand" : "unknown subcommand",
                     argc < 1 ? NULL : argv[0]);
    bool is_show = strcmp(argv[0], "show") == 0, as_json = false;
    const char *id = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            as_json = true;
        else if (is_show && !id)
            id = argv[i];
        else
            return usage("posts", "unexpected argument", argv[i]);
    }
    if (is_show && !id)
        return usage("posts", "show needs a post id", NULL);
    struct store *s = NULL;
    struct arena a;
    arena_init(&a);
    int code = 1;
    enum err rc = open_store(cfg, &s);
    if (rc != ERR_OK)
        fprintf(stderr, "switchboard posts: cannot open the store: %s\n", err_name(rc));
    else
        code = is_show ? show(s, &a, id, as_json) : list(s, &a, as_json);
    arena_release(&a);
    store_free(s);
    return code;
}

int cli_posts(const struct config *cfg, int argc, const char **argv)
{
    return cmd_posts(cfg, argc, argv);
}

int cli_publish(const struct config *cfg, int argc, const char **argv)
{
    return cmd_publish(cfg, argc, argv);
}
