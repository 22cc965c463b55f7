/*
 * tests/unit/core/test_config.c - every SB_* key is read and checked: defaults, file syntax,
 * the environment winning over the file, one clear message per bad value, and no secret
 * ever quoted back.
 */
#include "core/config.h"

#include "testutil.h"

static void unset_all(void)
{
    static const char *const keys[] = {"SB_LISTEN",
                                       "SB_PUBLIC_URL",
                                       "SB_DATA_DIR",
                                       "SB_DATABASE_URL",
                                       "SB_REDIS_URL",
                                       "SB_META_APP_ID",
                                       "SB_META_APP_SECRET",
                                       "SB_META_VERIFY_TOKEN",
                                       "SB_META_GRAPH_URL",
                                       "SB_META_GRAPH_VERSION",
                                       "SB_META_OAUTH_URL",
                                       "SB_META_SCOPES",
                                       "SB_TOKEN_CHECK_INTERVAL_S",
                                       "SB_LLM_URL",
                                       "SB_LLM_MODEL",
                                       "SB_LLM_API_KEY",
                                       "SB_EMBED_URL",
                                       "SB_EMBED_MODEL",
                                       "SB_IMAGE_URL",
                                       "SB_IMAGE_MODEL",
                                       "SB_MASTER_KEY",
                                       "SB_BUSINESS_NAME",
                                       "SB_KB_DIR",
                                       "SB_TOOLS_FILE",
                                       "SB_LOG_LEVEL",
                                       "SB_DB_SYNC",
                                       "SB_WEBHOOK_MAX_BYTES",
                                       "SB_HTTP_THREADS",
                                       "SB_WORKERS",
                                       "SB_QUEUE_MAX_ATTEMPTS",
                                       "SB_SHUTDOWN_GRACE_MS",
                                       "SB_TURN_BURST_MS",
                                       "SB_LLM_TIMEOUT_MS",
                                       "SB_SEND_RATE",
                                       "SB_GAPFILL_INTERVAL_S",
                                       "SB_SILENT_FLOOR_S",
                                       "SB_WS_PING_MS",
                                       "SB_WS_MAX_QUEUE_BYTES",
                                       "SB_BUS_POLL_MS"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        unsetenv(keys[i]);
}

static enum err load_text(struct config *c, const char *text, struct config_error *e)
{
    config_init(c);
    enum err rc = config_parse_text(c, text, strlen(text), "test.conf", e);
    if (rc == ERR_OK)
        rc = config_apply_env(c, e);
    if (rc == ERR_OK)
        rc = config_validate(c, e);
    return rc;
}

static void test_defaults(void **state)
{
    (void)state;
    unset_all();
    struct config c;
    struct config_error e;
    assert_int_equal(config_load(&c, NULL, &e), ERR_OK);
    assert_string_equal(c.listen, "127.0.0.1:8080");
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 8080);
    assert_string_equal(c.public_url, "http://127.0.0.1:8080");
    assert_string_equal(c.data_dir, "./data");
    assert_string_equal(c.meta_graph_url, "https://graph.facebook.com");
    assert_string_equal(c.meta_graph_version, "v24.0");
    assert_string_equal(c.meta_oauth_url, "https://www.facebook.com");
    assert_string_equal(c.business_name, "our business");
    assert_string_equal(c.llm_url, "");
    assert_int_equal(c.webhook_max_bytes, 1048576);
    assert_int_equal(c.llm_timeout_ms, 30000);
    config_release(&c);
}

static void test_file_syntax_and_env_wins(void **state)
{
    (void)state;
    unset_all();
    struct config c;
    struct config_error e;
    const char *text =
        "# a comment\n\n  SB_LISTEN = 0.0.0.0:9000  \n"
        "export SB_BUSINESS_NAME=\"Acme Shoes\"\nSB_PUBLIC_URL='https://x.example/'\n"
        "SB_WORKERS=7\r\nSB_META_APP_SECRET=from-file\n";
    setenv("SB_META_APP_SECRET", "from-env", 1);
    assert_int_equal(load_text(&c, text, &e), ERR_OK);
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.listen_port, 9000);
    assert_string_equal(c.business_name, "Acme Shoes");
    assert_string_equal(c.public_url, "https://x.example"); /* trailing slash dropped */
    assert_int_equal(c.workers, 7);
    assert_string_equal(c.meta_app_secret, "from-env");
    config_release(&c);
    unset_all();
}

static void test_bad_values(void **state)
{
    (void)state;
    static const struct {
        const char *text, *must_mention;
    } cases[] = {
        {"SB_LISTEN=8080", "SB_LISTEN"},
        {"SB_LISTEN=127.0.0.1:0", "SB_LISTEN"},
        {"SB_LISTEN=127.0.0.1:70000", "SB_LISTEN"},
        {"SB_LISTEN=example.com:80", "SB_LISTEN"},
        {"SB_PUBLIC_URL=ftp://x", "SB_PUBLIC_URL"},
        {"SB_META_GRAPH_URL=graph.facebook.com", "SB_META_GRAPH_URL"},
        {"SB_LLM_URL=http:// spaced", "SB_LLM_URL"},
        {"SB_DATABASE_URL=mysql://x", "SB_DATABASE_URL"},
        {"SB_REDIS_URL=http://x", "SB_REDIS_URL"},
        {"SB_META_APP_ID=12ab", "SB_META_APP_ID"},
        {"SB_META_GRAPH_VERSION=24", "SB_META_GRAPH_VERSION"},
        {"SB_MASTER_KEY=c2hvcnQ=", "SB_MASTER_KEY"},
        {"SB_LOG_LEVEL=loud", "SB_LOG_LEVEL"},
        {"SB_DB_SYNC=sometimes", "SB_DB_SYNC"},
        {"SB_WORKERS=many", "SB_WORKERS"},
        {"SB_WORKERS=0", "SB_WORKERS"},
        {"SB_WEBHOOK_MAX_BYTES=10", "SB_WEBHOOK_MAX_BYTES"},
        {"SB_KB_DIR=/nonexistent/kb", "SB_KB_DIR"},
        {"SB_TOOLS_FILE=/nonexistent/tools.json", "SB_TOOLS_FILE"},
        {"SB_BUSINESS_NAME=", "SB_BUSINESS_NAME"},
        {"SB_LLM_TIMEOUT_MS=999", "SB_LLM_TIMEOUT_MS"},
        {"SB_LLM_TIMEOUT_MS=soon", "SB_LLM_TIMEOUT_MS"},
        {"SB_DATA_DIR=", "SB_DATA_DIR"},
        {"SB_LISTENN=127.0.0.1:1", "SB_LISTENN"},
        {"just some words", "KEY=value"},
    };
    unset_all();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct config c;
        struct config_error e = {{0}};
        if (load_text(&c, cases[i].text, &e) != ERR_INVALID)
            fail_msg("accepted: %s", cases[i].text);
        if (!strstr(e.msg, cases[i].must_mention))
            fail_msg("message for '%s' does not name %s: %s", cases[i].text, cases[i].must_mention,
                     e.msg);
        assert_null(strchr(e.msg, '\n')); /* one line */
        config_release(&c);
    }
}

static void test_secrets_never_quoted(void **state)
{
    (void)state;
    unset_all();
    struct config c;
    struct config_error e = {{0}};
    assert_int_equal(load_text(&c, "SB_MASTER_KEY=TOPSECRETVALUE", &e), ERR_INVALID);
    assert_null(strstr(e.msg, "TOPSECRETVALUE"));
    config_release(&c);
    assert_true(config_key_is_secret("SB_META_APP_SECRET"));
    assert_true(config_key_is_secret("SB_LLM_API_KEY"));
    assert_true(config_key_is_secret("SB_MASTER_KEY"));
    assert_true(config_key_is_secret("SB_META_VERIFY_TOKEN"));
    assert_false(config_key_is_secret("SB_LISTEN"));
}

static void test_valid_master_key_and_ipv6(void **state)
{
    (void)state;
    unset_all();
    struct config c;
    struct config_error e;
    /* base64 of 32 bytes of 'k' */
    const char *text = "SB_MASTER_KEY=a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=\n"
                       "SB_LISTEN=[::1]:8443\n";
    assert_int_equal(load_text(&c, text, &e), ERR_OK);
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 8443);
    assert_string_equal(c.public_url, "http://[::1]:8443");
    config_release(&c);
}

static void test_missing_file(void **state)
{
    (void)state;
    unset_all();
    struct config c;
    struct config_error e;
    assert_int_equal(config_load(&c, "/nonexistent/switchboard.conf", &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "/nonexistent/switchboard.conf"));
    config_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_file_syntax_and_env_wins),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_secrets_never_quoted),
        cmocka_unit_test(test_valid_master_key_and_ipv6),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
