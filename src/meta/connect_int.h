/*
 * meta/connect_int.h - shared by connect.c (the sequence) and connect_check.c (the
 * self-test's findings). Nothing outside meta/ includes it.
 */
#ifndef SB_META_CONNECT_INT_H
#define SB_META_CONNECT_INT_H

#include <stdbool.h>

#include "meta/connect.h"

/* One Page from /me/accounts. Strings in the report arena, except token (heap, wiped). */
struct conn_page {
    const char *id, *name;
    const char *ig_id, *ig_username, *ig_picture; /* NULL: no linked Instagram account */
    char *token;
    int64_t token_expires_at; /* ms; 0: never */
    bool is_skipped;          /* no usable token, or a duplicate Instagram link: not stored */
    bool is_ig_skipped;       /* its Instagram account is stored under another Page */
    int64_t acct_id, ig_acct_id;
    enum store_token_verdict verdict, ig_verdict;
};

struct conn {
    struct meta_graph *g;
    struct store *s;
    struct meta_vault *v;
    const struct meta_connect_opts *o;
    struct meta_connect_report *r;
    struct arena *a;   /* the caller's: the report */
    struct arena work; /* Graph answers; released at the end */
    int64_t now_ms;
    size_t cap_findings;
    const char *input_token;     /* the caller's, borrowed */
    char *user_token;            /* long-lived; heap, wiped at the end */
    struct meta_token_info user; /* its debug_token (in work) */
    const json_t *granular;      /* data.granular_scopes, or NULL (in work) */
    struct conn_page *pages;     /* heap array */
    size_t n_pages, cap_pages;
    struct store_account *unlinked; /* stored Instagram rows whose Page dropped them */
    size_t n_unlinked;
};

/* Appends a finding (text formatted into the report arena). */
void conn_finding(struct conn *c, enum meta_finding_kind k, const char *subject, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));
/* "'Northwind Coffee' (104000000000001)". */
const char *conn_page_label(struct conn *c, const struct conn_page *p);
/* "Instagram account @northwind.coffee", or with the id when the username is unknown. */
const char *conn_ig_label(struct conn *c, const char *username, const char *id);

/* The self-test, before anything is written: scopes (overall and per Page / Instagram
 * account), Pages without Instagram, an Instagram account under two Pages, the login's data
 * access ending soon. */
void conn_check_login(struct conn *c);
/* Compares the listing with the stored rows: an Instagram account that moved to another Page,
 * or that a connected Page no longer links (collected in c->unlinked). Store errors returned. */
MUST_USE enum err conn_check_pairing(struct conn *c);

#endif
