/*
 * tests/unit/queue/test_queue.c - queue semantics on a real SQLite store: claim and lease,
 * ack, retry with backoff, dead letters, per-key order, dedupe, the intake journal.
 * Lease and backoff cases drive the store with explicit clocks, so nothing sleeps.
 */
#include "queue/queue.h"

#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"
#include "testutil.h"

#include <sys/wait.h>

struct fx {
    char dir[256];
    struct store_opts so;
    struct store *s;
    struct arena a;
};

static int setup(void **state)
{
    log_set_level(LOG_WARN);
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s", tu_tmpdir());
    f->so = (struct store_opts){.data_dir = f->dir};
    assert_int_equal(store_open(&f->so, &f->s), ERR_OK);
    assert_int_equal(store_migrate(f->s, NULL, NULL), ERR_OK);
    arena_init(&f->a);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    arena_release(&f->a);
    store_free(f->s);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

static int64_t insert(struct fx *f, const char *kind, const char *key, const char *dedupe,
                      int64_t run_at, int max_attempts)
{
    struct store_job_new j = {.kind = kind,
                              .key = key,
                              .dedupe = dedupe,
                              .payload = "p",
                              .payload_len = 1,
                              .run_at_ms = run_at,
                              .max_attempts = max_attempts};
    int64_t id = -1;
    assert_int_equal(store_jobs_insert(f->s, &j, 1, run_at, &id), ERR_OK);
    return id;
}

static size_t claim(struct fx *f, int64_t now, int64_t lease, const char *owner,
                    struct store_job *out, size_t max)
{
    size_t n = 99;
    assert_int_equal(store_jobs_claim(f->s, NULL, 0, now, lease, owner, max, &f->a, out, &n),
                     ERR_OK);
    return n;
}

static void test_claim_ack(void **state)
{
    struct fx *f = *state;
    int64_t id = insert(f, "webhook", NULL, NULL, 1000, 5);
    struct store_job j[4];
    assert_int_equal(claim(f, 999, 100, "w1", j, 4), 0); /* not due yet */
    assert_int_equal(claim(f, 1000, 100, "w1", j, 4), 1);
    assert_int_equal(j[0].id, id);
    assert_int_equal(j[0].attempts, 1);
    assert_string_equal(j[0].kind, "webhook");
    assert_memory_equal(j[0].payload, "p", 1);
    assert_int_equal(claim(f, 1001, 100, "w2", j, 4), 0); /* leased */
    assert_int_equal(store_job_ack(f->s, id, "w1", 1002), ERR_OK);
    assert_int_equal(claim(f, 5000, 100, "w1", j, 4), 0);
    struct store_queue_stats st;
    assert_int_equal(store_queue_stats(f->s, 5000, &st), ERR_OK);
    assert_int_equal(st.ready + st.running + st.delayed, 0);
}

static void test_ids_never_reused(void **state)
{
    struct fx *f = *state;
    int64_t a = insert(f, "webhook", NULL, NULL, 1000, 5);
    struct store_job j[1];
    assert_int_equal(claim(f, 1000, 100, "w1", j, 1), 1);
    assert_int_equal(store_job_ack(f->s, a, "w1", 1001), ERR_OK); /* deleted: no dedupe key */
    int64_t b = insert(f, "webhook", NULL, NULL, 1002, 5);
    assert_true(b > a); /* events keep the id of the job they came from */
}

static void test_lease_expiry_redelivers(void **state)
{
    struct fx *f = *state;
    int64_t id = insert(f, "turn", NULL, NULL, 1000, 5);
    struct store_job j[2];
    assert_int_equal(claim(f, 1000, 100, "w1", j, 2), 1);
    assert_int_equal(claim(f, 1099, 100, "w2", j, 2), 0);
    assert_int_equal(claim(f, 1100, 100, "w2", j, 2), 1); /* w1 went silent */
    assert_int_equal(j[0].id, id);
    assert_int_equal(j[0].attempts, 2);
    /* The first owner lost the lease: its ack, retry and bury are refused. */
    assert_int_equal(store_job_ack(f->s, id, "w1", 1101), ERR_CONFLICT);
    assert_int_equal(store_job_retry(f->s, id, "w1", 2000, "x"), ERR_CONFLICT);
    assert_int_equal(store_job_bury(f->s, id, "w1", "x", 1101), ERR_CONFLICT);
    assert_int_equal(store_job_extend(f->s, id, "w2", 5000), ERR_OK);
    assert_int_equal(claim(f, 4000, 100, "w3", j, 2), 0); /* extended */
    assert_int_equal(store_job_ack(f->s, id, "w2", 4001), ERR_OK);
}

static void test_retry_backoff_and_dead_letter(void **state)
{
    struct fx *f = *state;
    struct queue *q = NULL;
    assert_int_equal(queue_new(&f->so, 3, &q), ERR_OK);
    struct queue_job qj = {.kind = "send", .payload = "hello", .payload_len = 5, .max_attempts = 2};
    int64_t id = 0;
    assert_int_equal(queue_enqueue(q, f->s, &qj, &id), ERR_OK);
    assert_true(id > 0);
    struct store_job j[2];
    size_t n = 0;
    assert_int_equal(queue_claim(q, f->s, NULL, 0, 2, 60000, &f->a, j, &n), ERR_OK);
    assert_int_equal(n, 1);
    int64_t before = clock_now_ms();
    assert_int_equal(queue_retry(q, f->s, &j[0], "upstream 503"), ERR_OK);
    /* Backoff: the job is delayed by at least the first step, at most +25 % jitter. */
    struct store_queue_stats st;
    assert_int_equal(store_queue_stats(f->s, before, &st), ERR_OK);
    assert_int_equal(st.delayed, 1);
    int64_t due = 0;
    assert_int_equal(store_jobs_next_due(f->s, &due), ERR_OK);
    assert_true(due >= before + queue_backoff_ms(1));
    assert_true(due <= clock_now_ms() + queue_backoff_ms(1) * 5 / 4 + 1);
    /* Second and last attempt fails: the job goes to the dead letters with the reason. */
    assert_int_equal(store_jobs_claim(f->s, NULL, 0, due, 60000, queue_owner(), 2, &f->a, j, &n),
                     ERR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(j[0].attempts, 2);
    assert_int_equal(queue_retry(q, f->s, &j[0], "upstream 503 again"), ERR_OK);
    assert_int_equal(store_queue_stats(f->s, due + 10 * 3600 * 1000LL, &st), ERR_OK);
    assert_int_equal(st.ready + st.delayed + st.running, 0);
    assert_int_equal(st.dead, 1);
    struct store_dead_letter d[2];
    assert_int_equal(store_dead_letters_list(f->s, 2, &f->a, d, &n), ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(d[0].reason, "upstream 503 again");
    assert_string_equal(d[0].kind, "send");
    assert_int_equal(d[0].payload_len, 5);
    assert_memory_equal(d[0].payload, "hello", 5);
    queue_free(q);
}

static void test_backoff_grows_and_caps(void **state)
{
    (void)state;
    static const struct {
        int attempts;
        int64_t ms;
    } cases[] = {{1, 1000},     {2, 2000},     {3, 4000},    {6, 32000},
                 {12, 2048000}, {13, 3600000}, {40, 3600000}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(queue_backoff_ms(cases[i].attempts), cases[i].ms);
}

static void test_per_key_order(void **state)
{
    struct fx *f = *state;
    int64_t a = insert(f, "turn", "conv:1", NULL, 1000, 5);
    int64_t b = insert(f, "turn", "conv:1", NULL, 1000, 5);
    int64_t c = insert(f, "turn", "conv:2", NULL, 1000, 5);
    int64_t d = insert(f, "turn", NULL, NULL, 1000, 5);
    struct store_job j[8];
    size_t n = claim(f, 1000, 100000, "w1", j, 8);
    assert_int_equal(n, 3); /* a, c and d; b waits behind a */
    int64_t got[3] = {j[0].id, j[1].id, j[2].id};
    assert_int_equal(got[0], a);
    assert_int_equal(got[1], c);
    assert_int_equal(got[2], d);
    assert_int_equal(claim(f, 1001, 1000, "w2", j, 8), 0); /* one in flight per key */
    /* a is retried later: b still waits, because order within a key holds across retries. */
    assert_int_equal(store_job_retry(f->s, a, "w1", 3000, "later"), ERR_OK);
    assert_int_equal(claim(f, 1002, 1000, "w2", j, 8), 0);
    assert_int_equal(claim(f, 3000, 1000, "w2", j, 8), 1);
    assert_int_equal(j[0].id, a);
    assert_int_equal(store_job_ack(f->s, a, "w2", 3001), ERR_OK);
    assert_int_equal(claim(f, 3002, 1000, "w2", j, 8), 1);
    assert_int_equal(j[0].id, b);
}

static void test_dedupe(void **state)
{
    struct fx *f = *state;
    int64_t first = insert(f, "webhook", NULL, "wh:abc", 1000, 5);
    assert_true(first > 0);
    assert_int_equal(insert(f, "webhook", NULL, "wh:abc", 1000, 5), 0);
    struct store_job j[2];
    assert_int_equal(claim(f, 1000, 100, "w1", j, 2), 1);
    assert_int_equal(store_job_ack(f->s, first, "w1", 1001), ERR_OK);
    /* Finished, but remembered for the retention period: a redelivery is still a dup. */
    assert_int_equal(insert(f, "webhook", NULL, "wh:abc", 2000, 5), 0);
    int64_t n = 0;
    assert_int_equal(store_jobs_prune(f->s, 1000, &n), ERR_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_jobs_prune(f->s, 1002, &n), ERR_OK);
    assert_int_equal(n, 1);
    assert_true(insert(f, "webhook", NULL, "wh:abc", 3000, 5) > 0);
}

static void test_crash_loop_is_buried(void **state)
{
    struct fx *f = *state;
    struct queue *q = NULL;
    assert_int_equal(queue_new(&f->so, 3, &q), ERR_OK);
    int64_t id = insert(f, "turn", NULL, NULL, 1, 2);
    struct store_job j[2];
    size_t n;
    /* Two leases run out without an ack (the handler crashed each time). */
    assert_int_equal(claim(f, 1, 1, "w1", j, 2), 1);
    assert_int_equal(claim(f, 2, 1, "w1", j, 2), 1);
    /* The third claim sees attempts > max_attempts and buries instead of returning it. */
    assert_int_equal(queue_claim(q, f->s, NULL, 0, 2, 60000, &f->a, j, &n), ERR_OK);
    assert_int_equal(n, 0);
    struct store_dead_letter d[2];
    assert_int_equal(store_dead_letters_list(f->s, 2, &f->a, d, &n), ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(d[0].reason, "lease expired too many times");
    (void)id;
    queue_free(q);
}

/* Waits (bounded) until the job table holds `want` rows of any state. */
static int64_t wait_rows(struct fx *f, int64_t want)
{
    for (int i = 0; i < 500; i++) {
        struct store_queue_stats st;
        assert_int_equal(store_queue_stats(f->s, clock_now_ms(), &st), ERR_OK);
        if (st.ready + st.delayed + st.running >= want)
            return st.ready + st.delayed + st.running;
        clock_sleep_ms(10);
    }
    return -1;
}

static void test_submit_through_journal(void **state)
{
    struct fx *f = *state;
    struct queue *q = NULL;
    assert_int_equal(queue_new(&f->so, 3, &q), ERR_OK);
    struct queue_job qj = {.kind = "webhook", .dedupe = "wh:1", .payload = "{}", .payload_len = 2};
    assert_int_equal(queue_submit(q, &qj), ERR_OK);
    assert_int_equal(queue_submit(q, &qj), ERR_OK); /* dropped at load by its dedupe key */
    qj.dedupe = "wh:2";
    assert_int_equal(queue_submit(q, &qj), ERR_OK);
    assert_int_equal(queue_submit_dead_letter(q, "webhook", "invalid JSON", "{x", 2), ERR_OK);
    assert_int_equal(wait_rows(f, 2), 2);
    queue_free(q); /* loads the rest and removes finished segments */
    struct store_queue_stats st;
    assert_int_equal(store_queue_stats(f->s, clock_now_ms(), &st), ERR_OK);
    assert_int_equal(st.ready, 2);
    assert_int_equal(st.dead, 1);
    char jdir[300];
    snprintf(jdir, sizeof jdir, "%s/journal", f->dir);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", jdir);
    assert_int_equal(system(cmd), 0); /* every segment consumed and deleted */
}

/* A child process submits n jobs and dies without stopping the queue: whatever the loader
 * had not moved yet is only in the journal. */
static void crash_after_submitting(struct fx *f, int first, int n)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct queue *q = NULL;
        if (queue_new(&f->so, 3, &q) != ERR_OK)
            _exit(3);
        for (int i = first; i < first + n; i++) {
            char dedupe[32], body[32];
            snprintf(dedupe, sizeof dedupe, "wh:%d", i);
            int len = snprintf(body, sizeof body, "{\"n\":%d}", i);
            struct queue_job qj = {
                .kind = "webhook", .dedupe = dedupe, .payload = body, .payload_len = (size_t)len};
            if (queue_submit(q, &qj) != ERR_OK)
                _exit(4);
        }
        _exit(0); /* no queue_free: a crash as far as the journal is concerned */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static int64_t count_jobs(struct fx *f)
{
    struct store_queue_stats st;
    assert_int_equal(store_queue_stats(f->s, INT64_MAX / 2, &st), ERR_OK);
    return st.ready + st.delayed + st.running;
}

static void test_journal_replay_after_crash(void **state)
{
    struct fx *f = *state;
    crash_after_submitting(f, 0, 300);
    /* A torn record at the end of the newest segment, as a power cut mid-write leaves. */
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "f=$(ls '%s/journal'/*.seg | tail -n1); printf '\\100\\000\\000\\000junk' >> \"$f\"",
             f->dir);
    assert_int_equal(system(cmd), 0);
    struct queue *q = NULL;
    assert_int_equal(queue_new(&f->so, 3, &q), ERR_OK);
    queue_free(q);
    assert_int_equal(count_jobs(f), 300);
    /* Again, with more: nothing already loaded is loaded twice. */
    crash_after_submitting(f, 300, 200);
    assert_int_equal(queue_new(&f->so, 3, &q), ERR_OK);
    queue_free(q);
    assert_int_equal(count_jobs(f), 500);
}

static void test_journal_replay_is_idempotent(void **state)
{
    struct fx *f = *state;
    crash_after_submitting(f, 0, 50);
    char cmd[1200];
    /* Keep a copy of the raw segments, load them, then put the copies back under new
     * names: the loader has no offset for them and reads them from the start. */
    snprintf(cmd, sizeof cmd, "mkdir '%s/keep' && cp '%s/journal'/*.seg '%s/keep/'", f->dir, f->dir,
             f->dir);
    assert_int_equal(system(cmd), 0);
    struct queue *q = NULL;
    assert_int_equal(queue_new(&f->so, 3, &q), ERR_OK);
    queue_free(q);
    assert_int_equal(count_jobs(f), 50);
    snprintf(cmd, sizeof cmd,
             "for s in '%s/keep'/*.seg; do cp \"$s\" '%s/journal'/9$(basename \"$s\"); done",
             f->dir, f->dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(queue_new(&f->so, 3, &q), ERR_OK);
    queue_free(q);
    assert_int_equal(count_jobs(f), 50); /* the dedupe keys caught every replayed record */
}

static void test_orphans_of_dead_processes_released(void **state)
{
    struct fx *f = *state;
    struct queue *q = NULL;
    assert_int_equal(queue_new(&f->so, 3, &q), ERR_OK);
    pid_t dead = fork(); /* a pid that surely names no process once reaped */
    if (dead == 0)
        _exit(0);
    assert_int_equal(waitpid(dead, NULL, 0), dead);
    char host[64];
    assert_int_equal(gethostname(host, sizeof host), 0);
    char gone[128], alive[128], elsewhere[128];
    snprintf(gone, sizeof gone, "%s/%d/0.aa", host, (int)dead);
    snprintf(alive, sizeof alive, "%s/%d/0.bb", host, (int)getpid());
    snprintf(elsewhere, sizeof elsewhere, "other-host-x/%d/0.cc", (int)dead);
    const char *owners[] = {gone, alive, elsewhere};
    for (int i = 0; i < 3; i++) {
        insert(f, "turn", NULL, NULL, 1000, 5);
        struct store_job j[1];
        assert_int_equal(claim(f, 1000, 1000000, owners[i], j, 1), 1);
    }
    assert_int_equal(queue_release_orphans(q, f->s), ERR_OK);
    struct store_job j[4];
    size_t n = claim(f, 2000, 1000, "w9", j, 4);
    assert_int_equal(n, 1);             /* only the dead local process's job came back */
    assert_int_equal(j[0].attempts, 2); /* and its attempt still counts */
    queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_claim_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ids_never_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease_expiry_redelivers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_backoff_and_dead_letter, setup, teardown),
        cmocka_unit_test(test_backoff_grows_and_caps),
        cmocka_unit_test_setup_teardown(test_per_key_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedupe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_loop_is_buried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_submit_through_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_replay_after_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_replay_is_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphans_of_dead_processes_released, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
