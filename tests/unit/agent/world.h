/*
 * tests/unit/agent/world.h - a store with the sample shop's knowledge base (examples/kb,
 * indexed from the repository root where make test runs), an agent and a one-message turn,
 * for the agent's tests (header-only).
 */
#ifndef SB_TEST_AGENT_WORLD_H
#define SB_TEST_AGENT_WORLD_H

#include "agent/agent.h"

#include "testutil.h"

#include "kb/kb.h"
#include "store/store.h"

struct world {
    char dir[256];
    struct store *s;
    struct kb *kb;
    struct agent *ag;
    struct agent_settings st;
    struct arena a;
};

static inline struct world *world_new(const struct agent_opts *o)
{
    struct world *w = calloc(1, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "%s", tu_tmpdir());
    assert_int_equal(store_open(&(struct store_opts){.data_dir = w->dir}, &w->s), ERR_OK);
    assert_int_equal(store_migrate(w->s, NULL, NULL), ERR_OK);
    static const struct kb_opts ko = {0};
    assert_int_equal(kb_new(w->s, &ko, &w->kb), ERR_OK);
    assert_int_equal(kb_add_path(w->kb, "examples/kb", NULL, NULL), ERR_OK);
    struct agent_opts ao = o ? *o : (struct agent_opts){0};
    if (!ao.business_name)
        ao.business_name = "Northwind Coffee";
    char why[AGENT_WHY_MAX];
    assert_int_equal(agent_new(&ao, &w->ag, why), ERR_OK);
    agent_settings_init(&w->st);
    arena_init(&w->a);
    return w;
}

static inline void world_free(struct world *w)
{
    arena_release(&w->a);
    agent_free(w->ag);
    kb_free(w->kb);
    store_free(w->s);
    tu_rmrf(w->dir);
    free(w);
}

/* A first message from a customer on Instagram, with history (may be NULL). */
static inline struct agent_context world_turn(struct agent_message *msg, const char *text,
                                              const struct agent_message *history, size_t n)
{
    *msg = (struct agent_message){.role = AGENT_ROLE_CUSTOMER, .text = text, .at_ms = 1};
    return (struct agent_context){.conversation_id = 1,
                                  .platform = "Instagram",
                                  .max_bytes = 1000,
                                  .customer_name = "Maya Lopez",
                                  .history = history,
                                  .n_history = n,
                                  .incoming = msg,
                                  .n_incoming = 1,
                                  .needs_disclosure = n == 0,
                                  .now_ms = 1767225600000LL};
}

#endif
