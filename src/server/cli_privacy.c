/*
 * server/cli_privacy.c - a person's data from the command line, for a request that reaches
 * the business some other way than Meta's callback (an email, a support ticket).
 *
 * `privacy delete` records the same durable request as POST /meta/data-deletion (a
 * deletion_requests row and its "privacy_delete" job, in one transaction), then carries out
 * the pending deletion jobs itself, so it works whether or not a server is running; when a
 * running server's worker has already claimed the job, it waits for that instead. A kill in
 * the middle leaves the job in the queue: the next `serve` (or `privacy delete`) finishes it.
 * `privacy export` prints everything stored about the person as one JSON document.
 */
#include "server/cli_privacy.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "meta/privacy.h"
#include "queue/queue.h"
#include "store/store.h"

#define CLAIM_MAX    8
#define CLAIM_ROUNDS 16
#define LEASE_MS     60000
#define WAIT_MS      30000
#define POLL_MS      200

static int usage(const char *why)
{
    fprintf(stderr,
            "switchboard privacy: %s (usage: privacy delete --user ID [--no-wait] | "
            "privacy export --user ID)\n",
            why);
    return 2;
}

static int runtime(const char *what, enum err rc)
{
    fprintf(stderr, "switchboard privacy: %s: %s\n", what, err_name(rc));
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

/* One claimed job, settled as a worker would: effects and ack in one transaction; a failure
 * retried with the queue's backoff, or buried when retrying cannot help. */
static void run_claimed(struct store *s, const struct store_job *job)
{
    const char *owner = queue_owner(), *reason = NULL;
    int64_t now = clock_now_ms();
    if (job->attempts > job->max_attempts) {
        err_ignore(store_job_bury(s, job->id, owner, "lease expired too many times", now));
        return;
    }
    enum err rc = store_begin(s);
    if (rc == ERR_OK && (rc = meta_privacy_run_job(s, job, &reason)) == ERR_OK &&
        (rc = store_job_ack(s, job->id, owner, now)) == ERR_OK) {
        if (store_commit(s) == ERR_OK)
            return;
        rc = ERR_AGAIN;
    }
    store_rollback(s);
    if (rc == ERR_INVALID)
        err_ignore(store_job_bury(s, job->id, owner, reason ? reason : "invalid", now));
    else
        err_ignore(store_job_retry(s, job->id, owner, now + queue_backoff_ms(job->attempts),
                                   reason ? reason : err_name(rc)));
}

/* Runs every deletion job that is due and not held by another process. */
static void run_pending(struct store *s)
{
    static const char *const kinds[] = {META_JOB_PRIVACY_DELETE};
    for (int round = 0; round < CLAIM_ROUNDS; round++) {
        struct arena a;
        arena_init(&a);
        struct store_job jobs[CLAIM_MAX];
        size_t n = 0;
        if (store_jobs_claim(s, kinds, 1, clock_now_ms(), LEASE_MS, queue_owner(), CLAIM_MAX, &a,
                             jobs, &n) != ERR_OK)
            n = 0;
        for (size_t i = 0; i < n; i++)
            run_claimed(s, &jobs[i]);
        arena_release(&a);
        if (n == 0)
            return;
    }
}

/* Waits (bounded) until the request is no longer pending; its final row goes to *d. */
static enum err wait_done(struct store *s, struct arena *a, const char *code,
                          struct store_deletion *d)
{
    enum err rc = ERR_OK;
    for (int64_t waited = 0; waited <= WAIT_MS; waited += POLL_MS) {
        rc = store_deletion_get(s, a, code, d);
        if (rc != ERR_OK || strcmp(d->status, "pending") != 0)
            return rc;
        if (waited == 0)
            run_pending(s);
        else
            clock_sleep_ms(POLL_MS);
    }
    return rc;
}

static int delete_user(struct store *s, const char *user_id, bool wait)
{
    char code[META_DELETION_CODE_LEN + 1];
    enum err rc = meta_privacy_request(s, NULL, user_id, "cli", code);
    if (rc != ERR_OK)
        return runtime("could not record the deletion request", rc);
    printf("confirmation code: %s\n", code);
    fflush(stdout);
    if (!wait) {
        printf("queued: a running server deletes the data within moments\n");
        return 0;
    }
    struct arena a;
    arena_init(&a);
    struct store_deletion d;
    rc = wait_done(s, &a, code, &d);
    if (rc == ERR_OK && strcmp(d.status, "completed") == 0)
        printf("completed: %s\n", d.detail ? d.detail : "{}");
    else if (rc == ERR_OK && strcmp(d.status, "pending") == 0)
        printf("queued: the deletion is still running; it completes in the background\n");
    else if (rc == ERR_OK)
        printf("%s: %s\n", d.status, d.detail ? d.detail : "");
    arena_release(&a);
    return rc == ERR_OK ? 0 : runtime("could not read the request's status", rc);
}

static int export_user(struct store *s, const char *user_id)
{
    json_t *doc = NULL;
    enum err rc = meta_privacy_export(s, user_id, &doc);
    if (rc != ERR_OK)
        return runtime("export failed", rc);
    int w = json_dumpf(doc, stdout, JSON_INDENT(2));
    json_decref(doc);
    if (w != 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
        return runtime("could not write the document", ERR_IO);
    return 0;
}

int cli_privacy(const struct config *cfg, int argc, const char **argv)
{
    if (argc < 1 || (strcmp(argv[0], "delete") != 0 && strcmp(argv[0], "export") != 0))
        return usage("unknown subcommand");
    bool is_delete = strcmp(argv[0], "delete") == 0, wait = true;
    const char *user_id = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--user") == 0)
            user_id = argv[++i];
        else if (is_delete && strcmp(argv[i], "--no-wait") == 0)
            wait = false;
        else
            return usage("unexpected argument");
    }
    if (!user_id)
        return usage("--user is required");
    if (!meta_user_id_ok(user_id))
        return usage("--user must be an app-scoped id (digits, letters, '_' or '-')");
    struct store *s = NULL;
    enum err rc = open_store(cfg, &s);
    int code = rc != ERR_OK ? runtime("cannot open the database", rc)
               : is_delete  ? delete_user(s, user_id, wait)
                            : export_user(s, user_id);
    store_free(s);
    return code;
}
