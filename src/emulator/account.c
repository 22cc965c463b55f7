/*
 * emulator/account.c - POST /_emulator/users/{asid}/deauthorize and .../delete-data: a person
 * removes the app, or asks for their data to be deleted, and Meta calls the app back.
 *
 * As meta-platform.md 8 says: the callback receives a form POST `signed_request=<sig>.<payload>`
 * (emu_signed_request(), deliver.c) naming the app-scoped user id. Deauthorizing also kills
 * every token of the user (graph.c checks has_app) and uninstalls the app from the Pages they
 * own. The control call answers with what the app's callback answered.
 * Locking: e->mu for the lookup and the change; never during the callback.
 */
#include "emulator/emu_deliver.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "http/client.h"

#define CALLBACK_TIMEOUT_MS 5000
#define CALLBACK_MAX_RESP   ((size_t)64 * 1024)

static int user_by_asid(const struct emulator *e, const char *asid)
{
    for (int i = 0; asid && i < e->n_users; i++)
        if (strcmp(e->users[i].asid, asid) == 0)
            return i;
    return -1;
}

static bool customer_asid(const struct emulator *e, const char *asid)
{
    for (int i = 0; asid && i < e->n_customers; i++)
        if (strcmp(e->customers[i].asid, asid) == 0)
            return true;
    return false;
}

static void deauthorize(struct emulator *e, int user)
{
    e->users[user].has_app = false;
    for (int p = 0; p < e->n_pages; p++)
        if (e->pages[p].owner == user)
            e->pages[p].subscribed_fields[0] = '\0';
}

/* Under mu: checks the person, applies a deauthorization, and returns the callback URL to
 * call (caller frees) with *sr set to the signed_request (caller frees); NULL after setting
 * *status and *why (404: no such person; 409: no callback configured). */
static char *prepare(struct emulator *e, const char *asid, bool deauth, char **sr, int *status,
                     const char **why)
{
    int user = user_by_asid(e, asid);
    if (user < 0 && (deauth || !customer_asid(e, asid))) {
        *status = 404;
        *why = "no person with this app-scoped id";
        return NULL;
    }
    if (deauth) /* the person removed the app, whether or not anyone is told */
        deauthorize(e, user);
    const char *url = deauth ? e->deauthorize_url : e->deletion_url;
    if (!url) {
        *status = 409;
        *why = deauth ? "no deauthorize_url configured (the user was deauthorized)"
                      : "no deletion_url configured";
        return NULL;
    }
    *sr = emu_signed_request(e, asid);
    return xstrdup(url);
}

/* POSTs the form; answers the control call with the callback's status and body. */
static void call_back(struct http_req *r, const char *url, const char *sr)
{
    struct arena *a = http_req_arena(r);
    const char *form = arena_printf(a, "signed_request=%s", http_url_encode(a, sr));
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded",
                             "User-Agent: facebookexternalua", "Expect:", NULL};
    struct http_client_resp resp;
    enum err rc = http_client_do("POST", url, headers, form, strlen(form), CALLBACK_TIMEOUT_MS,
                                 CALLBACK_MAX_RESP, &resp);
    if (rc != ERR_OK) {
        log_info("emulator.callback_failed", LOG_ERR(rc));
        emu_ctl_error(r, 502, "the app's callback did not answer");
        return;
    }
    json_t *body = json_loadb(resp.body, resp.len, JSON_DECODE_ANY, NULL);
    if (!body)
        body = json_stringn(resp.body, resp.len);
    if (!body) /* not UTF-8 */
        body = json_null();
    free(resp.body);
    http_reply_json(r, 200, json_pack("{s:i, s:o}", "status", resp.status, "body", body));
}

void emu_h_control_user_action(struct http_req *r, void *ctx)
{
    struct emulator *e = ctx;
    const char *asid = http_req_param(r, "asid");
    const char *action = http_req_param(r, "action");
    bool deauth = action && strcmp(action, "deauthorize") == 0;
    if (!deauth && !(action && strcmp(action, "delete-data") == 0)) {
        emu_ctl_error(r, 404, "the action is deauthorize or delete-data");
        return;
    }
    char *sr = NULL;
    int status = 0;
    const char *why = NULL;
    pthread_mutex_lock(&e->mu);
    char *url = prepare(e, asid, deauth, &sr, &status, &why);
    pthread_mutex_unlock(&e->mu);
    if (!url) {
        emu_ctl_error(r, status, why);
        return;
    }
    log_info(deauth ? "emulator.deauthorize" : "emulator.delete_data", LOG_STR("asid", asid));
    call_back(r, url, sr);
    free(url);
    free(sr);
}
