/*
 * content/publish_steps.c - the steps of a publishing post (meta-platform.md section 5):
 *
 *   quota     content_publishing_limit and our own rolling-day count; used up: deferred to
 *             the moment a slot frees; then the caption is checked
 *   fit       each image fitted (fit.c) into the media store, served at SB_PUBLIC_URL/media/
 *   children  a carousel's item containers (is_carousel_item), each polled until FINISHED
 *   container the image's (or the CAROUSEL's) container, its id recorded
 *   poll      status_code with backoff until FINISHED (ERROR, EXPIRED: failed with Meta's
 *             words; PUBLISHED: it went live before a crash)
 *   publish   media_publish (publish_sent_at committed first; when set, the container's status
 *             is read before anything is sent again), then the permalink
 *
 * Each step returns with r->next saying what follows; Graph errors go through
 * content_run_graph_error() (retry with backoff, dead token, or failed with Meta's words).
 */
#include "content/content.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/content_int.h"
#include "core/clock.h"
#include "core/log.h"
#include "meta/publish.h"

#define TRIES_MAX         6
#define POLL_FIRST_MS     1000
#define POLL_MAX_MS       60000
#define AMBIGUOUS_WAIT_MS 5000
#define FETCH_TRIES       2    /* Meta could not fetch our image: asked again this often */
#define FETCH_WAIT_MS     2000 /* times the try number */
#define RECENT_LOOKUP     10
#define RECOVER_SLACK_MS  (2 * 60 * 1000)
#define OURS_MAX          1000

/* ---- outcomes ---- */

static void go(struct run *r, const char *step)
{
    if (!r->post.step || strcmp(r->post.step, step) != 0)
        r->post.tries = 0;
    r->post.step = step;
    r->next = RUN_CONTINUE;
}

static void wait_step(struct run *r, int64_t at_ms)
{
    r->next = RUN_STEP_AT;
    r->at_ms = at_ms;
}

void content_run_fail(struct run *r, const char *reason)
{
    r->post.state = "failed";
    r->post.step = NULL;
    r->post.reason = reason;
    r->post.error_code = r->gerr.code;
    r->post.error_subcode = r->gerr.subcode;
    r->next = RUN_END;
}

static void fail_plain(struct run *r, const char *reason)
{
    memset(&r->gerr, 0, sizeof r->gerr);
    content_run_fail(r, reason);
}

void content_run_graph_error(struct run *r, const char *what)
{
    const struct meta_graph_error *e = &r->gerr;
    long delay = 0;
    switch (e->cls) {
    case META_ERR_TRANSIENT:
    case META_ERR_RATE_LIMIT:
    case META_ERR_AMBIGUOUS: /* a container made twice is harmless: the first one expires */
        r->post.tries++;
        if (r->post.tries <= TRIES_MAX &&
            (meta_graph_retry_delay_ms(e, r->post.tries, &delay) || e->cls == META_ERR_AMBIGUOUS)) {
            wait_step(r, r->now + (delay > 0 ? delay : AMBIGUOUS_WAIT_MS));
            return;
        }
        content_run_fail(r, arena_printf(r->a, "Meta kept failing while %s: %s", what,
                                         e->message[0] ? e->message : "no answer"));
        return;
    case META_ERR_AUTH:
        r->is_dead_token = true;
        content_run_fail(r, "the account's token no longer works; reconnect the account");
        return;
    default:
        /* "The media could not be fetched": our /media URL did not answer Meta, as while this
         * server restarts. Asked again a few times, a little later each time; a URL Meta
         * can never reach (SB_PUBLIC_URL not public) still fails, with Meta's reason. */
        if (e->code == 9004 && e->subcode == 2207052 && ++r->post.tries <= FETCH_TRIES) {
            wait_step(r, r->now + FETCH_WAIT_MS * r->post.tries);
            return;
        }
        content_run_fail(r, arena_printf(r->a, "Meta refused %s: %s", what,
                                         e->message[0] ? e->message : "no reason given"));
        return;
    }
}

static const char *media_url(struct run *r, const char *media_id)
{
    return arena_printf(r->a, "%s/media/%s.jpg", r->p->public_url, media_id);
}

/* ---- quota ---- */

static enum err step_quota(struct run *r)
{
    int64_t usage = 0, total = 0;
    if (meta_ig_publishing_limit(r->p->graph, r->a, r->acct.external_id, r->token, &usage, &total,
                                 &r->gerr) != ERR_OK) {
        content_run_graph_error(r, "reading the publishing quota");
        return ERR_OK;
    }
    r->quota = (struct store_quota){.usage = usage, .total = total, .checked_at = r->now};
    int64_t *ours = arena_alloc(r->a, OURS_MAX * sizeof *ours);
    size_t n = 0;
    enum err rc = store_posts_published_since(r->s, r->post.account_id, r->now - CONTENT_DAY_MS,
                                              ours, OURS_MAX, &n);
    if (rc != ERR_OK)
        return rc;
    struct content_quota q = {.meta_usage = usage, .meta_total = total, .ours = ours, .n_ours = n};
    int64_t used = 0, slot = 0;
    if (!content_quota_allows(&q, r->now, &used, &slot)) {
        char at[32];
        clock_format_iso(slot, at, sizeof at);
        r->post.state = "deferred";
        r->post.step = NULL;
        r->post.deferred_until = slot;
        r->post.reason = arena_printf(r->a,
                                      "the publishing quota is used up (%lld of %lld posts in "
                                      "the last 24 hours); next slot at %s",
                                      (long long)used, (long long)total, at);
        r->next = RUN_WAKE_AT;
        r->at_ms = slot;
        return ERR_OK;
    }
    char why[CONTENT_WHY_MAX];
    if (content_caption_check(r->post.caption, why) != ERR_OK) {
        fail_plain(r, arena_strdup(r->a, why));
        return ERR_OK;
    }
    r->post.reason = NULL;
    r->post.deferred_until = 0;
    go(r, "fit");
    return ERR_OK;
}

/* ---- fit ---- */

/* The ratio every carousel item takes: the first item's, once it is fitted. */
static double first_ratio(struct run *r)
{
    const struct store_post_item *it = &r->post.items[0];
    struct store_media m;
    if (r->post.n_items < 2 || !it->media_id ||
        store_media_get(r->s, r->a, it->media_id, &m) != ERR_OK || m.height <= 0)
        return 0;
    return (double)m.width / m.height;
}

static enum err fit_item(struct run *r, struct store_post_item *it, double ratio, bool *failed)
{
    char why[CONTENT_WHY_MAX];
    unsigned char *bytes = NULL;
    size_t len = 0;
    struct content_fit_opts o = {.ratio = ratio};
    err_ignore(content_fit_mode_parse(r->post.fit, &o.mode));
    enum err rc = content_media_read_source(r->p->media, it->source, &bytes, &len, why);
    struct content_fitted f = {0};
    if (rc == ERR_OK)
        rc = content_fit_image(bytes, len, &o, &f, why);
    free(bytes);
    *failed = rc != ERR_OK;
    if (rc == ERR_UPSTREAM && ++r->post.tries <= TRIES_MAX) {
        wait_step(r, r->now + POLL_MAX_MS);
        return ERR_OK;
    }
    if (rc != ERR_OK) {
        fail_plain(r, arena_printf(r->a, "image %d: %s", it->position + 1, why));
        return ERR_OK;
    }
    rc = content_media_put_jpeg(r->p->media, r->s, r->a, f.jpeg, f.len, f.d.width, f.d.height, 0,
                                &it->media_id);
    if (rc == ERR_OK) {
        it->fit_decision = content_fit_decision_json(r->a, &f.d);
        rc = store_post_item_save(r->s, r->post.id, it);
    }
    content_fitted_release(&f);
    *failed = rc != ERR_OK;
    return rc;
}

static enum err step_fit(struct run *r)
{
    for (int i = 0; i < r->post.n_items; i++) {
        struct store_post_item *it = &r->post.items[i];
        if (it->media_id)
            continue;
        bool failed = false;
        enum err rc = fit_item(r, it, i > 0 ? first_ratio(r) : 0, &failed);
        if (rc != ERR_OK || failed)
            return rc;
    }
    go(r, r->post.n_items > 1 ? "children" : "container");
    return ERR_OK;
}

/* ---- containers and polls ---- */

static int64_t poll_delay(int polls)
{
    int64_t d = POLL_FIRST_MS;
    for (int i = 1; i < polls && d < POLL_MAX_MS; i++)
        d *= 2;
    return d < POLL_MAX_MS ? d : POLL_MAX_MS;
}

/* A container that is not FINISHED yet: wait (with backoff) until the deadline. */
static void still_processing(struct run *r)
{
    r->post.polls++;
    if (r->now - r->post.container_at > r->p->poll_deadline_ms) {
        fail_plain(r, arena_printf(r->a, "Meta was still processing the image after %lld minutes",
                                   (long long)(r->p->poll_deadline_ms / 60000)));
        return;
    }
    wait_step(r, r->now + poll_delay(r->post.polls));
}

static void container_failed(struct run *r, const struct meta_container_state *st)
{
    memset(&r->gerr, 0, sizeof r->gerr);
    const char *words = st->words ? st->words : "no reason given";
    content_run_fail(r, st->code == META_CONTAINER_EXPIRED
                            ? arena_printf(r->a, "Meta's container expired (EXPIRED): %s", words)
                            : arena_printf(r->a, "Meta could not process the image (%s): %s",
                                           st->code_text, words));
}

static enum err step_children(struct run *r)
{
    struct meta_ig_container_req req = {.is_carousel_item = true};
    int finished = 0;
    for (int i = 0; i < r->post.n_items; i++) {
        struct store_post_item *it = &r->post.items[i];
        if (!it->container_id) {
            req.image_url = media_url(r, it->media_id);
            if (meta_ig_container_create(r->p->graph, r->a, r->acct.external_id, r->token, &req,
                                         &it->container_id, &r->gerr) != ERR_OK) {
                content_run_graph_error(r, "making a carousel item's container");
                return ERR_OK;
            }
            if (!r->post.container_at)
                r->post.container_at = r->now;
            enum err rc = store_post_item_save(r->s, r->post.id, it);
            if (rc != ERR_OK)
                return rc;
        }
        struct meta_container_state st;
        if (meta_ig_container_status(r->p->graph, r->a, it->container_id, r->token, &st,
                                     &r->gerr) != ERR_OK) {
            content_run_graph_error(r, "reading a carousel item's status");
            return ERR_OK;
        }
        if (st.code == META_CONTAINER_ERROR || st.code == META_CONTAINER_EXPIRED) {
            container_failed(r, &st);
            return ERR_OK;
        }
        finished += st.code == META_CONTAINER_FINISHED;
    }
    if (finished == r->post.n_items)
        go(r, "container");
    else
        still_processing(r);
    return ERR_OK;
}

static enum err step_container(struct run *r)
{
    struct meta_ig_container_req req = {.caption = r->post.caption};
    const char *children[STORE_POST_ITEMS_MAX];
    if (r->post.n_items > 1) {
        for (int i = 0; i < r->post.n_items; i++)
            children[i] = r->post.items[i].container_id;
        req.children = children;
        req.n_children = (size_t)r->post.n_items;
    } else {
        req.image_url = media_url(r, r->post.items[0].media_id);
    }
    if (meta_ig_container_create(r->p->graph, r->a, r->acct.external_id, r->token, &req,
                                 &r->post.container_id, &r->gerr) != ERR_OK) {
        content_run_graph_error(r, "making the post's container");
        return ERR_OK;
    }
    r->post.container_at = r->now;
    r->post.polls = 0;
    go(r, "poll");
    return ERR_OK;
}

/* It went live before we recorded it (a crash after media_publish): find the post. */
static void recover_published(struct run *r)
{
    int64_t since = (r->post.publish_sent_at ? r->post.publish_sent_at : r->post.container_at) -
                    RECOVER_SLACK_MS;
    struct meta_ig_media *list = NULL;
    size_t n = 0;
    struct meta_graph_error ignored;
    if (meta_ig_recent_media(r->p->graph, r->a, r->acct.external_id, r->token, RECENT_LOOKUP,
                             &list, &n, &ignored) != ERR_OK)
        n = 0;
    r->post.reason = "published (Meta's media id could not be read back)";
    for (size_t i = 0; i < n; i++)
        if (list[i].caption && strcmp(list[i].caption, r->post.caption) == 0 &&
            list[i].ts_ms >= since) {
            r->post.media_id = list[i].id;
            r->post.permalink = list[i].permalink;
            r->post.reason = NULL;
            break;
        }
    r->post.state = "published";
    r->post.step = NULL;
    r->post.published_at = r->now;
    r->next = RUN_END;
    log_info("post.recovered", LOG_INT("post", r->post.id), LOG_BOOL("found", !r->post.reason));
}

/* What a container's status means; true when it is FINISHED and may be published. */
static bool judge_status(struct run *r, const struct meta_container_state *st)
{
    switch (st->code) {
    case META_CONTAINER_FINISHED:
        return true;
    case META_CONTAINER_PUBLISHED:
        recover_published(r);
        return false;
    case META_CONTAINER_ERROR:
    case META_CONTAINER_EXPIRED:
        container_failed(r, st);
        return false;
    default:
        go(r, "poll");
        still_processing(r);
        return false;
    }
}

static bool read_status(struct run *r, struct meta_container_state *st)
{
    if (meta_ig_container_status(r->p->graph, r->a, r->post.container_id, r->token, st,
                                 &r->gerr) == ERR_OK)
        return true;
    content_run_graph_error(r, "reading the container's status");
    return false;
}

static enum err step_poll(struct run *r)
{
    struct meta_container_state st;
    if (read_status(r, &st) && judge_status(r, &st))
        go(r, "publish");
    return ERR_OK;
}

/* Meta says the quota is used up after all (it counts posts we did not make): deferred, and
 * the containers made again afterwards (they may expire meanwhile). */
static enum err quota_refused(struct run *r)
{
    r->post.state = "deferred";
    r->post.step = NULL;
    r->post.deferred_until = r->now + CONTENT_QUOTA_RECHECK_MS;
    r->post.container_id = NULL;
    r->post.container_at = 0;
    r->post.publish_sent_at = 0;
    r->post.reason = "Meta says the publishing quota is used up; trying again later";
    r->next = RUN_WAKE_AT;
    r->at_ms = r->post.deferred_until;
    for (int i = 0; i < r->post.n_items && r->post.n_items > 1; i++) {
        r->post.items[i].container_id = NULL;
        enum err rc = store_post_item_save(r->s, r->post.id, &r->post.items[i]);
        if (rc != ERR_OK)
            return rc;
    }
    return ERR_OK;
}

/* media_publish failed. A transient or ambiguous failure keeps publish_sent_at: the retry
 * reads the container's status before sending again (it may have gone live). */
static enum err publish_failed(struct run *r)
{
    if (r->gerr.code == 9 && r->gerr.subcode == 2207042)
        return quota_refused(r);
    if (r->gerr.code == 9007) { /* not ready: certainly not published */
        r->post.publish_sent_at = 0;
        go(r, "poll");
        still_processing(r);
        return ERR_OK;
    }
    content_run_graph_error(r, "publishing");
    return ERR_OK;
}

static enum err step_publish(struct run *r)
{
    struct meta_container_state st;
    if (r->post.publish_sent_at && !(read_status(r, &st) && judge_status(r, &st)))
        return ERR_OK;
    r->post.publish_sent_at = r->now;
    enum err rc = content_run_persist(r, false); /* before the call that cannot be undone */
    if (rc != ERR_OK)
        return rc;
    const char *media_id = NULL;
    if (meta_ig_media_publish(r->p->graph, r->a, r->acct.external_id, r->token,
                              r->post.container_id, &media_id, &r->gerr) != ERR_OK)
        return publish_failed(r);
    r->post.media_id = media_id;
    r->post.state = "published";
    r->post.step = NULL;
    r->post.published_at = clock_now_ms();
    r->post.reason = NULL;
    r->next = RUN_END;
    struct meta_graph_error ignored;
    if (meta_ig_media_permalink(r->p->graph, r->a, media_id, r->token, &r->post.permalink,
                                &ignored) != ERR_OK)
        r->post.reason = "published (the permalink could not be read)";
    return ERR_OK;
}

enum err content_step_run(struct run *r)
{
    static const struct {
        const char *name;
        enum err (*fn)(struct run *r);
    } steps[] = {{"quota", step_quota},         {"fit", step_fit},   {"children", step_children},
                 {"container", step_container}, {"poll", step_poll}, {"publish", step_publish}};
    if (r->next == RUN_END)
        return ERR_OK;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (r->post.step && strcmp(r->post.step, steps[i].name) == 0)
            return steps[i].fn(r);
    fail_plain(r, "the post is in a step this version does not know");
    return ERR_OK;
}
