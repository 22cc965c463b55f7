/*
 * server/cli_user.h - `switchboard user add --email E [--role admin|agent]`.
 */
#ifndef SB_SERVER_CLI_USER_H
#define SB_SERVER_CLI_USER_H

#include "core/config.h"

/* Returns the process exit code (0, 1 runtime failure, 2 usage). */
int cli_user(const struct config *cfg, int argc, const char **argv);

#endif
