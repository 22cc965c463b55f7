/*
 * server/cli_conversations.h - `switchboard conversations list`.
 */
#ifndef SB_SERVER_CLI_CONVERSATIONS_H
#define SB_SERVER_CLI_CONVERSATIONS_H

#include "core/config.h"

/* `conversations list [--mode ai|human|paused|closed] [--json]`: mode filters by the
 * conversation's mode, "closed" by its window (inbox/window.h). Returns the exit code: 0, 1
 * runtime failure (one line on stderr), 2 usage. */
int cli_conversations(const struct config *cfg, int argc, const char **argv);

#endif
