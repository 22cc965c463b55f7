/*
 * main.c - the switchboard command: parse the command line, load the configuration,
 * run one command. Exit codes: 0 success, 1 runtime failure, 2 usage error.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "core/config.h"
#include "core/log.h"
#include "emulator/emulator.h"
#include "server/cli_accounts.h"
#include "server/cli_conversations.h"
#include "server/cli_kb.h"
#include "server/cli_posts.h"
#include "server/cli_privacy.h"
#include "server/cli_user.h"
#include "server/server.h"
#include "store/store.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct cmd {
    const char *name;
    int (*run)(struct config *cfg, int argc, const char **argv);
    const char *usage;
    bool is_server; /* runs until stopped and logs at info; one-shot commands log nothing
                       unless SB_LOG_LEVEL asks, so a failure is one line on stderr */
};

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "switchboard: %s%s%s%s (see: switchboard help)\n", what, arg ? " '" : "",
            arg ? arg : "", arg ? "'" : "");
    return EXIT_USAGE;
}

static int cmd_serve(struct config *cfg, int argc, const char **argv)
{
    unsigned roles = ROLE_ALL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--role") == 0 && i + 1 < argc) {
            if (server_parse_role(argv[++i], &roles) != ERR_OK)
                return usage_error("serve: unknown role (ingest, worker, gateway, scheduler):",
                                   argv[i]);
        } else {
            return usage_error("serve: unexpected argument", argv[i]);
        }
    }
    return server_run(cfg, roles) == ERR_OK ? 0 : EXIT_RUNTIME;
}

static int cmd_migrate(struct config *cfg, int argc, const char **argv)
{
    if (argc > 0)
        return usage_error("migrate: unexpected argument", argv[0]);
    struct store_opts so = {.data_dir = cfg->data_dir,
                            .database_url = cfg->database_url,
                            .sync_full = strcmp(cfg->db_sync, "full") == 0};
    struct store *s = NULL;
    int from = 0, to = 0;
    enum err rc = store_open(&so, &s);
    if (rc == ERR_OK)
        rc = store_migrate(s, &from, &to);
    store_free(s);
    if (rc != ERR_OK) {
        fprintf(stderr, "switchboard: migrate failed: %s\n", err_name(rc));
        return EXIT_RUNTIME;
    }
    printf("schema version %d (was %d)\n", to, from);
    return 0;
}

static int cmd_demo(struct config *cfg, int argc, const char **argv)
{
    if (argc > 0)
        return usage_error("demo: unexpected argument", argv[0]);
    /* The demo fills in a demo app secret and verify token when none are configured. */
    return server_demo(cfg) == ERR_OK ? 0 : EXIT_RUNTIME;
}

static int cmd_emulator(struct config *cfg, int argc, const char **argv)
{
    (void)cfg;
    return emulator_main(argc, argv);
}

static int cmd_user(struct config *cfg, int argc, const char **argv)
{
    return cli_user(cfg, argc, argv);
}

static int cmd_privacy(struct config *cfg, int argc, const char **argv)
{
    return cli_privacy(cfg, argc, argv);
}

static int cmd_accounts(struct config *cfg, int argc, const char **argv)
{
    return cli_accounts(cfg, argc, argv);
}

static int cmd_conversations(struct config *cfg, int argc, const char **argv)
{
    return cli_conversations(cfg, argc, argv);
}

static int cmd_keys(struct config *cfg, int argc, const char **argv)
{
    return cli_keys(cfg, argc, argv);
}

static int cmd_kb(struct config *cfg, int argc, const char **argv)
{
    return cli_kb(cfg, argc, argv);
}

static int cmd_posts(struct config *cfg, int argc, const char **argv)
{
    return cli_posts(cfg, argc, argv);
}

static int cmd_publish(struct config *cfg, int argc, const char **argv)
{
    return cli_publish(cfg, argc, argv);
}

static int cmd_help(struct config *cfg, int argc, const char **argv);

static const struct cmd commands[] = {
    {"serve", cmd_serve, "serve [--role ingest|worker|gateway|scheduler]", true},
    {"migrate", cmd_migrate, "migrate", false},
    {"demo", cmd_demo, "demo", true},
    {"emulator", cmd_emulator,
     "emulator [--listen HOST:PORT] [--app-id ID] [--app-secret S] [--webhook URL] ... "
     "(the local Meta, see docs/emulator.md)",
     true},
    {"accounts", cmd_accounts,
     "accounts connect --user-token TOKEN|- (- reads it from stdin) | accounts list [--json]",
     false},
    {"keys", cmd_keys, "keys rotate (a new master key; every stored token re-encrypted)", false},
    {"conversations", cmd_conversations,
     "conversations list [--mode ai|human|paused|closed] [--json]", false},
    {"posts", cmd_posts, "posts list [--json] | posts show ID [--json]", false},
    {"kb", cmd_kb, "kb add PATH... | kb list | kb search QUERY", false},
    {"publish", cmd_publish,
     "publish --account ID --image PATH|URL [--image ...] --caption TEXT [--fit pad|blur|crop] "
     "[--at ISO8601]",
     false},
    {"user", cmd_user, "user add --email E [--role admin|agent] (password on stdin)", false},
    {"privacy", cmd_privacy,
     "privacy delete --user ID [--no-wait] | privacy export --user ID (one person's data)", false},
    {"help", cmd_help, "help", false},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static int cmd_help(struct config *cfg, int argc, const char **argv)
{
    (void)cfg;
    (void)argc;
    (void)argv;
    printf("usage: switchboard [--config FILE] COMMAND\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        printf("  %s\n", commands[i].usage);
    printf("\nConfiguration: SB_* environment variables (see INTERFACE.md); a --config file may\n"
           "hold the same KEY=value lines, and the environment wins.\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    const char *rest[64];
    int n_rest = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            if (++i >= argc)
                return usage_error("--config needs a FILE", NULL);
            config_path = argv[i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            rest[n_rest++] = "help";
        } else if (n_rest < 64) {
            rest[n_rest++] = argv[i];
        }
    }
    if (n_rest == 0)
        return usage_error("missing command", NULL);
    const struct cmd *cmd = NULL;
    for (size_t i = 0; i < N_COMMANDS && !cmd; i++)
        if (strcmp(commands[i].name, rest[0]) == 0)
            cmd = &commands[i];
    if (!cmd)
        return usage_error("unknown command", rest[0]);
    if (cmd->run == cmd_help)
        return cmd_help(NULL, 0, NULL);
    struct config cfg;
    struct config_error cerr;
    if (config_load(&cfg, config_path, &cerr) != ERR_OK) {
        fprintf(stderr, "switchboard: configuration: %s\n", cerr.msg);
        config_release(&cfg);
        return EXIT_USAGE;
    }
    char why[AGENT_WHY_MAX];
    if (agent_tools_check_file(cfg.tools_file, why) != ERR_OK) { /* the file's contents */
        fprintf(stderr, "switchboard: configuration: %s\n", why);
        config_release(&cfg);
        return EXIT_USAGE;
    }
    enum log_level level = cmd->is_server ? LOG_INFO : LOG_FATAL;
    if (*cfg.log_level)
        err_ignore(log_parse_level(cfg.log_level, &level)); /* validated by config */
    log_set_level(level);
    int code = cmd->run(&cfg, n_rest - 1, rest + 1);
    config_release(&cfg);
    return code;
}
