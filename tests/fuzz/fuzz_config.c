/*
 * tests/fuzz/fuzz_config.c - the KEY=value config parser and the validators on arbitrary
 * text: config_init, config_parse_text, config_validate, config_release.
 *
 * Properties: never crashes, leaks or reads past the text (it is not NUL-terminated); an
 * error leaves a terminated, non-empty message; a configuration that validated once
 * validates again with the same derived fields.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_config: %s\n", what);
        abort();
    }
}

static void check_message(const struct config_error *err)
{
    size_t n = strnlen(err->msg, sizeof err->msg);
    require(n > 0 && n < sizeof err->msg, "error without a terminated message");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config cfg;
    struct config_error err = {{0}};
    config_init(&cfg);
    enum err rc = config_parse_text(&cfg, (const char *)data, size, "fuzz.env", &err);
    if (rc != ERR_OK) {
        require(rc == ERR_INVALID, "parse: unexpected code");
        check_message(&err);
        config_release(&cfg);
        return 0;
    }
    rc = config_validate(&cfg, &err);
    if (rc != ERR_OK) {
        require(rc == ERR_INVALID, "validate: unexpected code");
        check_message(&err);
    } else {
        char host[sizeof cfg.listen_host];
        memcpy(host, cfg.listen_host, sizeof host);
        int port = cfg.listen_port;
        require(port >= 1 && port <= 65535, "port out of range");
        require(cfg.public_url && *cfg.public_url, "no public URL");
        require(config_validate(&cfg, &err) == ERR_OK, "valid config fails revalidation");
        require(port == cfg.listen_port && strcmp(host, cfg.listen_host) == 0,
                "revalidation changed the listen address");
    }
    config_release(&cfg);
    return 0;
}
