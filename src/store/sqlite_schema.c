/*
 * store/sqlite_schema.c - the SQLite schema as an append-only list of migrations.
 *
 * Never edit a migration that has shipped: add the next one. Each runs in its own
 * transaction together with its row in schema_migrations.
 *
 * The schema covers the whole of DESIGN.md: connected accounts (Pages, Instagram accounts)
 * with encrypted tokens; contacts (PSID/IGSID per account); conversations with their mode,
 * window clock and handoff; messages in both directions with Meta's ids and send status;
 * inbound events exactly once; the durable job queue and its dead letters; operators,
 * sessions and the audit log; posts, their images and the media store; the knowledge base;
 * deletion requests; and the event log the dashboard's WebSocket resumes from.
 * Times are Unix milliseconds (INTEGER) throughout.
 */
#include "store/sqlite_int.h"

static const char m1_core[] =
    "CREATE TABLE accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  platform TEXT NOT NULL CHECK (platform IN ('messenger','instagram')),"
    "  external_id TEXT NOT NULL," /* Page id or IG professional account id */
    "  page_id TEXT,"              /* the Page an IG account is linked to */
    "  name TEXT, username TEXT, picture_url TEXT,"
    "  token_enc BLOB," /* sealed (core/keys.h), AAD "<platform>:<external_id>" */
    "  token_expires_at INTEGER,"
    "  user_id TEXT," /* app-scoped id of the admin who connected it */
    "  scopes TEXT,"
    "  status TEXT NOT NULL DEFAULT 'active'"
    "    CHECK (status IN ('active','needs_reconnect','revoked')),"
    "  status_reason TEXT,"
    "  subscribed_fields TEXT, subscribed_at INTEGER,"
    "  last_event_at INTEGER,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  UNIQUE (platform, external_id));"
    "CREATE TABLE contacts ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  scoped_id TEXT NOT NULL," /* PSID or IGSID */
    "  name TEXT, username TEXT, picture_url TEXT,"
    "  user_id TEXT," /* app-scoped id, when known (data deletion) */
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  UNIQUE (account_id, scoped_id));"
    "CREATE INDEX contacts_user ON contacts(user_id) WHERE user_id IS NOT NULL;"
    "CREATE TABLE conversations ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
    "  mode TEXT NOT NULL DEFAULT 'ai' CHECK (mode IN ('ai','human','paused')),"
    "  last_customer_at INTEGER," /* the 24-hour / 7-day window clock */
    "  last_message_at INTEGER,"
    "  handoff_reason TEXT, handoff_at INTEGER,"
    "  assigned_operator_id INTEGER,"
    "  unread INTEGER NOT NULL DEFAULT 0,"
    "  ai_disclosed_at INTEGER,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  UNIQUE (account_id, contact_id));"
    "CREATE INDEX conversations_recent ON conversations(last_message_at DESC, id DESC);"
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY,"
    "  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"
    "  direction TEXT NOT NULL CHECK (direction IN ('in','out')),"
    "  author TEXT NOT NULL CHECK (author IN ('customer','ai','human','business','system')),"
    "  operator_id INTEGER,"
    "  mid TEXT,"                                              /* Meta's message id, <= 512 bytes */
    "  text TEXT, attachments TEXT, reply_to TEXT, meta TEXT," /* JSON where structured */
    "  status TEXT NOT NULL," /* received|queued|sending|sent|failed|deleted */
    "  messaging_type TEXT, tag TEXT,"
    "  error_code INTEGER, error_subcode INTEGER, error_message TEXT,"
    "  meta_ts INTEGER," /* Meta's timestamp for the message */
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX messages_mid ON messages(conversation_id, mid) WHERE mid IS NOT NULL;"
    "CREATE INDEX messages_conv ON messages(conversation_id, id);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  object TEXT NOT NULL, entry_id TEXT NOT NULL, kind TEXT NOT NULL, channel TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  sender_id TEXT, recipient_id TEXT, mid TEXT, ts INTEGER,"
    "  raw TEXT NOT NULL, job_id INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (object, entry_id, key));"
    "CREATE TABLE jobs ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused: events and logs name jobs */
    "  kind TEXT NOT NULL, key TEXT, dedupe TEXT UNIQUE, payload BLOB,"
    "  state TEXT NOT NULL CHECK (state IN ('ready','running','done','dead')),"
    "  attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL,"
    "  run_at INTEGER NOT NULL, lease_until INTEGER, lease_owner TEXT, last_error TEXT,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX jobs_pending ON jobs(run_at, id) WHERE state IN ('ready','running');"
    "CREATE INDEX jobs_key ON jobs(key, id) WHERE key IS NOT NULL AND state IN "
    "  ('ready','running');"
    "CREATE INDEX jobs_done ON jobs(updated_at) WHERE state IN ('done','dead');"
    "CREATE TABLE dead_letters ("
    "  id INTEGER PRIMARY KEY,"
    "  source TEXT NOT NULL," /* 'webhook' (unparseable body) or 'job' */
    "  kind TEXT, reason TEXT NOT NULL, payload BLOB, attempts INTEGER NOT NULL DEFAULT 0,"
    "  job_id INTEGER, created_at INTEGER NOT NULL);";

static const char m2_people_content[] =
    "CREATE TABLE operators ("
    "  id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  password_hash TEXT NOT NULL," /* argon2id, libsodium's encoded form */
    "  role TEXT NOT NULL CHECK (role IN ('admin','agent')),"
    "  created_at INTEGER NOT NULL, disabled_at INTEGER);"
    "CREATE TABLE sessions ("
    "  id TEXT PRIMARY KEY," /* SHA-256 of the cookie value */
    "  operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,"
    "  csrf TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    "  last_seen_at INTEGER NOT NULL);"
    "CREATE TABLE audit_log ("
    "  id INTEGER PRIMARY KEY, operator_id INTEGER, action TEXT NOT NULL, target TEXT,"
    "  detail TEXT, created_at INTEGER NOT NULL);"
    "CREATE TABLE oauth_states ("
    "  state_hash TEXT PRIMARY KEY, session_id TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL, used_at INTEGER);"
    "CREATE TABLE deletion_requests ("
    "  code TEXT PRIMARY KEY, user_id TEXT NOT NULL, kind TEXT NOT NULL,"
    "  status TEXT NOT NULL, detail TEXT, created_at INTEGER NOT NULL, completed_at INTEGER);"
    "CREATE TABLE media ("
    "  id TEXT PRIMARY KEY," /* unguessable, served at /media/{id}.jpg */
    "  sha256 TEXT NOT NULL UNIQUE, path TEXT NOT NULL, bytes INTEGER NOT NULL,"
    "  width INTEGER, height INTEGER, created_at INTEGER NOT NULL, expires_at INTEGER);"
    "CREATE TABLE posts ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  state TEXT NOT NULL CHECK (state IN ('scheduled','deferred','publishing','published',"
    "    'failed')),"
    "  step TEXT," /* within publishing: fit, container, poll, publish */
    "  caption TEXT NOT NULL DEFAULT '', fit TEXT NOT NULL DEFAULT 'pad',"
    "  scheduled_at INTEGER NOT NULL, deferred_until INTEGER,"
    "  container_id TEXT, media_id TEXT, permalink TEXT, reason TEXT,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, published_at INTEGER);"
    "CREATE INDEX posts_due ON posts(state, scheduled_at);"
    "CREATE TABLE post_items ("
    "  post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,"
    "  position INTEGER NOT NULL, source TEXT NOT NULL, media_id TEXT REFERENCES media(id),"
    "  container_id TEXT, fit_decision TEXT,"
    "  PRIMARY KEY (post_id, position));"
    "CREATE TABLE kb_documents ("
    "  id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, title TEXT, sha256 TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE kb_chunks ("
    "  id INTEGER PRIMARY KEY,"
    "  document_id INTEGER NOT NULL REFERENCES kb_documents(id) ON DELETE CASCADE,"
    "  heading TEXT, text TEXT NOT NULL, embedding BLOB);"
    "CREATE VIRTUAL TABLE kb_fts USING fts5(heading, text, content='kb_chunks',"
    "  content_rowid='id');"
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE bus_events ("
    "  id INTEGER PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE llm_usage ("
    "  id INTEGER PRIMARY KEY, conversation_id INTEGER, model TEXT,"
    "  prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL);";

static const char m3_journal[] =
    "CREATE TABLE journal_offsets ("
    "  segment TEXT PRIMARY KEY,"  /* intake journal segment file name */
    "  offset INTEGER NOT NULL);"; /* bytes already moved into jobs */

static const char m4_account_expiry[] =
    "ALTER TABLE accounts ADD COLUMN data_access_expires_at INTEGER;"; /* debug_token's */

/* Data deletion finds a person's rows by these: accounts by the admin's app-scoped id, events
 * by the customer's scoped ids (both directions), conversations by contact (the cascade from
 * contacts too), and deletion requests by person (export). */
static const char m5_privacy[] =
    "CREATE INDEX accounts_user ON accounts(user_id) WHERE user_id IS NOT NULL;"
    "CREATE INDEX events_sender ON events(sender_id);"
    "CREATE INDEX events_recipient ON events(recipient_id);"
    "CREATE INDEX conversations_contact ON conversations(contact_id);"
    "CREATE INDEX deletion_requests_user ON deletion_requests(user_id);";

/* The knowledge base's FTS index: stemmed (porter over unicode61, accents folded) so "shipping"
 * finds "ship" and "cafe" finds "café"; kept in step with kb_chunks by triggers, which also
 * fire for the chunks a document's ON DELETE CASCADE removes. embed_model names the model
 * whose vectors the document's chunks carry (NULL: none). */
static const char m6_kb_index[] =
    "ALTER TABLE kb_documents ADD COLUMN embed_model TEXT;"
    "DROP TABLE kb_fts;"
    "CREATE VIRTUAL TABLE kb_fts USING fts5(heading, text, content='kb_chunks',"
    "  content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');"
    "CREATE TRIGGER kb_chunks_ai AFTER INSERT ON kb_chunks BEGIN"
    "  INSERT INTO kb_fts (rowid, heading, text) VALUES (new.id, new.heading, new.text);"
    " END;"
    "CREATE TRIGGER kb_chunks_ad AFTER DELETE ON kb_chunks BEGIN"
    "  INSERT INTO kb_fts (kb_fts, rowid, heading, text)"
    "    VALUES ('delete', old.id, old.heading, old.text);"
    " END;"
    "CREATE TRIGGER kb_chunks_au AFTER UPDATE OF heading, text ON kb_chunks BEGIN"
    "  INSERT INTO kb_fts (kb_fts, rowid, heading, text)"
    "    VALUES ('delete', old.id, old.heading, old.text);"
    "  INSERT INTO kb_fts (rowid, heading, text) VALUES (new.id, new.heading, new.text);"
    " END;"
    "CREATE INDEX kb_chunks_document ON kb_chunks(document_id);"
    "INSERT INTO kb_fts (kb_fts) VALUES ('rebuild');";

/* Conversations (issue 5): the correlation our sender passes to the Send API as `metadata`,
 * so an echo that beats the Send API's answer finds its row; who owns the thread (standby:
 * Meta's inbox or another app does, so the AI stays silent) and since when; what the customer
 * has read (Messenger's watermark, Instagram's single mid). */
static const char m7_conversations[] =
    "ALTER TABLE messages ADD COLUMN correlation TEXT;"
    "CREATE INDEX messages_correlation ON messages(conversation_id, correlation)"
    "  WHERE correlation IS NOT NULL;"
    "ALTER TABLE conversations ADD COLUMN standby INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE conversations ADD COLUMN standby_at INTEGER;"
    "ALTER TABLE conversations ADD COLUMN read_watermark INTEGER;"
    "ALTER TABLE conversations ADD COLUMN read_mid TEXT;"
    "ALTER TABLE conversations ADD COLUMN read_at INTEGER;"
    "CREATE INDEX conversations_mode ON conversations(mode, last_message_at DESC);";

/* The dashboard (issue 7). THE BUS: every change to messages, conversations, posts and
 * accounts writes a bus_events row from a trigger, in the same transaction as the change, so
 * no caller can forget to publish and no event is visible before its change commits. A row
 * carries only ids; the gateway loads the current rows to send. bus_events is made again with
 * AUTOINCREMENT (it was unused) so that pruning never lets an id be reused: a client resuming
 * from its last id never skips one. Sign-in throttling counts failures per key. */
static const char m11_dashboard[] =
    "DROP TABLE bus_events;"
    "CREATE TABLE bus_events ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, payload TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL DEFAULT (CAST((julianday('now')-2440587.5)*864e5 AS"
    " INTEGER)));"
    "CREATE INDEX bus_events_created ON bus_events(created_at);"
    "CREATE TRIGGER bus_message_created AFTER INSERT ON messages BEGIN"
    " INSERT INTO bus_events (type, payload) VALUES ('message.created',"
    " json_object('conversation_id', new.conversation_id, 'message_id', new.id)); END;"
    "CREATE TRIGGER bus_message_updated AFTER UPDATE ON messages"
    "  WHEN old.status IS NOT new.status OR old.text IS NOT new.text OR old.meta IS NOT"
    " new.meta"
    "  OR old.mid IS NOT new.mid OR old.operator_id IS NOT new.operator_id BEGIN"
    " INSERT INTO bus_events (type, payload) VALUES ('message.updated',"
    " json_object('conversation_id', new.conversation_id, 'message_id', new.id)); END;"
    "CREATE TRIGGER bus_conversation_created AFTER INSERT ON conversations BEGIN"
    " INSERT INTO bus_events (type, payload) VALUES ('conversation.updated',"
    " json_object('conversation_id', new.id)); END;"
    "CREATE TRIGGER bus_conversation_updated AFTER UPDATE ON conversations"
    "  WHEN old.mode IS NOT new.mode OR old.handoff_reason IS NOT new.handoff_reason"
    "  OR old.handoff_at IS NOT new.handoff_at OR old.last_customer_at IS NOT"
    " new.last_customer_at"
    "  OR old.last_message_at IS NOT new.last_message_at"
    "  OR old.assigned_operator_id IS NOT new.assigned_operator_id OR old.unread IS NOT"
    " new.unread"
    "  OR old.standby IS NOT new.standby OR old.handoff_cause IS NOT new.handoff_cause"
    "  OR old.handed_back_at IS NOT new.handed_back_at BEGIN"
    " INSERT INTO bus_events (type, payload) VALUES ('conversation.updated',"
    " json_object('conversation_id', new.id)); END;"
    "CREATE TRIGGER bus_conversation_deleted AFTER DELETE ON conversations BEGIN"
    " INSERT INTO bus_events (type, payload) VALUES ('conversation.updated',"
    " json_object('conversation_id', old.id, 'deleted', json('true'))); END;"
    "CREATE TRIGGER bus_post_created AFTER INSERT ON posts BEGIN"
    " INSERT INTO bus_events (type, payload) VALUES ('post.updated', json_object('post_id',"
    " new.id, 'account_id', new.account_id)); END;"
    "CREATE TRIGGER bus_post_updated AFTER UPDATE ON posts"
    "  WHEN old.state IS NOT new.state OR old.step IS NOT new.step OR old.reason IS NOT"
    " new.reason"
    "  OR old.scheduled_at IS NOT new.scheduled_at OR old.deferred_until IS NOT"
    " new.deferred_until"
    "  OR old.permalink IS NOT new.permalink OR old.media_id IS NOT new.media_id"
    "  OR old.caption IS NOT new.caption OR old.published_at IS NOT new.published_at BEGIN"
    " INSERT INTO bus_events (type, payload) VALUES ('post.updated', json_object('post_id',"
    " new.id, 'account_id', new.account_id)); END;"
    "CREATE TRIGGER bus_post_deleted AFTER DELETE ON posts BEGIN"
    " INSERT INTO bus_events (type, payload) VALUES ('post.updated', json_object('post_id',"
    " old.id, 'account_id', old.account_id, 'deleted', json('true'))); END;"
    "CREATE TRIGGER bus_account_created AFTER INSERT ON accounts BEGIN"
    " INSERT INTO bus_events (type, payload) VALUES ('account.updated',"
    " json_object('account_id', new.id)); END;"
    "CREATE TRIGGER bus_account_updated AFTER UPDATE ON accounts"
    "  WHEN old.status IS NOT new.status OR old.status_reason IS NOT new.status_reason"
    "  OR old.token_enc IS NOT new.token_enc OR old.token_expires_at IS NOT"
    " new.token_expires_at"
    "  OR old.data_access_expires_at IS NOT new.data_access_expires_at"
    "  OR old.subscribed_fields IS NOT new.subscribed_fields OR old.name IS NOT new.name"
    "  OR old.username IS NOT new.username OR old.picture_url IS NOT new.picture_url BEGIN"
    " INSERT INTO bus_events (type, payload) VALUES ('account.updated',"
    " json_object('account_id', new.id)); END;"
    "CREATE TRIGGER bus_account_deleted AFTER DELETE ON accounts BEGIN"
    " INSERT INTO bus_events (type, payload) VALUES ('account.updated',"
    " json_object('account_id', old.id, 'deleted', json('true'))); END;"
    "CREATE TABLE login_attempts ("
    "  key TEXT PRIMARY KEY,"
    "  failures INTEGER NOT NULL, first_at INTEGER NOT NULL);"
    "CREATE INDEX audit_log_operator ON audit_log(operator_id, id);";
/* Who answers a conversation (inbox/handoff.c): the machine name of why it went to a person
 * next to the plain-words reason, and when an operator last handed it back to the AI (the AI
 * discloses itself again after it; automatic handoff signals cool down). assigned_operator_id
 * (migration 1) is the operator who has it; the index finds each operator's load. */
static const char m8_handoff[] =
    "ALTER TABLE conversations ADD COLUMN handoff_cause TEXT;"
    "ALTER TABLE conversations ADD COLUMN handed_back_at INTEGER;"
    "CREATE INDEX conversations_assigned ON conversations(assigned_operator_id, mode)"
    "  WHERE assigned_operator_id IS NOT NULL;"
    "CREATE INDEX sessions_operator ON sessions(operator_id, last_seen_at);";

/* The agent (issue 6): each scored customer message's sentiment (-1..1, NULL when not
 * scored), for the dashboard's trend and the agent's recent average; token usage is read per
 * conversation. */
static const char m10_agent[] =
    "ALTER TABLE messages ADD COLUMN sentiment REAL;"
    "CREATE INDEX llm_usage_conversation ON llm_usage(conversation_id, created_at);";

/* The messaging pipeline (issue 5). Accounts: when Meta's throttling lets sends resume
 * (send_paused_until, from codes 4/17/32/613/800xx and the usage headers), and how lively the
 * account usually is (last_event_at of migration 1, now kept; event_gap_ms: a moving average
 * of the time between its events; silent_since: when the silent-account alert was raised).
 * The bus hears of both, for the dashboard. Comments on the business's posts and media, each
 * stored once with what the agent did about it (left, a public reply, one private reply,
 * hidden). */
static const char m12_pipeline[] =
    "ALTER TABLE accounts ADD COLUMN send_paused_until INTEGER;"
    "ALTER TABLE accounts ADD COLUMN event_gap_ms INTEGER;"
    "ALTER TABLE accounts ADD COLUMN silent_since INTEGER;"
    "CREATE TRIGGER bus_account_pipeline AFTER UPDATE OF send_paused_until, silent_since"
    "  ON accounts WHEN old.send_paused_until IS NOT new.send_paused_until"
    "  OR old.silent_since IS NOT new.silent_since BEGIN"
    " INSERT INTO bus_events (type, payload) VALUES ('account.updated',"
    " json_object('account_id', new.id)); END;"
    "CREATE TABLE comments ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    "  comment_id TEXT NOT NULL," /* Meta's id */
    "  parent_id TEXT, media_id TEXT,"
    "  from_id TEXT, from_name TEXT," /* the commenter's IGSID / PSID and name */
    "  text TEXT,"
    "  meta_ts INTEGER," /* when it was written (ms) */
    "  status TEXT NOT NULL DEFAULT 'new'"
    "    CHECK (status IN ('new','done','failed')),"
    "  action TEXT CHECK (action IN ('left','public','private','hidden'))," /* what was done */
    "  reply_text TEXT, reply_id TEXT," /* our reply and Meta's id for it */
    "  is_hidden INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  UNIQUE (account_id, comment_id));"
    "CREATE INDEX comments_recent ON comments(account_id, id);"
    "CREATE INDEX comments_from ON comments(from_id) WHERE from_id IS NOT NULL;";
/* The content engine (issue 8). A post keeps its publishing state machine's facts: when its
 * (parent) container was made (the poll deadline), how many polls and failed tries the
 * current step has had, and when media_publish may have been sent (after a crash the
 * container's status is read before it is ever sent again); Meta's error code and subcode
 * beside the reason. The quota last read for an account is kept on it (shown). Media rows can
 * be previews (expires_at) or a post's fitted images; uploads are referenced by post_items.
 * source ("file:<sha256>"). The indexes find the rolling day's publishes and the media still
 * in use. */
static const char m13_content[] =
    "ALTER TABLE posts ADD COLUMN container_at INTEGER;"
    "ALTER TABLE posts ADD COLUMN polls INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE posts ADD COLUMN tries INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE posts ADD COLUMN publish_sent_at INTEGER;"
    "ALTER TABLE posts ADD COLUMN error_code INTEGER;"
    "ALTER TABLE posts ADD COLUMN error_subcode INTEGER;"
    "ALTER TABLE posts ADD COLUMN operator_id INTEGER;"
    "ALTER TABLE accounts ADD COLUMN quota_usage INTEGER;"
    "ALTER TABLE accounts ADD COLUMN quota_total INTEGER;"
    "ALTER TABLE accounts ADD COLUMN quota_checked_at INTEGER;"
    "CREATE INDEX posts_published ON posts(account_id, published_at)"
    "  WHERE published_at IS NOT NULL;"
    "CREATE INDEX posts_account ON posts(account_id, id);"
    "CREATE INDEX post_items_media ON post_items(media_id) WHERE media_id IS NOT NULL;"
    "CREATE INDEX media_expires ON media(expires_at) WHERE expires_at IS NOT NULL;";

const struct sqlite_migration sqlite_migrations[] = {
    {1, "core: accounts, contacts, conversations, messages, events, jobs", m1_core},
    {2, "operators, posts, media, knowledge base, settings, bus", m2_people_content},
    {3, "intake journal offsets", m3_journal},
    {4, "accounts: data access expiry", m4_account_expiry},
    {5, "privacy: indexes for data deletion and export", m5_privacy},
    {6, "knowledge base: stemmed FTS kept in step by triggers, embedding model", m6_kb_index},
    {7, "conversations: send correlation, standby, read state", m7_conversations},
    {8, "conversations: handoff cause, hand-back time, operator load", m8_handoff},
    {10, "agent: message sentiment, token usage by conversation", m10_agent},
    {11, "dashboard: the live-event bus written by triggers, sign-in throttling", m11_dashboard},
    {12, "pipeline: send pauses, account liveliness, comments", m12_pipeline},
    {13, "content: publishing state, quota per account, media in use", m13_content},
};

const int sqlite_n_migrations = sizeof sqlite_migrations / sizeof sqlite_migrations[0];
