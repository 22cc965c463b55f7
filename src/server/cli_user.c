/*
 * server/cli_user.c - creating operators from the command line. The password is read from
 * stdin (one line; without echo when stdin is a terminal), never from the arguments, so it
 * does not show in `ps` or the shell history.
 */
#include "server/cli_user.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/crypto.h"
#include "dashboard/dashboard.h"
#include "store/store.h"

static int usage(const char *why)
{
    fprintf(stderr,
            "switchboard user: %s (usage: user add --email E [--role admin|agent], "
            "password on stdin)\n",
            why);
    return 2;
}

static bool read_password(char *out, size_t cap)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
        fputs("Password: ", stderr);
    }
    bool ok = fgets(out, (int)cap, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fputc('\n', stderr);
    }
    out[strcspn(out, "\r\n")] = '\0';
    return ok;
}

static int add(const struct config *cfg, const char *email, const char *role)
{
    char password[1024];
    if (!read_password(password, sizeof password))
        return usage("no password on stdin");
    struct store_opts so = {.data_dir = cfg->data_dir,
                            .database_url = cfg->database_url,
                            .sync_full = strcmp(cfg->db_sync, "full") == 0};
    struct store *s = NULL;
    int64_t id = 0;
    enum err rc = store_open(&so, &s);
    if (rc == ERR_OK)
        rc = store_migrate(s, NULL, NULL);
    if (rc == ERR_OK)
        rc = dashboard_user_add(s, email, role, password, &id);
    crypto_cleanse(password, sizeof password);
    store_free(s);
    if (rc == ERR_INVALID) {
        fprintf(stderr,
                "switchboard user: the email must look like name@example.com, the role "
                "admin or agent, and the password at least %d characters\n",
                DASHBOARD_PASSWORD_MIN);
        return 2;
    }
    if (rc == ERR_CONFLICT) {
        fprintf(stderr, "switchboard user: an operator with the email %s already exists\n", email);
        return 1;
    }
    if (rc != ERR_OK) {
        fprintf(stderr, "switchboard user: could not create the operator: %s\n", err_name(rc));
        return 1;
    }
    printf("operator %lld created: %s (%s)\n", (long long)id, email, role);
    return 0;
}

int cli_user(const struct config *cfg, int argc, const char **argv)
{
    if (argc < 1 || strcmp(argv[0], "add") != 0)
        return usage("unknown subcommand");
    const char *email = NULL, *role = "admin";
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--email") == 0)
            email = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--role") == 0)
            role = argv[++i];
        else
            return usage("unexpected argument");
    }
    if (!email)
        return usage("--email is required");
    if (strcmp(role, "admin") != 0 && strcmp(role, "agent") != 0)
        return usage("--role must be admin or agent");
    return add(cfg, email, role);
}
