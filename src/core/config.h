/*
 * core/config.h - every SB_* setting: read from the environment or a KEY=value file,
 * validated once at start.
 *
 * Owns: the table of keys (name, default, validator, secret flag) and struct config.
 * A bad value is one line of text in config_error; main prints it and exits 2.
 * Threads: load once on the main thread; afterwards the struct is read-only.
 */
#ifndef SB_CORE_CONFIG_H
#define SB_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct config {
    /* INTERFACE.md keys */
    char *listen, *public_url, *data_dir, *database_url, *redis_url;
    char *meta_app_id, *meta_app_secret, *meta_verify_token;
    char *meta_graph_url, *meta_graph_version, *meta_oauth_url;
    char *llm_url, *llm_model, *llm_api_key;
    char *embed_url, *embed_model, *image_url, *image_model;
    char *master_key, *business_name, *kb_dir, *tools_file;
    /* operational keys (documented in INTERFACE.md too) */
    char *log_level, *db_sync, *meta_scopes;
    int64_t webhook_max_bytes, http_threads, workers, queue_max_attempts, shutdown_grace_ms;
    int64_t token_check_interval_s; /* the scheduler's token health check */
    int64_t turn_burst_ms;          /* a customer's quick messages within this form one turn */
    int64_t llm_timeout_ms;         /* one LLM request (the agent retries transient failures) */
    int64_t send_rate;              /* Send API calls a second per account (pacing) */
    int64_t gapfill_interval_s;     /* the Conversations API gap filler's period; 0: off */
    int64_t silent_floor_s;         /* an account is never "silent" sooner than this */
    /* the WebSocket gateway: protocol pings and app heartbeats, the slow-client cap, and how
     * often the bus is read for other processes' events */
    int64_t ws_ping_ms, ws_max_queue_bytes, bus_poll_ms;
    /* derived at validation */
    char listen_host[256];
    int listen_port;
};

struct config_error {
    char msg[512];
};

/* Fills cfg with the defaults. Call config_release() when done. */
void config_init(struct config *cfg);
void config_release(struct config *cfg);
/* Applies KEY=value lines (# comments, blank lines, optional quotes). An unknown SB_ key
 * or a malformed line is ERR_INVALID. `origin` names the source in messages. */
MUST_USE enum err config_parse_text(struct config *cfg, const char *text, size_t len,
                                    const char *origin, struct config_error *err);
MUST_USE enum err config_load_file(struct config *cfg, const char *path, struct config_error *err);
/* Applies every known SB_* variable of the environment (which wins over a file). */
MUST_USE enum err config_apply_env(struct config *cfg, struct config_error *err);
/* Checks every value and fills the derived fields; ERR_INVALID with a one-line message. */
MUST_USE enum err config_validate(struct config *cfg, struct config_error *err);
/* Whole start-up sequence: defaults, file (if path), environment, validation. */
MUST_USE enum err config_load(struct config *cfg, const char *path, struct config_error *err);
/* True if the named key holds a secret (never logged, never printed). */
bool config_key_is_secret(const char *key);

#endif
