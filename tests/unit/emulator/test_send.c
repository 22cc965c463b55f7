/*
 * tests/unit/emulator/test_send.c - Send API answers that hang on world state the control API
 * does not expose: a customer who is unavailable (551/1545041) and an Instagram account whose
 * "Allow access to messages" is off (200/2534041). The emulator runs in-process on a free
 * port; the test sets the state under e->mu and sends over real HTTP.
 */
#include "emulator/emu_int.h"

#include <jansson.h>

#include "http/client.h"
#include "testutil.h"

struct fix {
    struct emulator *e;
    char token[EMU_TOKEN_LEN];
    char url[128];
};

static int setup(void **state)
{
    static bool curl_ready;
    if (!curl_ready) {
        http_client_global_init();
        curl_ready = true;
    }
    struct fix *f = calloc(1, sizeof *f);
    struct emulator_opts o = {.host = "127.0.0.1", .port = 0};
    assert_int_equal(emulator_start(&o, &f->e), ERR_OK);
    struct emulator *e = f->e;
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/v24.0/%s/messages", emulator_port(e),
             e->pages[0].id);
    pthread_mutex_lock(&e->mu);
    size_t k = emu_token_issue(e, EMU_TOK_PAGE, 0, 0, 0, "pages_messaging");
    snprintf(f->token, sizeof f->token, "%s", e->tokens[k].value);
    for (int c = 0; c < 2; c++) { /* customers 0 and 1 wrote on both channels just now */
        /* the index first: emu_thread_get() may move the growable array */
        int m = emu_thread_get(e, 0, c, EMU_MESSENGER);
        e->threads[m].last_inbound_ms = emu_now_ms(e);
        int i = emu_thread_get(e, 0, c, EMU_INSTAGRAM);
        e->threads[i].last_inbound_ms = emu_now_ms(e);
    }
    pthread_mutex_unlock(&e->mu);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    emulator_stop(f->e);
    free(f);
    return 0;
}

/* POSTs body and returns the HTTP status, with the error's code and subcode (0 if none). */
static int post(const struct fix *f, const char *body, int *code, int *subcode)
{
    char auth[EMU_TOKEN_LEN + 32];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", f->token);
    const char *headers[] = {"Content-Type: application/json", auth, NULL};
    struct http_client_resp resp = {0};
    assert_int_equal(
        http_client_do("POST", f->url, headers, body, strlen(body), 10000, 1 << 16, &resp), ERR_OK);
    json_t *v = json_loads(resp.body, 0, NULL);
    json_t *err = json_object_get(v, "error");
    *code = (int)json_integer_value(json_object_get(err, "code"));
    *subcode = (int)json_integer_value(json_object_get(err, "error_subcode"));
    json_decref(v);
    int status = resp.status;
    http_client_resp_release(&resp);
    return status;
}

static void test_unavailable_and_messaging_disabled(void **state)
{
    struct fix *f = *state;
    struct emulator *e = f->e;
    static const struct {
        int customer;
        bool instagram, unavailable, ig_disabled;
        int status, code, subcode;
    } cases[] = {
        {0, false, false, false, 200, 0, 0},
        {0, true, false, false, 200, 0, 0},
        {1, false, true, false, 400, 551, 1545041},
        {1, true, true, false, 400, 551, 1545041},
        {0, true, false, true, 400, 200, 2534041},
        {0, false, false, true, 200, 0, 0},  /* Messenger does not care about the IG switch */
        {1, false, false, false, 200, 0, 0}, /* available again */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pthread_mutex_lock(&e->mu);
        const struct emu_customer *cu = &e->customers[cases[i].customer];
        e->customers[cases[i].customer].unavailable = cases[i].unavailable;
        e->pages[0].messaging_disabled = cases[i].ig_disabled;
        char body[256];
        snprintf(body, sizeof body,
                 "{\"recipient\":{\"id\":\"%s\"},\"messaging_type\":\"RESPONSE\","
                 "\"message\":{\"text\":\"hi\"}}",
                 cases[i].instagram ? cu->igsid : cu->psid[0]);
        pthread_mutex_unlock(&e->mu);
        int code = 0, subcode = 0;
        int status = post(f, body, &code, &subcode);
        if (status != cases[i].status || code != cases[i].code || subcode != cases[i].subcode)
            fail_msg("case %zu: got %d %d/%d, want %d %d/%d", i, status, code, subcode,
                     cases[i].status, cases[i].code, cases[i].subcode);
    }
}

/* A private reply to an unavailable customer's comment fails the same way, and does not use
 * the one reply up. */
static void test_private_reply_to_unavailable_customer(void **state)
{
    struct fix *f = *state;
    struct emulator *e = f->e;
    pthread_mutex_lock(&e->mu);
    size_t k = emu_comment_add(e, 0, EMU_INSTAGRAM, e->media[0].id, NULL, 2, "decaf?");
    char body[256];
    snprintf(body, sizeof body,
             "{\"recipient\":{\"comment_id\":\"%s\"},\"message\":{\"text\":\"DM\"}}",
             e->comments[k].id);
    e->customers[2].unavailable = true;
    pthread_mutex_unlock(&e->mu);
    int code = 0, subcode = 0;
    assert_int_equal(post(f, body, &code, &subcode), 400);
    assert_int_equal(code, 551);
    assert_int_equal(subcode, 1545041);
    pthread_mutex_lock(&e->mu);
    e->customers[2].unavailable = false;
    pthread_mutex_unlock(&e->mu);
    assert_int_equal(post(f, body, &code, &subcode), 200);
    assert_int_equal(post(f, body, &code, &subcode), 400);
    assert_int_equal(code, 10900);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unavailable_and_messaging_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_reply_to_unavailable_customer, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
