/*
 * tests/unit/meta/test_parse.c - meta_parse_delivery() on every webhook fixture, on broken
 * bodies, and on the dedupe keys it derives.
 *
 * Every expectation below was read from the fixture file itself (see the fixtures README for
 * what each one is). FRAGMENT fixtures are first parsed as they are (and must be refused with
 * the documented reason), then wrapped in the smallest envelope that makes them a delivery.
 */
#include "meta/meta.h"

#include "testutil.h"

#include <dirent.h>

#include "core/json.h"

/* ---- expectations ---- */

struct exp_att {
    const char *type, *url, *title, *id;
};

/* One expected event. Every member is checked: a NULL string means "must be NULL", 0 means 0.
 * key is exact, or ends in ':' for a content key: "<kind>:" followed by 32 hex digits. */
struct exp_ev {
    const char *kind, *channel, *entry_id, *field, *sender, *recipient;
    int64_t ts_ms;
    const char *mid, *text;
    size_t n_att;
    struct exp_att att[2];
    const char *quick_reply, *reply_mid, *story_id, *story_url;
    bool is_echo, is_self, is_unsupported;
    const char *app_id, *metadata, *reaction, *emoji;
    bool is_unreact;
    const char *pb_title, *pb_payload;
    int64_t watermark_ms, num_edit;
    bool has_referral;
    const char *ref, *ref_source, *ref_type, *ref_ad_id;
    const char *comment_id, *media_id, *parent_id, *from_id, *from_username, *verb;
    const char *key;
};

/* How a FRAGMENT fixture becomes a delivery. */
enum wrap {
    WRAP_NONE,
    WRAP_ENTRY_ARRAY, /* the file is the `entry` array: {"object":O,"entry":FILE} */
    WRAP_ENTRY,       /* the file is one entry: {"object":O,"entry":[FILE]} */
    WRAP_VALUE,       /* the file is a change's value, put under ev[0].entry_id / ev[0].field */
    WRAP_HTTP_BODY,   /* the file records an HTTP request: parse its "body" string */
};

struct fixture_case {
    const char *path;
    enum wrap wrap;
    const char *raw_reason; /* wrapped fixtures: why the file itself is refused */
    const char *object;
    size_t n_events;
    struct exp_ev ev[2];
};

#define IG "webhooks/instagram/"
#define PG "webhooks/page/"

/* Long ids and URLs, decoded (`\/` -> `/`, surrogate pairs -> UTF-8). */
#define MID_IG_IMAGE                                                                               \
    "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDcyMTEwNTU4MTM2OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI3"   \
    "NjAyNTg0MzYzNjQ5MDY2MjozMjEwMDIzNjExNTg4MzI3NzM3OTI0MTg2MTg1NjYyNDY0MAZDZD"
#define URL_IG_IMAGE                                                                               \
    "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1151970572602487&signature="           \
    "AYddBE7nIoOZgwxUzmOcNvQdjj-29xgWns_TQqxig-qfUXUUXjn3FsBFrPGA9sDrgJPpxqhyESOuWSx8YDWN_"        \
    "2nDrVU1--ByBoPnPidHowPGtlqR_W5011Zjt0RbEvRwHJ4h8vDuIIB_qDVf9u3F63x5NtubhGLnBoXy2OhMJLXX_"     \
    "xALKGdIbrtjowK8u253rz5w_vqLJ6VR4d5jEMNjtzMvLNRvIFE"
#define MID_IG_SHARE                                                                               \
    "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDcyMTEwNTU4MTM2OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI3"   \
    "NjAyNTg0MzYzNjQ5MDY2MjozMjEwNjQxMzY3MTYwMjkxMzc0MzYxNzk5NjM1MTM0MDU0NAZDZD"
#define URL_IG_SHARE                                                                               \
    "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18145475416367289&signature="          \
    "AYc5D6qrK74sOCiuPebloa13t3f4_KuOLtSmMILuQtzaAAsS1__4zT-1fdevlC4pFSODRpzokMQwcpftAyTY7SlFE2z4" \
    "wPPJJwF1UZfzsl55MZpgvwr7I-QbpcHShTLwQL4rnftQdOm9yRJr3N3Cs5Jp1qqv7efw0MJ151RtJcwsgC9ikHEEHAnJ" \
    "akawLF6oaXlWBJYHk36V1YIbQm6jqDzTCGwycFUy"
#define MID_IG_UNSUPPORTED                                                                         \
    "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDUyNjkxNjAwMDk4OjM0MDI4MjM2Njg0MTcxMDMwMDk0OTEy"   \
    "ODUyNTYwOTEwODQ0ODU4MjozMDc2OTU4MTA5OTY0OTI5MzAzMjAwODc1MDUxMTE2MTM0NAZDZD"
#define URL_IG_UNSUPPORTED                                                                         \
    "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17997515821557846&signature="          \
    "AbyoRMtwJfAwfS_JCQkUSk4cdnDbIxMpTQXNWXt1D5Y9DEBSrgaz6PUk279coBxpvYHihuOmA1dxxabr6j0XitFYd21z" \
    "2PaGBG82_AH9WFAbok5IY3cDhSTWb8LRadklr0IOm8UP0O8RZnWI4IiUfDuD19-CdVWih_byfkU5WUJTUGJi6PkuOA0r" \
    "zdyG4O9fOPAshk8gx631mtlydnq63ILMPzyM8sc"
#define MID_IG_REEL                                                                                \
    "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDc4MzQxNTgwMjY0OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1"   \
    "OTk4ODUyNTY2NzEzODQwMzozMjUyMjIwOTQxNTQzNjQ4MTA4OTMyODI5MDczNDI3NjYwOAZDZD"
#define TITLE_IG_REEL                                                                              \
    "VIP King \xF0\x9F\x91\x91 \xF0\x9F\x93\x88\n\n#EgoVibes\n#AttitudeMatters\n#SavageMode\n"     \
    "#AlphaMindset\n#RealTalkVibes\n#LiveOnYourTerms\n#SelfMadeVibes\n#PowerAttitude\n"            \
    "#MainCharacterEnergy\n#UnbotheredAlways\n#RuleYourWorld\n#NoLimitsMindset\n"                  \
    "#MotivationDaily\n#GrindAndShine\n#SuccessIsMindset\n#LifeWithPurpose\n#FocusOnYou\n"         \
    "#RiseAndLead\n#BuiltNotBorn\n#OwnTheMoment\n#LegendInMaking\n#BossMentality\n#DrivenByEgo\n"  \
    "#LifeUnfiltered\n#NeverSettle"
#define URL_IG_REEL                                                                                \
    "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18090345520838968&signature="          \
    "AYdKa9IKCaJp-3wobSVoR4hCY99CoiE_CzfTMZMG2sn_N3Nn8TtN_a78AzwlfjFC7K_5uo_9NQFQSFkj_QrKlkIP3tju" \
    "VQnbD35bO-S0O1tWxsVLPvYH3VMsZRu1l0QGIfQY2kcaKyc50ixPKtEq2eotiIjysTJ9DZRR3vssMba-NBLX4s-7iL2h" \
    "nvi_nyrwNVl3D2b6o2EDFRBdMQz5UcVoxxnMxNQ"
#define TITLE_IG_POST                                                                              \
    "Build a workspace that attracts talent and supports your team with solutions made for "       \
    "growing businesses."
#define URL_IG_POST                                                                                \
    "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18139494541428835={SIGNATURE}"
#define MID_IG_STORY_REPLY                                                                         \
    "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDUzMjQ3MTcwMDg4OjM0MDI4MjM2Njg0MTcxMDMwMDk0OTEy"   \
    "ODIzMDgzNDcxMjk1NzEyMTozMDY4NzY0OTcyOTkyMTUyNDI1NTAzMTE4MTE3NjczMzY5NgZDZD"
#define URL_IG_STORY                                                                               \
    "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18040775032372871&signature="          \
    "Abyyr4prldgT6f3WdknhoNI3YH1jmZAIXzQZica0kMUgrNbji-13i7FeAUN0Zu0DIyB080Kmg3xA1bRzMVnv37bJwKqD" \
    "pIn1yTjaIvikTjoAx7MnYmTUKjdZY7ZMCNIVVfYkAp6pT7myi7VvsVZxav4sPkF7RCcBMmdfoYE9Wit7WFE2i3DtpvEf" \
    "cl8Yrpwxq864gunRiZGxjljUetbjeHQlJmvmWqk"
#define MID_IG_TEXT                                                                                \
    "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwNTM4ODY3MTkwOjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1"   \
    "ODU5OTE3NTI2OTQwODg3NjozMjUwMzU3NTI4NDQ2NDA1ODQ5NjkyMTc3NjY5OTczNjA2NAZDZD"
#define MID_IG_PRETTY                                                                              \
    "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDQ1MjA0NjQ2Mjc2OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1"   \
    "OTkyNDE4MDE3NjkwMDgzOTozMjQwNDQ1ODU2NTczMzA4MTQ1NDA0MjUwNzIyNzY5MzA1NgZDZD"
#define MID_IG_SEEN                                                                                \
    "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDIxOTMwMjE1NzU3OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI3"   \
    "NjI3MDQyNzMzODYwMzc1NTozMjkxMjY4NTE1Mzk3MDQwMzA2MTE4ODU3Nzc3MDYwMjQ5NgZDZD"
#define MID_IG_REACTED                                                                             \
    "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA0NjQ1NTkzNDMzOjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1"   \
    "ODY0MDc4MjI2ODU3NDAyMjozMjcyNjk1NTA1MjUxNTczODkyODQ3ODE4Mjc3MjMxMDAxNgZDZD"
#define MID_IG_STANDBY                                                                             \
    "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDU2Nzc4NzUyNjg3OjM0MDI4MjM2Njg0MTcxMDMwMDk0OTEy"   \
    "ODIyOTI1MDE3MzM4OTQ0MzozMDc4NjI2MTUwNTgxMDQ0MzU2NDA0MDQ0MjY0MzIxODQzMgZDZD"

static const struct fixture_case instagram_cases[] = {
    {IG "changes_comments__restfb.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "comment",
       .channel = "changes",
       .entry_id = "0",
       .field = "comments",
       .sender = "1234536447",
       .ts_ms = 1519399307000, /* entry.time in seconds */
       .text = "This is an example.",
       .comment_id = "123456789",
       .media_id = "76543987",
       .parent_id = "987654321",
       .from_id = "1234536447",
       .from_username = "testuser",
       .key = "comment:123456789"}}},
    {IG "changes_comments_minimal__restfb.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "comment",
       .channel = "changes",
       .entry_id = "0",
       .field = "comments",
       .ts_ms = 1519399307000,
       .text = "This is an example.",
       .comment_id = "123456789",
       .key = "comment:123456789"}}},
    {IG "changes_live_comments__restfb.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "live_comment",
       .channel = "changes",
       .entry_id = "0",
       .field = "live_comments",
       .ts_ms = 1519399307000,
       .text = "This is an example.",
       .comment_id = "123456789",
       .key = "live_comment:123456789"}}},
    {IG "changes_mentions__restfb.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "mention",
       .channel = "changes",
       .entry_id = "0",
       .field = "mentions",
       .ts_ms = 1519399310000,
       .comment_id = "17887498072083520",
       .media_id = "17887498072083520",
       .key = "mention:"}}},
    {IG "changes_story_insights__restfb.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "story_insights",
       .channel = "changes",
       .entry_id = "0",
       .field = "story_insights",
       .ts_ms = 1519399312000,
       .media_id = "17887498072083520",
       .key = "story_insights:"}}},
    {IG "dashboard_test_mentions__tsfile_16224196133.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "mention",
       .channel = "changes",
       .entry_id = "0",
       .field = "mentions",
       .ts_ms = 1740156774000,
       .comment_id = "17887498072083520",
       .media_id = "17887498072083520",
       .key = "mention:"}}},
    /* the dashboard's nonsense timestamp 233445667 is below 1e12, so it is read as seconds */
    {IG "dashboard_test_message_reactions__lambda_log_48003812749.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "reaction",
       .channel = "messaging",
       .entry_id = "0",
       .sender = "12334",
       .recipient = "23245",
       .ts_ms = 233445667000,
       .mid = "random_mid",
       .reaction = "love",
       .emoji = "\xE2\x9D\xA4\xEF\xB8\x8F",
       .key = "reaction:"}}},
    {IG "dashboard_test_message_reactions_http__lambda_log_48003812749.json",
     WRAP_HTTP_BODY,
     "no entry array",
     "instagram",
     1,
     {{.kind = "reaction",
       .channel = "messaging",
       .entry_id = "0",
       .sender = "12334",
       .recipient = "23245",
       .ts_ms = 233445667000,
       .mid = "random_mid",
       .reaction = "love",
       .emoji = "\xE2\x9D\xA4\xEF\xB8\x8F",
       .key = "reaction:"}}},
    /* a DM inside changes[]: value.timestamp is the STRING "1527459824" (seconds) */
    {IG "dashboard_test_messages_changes_envelope__cs_test_68881107644.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "message",
       .channel = "changes",
       .entry_id = "0",
       .field = "messages",
       .sender = "12334",
       .recipient = "23245",
       .ts_ms = 1527459824000,
       .mid = "random_mid",
       .text = "random_text",
       .key = "mid:random_mid"}}},
    /* no object, no entry: a bare {field, value} */
    {IG "dashboard_test_messages_unwrapped__lambda_log_7281217751.json",
     WRAP_NONE,
     NULL,
     "",
     1,
     {{.kind = "message",
       .channel = "changes",
       .entry_id = "0",
       .field = "messages",
       .sender = "12334",
       .recipient = "23245",
       .ts_ms = 1527459824000,
       .mid = "random_mid",
       .text = "random_text",
       .key = "mid:random_mid"}}},
    {IG "message_attachment_image__tsfile_16224196133.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "17841472110558136",
       .sender = "489760440872775",
       .recipient = "17841472110558136",
       .ts_ms = 1740157286706,
       .mid = MID_IG_IMAGE,
       .n_att = 1,
       .att = {{.type = "image", .url = URL_IG_IMAGE}},
       .key = "mid:" MID_IG_IMAGE}}},
    {IG "message_attachment_like_heart__courier.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "1234567890",
       .sender = "5678",
       .recipient = "1234567890",
       .ts_ms = 1459991487970,
       .mid = "external_id",
       .n_att = 1,
       .att = {{.type = "like_heart"}},
       .key = "mid:external_id"}}},
    {IG "message_attachment_share_post__tsfile_16224196133.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "17841472110558136",
       .sender = "489760440872775",
       .recipient = "17841472110558136",
       .ts_ms = 1740492172673,
       .mid = MID_IG_SHARE,
       .n_att = 1,
       .att = {{.type = "share", .url = URL_IG_SHARE}},
       .key = "mid:" MID_IG_SHARE}}},
    {IG "message_attachment_unsupported_type__restfb.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "17841452691600098",
       .sender = "5614879045272581",
       .recipient = "17841452691600098",
       .ts_ms = 1668022333735,
       .mid = MID_IG_UNSUPPORTED,
       .n_att = 1,
       .att = {{.type = "unsupported_type", .url = URL_IG_UNSUPPORTED}},
       .key = "mid:" MID_IG_UNSUPPORTED}}},
    /* no sender or recipient at all; num_edit is the number 0 */
    {IG "message_edit_num_edit_0__cs_test_68881107644.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "message_edit",
       .channel = "messaging",
       .entry_id = "178414632",
       .ts_ms = 1787421411020,
       .mid = "abc",
       .num_edit = 0,
       .key = "edit:abc:0"}}},
    /* the business's own send: sender == entry.id; is_echo comes after attachments */
    {IG "message_ig_reel_echo__pyfile_58257524432.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "echo",
       .channel = "messaging",
       .entry_id = "17841478341580264",
       .sender = "17841478341580264",
       .recipient = "1180226157355226",
       .ts_ms = 1763032505112,
       .mid = MID_IG_REEL,
       .n_att = 1,
       .att = {{.type = "ig_reel",
                .url = URL_IG_REEL,
                .title = TITLE_IG_REEL,
                .id = "18090345520838968"}},
       .is_echo = true,
       .key = "mid:" MID_IG_REEL}}},
    /* timestamp (2019) later than entry.time (2016): the event's own time wins */
    {IG "message_is_deleted__courier.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "message_deleted",
       .channel = "messaging",
       .entry_id = "1234567890",
       .sender = "5678",
       .recipient = "1234567890",
       .ts_ms = 1569262485349,
       .mid = "external_id",
       .key = "del:external_id"}}},
    /* FRAGMENT: the `entry` array alone, a JSON array at the top */
    {IG "message_is_unsupported__chatwoot_pr4100_entry_array.json",
     WRAP_ENTRY_ARRAY,
     "not a JSON object",
     "instagram",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "17841449543715721",
       .sender = "some_id",
       .recipient = "some_id",
       .ts_ms = 1646241593850,
       .mid = "some_mid",
       .is_unsupported = true,
       .key = "mid:some_mid"}}},
    /* one share, two attachments with identical payloads; ig_post_media_id names the post */
    {IG "message_share_and_ig_post__meta_docs.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "{PAGE_ID}",
       .sender = "{SENDER_ID}",
       .recipient = "{PAGE_ID}",
       .ts_ms = 1761287294014,
       .mid = "{MESSAGE_ID}",
       .n_att = 2,
       .att = {{.type = "share",
                .url = URL_IG_POST,
                .title = TITLE_IG_POST,
                .id = "18139494541428835"},
               {.type = "ig_post",
                .url = URL_IG_POST,
                .title = TITLE_IG_POST,
                .id = "18139494541428835"}},
       .key = "mid:{MESSAGE_ID}"}}},
    {IG "message_story_mention__courier.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "1234567890",
       .sender = "5678",
       .recipient = "1234567890",
       .ts_ms = 1459991487970,
       .mid = "external_id",
       .n_att = 1,
       .att = {{.type = "story_mention", .url = "https://story-url"}},
       .key = "mid:external_id"}}},
    {IG "message_story_reply__restfb_issue1246.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "17841453247170088",
       .sender = "3603717463085785",
       .recipient = "17841453247170088",
       .ts_ms = 1663580825282,
       .mid = MID_IG_STORY_REPLY,
       .text = "Hello story",
       .story_id = "18040775032372871",
       .story_url = URL_IG_STORY,
       .key = "mid:" MID_IG_STORY_REPLY}}},
    /* entry.time is 42 s after the message: ts_ms is the message's timestamp */
    {IG "message_text__jsfile_1134856649.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "17841400538867190",
       .sender = "1129842642640637",
       .recipient = "17841400538867190",
       .ts_ms = 1762022346848,
       .mid = MID_IG_TEXT,
       .text = "OI",
       .key = "mid:" MID_IG_TEXT}}},
    /* entry.time is 15 minutes late */
    {IG "message_text_pretty_logged__log_66537511723.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "17841445204646276",
       .sender = "751391291169578",
       .recipient = "17841445204646276",
       .ts_ms = 1756649218759,
       .mid = MID_IG_PRETTY,
       .text = "Hello\xE2\x80\x99s",
       .key = "mid:" MID_IG_PRETTY}}},
    /* IG seen: read.mid, no watermark */
    {IG "messaging_seen__restfb.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "read",
       .channel = "messaging",
       .entry_id = "17841452691600098",
       .sender = "5614879045272581",
       .recipient = "17841452691600098",
       .ts_ms = 1668022333735,
       .mid = "MESSAGE-ID",
       .key = "read:"}}},
    {IG "messaging_seen_no_sender__jsfile_62287235560.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "read",
       .channel = "messaging",
       .entry_id = "17841421930215757",
       .ts_ms = 1784200184302,
       .mid = MID_IG_SEEN,
       .key = "read:"}}},
    {IG "postback_icebreaker__courier.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "postback",
       .channel = "messaging",
       .entry_id = "1234567890",
       .sender = "5678",
       .recipient = "1234567890",
       .ts_ms = 1459991487970,
       .pb_title = "icebreaker question",
       .pb_payload = "get_started",
       .key = "postback:"}}},
    {IG "reaction_react_like__rails_log_megaapp439.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "reaction",
       .channel = "messaging",
       .entry_id = "17841404645593433",
       .sender = "6234380736598057",
       .recipient = "17841404645593433",
       .ts_ms = 1774131815375,
       .mid = MID_IG_REACTED,
       .reaction = "like",
       .emoji = "\xF0\x9F\x91\x8D",
       .key = "reaction:"}}},
    {IG "standby_text__chatwoot_issue5906.json",
     WRAP_NONE,
     NULL,
     "instagram",
     1,
     {{.kind = "message",
       .channel = "standby",
       .entry_id = "17841456778752687",
       .sender = "8422491661125971",
       .recipient = "17841456778752687",
       .ts_ms = 1668926580365,
       .mid = MID_IG_STANDBY,
       .text = "Hello",
       .key = "mid:" MID_IG_STANDBY}}},
};

#define URL_FB_COMMENT_PHOTO_CN                                                                    \
    "https://scontent-hkg4-2.xx.fbcdn.net/v/t39.30808-6/"                                          \
    "405394699_122114468852095105_8124104428754459742_n.jpg?_nc_cat=108&ccb=1-7&_nc_sid=7fe00f&"   \
    "_nc_ohc=yD_vx6DslH0AX-N7oN-&_nc_ht=scontent-hkg4-2.xx&oh=00_"                                 \
    "AfBjQBm-8rG4LjxoUXUGYAMz49_-KkJwjh0NOyJpIJJFgA&oe=65723DB2"
#define URL_FB_COMMENT_PHOTO                                                                       \
    "https://scontent-fra3-1.xx.fbcdn.net/v/t31.0-8/"                                              \
    "16715996_472849323104563_2289972788116415727_o.jpg?oh=7e0959913ff772d51e17b6d2bdebf44f&oe="   \
    "593B77BB"
#define URL_FB_PHOTO_POST                                                                          \
    "https://scontent-hkt1-2.xx.fbcdn.net/v/t39.30808-6/"                                          \
    "407665458_332029739581441_4167626750318845542_n.jpg?_nc_cat=106&ccb=1-7&_nc_sid=ab7367&"      \
    "_nc_ohc=ujJFqIHMW0AAX8BxGuD&_nc_ad=z-m&_nc_cid=0&_nc_ht=scontent-hkt1-2.xx&oh=00_"            \
    "AfDH7EjdkXhzQhMPb8vN4PtBYZS_ynirIGhZ6vjVtWE4HQ&oe=65725A75"
#define URL_FB_VIDEO_POST                                                                          \
    "https://video-sea1-1.xx.fbcdn.net/v/t42.1790-2/"                                              \
    "407679049_1417265355666332_7717967206223128880_n.mp4?_nc_cat=111&ccb=1-7&_nc_sid=55d0d3&efg=" \
    "eyJ2ZW5jb2RlX3RhZyI6InN2ZV9zZCJ9&_nc_ohc=O6tWhAEQw-sAX86z5w3&_nc_ht=video-sea1-1.xx&oh=00_"   \
    "AfDMX3GYk2lSljNsiPO-4AE0fA5cjdsa47o7dPVlcZdnzg&oe=6571C794"
#define URL_FB_ECHO_VIDEO                                                                          \
    "https://video.xx.fbcdn.net/v/t42.3356-2/"                                                     \
    "404113427_7310046289005855_3267958592431621545_n.mp4?_nc_cat=104&ccb=1-7&_nc_sid=4f86bc&_nc_" \
    "ohc=Jrjz9hi_IugAX8CMYmc&_nc_ht=video.xx&oh=03_AdTSshlTzTXrC_"                                 \
    "NPJsdfUfBDTWwG7FqkLetAzI03dXJgqA&"                                                            \
    "oe=6574893B"
#define MID_FB_ECHO_VIDEO                                                                          \
    "m_lpISezyzgmdj7S4AdRNwfBaFKDaSHKj0VwleR8zf-rPFyfEH4c1bP0rW1A7e3SPURMh-ZfQsrr6qSCZXECv4xw"
#define URL_FB_STICKER_LIKE                                                                        \
    "https://scontent.xx.fbcdn.net/v/t39.1997-6/"                                                  \
    "851557_369239266556155_759568595_n.png?_nc_ad=z-m&"                                           \
    "oh=85e24066ebe64f04d457b242e22e7054&oe=5939B5DC"
#define MID_FB_TEXT_CN                                                                             \
    "m_G7806MxRRtEYRbaFW9DwQhGzibAfjF_0k8aXBtCrvhCCBUkL2hQxQYVrwMAV-oVdDMDMUsN7b8NAhW6kufP2Mw"
#define MID_FB_CHINESE                                                                             \
    "m_EYIjld_07gZyN02MY6vztOXzGkvslWQkbqadVHtQ-MRw2PakktSufK_6Pz_0PTnbOC72fWaxZLT-IC7sPF7etg"
#define MID_FB_REACTED                                                                             \
    "m_QYDlT7E_AuSvLNf1ZclHIxGzibAfjF_0k8aXBtCrvhDgwJsqwtunSLKU9L7XB8aoQF1odHsDHnaOv99ud41Onw"
#define MID_FB_OLD    "mid.1457764197618:41d102a3e1ae206a38"
#define MID_FB_ATTACH "mid.1458696618141:b4ef9d19ec21086067"
#define EMOJI_CRY     "\xF0\x9F\x98\xA2"

static const struct fixture_case page_cases[] = {
    /* an event key the parser has no kind for: kept as "unknown"; no timestamp at all */
    {PG "account_linking_linked__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "unknown",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .key = "unknown:"}}},
    {PG "delivery__cn_notes.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "delivery",
       .channel = "messaging",
       .entry_id = "134968929707951",
       .sender = "7689966077685933",
       .recipient = "134968929707951",
       .ts_ms = 1698636947322,
       .watermark_ms = 1698636946713,
       .key = "delivery:"}}},
    /* no timestamp on the item; numeric ids */
    {PG "delivery__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "delivery",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .watermark_ms = 1458668856253,
       .key = "delivery:"}}},
    {PG "feed_comment_add__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "1234567890321",
       .field = "feed",
       .sender = "1234567890321",
       .ts_ms = 1449135003000,
       .text = "and the next one",
       .comment_id = "901097836652708_903438993085259",
       .media_id = "1234567890321_901097836652708",
       .parent_id = "1234567890321_901097836652708",
       .from_id = "1234567890321",
       .verb = "add",
       .key = "feed:"}}},
    /* FRAGMENT: a change's value only (a comment that is just a photo, no message) */
    {PG "feed_comment_add_photo__cn_notes_value_fragment.json",
     WRAP_VALUE,
     "no entry array",
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "110322572167401",
       .field = "feed",
       .sender = "134968929707951",
       .ts_ms = 1701671865000,
       .n_att = 1,
       .att = {{.type = "photo", .url = URL_FB_COMMENT_PHOTO_CN}},
       .comment_id = "122141721440024251_657063669920574",
       .media_id = "110322572167401_122141721440024251",
       .parent_id = "110322572167401_122141721440024251",
       .from_id = "134968929707951",
       .verb = "add",
       .key = "feed:"}}},
    /* old shape: sender_id is a number */
    {PG "feed_comment_add_photo__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "1234567890321",
       .field = "feed",
       .sender = "1234567890321",
       .ts_ms = 1449135003000,
       .text = "and the next one",
       .n_att = 1,
       .att = {{.type = "photo", .url = URL_FB_COMMENT_PHOTO}},
       .comment_id = "901097836652708_903438993085259",
       .media_id = "1234567890321_901097836652708",
       .parent_id = "1234567890321_901097836652708",
       .from_id = "1234567890321",
       .verb = "add",
       .key = "feed:"}}},
    {PG "feed_comment_add_v25__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "1234567890321",
       .field = "feed",
       .sender = "1234567890321",
       .ts_ms = 1449135003000,
       .text = "and the next one",
       .comment_id = "901097836652708_903438993085259",
       .media_id = "1234567890321_901097836652708",
       .parent_id = "1234567890321_901097836652708",
       .from_id = "1234567890321",
       .verb = "add",
       .key = "feed:"}}},
    {PG "feed_comment_add_with_post__cn_notes.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "370873143344730",
       .field = "feed",
       .sender = "6780462125377510",
       .ts_ms = 1701413571000,
       .text = "\xE6\x89\x8B\xE5\x8A\xA8\xE7\x82\xB9\xE8\xB5\x9E",
       .comment_id = "690891113073877_759878495960329",
       .media_id = "370873143344730_690891113073877",
       .parent_id = "370873143344730_690891113073877",
       .from_id = "6780462125377510",
       .verb = "add",
       .key = "feed:"}}},
    {PG "feed_comment_edited__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "1234567890321",
       .field = "feed",
       .sender = "1234567890321",
       .ts_ms = 1448555737000,
       .text = "Let's see the Webhooks in action :D",
       .comment_id = "900728623356296_900744590021366",
       .media_id = "1234567890321_900728623356296",
       .parent_id = "1234567890321_900728623356296",
       .from_id = "1234567890321",
       .verb = "edited",
       .key = "feed:"}}},
    /* FRAGMENT: one entry object */
    {PG "feed_comment_hide__cn_notes_entry_fragment.json",
     WRAP_ENTRY,
     "no entry array",
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "101457812431751",
       .field = "feed",
       .sender = "101457812431751",
       .ts_ms = 1701684706000,
       .text = "\xE4\xB8\x80\xE8\xAF\x95\xE5\xB0\xB1\xE6\x88\x90",
       .comment_id = "331881159596299_1735528193537632",
       .media_id = "101457812431751_331881159596299",
       .parent_id = "101457812431751_331881159596299",
       .from_id = "101457812431751",
       .verb = "hide",
       .key = "feed:"}}},
    {PG "feed_comment_hide__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "1234567890321",
       .field = "feed",
       .sender = "1234567890321",
       .ts_ms = 1467894562000,
       .text = "and the next one",
       .comment_id = "900728623356296_900744590021366",
       .media_id = "1234567890321_901097836652708",
       .parent_id = "1234567890321_901097836652708",
       .from_id = "1234567890321",
       .verb = "hide",
       .key = "feed:"}}},
    /* no created_time on a removal: the entry's time (seconds) stands in */
    {PG "feed_comment_remove__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "1234567890321",
       .field = "feed",
       .sender = "1234567890321",
       .ts_ms = 1452107182000,
       .comment_id = "905578656204626_905579239537901",
       .media_id = "1234567890321_905578656204626",
       .parent_id = "1234567890321_905578656204626",
       .from_id = "1234567890321",
       .verb = "remove",
       .key = "feed:"}}},
    {PG "feed_comment_unhide__cn_notes_entry_fragment.json",
     WRAP_ENTRY,
     "no entry array",
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "101457812431751",
       .field = "feed",
       .sender = "101457812431751",
       .ts_ms = 1701685568000,
       .text = "\xE4\xB8\x80\xE8\xAF\x95\xE5\xB0\xB1\xE6\x88\x90",
       .comment_id = "331881159596299_1735528193537632",
       .media_id = "101457812431751_331881159596299",
       .parent_id = "101457812431751_331881159596299",
       .from_id = "101457812431751",
       .verb = "unhide",
       .key = "feed:"}}},
    {PG "feed_photo_add__cn_notes_entry_fragment.json",
     WRAP_ENTRY,
     "no entry array",
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "101457812431751",
       .field = "feed",
       .sender = "101457812431751",
       .ts_ms = 1701685154000,
       .text = "\xE5\x9B\xBE\xE7\x89\x87\xE7\x9C\x8B\xE4\xB8\x8B",
       .n_att = 1,
       .att = {{.type = "photo", .url = URL_FB_PHOTO_POST, .id = "332029742914774"}},
       .media_id = "101457812431751_332029982914750",
       .from_id = "101457812431751",
       .verb = "add",
       .key = "feed:"}}},
    {PG "feed_post_remove__cn_notes.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "110322572167401",
       .field = "feed",
       .sender = "110322572167401",
       .recipient = "110322572167401",
       .ts_ms = 1701418745000,
       .media_id = "110322572167401_122141710964024251",
       .from_id = "110322572167401",
       .verb = "remove",
       .key = "feed:"}}},
    {PG "feed_reaction_add__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "1234567890321",
       .field = "feed",
       .sender = "1234567890321",
       .ts_ms = 1475578854000,
       .reaction = "love",
       .media_id = "1234567890321_98735342324352",
       .parent_id = "1234567890321_901097836652708",
       .from_id = "1234567890321",
       .verb = "add",
       .key = "feed:"}}},
    {PG "feed_status_add_published__cn_notes.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "110322572167401",
       .field = "feed",
       .sender = "110322572167401",
       .ts_ms = 1701422426000,
       .text = "30",
       .media_id = "110322572167401_122141721440024251",
       .from_id = "110322572167401",
       .verb = "add",
       .key = "feed:"}}},
    {PG "feed_status_add_unpublished__cn_notes.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "370873143344730",
       .field = "feed",
       .sender = "370873143344730",
       .ts_ms = 1701418378000,
       .text = "9999999999999",
       .media_id = "370873143344730_734388548724133",
       .from_id = "370873143344730",
       .verb = "add",
       .key = "feed:"}}},
    {PG "feed_status_edited_trashed__cn_notes_entry_fragment.json",
     WRAP_ENTRY,
     "no entry array",
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "101457812431751",
       .field = "feed",
       .sender = "101457812431751",
       .ts_ms = 1701873006000,
       .media_id = "101457812431751_333244599459955",
       .from_id = "101457812431751",
       .verb = "edited",
       .key = "feed:"}}},
    /* two entries, each a change with no value: both kept, with their entry's time */
    {PG "feed_two_entries_no_value__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     2,
     {{.kind = "unknown",
       .channel = "changes",
       .entry_id = "1234567890321",
       .field = "parking",
       .ts_ms = 1449589360000,
       .key = "unknown:"},
      {.kind = "unknown",
       .channel = "changes",
       .entry_id = "1234567890321",
       .field = "payment_options",
       .ts_ms = 1449589369000,
       .key = "unknown:"}}},
    /* an unknown field: nothing is read from its value */
    {PG "feed_unknown_field__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "unknown",
       .channel = "changes",
       .entry_id = "1234567890321",
       .field = "foo",
       .ts_ms = 1452107389000,
       .key = "unknown:"}}},
    {PG "feed_video_edited__cn_notes_entry_fragment.json",
     WRAP_ENTRY,
     "no entry array",
     "page",
     1,
     {{.kind = "feed",
       .channel = "changes",
       .entry_id = "101457812431751",
       .field = "feed",
       .sender = "101457812431751",
       .ts_ms = 1701685577000,
       .n_att = 1,
       .att = {{.type = "video", .url = URL_FB_VIDEO_POST, .id = "334815795929748"}},
       .media_id = "101457812431751_332032482914500",
       .from_id = "101457812431751",
       .verb = "edited",
       .key = "feed:"}}},
    {PG "handover_app_roles__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "handover",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1457764197627,
       .key = "handover:"}}},
    {PG "handover_pass_thread_control__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "handover",
       .channel = "messaging",
       .entry_id = "1234567890321",
       .sender = "USER_ID",
       .recipient = "PAGE_ID",
       .ts_ms = 1473204787206,
       .key = "handover:"}}},
    {PG "handover_request_thread_control__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "handover",
       .channel = "messaging",
       .entry_id = "1234567890321",
       .sender = "USER_ID",
       .recipient = "PAGE_ID",
       .ts_ms = 1473204787206,
       .key = "handover:"}}},
    {PG "handover_take_thread_control__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "handover",
       .channel = "messaging",
       .entry_id = "1234567890321",
       .sender = "USER_ID",
       .recipient = "PAGE_ID",
       .ts_ms = 1473204787206,
       .key = "handover:"}}},
    /* the Page field is `mention` (singular), feed-shaped */
    {PG "mention_comment_add__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "mention",
       .channel = "changes",
       .entry_id = "1234567890321",
       .field = "mention",
       .ts_ms = 1614340862000,
       .text = "Just a test message",
       .comment_id = "7363534231324_3754798971271444",
       .media_id = "1234567890321_7363534231324",
       .verb = "add",
       .key = "mention:"}}},
    {PG "mention_post_add__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "mention",
       .channel = "changes",
       .entry_id = "1234567890321",
       .field = "mention",
       .ts_ms = 1614340562000,
       .text = "A test post message",
       .media_id = "1234567890321_98722536423179",
       .verb = "add",
       .key = "mention:"}}},
    /* payload is a string; title and url sit beside type */
    {PG "message_attachment_fallback__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1458696618268,
       .mid = MID_FB_ATTACH,
       .n_att = 1,
       .att = {{.type = "fallback",
                .url = "https://www.messenger.com/",
                .title = "Legacy Attachment"}},
       .key = "mid:" MID_FB_ATTACH}}},
    {PG "message_attachment_image__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1458696618268,
       .mid = MID_FB_ATTACH,
       .n_att = 1,
       .att = {{.type = "image", .url = "IMAGE_URL"}},
       .key = "mid:" MID_FB_ATTACH}}},
    {PG "message_attachment_location__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1458696618268,
       .mid = MID_FB_ATTACH,
       .n_att = 1,
       .att = {{.type = "location"}},
       .key = "mid:" MID_FB_ATTACH}}},
    /* app_id is a JSON number above 2^32 */
    {PG "message_echo__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "echo",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1457764197627,
       .mid = MID_FB_OLD,
       .text = "hello, world!",
       .is_echo = true,
       .app_id = "1517776481860111",
       .metadata = "DEVELOPER_DEFINED_METADATA_STRING",
       .key = "mid:" MID_FB_OLD}}},
    /* FRAGMENT: one entry; a real echo, sender == entry.id */
    {PG "message_echo_video__cn_notes_entry_fragment.json",
     WRAP_ENTRY,
     "no entry array",
     "page",
     1,
     {{.kind = "echo",
       .channel = "messaging",
       .entry_id = "101457812431751",
       .sender = "101457812431751",
       .recipient = "24959525500305070",
       .ts_ms = 1702033748942,
       .mid = MID_FB_ECHO_VIDEO,
       .n_att = 1,
       .att = {{.type = "video", .url = URL_FB_ECHO_VIDEO}},
       .is_echo = true,
       .app_id = "1929931607227568",
       .key = "mid:" MID_FB_ECHO_VIDEO}}},
    /* num_edit is the STRING "37" */
    {PG "message_edit__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message_edit",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1457764197627,
       .mid = MID_FB_OLD,
       .text = "hello, world!",
       .num_edit = 37,
       .key = "edit:" MID_FB_OLD ":37"}}},
    {PG "message_is_deleted__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message_deleted",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1457764197627,
       .mid = "message_id",
       .key = "del:message_id"}}},
    {PG "message_is_unsupported__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1457764197627,
       .mid = "message_id",
       .is_unsupported = true,
       .key = "mid:message_id"}}},
    {PG "message_prior_message__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1457764197627,
       .mid = "mid.1457744567618:41d102a3e1ae206a38",
       .text = "Thanks for messaging me!",
       .key = "mid:mid.1457744567618:41d102a3e1ae206a38"}}},
    {PG "message_product_template__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "682498302938465",
       .sender = "<PSID>",
       .recipient = "<PAGE_ID>",
       .ts_ms = 1518479195308,
       .mid = "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c",
       .n_att = 1,
       .att = {{.type = "template"}},
       .key = "mid:mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c"}}},
    /* entry.id a string, sender/recipient numbers */
    {PG "message_quick_reply__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "1234567890321",
       .sender = "987654321432",
       .recipient = "1234567890321",
       .ts_ms = 1470779510432,
       .mid = MID_FB_ATTACH,
       .text = "quick reply text",
       .quick_reply = "PAYLOAD_QUICK_REPLY",
       .key = "mid:" MID_FB_ATTACH}}},
    {PG "message_reply_to_mid__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1457764197627,
       .mid = MID_FB_OLD,
       .text = "hello, world!",
       .reply_mid = "very_long_id_representing_the_original_message",
       .key = "mid:" MID_FB_OLD}}},
    {PG "message_reply_to_story__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1457764197627,
       .mid = MID_FB_OLD,
       .text = "hello, world!",
       .story_id = "STORY_ID",
       .story_url = "EXAMPLE_URL",
       .key = "mid:" MID_FB_OLD}}},
    {PG "message_sticker__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1476219900918,
       .mid = "mid.12345654332:226a70a704",
       .n_att = 1,
       .att = {{.type = "image",
                .url = "https://scontent.xx.fbcdn.net/sticker.png",
                .id = "56789012345678"}},
       .key = "mid:mid.12345654332:226a70a704"}}},
    {PG "message_sticker_like__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1487254148673,
       .mid = "mid.1487254148673:a082abc439",
       .n_att = 1,
       .att = {{.type = "image", .url = URL_FB_STICKER_LIKE, .id = "369239263222822"}},
       .key = "mid:mid.1487254148673:a082abc439"}}},
    {PG "message_text__cn_notes.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "134968929707951",
       .sender = "7689966077685933",
       .recipient = "134968929707951",
       .ts_ms = 1698637600838,
       .mid = MID_FB_TEXT_CN,
       .text = "yes",
       .key = "mid:" MID_FB_TEXT_CN}}},
    /* numeric entry, sender and recipient ids */
    {PG "message_text__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1457764197627,
       .mid = MID_FB_OLD,
       .text = "hello, world!",
       .key = "mid:" MID_FB_OLD}}},
    {PG "message_text_chinese__cn_notes.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "message",
       .channel = "messaging",
       .entry_id = "370873143344730",
       .sender = "6780462125377510",
       .recipient = "370873143344730",
       .ts_ms = 1701427704837,
       .mid = MID_FB_CHINESE,
       .text = "\xE6\xB5\x8B\xE8\xAF\x95\xE7\xA7\x81\xE4\xBF\xA1",
       .key = "mid:" MID_FB_CHINESE}}},
    /* garbage times: timestamp 1234567890 is below 1e12, so seconds */
    {PG "optin_user_ref__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "optin",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1234567890000,
       .key = "optin:"}}},
    /* `policy-enforcement` with a hyphen, no sender */
    {PG "policy_enforcement_block__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "policy",
       .channel = "messaging",
       .entry_id = "12345654332",
       .recipient = "12345654332",
       .ts_ms = 1458692752478,
       .key = "policy:"}}},
    {PG "postback__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "postback",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1458692752478,
       .pb_payload = "USER_DEFINED_PAYLOAD",
       .key = "postback:"}}},
    /* sender has only user_ref (no id); referral.ref is null; title is "" */
    {PG "postback_chat_plugin_user_ref__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "postback",
       .channel = "messaging",
       .entry_id = "12345654332",
       .recipient = "12345654332",
       .ts_ms = 1458692752478,
       .pb_title = "",
       .pb_payload = "hey",
       .has_referral = true,
       .ref_source = "CUSTOMER_CHAT_PLUGIN",
       .ref_type = "OPEN_THREAD",
       .key = "postback:"}}},
    {PG "postback_with_referral__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "postback",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1458692752478,
       .pb_payload = "USER_DEFINED_PAYLOAD",
       .has_referral = true,
       .ref = "ref_data_in_m_dot_me_param",
       .ref_source = "SHORTLINK",
       .ref_type = "OPEN_THREAD",
       .key = "postback:"}}},
    /* emoji as the surrogate pair \ud83d\ude22 -> one code point */
    {PG "reaction_react__cn_notes.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "reaction",
       .channel = "messaging",
       .entry_id = "134968929707951",
       .sender = "7689966077685933",
       .recipient = "134968929707951",
       .ts_ms = 1698637274652,
       .mid = MID_FB_REACTED,
       .reaction = "sad",
       .emoji = EMOJI_CRY,
       .key = "reaction:"}}},
    {PG "reaction_react__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "reaction",
       .channel = "messaging",
       .entry_id = "1234567890321",
       .sender = "USER_ID",
       .recipient = "PAGE_ID",
       .ts_ms = 1572465098502,
       .mid = "original_message_id",
       .reaction = "sad",
       .emoji = EMOJI_CRY,
       .key = "reaction:"}}},
    /* unreact: no emoji, no reaction */
    {PG "reaction_unreact__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "reaction",
       .channel = "messaging",
       .entry_id = "1234567890321",
       .sender = "USER_ID",
       .recipient = "PAGE_ID",
       .ts_ms = 1572466511366,
       .mid = "original_message_id",
       .is_unreact = true,
       .key = "reaction:"}}},
    /* Messenger read: watermark, no mid */
    {PG "read__cn_notes.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "read",
       .channel = "messaging",
       .entry_id = "134968929707951",
       .sender = "7689966077685933",
       .recipient = "134968929707951",
       .ts_ms = 1698636961023,
       .watermark_ms = 1698636960806,
       .key = "read:"}}},
    {PG "read__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "read",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1458668856463,
       .watermark_ms = 1458668856253,
       .key = "read:"}}},
    {PG "referral_shortlink__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "referral",
       .channel = "messaging",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1457764197627,
       .has_referral = true,
       .ref = "ref_data_in_m_dot_me_param",
       .ref_source = "SHORTLINK",
       .ref_type = "OPEN_THREAD",
       .key = "referral:"}}},
    /* timestamp in SECONDS while entry.time is in ms */
    {PG "referral_timestamp_in_seconds__courier.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "referral",
       .channel = "messaging",
       .entry_id = "1234567890",
       .sender = "5678",
       .recipient = "1234567890",
       .ts_ms = 1701599111000,
       .has_referral = true,
       .ref = "referral id",
       .ref_source = "referral source",
       .ref_type = "referral type",
       .ref_ad_id = "ad id",
       .key = "referral:"}}},
    {PG "standby_echo__restfb.json",
     WRAP_NONE,
     NULL,
     "page",
     1,
     {{.kind = "echo",
       .channel = "standby",
       .entry_id = "12345654332",
       .sender = "987654321432",
       .recipient = "12345654332",
       .ts_ms = 1457764197627,
       .mid = MID_FB_OLD,
       .text = "hello, world!",
       .is_echo = true,
       .app_id = "1517776481860111",
       .metadata = "DEVELOPER_DEFINED_METADATA_STRING",
       .key = "mid:" MID_FB_OLD}}},
};

/* ---- checking one parsed event against its expectation ---- */

static void expect_str(const char *ctx, const char *what, const char *got, const char *want)
{
    if (!got && !want)
        return;
    if (!got || !want || strcmp(got, want) != 0)
        fail_msg("%s: %s is \"%s\", want \"%s\"", ctx, what, got ? got : "(null)",
                 want ? want : "(null)");
}

static void expect_i64(const char *ctx, const char *what, int64_t got, int64_t want)
{
    if (got != want)
        fail_msg("%s: %s is %lld, want %lld", ctx, what, (long long)got, (long long)want);
}

static void expect_bool(const char *ctx, const char *what, bool got, bool want)
{
    if (got != want)
        fail_msg("%s: %s is %d, want %d", ctx, what, got, want);
}

/* An exact key, or "<kind>:" + 32 lower-case hex digits (a digest of the event's JSON). */
static void expect_key(const char *ctx, const char *got, const char *want)
{
    size_t n = strlen(want);
    if (!got || !*got)
        fail_msg("%s: empty key", ctx);
    if (want[n - 1] != ':') {
        expect_str(ctx, "key", got, want);
        return;
    }
    if (strncmp(got, want, n) != 0 || strlen(got) != n + 32 ||
        strspn(got + n, "0123456789abcdef") != 32)
        fail_msg("%s: key is \"%s\", want \"%s\" + 32 hex digits", ctx, got, want);
}

/* raw_json is the event's own JSON, compact with sorted keys. */
static void expect_raw_json(const char *ctx, const char *raw)
{
    if (!raw)
        fail_msg("%s: raw_json is NULL", ctx);
    json_error_t jerr;
    json_t *v = json_loads(raw, 0, &jerr);
    if (!json_is_object(v))
        fail_msg("%s: raw_json is not a JSON object: %s", ctx, raw);
    char *again = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    bool same = again && strcmp(again, raw) == 0;
    free(again);
    json_decref(v);
    if (!same)
        fail_msg("%s: raw_json is not compact with sorted keys: %s", ctx, raw);
}

#define STR(m, field) expect_str(ctx, #field, e->field, x->m)

static void check_envelope(const char *ctx, const struct meta_event *e, const struct exp_ev *x)
{
    expect_str(ctx, "kind", meta_event_kind_name(e->kind), x->kind);
    STR(channel, channel);
    STR(entry_id, entry_id);
    STR(field, field);
    STR(sender, sender_id);
    STR(recipient, recipient_id);
    expect_i64(ctx, "ts_ms", e->ts_ms, x->ts_ms);
    STR(mid, mid);
    STR(text, text);
    expect_key(ctx, e->key, x->key);
    expect_raw_json(ctx, e->raw_json);
}

static void check_attachments(const char *ctx, const struct meta_event *e, const struct exp_ev *x)
{
    expect_i64(ctx, "n_attachments", (int64_t)e->n_attachments, (int64_t)x->n_att);
    for (size_t i = 0; i < x->n_att; i++) {
        const struct meta_attachment *m = &e->attachments[i];
        const struct exp_att *w = &x->att[i];
        expect_str(ctx, "attachment type", m->type, w->type);
        expect_str(ctx, "attachment url", m->url, w->url);
        expect_str(ctx, "attachment title", m->title, w->title);
        expect_str(ctx, "attachment id", m->id, w->id);
    }
}

static void check_messaging(const char *ctx, const struct meta_event *e, const struct exp_ev *x)
{
    STR(quick_reply, quick_reply_payload);
    STR(reply_mid, reply_to_mid);
    STR(story_id, reply_to_story_id);
    STR(story_url, reply_to_story_url);
    expect_bool(ctx, "is_echo", e->is_echo, x->is_echo);
    expect_bool(ctx, "is_self", e->is_self, x->is_self);
    expect_bool(ctx, "is_unsupported", e->is_unsupported, x->is_unsupported);
    STR(app_id, app_id);
    STR(metadata, metadata);
    STR(reaction, reaction);
    STR(emoji, emoji);
    expect_bool(ctx, "is_unreact", e->is_unreact, x->is_unreact);
    STR(pb_title, postback_title);
    STR(pb_payload, postback_payload);
    expect_i64(ctx, "watermark_ms", e->watermark_ms, x->watermark_ms);
    expect_i64(ctx, "num_edit", e->num_edit, x->num_edit);
    expect_bool(ctx, "has referral", e->referral != NULL, x->has_referral);
    if (e->referral) {
        expect_str(ctx, "referral.ref", e->referral->ref, x->ref);
        expect_str(ctx, "referral.source", e->referral->source, x->ref_source);
        expect_str(ctx, "referral.type", e->referral->type, x->ref_type);
        expect_str(ctx, "referral.ad_id", e->referral->ad_id, x->ref_ad_id);
    }
}

static void check_changes(const char *ctx, const struct meta_event *e, const struct exp_ev *x)
{
    STR(comment_id, comment_id);
    STR(media_id, media_id);
    STR(parent_id, parent_id);
    STR(from_id, from_id);
    STR(from_username, from_username);
    STR(verb, verb);
}

#undef STR

static void check_event(const char *path, size_t i, const char *object, const struct meta_event *e,
                        const struct exp_ev *x)
{
    char ctx[300];
    snprintf(ctx, sizeof ctx, "%s event %zu", path, i);
    expect_str(ctx, "object", e->object, object);
    check_envelope(ctx, e, x);
    check_attachments(ctx, e, x);
    check_messaging(ctx, e, x);
    check_changes(ctx, e, x);
}

/* ---- turning a fixture into a delivery body ---- */

static char *printf_dup(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *printf_dup(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    char *s = malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static char *http_body(const char *raw)
{
    json_error_t jerr;
    json_t *root = json_loads(raw, 0, &jerr);
    const char *body = json_string_value(json_object_get(root, "body"));
    assert_non_null(body);
    char *s = strdup(body);
    json_decref(root);
    return s;
}

/* Takes raw (a malloc'd fixture) and returns the body to parse, also malloc'd. */
static char *delivery_body(const struct fixture_case *c, char *raw)
{
    char *s;
    switch (c->wrap) {
    case WRAP_ENTRY_ARRAY:
        s = printf_dup("{\"object\":\"%s\",\"entry\":%s}", c->object, raw);
        break;
    case WRAP_ENTRY:
        s = printf_dup("{\"object\":\"%s\",\"entry\":[%s]}", c->object, raw);
        break;
    case WRAP_VALUE:
        s = printf_dup("{\"object\":\"%s\",\"entry\":[{\"id\":\"%s\",\"changes\":[{\"field\":"
                       "\"%s\",\"value\":%s}]}]}",
                       c->object, c->ev[0].entry_id, c->ev[0].field, raw);
        break;
    case WRAP_HTTP_BODY:
        s = http_body(raw);
        break;
    default:
        return raw;
    }
    free(raw);
    return s;
}

/* ---- the fixture tables ---- */

static void expect_distinct_keys(const char *path, const struct meta_delivery *d)
{
    for (size_t i = 0; i < d->n_events; i++)
        for (size_t j = i + 1; j < d->n_events; j++)
            if (strcmp(d->events[i].key, d->events[j].key) == 0)
                fail_msg("%s: events %zu and %zu share the key %s", path, i, j, d->events[i].key);
}

/* A FRAGMENT is refused as it stands, with the documented reason. */
static void expect_fragment_refused(const struct fixture_case *c, const char *raw, size_t len)
{
    struct arena a;
    arena_init(&a);
    struct meta_delivery d;
    const char *reason = NULL;
    enum err rc = meta_parse_delivery(&a, raw, len, &d, &reason);
    if (rc != ERR_INVALID)
        fail_msg("%s: the bare fragment gave %s, want invalid", c->path, err_name(rc));
    expect_str(c->path, "reason", reason, c->raw_reason);
    expect_i64(c->path, "n_events", (int64_t)d.n_events, 0);
    arena_release(&a);
}

static void run_case(const struct fixture_case *c)
{
    size_t len;
    char *raw = tu_fixture_read(c->path, &len);
    if (c->wrap != WRAP_NONE)
        expect_fragment_refused(c, raw, len);
    char *body = delivery_body(c, raw);
    len = strlen(body);

    struct arena a, b;
    arena_init(&a);
    arena_init(&b);
    struct meta_delivery d, again;
    const char *reason = NULL;
    enum err rc = meta_parse_delivery(&a, body, len, &d, &reason);
    if (rc != ERR_OK)
        fail_msg("%s: %s (%s)", c->path, err_name(rc), reason ? reason : "no reason");
    expect_str(c->path, "delivery object", d.object, c->object);
    expect_i64(c->path, "n_events", (int64_t)d.n_events, (int64_t)c->n_events);
    for (size_t i = 0; i < c->n_events; i++)
        check_event(c->path, i, c->object, &d.events[i], &c->ev[i]);
    expect_distinct_keys(c->path, &d);

    /* the same bytes parsed again give the same keys and the same raw JSON */
    assert_int_equal(meta_parse_delivery(&b, body, len, &again, &reason), ERR_OK);
    assert_int_equal(again.n_events, d.n_events);
    for (size_t i = 0; i < d.n_events; i++) {
        expect_str(c->path, "key on reparse", again.events[i].key, d.events[i].key);
        expect_str(c->path, "raw_json on reparse", again.events[i].raw_json, d.events[i].raw_json);
    }
    arena_release(&a);
    arena_release(&b);
    free(body);
}

static void test_instagram_fixtures(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof instagram_cases / sizeof instagram_cases[0]; i++)
        run_case(&instagram_cases[i]);
}

static void test_page_fixtures(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof page_cases / sizeof page_cases[0]; i++)
        run_case(&page_cases[i]);
}

static bool has_case(const struct fixture_case *cases, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(cases[i].path, path) == 0)
            return true;
    return false;
}

/* Every file in the two webhook folders has a row above: a new fixture fails until it does. */
static void test_every_fixture_has_a_case(void **state)
{
    (void)state;
    static const struct {
        const char *dir;
        const struct fixture_case *cases;
        size_t n;
    } dirs[] = {
        {IG, instagram_cases, sizeof instagram_cases / sizeof instagram_cases[0]},
        {PG, page_cases, sizeof page_cases / sizeof page_cases[0]},
    };
    for (size_t k = 0; k < sizeof dirs / sizeof dirs[0]; k++) {
        DIR *dir = opendir(tu_fixture(dirs[k].dir));
        if (!dir)
            fail_msg("cannot open %s", tu_fixture(dirs[k].dir));
        size_t n_files = 0;
        for (struct dirent *de; (de = readdir(dir));) {
            if (de->d_name[0] == '.')
                continue;
            char path[512];
            snprintf(path, sizeof path, "%s%s", dirs[k].dir, de->d_name);
            if (!has_case(dirs[k].cases, dirs[k].n, path))
                fail_msg("fixture %s has no test case", path);
            n_files++;
        }
        closedir(dir);
        expect_i64(dirs[k].dir, "files vs cases", (int64_t)n_files, (int64_t)dirs[k].n);
    }
}

/* ---- bodies that are not deliveries ---- */

static void test_rejected_bodies(void **state)
{
    (void)state;
    static const struct {
        const char *name, *body;
        size_t len; /* 0: strlen(body) */
        const char *reason;
    } cases[] = {
        {"empty body", "", 0, "invalid JSON"},
        {"whitespace only", " \n", 0, "invalid JSON"},
        {"unterminated object", "{\"object\":\"page\",\"entry\":[", 0, "invalid JSON"},
        {"not JSON at all", "object=page&entry=1", 0, "invalid JSON"},
        {"trailing garbage", "{\"object\":\"page\",\"entry\":[]} x", 0, "invalid JSON"},
        {"two objects", "{\"entry\":[]}{\"entry\":[]}", 0, "invalid JSON"},
        {"single quotes", "{'object':'page','entry':[]}", 0, "invalid JSON"},
        {"trailing comma", "{\"object\":\"page\",\"entry\":[],}", 0, "invalid JSON"},
        {"lone high surrogate", "{\"object\":\"page\",\"entry\":[],\"x\":\"\\ud83d\"}", 0,
         "invalid JSON"},
        {"lone low surrogate", "{\"object\":\"page\",\"entry\":[],\"x\":\"\\ude22\"}", 0,
         "invalid JSON"},
        {"escaped NUL", "{\"object\":\"pa\\u0000ge\",\"entry\":[]}", 0, "invalid JSON"},
        {"raw NUL byte", "{\"object\":\"page\",\"entry\":[]}\0", 29, "invalid JSON"},
        {"invalid UTF-8", "{\"object\":\"p\xC3\x28ge\",\"entry\":[]}", 0, "invalid JSON"},
        {"integer beyond int64", "{\"object\":\"page\",\"entry\":[{\"id\":99999999999999999999}]}",
         0, "invalid JSON"},
        {"JSON array body", "[{\"object\":\"page\",\"entry\":[]}]", 0, "not a JSON object"},
        {"empty array", "[]", 0, "not a JSON object"},
        {"number", "42", 0, "not a JSON object"},
        {"string", "\"page\"", 0, "not a JSON object"},
        {"null", "null", 0, "not a JSON object"},
        {"true", "true", 0, "not a JSON object"},
        {"empty object", "{}", 0, "no entry array"},
        {"object without entry", "{\"object\":\"page\"}", 0, "no entry array"},
        {"entry is an object", "{\"object\":\"page\",\"entry\":{\"id\":\"1\"}}", 0,
         "no entry array"},
        {"entry is a string", "{\"object\":\"page\",\"entry\":\"[]\"}", 0, "no entry array"},
        {"entry is null", "{\"object\":\"page\",\"entry\":null}", 0, "no entry array"},
        {"misspelt entries", "{\"object\":\"page\",\"entries\":[]}", 0, "no entry array"},
        {"field without value", "{\"field\":\"messages\"}", 0, "no entry array"},
        {"value without field", "{\"value\":{\"text\":\"x\"}}", 0, "no entry array"},
        {"a Graph error", "{\"error\":{\"message\":\"x\",\"code\":190}}", 0, "no entry array"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct arena a;
        arena_init(&a);
        struct meta_delivery d;
        const char *reason = NULL;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].body);
        enum err rc = meta_parse_delivery(&a, cases[i].body, len, &d, &reason);
        if (rc != ERR_INVALID)
            fail_msg("%s: got %s, want invalid", cases[i].name, err_name(rc));
        expect_str(cases[i].name, "reason", reason, cases[i].reason);
        expect_i64(cases[i].name, "n_events", (int64_t)d.n_events, 0);
        arena_release(&a);
    }
}

/* Valid deliveries with nothing usable in them: accepted, zero events. */
static void test_empty_deliveries(void **state)
{
    (void)state;
    static const struct {
        const char *name, *body, *object;
    } cases[] = {
        {"empty entry array", "{\"object\":\"page\",\"entry\":[]}", "page"},
        {"object last", "{\"entry\":[],\"object\":\"instagram\"}", "instagram"},
        {"no object", "{\"entry\":[]}", ""},
        {"object not a string", "{\"object\":7,\"entry\":[]}", ""},
        {"entries that are not objects", "{\"object\":\"page\",\"entry\":[1,\"x\",null,[]]}",
         "page"},
        {"entry with no events", "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"time\":1}]}",
         "page"},
        {"messaging not an array",
         "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":{\"message\":{}}}]}", "page"},
        {"messaging items that are not objects",
         "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[1,null,\"m\",[]],"
         "\"standby\":[false]}]}",
         "page"},
        {"changes items that are not objects",
         "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"changes\":[\"feed\",2,null]}]}", "page"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct arena a;
        arena_init(&a);
        struct meta_delivery d;
        const char *reason = NULL;
        enum err rc = meta_parse_delivery(&a, cases[i].body, strlen(cases[i].body), &d, &reason);
        if (rc != ERR_OK)
            fail_msg("%s: got %s (%s)", cases[i].name, err_name(rc), reason ? reason : "");
        expect_str(cases[i].name, "object", d.object, cases[i].object);
        expect_i64(cases[i].name, "n_events", (int64_t)d.n_events, 0);
        arena_release(&a);
    }
}

/* ---- shapes the parser has no kind for, or members of the wrong type ---- */

#define ENTRY_MSG(item) "{\"object\":\"page\",\"entry\":[{\"id\":\"P1\",\"messaging\":[" item "]}]}"
#define ENTRY_CHG(chg)                                                                             \
    "{\"object\":\"page\",\"entry\":[{\"id\":\"P1\",\"time\":1700000000,"                          \
    "\"changes\":[" chg "]}]}"
#define SR "\"sender\":{\"id\":\"U1\"},\"recipient\":{\"id\":\"P1\"},\"timestamp\":1700000000123"

static void test_unknown_and_odd_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *name, *body;
        struct exp_ev ev;
    } cases[] = {
        {"unknown event key",
         ENTRY_MSG("{" SR ",\"brand_new_event\":{\"x\":1}}"),
         {.kind = "unknown",
          .channel = "messaging",
          .entry_id = "P1",
          .sender = "U1",
          .recipient = "P1",
          .ts_ms = 1700000000123,
          .key = "unknown:"}},
        {"no event key at all",
         ENTRY_MSG("{" SR "}"),
         {.kind = "unknown",
          .channel = "messaging",
          .entry_id = "P1",
          .sender = "U1",
          .recipient = "P1",
          .ts_ms = 1700000000123,
          .key = "unknown:"}},
        {"unknown key on standby",
         "{\"object\":\"page\",\"entry\":[{\"id\":\"P1\",\"standby\":[{" SR ",\"nope\":{}}]}]}",
         {.kind = "unknown",
          .channel = "standby",
          .entry_id = "P1",
          .sender = "U1",
          .recipient = "P1",
          .ts_ms = 1700000000123,
          .key = "unknown:"}},
        {"message is a string",
         ENTRY_MSG("{" SR ",\"message\":\"hello\"}"),
         {.kind = "message",
          .channel = "messaging",
          .entry_id = "P1",
          .sender = "U1",
          .recipient = "P1",
          .ts_ms = 1700000000123,
          .key = "message:"}},
        {"reaction is an array",
         ENTRY_MSG("{" SR ",\"reaction\":[\"love\"]}"),
         {.kind = "reaction",
          .channel = "messaging",
          .entry_id = "P1",
          .sender = "U1",
          .recipient = "P1",
          .ts_ms = 1700000000123,
          .key = "reaction:"}},
        {"sender and recipient are strings",
         ENTRY_MSG("{\"sender\":\"U1\",\"recipient\":\"P1\",\"message\":{\"mid\":\"m1\"}}"),
         {.kind = "message",
          .channel = "messaging",
          .entry_id = "P1",
          .mid = "m1",
          .key = "mid:m1"}},
        {"attachments of the wrong types",
         ENTRY_MSG("{" SR ",\"message\":{\"mid\":\"m2\",\"attachments\":[null,\"image\",7,"
                   "{\"type\":\"image\",\"payload\":[]}]}}"),
         {.kind = "message",
          .channel = "messaging",
          .entry_id = "P1",
          .sender = "U1",
          .recipient = "P1",
          .ts_ms = 1700000000123,
          .mid = "m2",
          .n_att = 1,
          .att = {{.type = "image"}},
          .key = "mid:m2"}},
        {"attachments is an object",
         ENTRY_MSG("{" SR ",\"message\":{\"mid\":\"m3\",\"attachments\":{\"type\":\"image\"}}}"),
         {.kind = "message",
          .channel = "messaging",
          .entry_id = "P1",
          .sender = "U1",
          .recipient = "P1",
          .ts_ms = 1700000000123,
          .mid = "m3",
          .key = "mid:m3"}},
        {"mid is a number",
         ENTRY_MSG("{" SR ",\"message\":{\"mid\":12345,\"text\":\"t\"}}"),
         {.kind = "message",
          .channel = "messaging",
          .entry_id = "P1",
          .sender = "U1",
          .recipient = "P1",
          .ts_ms = 1700000000123,
          .text = "t",
          .key = "message:"}},
        {"unknown change field",
         ENTRY_CHG("{\"field\":\"ratings\",\"value\":{\"id\":\"r1\"}}"),
         {.kind = "unknown",
          .channel = "changes",
          .entry_id = "P1",
          .field = "ratings",
          .ts_ms = 1700000000000,
          .key = "unknown:"}},
        {"change without field",
         ENTRY_CHG("{\"value\":{\"id\":\"c1\"}}"),
         {.kind = "unknown",
          .channel = "changes",
          .entry_id = "P1",
          .ts_ms = 1700000000000,
          .key = "unknown:"}},
        {"comments change without value",
         ENTRY_CHG("{\"field\":\"comments\"}"),
         {.kind = "unknown",
          .channel = "changes",
          .entry_id = "P1",
          .field = "comments",
          .ts_ms = 1700000000000,
          .key = "unknown:"}},
        {"feed change with a string value",
         ENTRY_CHG("{\"field\":\"feed\",\"value\":\"x\"}"),
         {.kind = "unknown",
          .channel = "changes",
          .entry_id = "P1",
          .field = "feed",
          .ts_ms = 1700000000000,
          .key = "unknown:"}},
        {"messages change with a null value",
         ENTRY_CHG("{\"field\":\"messages\",\"value\":null}"),
         {.kind = "unknown",
          .channel = "changes",
          .entry_id = "P1",
          .field = "messages",
          .ts_ms = 1700000000000,
          .key = "unknown:"}},
        {"entry without id",
         "{\"object\":\"page\",\"entry\":[{\"messaging\":[{" SR "}]}]}",
         {.kind = "unknown",
          .channel = "messaging",
          .entry_id = "0",
          .sender = "U1",
          .recipient = "P1",
          .ts_ms = 1700000000123,
          .key = "unknown:"}},
        {"unwrapped, unknown field",
         "{\"field\":\"ratings\",\"value\":{\"id\":\"r1\"}}",
         {.kind = "unknown",
          .channel = "changes",
          .entry_id = "0",
          .field = "ratings",
          .key = "unknown:"}},
        {"unwrapped comment",
         "{\"field\":\"comments\",\"value\":{\"id\":\"c9\",\"text\":\"hi\"}}",
         {.kind = "comment",
          .channel = "changes",
          .entry_id = "0",
          .field = "comments",
          .text = "hi",
          .comment_id = "c9",
          .key = "comment:c9"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct arena a;
        arena_init(&a);
        struct meta_delivery d;
        const char *reason = NULL;
        enum err rc = meta_parse_delivery(&a, cases[i].body, strlen(cases[i].body), &d, &reason);
        if (rc != ERR_OK)
            fail_msg("%s: got %s (%s)", cases[i].name, err_name(rc), reason ? reason : "");
        expect_i64(cases[i].name, "n_events", (int64_t)d.n_events, 1);
        const char *object = strncmp(cases[i].body, "{\"field\"", 8) == 0 ? "" : "page";
        check_event(cases[i].name, 0, object, &d.events[0], &cases[i].ev);
        arena_release(&a);
    }
}

/* ---- timestamps: below 1e12 is seconds; numbers, numeric strings and whole reals ---- */

static void test_timestamp_units(void **state)
{
    (void)state;
    static const struct {
        const char *name, *item; /* the item's members after sender/recipient */
        int64_t ts_ms, watermark_ms;
    } cases[] = {
        {"ms", "\"timestamp\":1458692752478", 1458692752478, 0},
        {"seconds", "\"timestamp\":1458692752", 1458692752000, 0},
        {"string seconds", "\"timestamp\":\"1458692752\"", 1458692752000, 0},
        {"string ms", "\"timestamp\":\"1458692752478\"", 1458692752478, 0},
        {"whole real ms", "\"timestamp\":1.458692752478e12", 1458692752478, 0},
        {"fractional real", "\"timestamp\":1458692752.5", 0, 0},
        {"just below 1e12", "\"timestamp\":999999999999", 999999999999000, 0},
        {"exactly 1e12", "\"timestamp\":1000000000000", 1000000000000, 0},
        {"dashboard nonsense", "\"timestamp\":233445667", 233445667000, 0},
        {"zero", "\"timestamp\":0", 0, 0},
        {"absent", "\"x\":1", 0, 0},
        {"null", "\"timestamp\":null", 0, 0},
        {"not a number", "\"timestamp\":\"soon\"", 0, 0},
        {"number then junk", "\"timestamp\":\"1458692752abc\"", 0, 0},
        {"ISO-8601 string", "\"timestamp\":\"2016-03-23T00:25:52Z\"", 0, 0},
        {"watermark in ms", "\"timestamp\":1458668856463,\"read\":{\"watermark\":1458668856253}",
         1458668856463, 1458668856253},
        {"watermark in seconds", "\"timestamp\":1458668856463,\"read\":{\"watermark\":1458668856}",
         1458668856463, 1458668856000},
        {"watermark as a string",
         "\"timestamp\":1458668856463,\"delivery\":{\"watermark\":\"1458668856253\"}",
         1458668856463, 1458668856253},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *body = printf_dup("{\"object\":\"page\",\"entry\":[{\"id\":\"P1\",\"time\":"
                                "1458692752999,\"messaging\":[{\"sender\":{\"id\":\"U1\"},"
                                "\"recipient\":{\"id\":\"P1\"},%s}]}]}",
                                cases[i].item);
        struct arena a;
        arena_init(&a);
        struct meta_delivery d;
        const char *reason = NULL;
        assert_int_equal(meta_parse_delivery(&a, body, strlen(body), &d, &reason), ERR_OK);
        expect_i64(cases[i].name, "n_events", (int64_t)d.n_events, 1);
        expect_i64(cases[i].name, "ts_ms", d.events[0].ts_ms, cases[i].ts_ms);
        expect_i64(cases[i].name, "watermark_ms", d.events[0].watermark_ms, cases[i].watermark_ms);
        arena_release(&a);
        free(body);
    }
}

/* changes take entry.time (seconds or ms); feed and Page mentions prefer created_time. */
static void test_change_times(void **state)
{
    (void)state;
    static const struct {
        const char *name, *time, *change;
        int64_t ts_ms;
    } cases[] = {
        {"comment, entry.time in s", "1519399307",
         "{\"field\":\"comments\",\"value\":{\"id\":\"1\"}}", 1519399307000},
        {"comment, entry.time in ms", "1519399307123",
         "{\"field\":\"comments\",\"value\":{\"id\":\"1\"}}", 1519399307123},
        {"comment, entry.time a string", "\"1519399307\"",
         "{\"field\":\"comments\",\"value\":{\"id\":\"1\"}}", 1519399307000},
        {"comment, entry.time absent", NULL, "{\"field\":\"comments\",\"value\":{\"id\":\"1\"}}",
         0},
        {"feed, created_time wins", "1701423004",
         "{\"field\":\"feed\",\"value\":{\"verb\":\"add\",\"created_time\":1701422426}}",
         1701422426000},
        {"feed, no created_time", "1701423004",
         "{\"field\":\"feed\",\"value\":{\"verb\":\"remove\"}}", 1701423004000},
        {"page mention, created_time wins", "1614340868",
         "{\"field\":\"mention\",\"value\":{\"created_time\":1614340862}}", 1614340862000},
        {"ig mention, entry time", "1614340868",
         "{\"field\":\"mentions\",\"value\":{\"media_id\":\"1\"}}", 1614340868000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *body = cases[i].time
                         ? printf_dup("{\"object\":\"page\",\"entry\":[{\"id\":\"P1\",\"time\":%s,"
                                      "\"changes\":[%s]}]}",
                                      cases[i].time, cases[i].change)
                         : printf_dup("{\"object\":\"page\",\"entry\":[{\"id\":\"P1\","
                                      "\"changes\":[%s]}]}",
                                      cases[i].change);
        struct arena a;
        arena_init(&a);
        struct meta_delivery d;
        const char *reason = NULL;
        assert_int_equal(meta_parse_delivery(&a, body, strlen(body), &d, &reason), ERR_OK);
        expect_i64(cases[i].name, "n_events", (int64_t)d.n_events, 1);
        expect_i64(cases[i].name, "ts_ms", d.events[0].ts_ms, cases[i].ts_ms);
        arena_release(&a);
        free(body);
    }
}

/* Ids keep every digit: never through a double (2^53 < 17841400538867191). */
static void test_numeric_ids(void **state)
{
    (void)state;
    static const struct {
        const char *json, *text;
    } cases[] = {
        {"17841400538867191", "17841400538867191"},
        {"9223372036854775807", "9223372036854775807"},
        {"1929931607227568", "1929931607227568"},
        {"0", "0"},
        {"\"17841400538867191\"", "17841400538867191"},
        {"\"{PAGE_ID}\"", "{PAGE_ID}"},
        {"1.5e3", NULL},
        {"true", NULL},
        {"null", NULL},
        {"{\"id\":\"1\"}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *j = cases[i].json;
        char *body = printf_dup("{\"object\":\"page\",\"entry\":[{\"id\":%s,\"messaging\":[{"
                                "\"sender\":{\"id\":%s},\"recipient\":{\"id\":%s},\"message\":"
                                "{\"mid\":\"m\",\"is_echo\":true,\"app_id\":%s}}]}]}",
                                j, j, j, j);
        struct arena a;
        arena_init(&a);
        struct meta_delivery d;
        const char *reason = NULL;
        assert_int_equal(meta_parse_delivery(&a, body, strlen(body), &d, &reason), ERR_OK);
        expect_i64(j, "n_events", (int64_t)d.n_events, 1);
        const struct meta_event *e = &d.events[0];
        expect_str(j, "entry_id", e->entry_id, cases[i].text ? cases[i].text : "0");
        expect_str(j, "sender_id", e->sender_id, cases[i].text);
        expect_str(j, "recipient_id", e->recipient_id, cases[i].text);
        expect_str(j, "app_id", e->app_id, cases[i].text);
        arena_release(&a);
        free(body);
    }
}

/* ---- deletions ---- */

static void test_deleted_message(void **state)
{
    (void)state;
    static const char body[] = ENTRY_MSG(
        "{" SR ",\"message\":{\"mid\":\"m_1\",\"text\":\"hi\"}},"
        "{\"sender\":{\"id\":\"U1\"},\"recipient\":{\"id\":\"P1\"},\"timestamp\":1700000009000,"
        "\"message\":{\"mid\":\"m_1\",\"is_deleted\":true}},"
        "{" SR ",\"message\":{\"mid\":\"m_2\",\"is_deleted\":1}}");
    static const struct exp_ev want[] = {
        {.kind = "message",
         .channel = "messaging",
         .entry_id = "P1",
         .sender = "U1",
         .recipient = "P1",
         .ts_ms = 1700000000123,
         .mid = "m_1",
         .text = "hi",
         .key = "mid:m_1"},
        {.kind = "message_deleted",
         .channel = "messaging",
         .entry_id = "P1",
         .sender = "U1",
         .recipient = "P1",
         .ts_ms = 1700000009000,
         .mid = "m_1",
         .key = "del:m_1"},
        {.kind = "message_deleted",
         .channel = "messaging",
         .entry_id = "P1",
         .sender = "U1",
         .recipient = "P1",
         .ts_ms = 1700000000123,
         .mid = "m_2",
         .key = "del:m_2"},
    };
    struct arena a;
    arena_init(&a);
    struct meta_delivery d;
    const char *reason = NULL;
    assert_int_equal(meta_parse_delivery(&a, body, strlen(body), &d, &reason), ERR_OK);
    assert_int_equal(d.n_events, 3);
    for (size_t i = 0; i < 3; i++)
        check_event("is_deleted", i, "page", &d.events[i], &want[i]);
    expect_distinct_keys("is_deleted", &d);
    arena_release(&a);
}

/* ---- many events in one delivery ---- */

struct sbuf {
    char *s;
    size_t len, cap;
};

static void sbuf_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sbuf_add(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < b->cap - b->len);
    b->len += (size_t)n;
}

/* n messaging events spread over entries of per_entry each; mids and times are numbered. */
static char *many_events_body(size_t n, size_t per_entry)
{
    struct sbuf b = {.cap = 256 + n * 256};
    b.s = malloc(b.cap);
    sbuf_add(&b, "{\"object\":\"instagram\",\"entry\":[");
    for (size_t i = 0; i < n; i++) {
        if (i % per_entry == 0)
            sbuf_add(&b, "%s{\"id\":\"IG%zu\",\"time\":1700000000000,\"messaging\":[",
                     i ? "]}," : "", i / per_entry);
        sbuf_add(&b,
                 "%s{\"sender\":{\"id\":\"U%zu\"},\"recipient\":{\"id\":\"IG\"},"
                 "\"timestamp\":%lld,\"message\":{\"mid\":\"m%zu\",\"text\":\"t\"}}",
                 i % per_entry ? "," : "", i, 1600000000000LL + (long long)i, i);
    }
    sbuf_add(&b, "%s]}", n ? "]}" : "");
    return b.s;
}

static int cmp_key(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void test_many_events(void **state)
{
    (void)state;
    static const struct {
        size_t n, per_entry;
        enum err rc;
    } cases[] = {
        {2, 2, ERR_OK},
        {1000, 100, ERR_OK}, /* Meta's documented batch maximum */
        {1000, 1, ERR_OK},
        {META_MAX_EVENTS, 250, ERR_OK},
        {META_MAX_EVENTS + 1, 250, ERR_TOO_LARGE}, /* refused, not silently cut */
        {8193, 1000, ERR_TOO_LARGE},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *body = many_events_body(cases[k].n, cases[k].per_entry);
        struct arena a;
        arena_init(&a);
        struct meta_delivery d;
        const char *reason = NULL;
        enum err rc = meta_parse_delivery(&a, body, strlen(body), &d, &reason);
        if (rc != cases[k].rc)
            fail_msg("%zu events: got %s, want %s", cases[k].n, err_name(rc),
                     err_name(cases[k].rc));
        if (rc != ERR_OK) {
            assert_non_null(reason);
            assert_int_equal(d.n_events, 0); /* nothing half-parsed is handed out */
        } else {
            assert_int_equal(d.n_events, cases[k].n);
            const char **keys = malloc(d.n_events * sizeof *keys);
            for (size_t i = 0; i < d.n_events; i++) {
                const struct meta_event *e = &d.events[i];
                char mid[32], sender[32], entry[32];
                snprintf(mid, sizeof mid, "m%zu", i);
                snprintf(sender, sizeof sender, "U%zu", i);
                snprintf(entry, sizeof entry, "IG%zu", i / cases[k].per_entry);
                expect_str("many", "mid", e->mid, mid);
                expect_str("many", "sender", e->sender_id, sender);
                expect_str("many", "entry_id", e->entry_id, entry);
                expect_i64("many", "ts_ms", e->ts_ms, 1600000000000LL + (int64_t)i);
                keys[i] = e->key;
            }
            qsort(keys, d.n_events, sizeof *keys, cmp_key);
            for (size_t i = 1; i < d.n_events; i++)
                if (strcmp(keys[i - 1], keys[i]) == 0)
                    fail_msg("%zu events: key %s appears twice", cases[k].n, keys[i]);
            free(keys);
        }
        arena_release(&a);
        free(body);
    }
}

/* ---- dedupe keys: what must collide and what must not ---- */

static const char *first_key(struct arena *a, const char *body)
{
    struct meta_delivery d;
    const char *reason = NULL;
    assert_int_equal(meta_parse_delivery(a, body, strlen(body), &d, &reason), ERR_OK);
    assert_int_equal(d.n_events, 1);
    return d.events[0].key;
}

#define REACT(action) "{" SR ",\"reaction\":{\"mid\":\"m_9\",\"action\":\"" action "\"}}"

static void test_key_pairs(void **state)
{
    (void)state;
    static const struct {
        const char *name, *a, *b;
        bool same;
    } cases[] = {
        {"the same message in messaging and standby",
         ENTRY_MSG("{" SR ",\"message\":{\"mid\":\"m_1\",\"text\":\"a\"}}"),
         "{\"object\":\"page\",\"entry\":[{\"id\":\"P1\",\"standby\":[{" SR
         ",\"message\":{\"mid\":\"m_1\",\"text\":\"a\"}}]}]}",
         true},
        {"a reaction redelivered with another entry.time",
         "{\"object\":\"page\",\"entry\":[{\"id\":\"P1\",\"time\":1700000000200,\"messaging\":"
         "[" REACT("react") "]}]}",
         "{\"object\":\"page\",\"entry\":[{\"id\":\"P1\",\"time\":1700000099999,\"messaging\":"
         "[" REACT("react") "]}]}",
         true},
        {"a reaction with its keys reordered and spaced",
         ENTRY_MSG("{" SR ",\"reaction\":{\"mid\":\"m_9\",\"action\":\"react\"}}"),
         ENTRY_MSG("{ \"reaction\" : { \"action\" : \"react\", \"mid\" : \"m_9\" }, " SR " }"),
         true},
        {"a comment redelivered with another entry.time",
         ENTRY_CHG("{\"field\":\"comments\",\"value\":{\"id\":\"c1\",\"text\":\"x\"}}"),
         "{\"object\":\"page\",\"entry\":[{\"id\":\"P1\",\"time\":1700000500,\"changes\":["
         "{\"field\":\"comments\",\"value\":{\"id\":\"c1\",\"text\":\"x\"}}]}]}",
         true},
        {"two messages", ENTRY_MSG("{" SR ",\"message\":{\"mid\":\"m_1\",\"text\":\"a\"}}"),
         ENTRY_MSG("{" SR ",\"message\":{\"mid\":\"m_2\",\"text\":\"a\"}}"), false},
        {"a message and its deletion",
         ENTRY_MSG("{" SR ",\"message\":{\"mid\":\"m_1\",\"text\":\"a\"}}"),
         ENTRY_MSG("{" SR ",\"message\":{\"mid\":\"m_1\",\"is_deleted\":true}}"), false},
        {"a message and its edit", ENTRY_MSG("{" SR ",\"message\":{\"mid\":\"m_1\"}}"),
         ENTRY_MSG("{" SR ",\"message_edit\":{\"mid\":\"m_1\",\"text\":\"b\",\"num_edit\":1}}"),
         false},
        {"two edits of one message",
         ENTRY_MSG("{" SR ",\"message_edit\":{\"mid\":\"m_1\",\"text\":\"b\",\"num_edit\":1}}"),
         ENTRY_MSG("{" SR ",\"message_edit\":{\"mid\":\"m_1\",\"text\":\"c\",\"num_edit\":2}}"),
         false},
        {"react then unreact", ENTRY_MSG(REACT("react")), ENTRY_MSG(REACT("unreact")), false},
        {"two reads with different watermarks",
         ENTRY_MSG("{" SR ",\"read\":{\"watermark\":1700000000000}}"),
         ENTRY_MSG("{" SR ",\"read\":{\"watermark\":1700000000001}}"), false},
        {"the same reaction from two senders",
         ENTRY_MSG("{\"sender\":{\"id\":\"U1\"},\"recipient\":{\"id\":\"P1\"},\"timestamp\":1,"
                   "\"reaction\":{\"mid\":\"m_9\",\"action\":\"react\"}}"),
         ENTRY_MSG("{\"sender\":{\"id\":\"U2\"},\"recipient\":{\"id\":\"P1\"},\"timestamp\":1,"
                   "\"reaction\":{\"mid\":\"m_9\",\"action\":\"react\"}}"),
         false},
        {"a comment hidden, then unhidden",
         ENTRY_CHG("{\"field\":\"feed\",\"value\":{\"comment_id\":\"c1\",\"verb\":\"hide\"}}"),
         ENTRY_CHG("{\"field\":\"feed\",\"value\":{\"comment_id\":\"c1\",\"verb\":\"unhide\"}}"),
         false},
        {"a comment and a live comment with one id",
         ENTRY_CHG("{\"field\":\"comments\",\"value\":{\"id\":\"c1\"}}"),
         ENTRY_CHG("{\"field\":\"live_comments\",\"value\":{\"id\":\"c1\"}}"), false},
        {"a postback and a message with one mid",
         ENTRY_MSG("{" SR ",\"postback\":{\"mid\":\"m_1\",\"payload\":\"p\"}}"),
         ENTRY_MSG("{" SR ",\"message\":{\"mid\":\"m_1\"}}"), false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct arena a;
        arena_init(&a);
        const char *ka = first_key(&a, cases[i].a), *kb = first_key(&a, cases[i].b);
        if ((strcmp(ka, kb) == 0) != cases[i].same)
            fail_msg("%s: keys %s and %s should %s", cases[i].name, ka, kb,
                     cases[i].same ? "match" : "differ");
        arena_release(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_fixture_has_a_case),
        cmocka_unit_test(test_instagram_fixtures),
        cmocka_unit_test(test_page_fixtures),
        cmocka_unit_test(test_rejected_bodies),
        cmocka_unit_test(test_empty_deliveries),
        cmocka_unit_test(test_unknown_and_odd_shapes),
        cmocka_unit_test(test_timestamp_units),
        cmocka_unit_test(test_change_times),
        cmocka_unit_test(test_numeric_ids),
        cmocka_unit_test(test_deleted_message),
        cmocka_unit_test(test_many_events),
        cmocka_unit_test(test_key_pairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
