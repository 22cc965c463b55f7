// The customer simulator: plays a customer of the Northwind Coffee Page against the local
// Meta emulator's control API (/_emulator/...). Polls the world about once a second; every
// text from the server goes into the page through textContent, never as HTML.

const POLL_MS = 1000;
const DAY_MS = 24 * 3600 * 1000;

const ui = {
  customers: document.getElementById("customer-list"),
  channels: document.querySelectorAll('input[name="channel"]'),
  igTarget: document.getElementById("ig-target"),
  pageTarget: document.getElementById("page-target"),
  tabChat: document.getElementById("tab-chat"),
  tabPosts: document.getElementById("tab-posts"),
  panelChat: document.getElementById("panel-chat"),
  panelPosts: document.getElementById("panel-posts"),
  chatSub: document.getElementById("chat-sub"),
  chatName: document.getElementById("chat-name"),
  windowState: document.getElementById("window-state"),
  log: document.getElementById("chat-log"),
  composer: document.getElementById("composer"),
  text: document.getElementById("message-text"),
  send: document.getElementById("send"),
  posts: document.getElementById("posts"),
  status: document.getElementById("status"),
};

const sim = {
  world: null,
  customer: 0,
  channel: "instagram",
  page: 0,
  shown: "", // what the chat view currently shows, to redraw only on change
  reacted: new Map(), // mid -> emoji, the reactions this page sent
  customersKey: "",
  lastError: "",
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== false && v !== null && v !== undefined) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error || `${method} ${path}: HTTP ${r.status}`);
  return data;
}

function time(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function initial(name) {
  return (name || "?").trim().charAt(0).toUpperCase();
}

const AVATAR_COLORS = ["#d9485f", "#2f8f83", "#6a5acd", "#d9822b", "#3b7dd8", "#8d6e63"];

// ---- customers and channel ----

function renderCustomers(world) {
  const key = world.customers.map((c) => c.name + c.ig_username).join("|");
  if (key === sim.customersKey) return;
  sim.customersKey = key;
  ui.customers.replaceChildren(
    ...world.customers.map((c) =>
      el("label", { class: "choice" },
        el("input", {
          type: "radio", name: "customer", value: String(c.index),
          checked: c.index === sim.customer,
          onchange: () => { sim.customer = c.index; sim.shown = ""; refresh(); },
        }),
        el("span", {
          class: "avatar", "aria-hidden": "true", text: initial(c.name),
          style: `background:${AVATAR_COLORS[c.index % AVATAR_COLORS.length]}`,
        }),
        el("span", { class: "choice-text" },
          el("span", { class: "choice-title", text: c.name }),
          el("span", { class: "choice-sub", text: "@" + c.ig_username })))));
}

function renderTargets(world) {
  const page = world.pages[sim.page];
  if (!page) return;
  ui.igTarget.textContent = page.ig_username ? `to @${page.ig_username}` : "no Instagram account";
  ui.pageTarget.textContent = `to ${page.name}`;
  ui.chatName.textContent = page.name;
  ui.chatSub.textContent = sim.channel === "instagram"
    ? `Instagram · @${page.ig_username || "?"}` : `Messenger · ${page.name} Page`;
  ui.panelChat.classList.toggle("instagram", sim.channel === "instagram");
  ui.panelChat.classList.toggle("messenger", sim.channel === "messenger");
}

for (const input of ui.channels) {
  input.addEventListener("change", () => {
    if (!input.checked) return;
    sim.channel = input.value;
    sim.shown = "";
    refresh();
  });
}

// ---- tabs ----

function selectTab(chat) {
  ui.tabChat.setAttribute("aria-selected", String(chat));
  ui.tabPosts.setAttribute("aria-selected", String(!chat));
  ui.tabChat.tabIndex = chat ? 0 : -1;
  ui.tabPosts.tabIndex = chat ? -1 : 0;
  ui.panelChat.hidden = !chat;
  ui.panelPosts.hidden = chat;
  if (!chat && sim.world) renderPosts(sim.world);
}

// Deep links: #posts opens the Posts tab; ?customer=N&channel=messenger picks who writes.
function readLocation() {
  const q = new URLSearchParams(location.search);
  const n = Number.parseInt(q.get("customer") || "0", 10);
  if (Number.isInteger(n) && n >= 0) sim.customer = n;
  if (q.get("channel") === "messenger" || q.get("channel") === "instagram") sim.channel = q.get("channel");
  for (const input of ui.channels) input.checked = input.value === sim.channel;
  if (location.hash === "#posts") selectTab(false);
}

ui.tabChat.addEventListener("click", () => selectTab(true));
ui.tabPosts.addEventListener("click", () => selectTab(false));
for (const tab of [ui.tabChat, ui.tabPosts]) {
  tab.addEventListener("keydown", (ev) => {
    if (ev.key !== "ArrowLeft" && ev.key !== "ArrowRight") return;
    const toChat = tab === ui.tabPosts;
    selectTab(toChat);
    (toChat ? ui.tabChat : ui.tabPosts).focus();
  });
}

// ---- chat ----

function currentThread(world) {
  return world.threads.find((t) =>
    t.page === sim.page && t.customer === sim.customer && t.channel === sim.channel);
}

function renderWindow(world, thread) {
  const w = ui.windowState;
  if (!thread || !thread.last_inbound_ms) {
    w.textContent = "";
    return;
  }
  const left = thread.last_inbound_ms + DAY_MS - world.now_ms;
  w.classList.toggle("closed", left <= 0);
  w.textContent = left > 0
    ? `24-hour window open · ${Math.max(1, Math.round(left / 3600000))} h left`
    : "24-hour window closed";
}

function attachmentNode(att) {
  const url = att.payload && att.payload.url;
  if (att.type === "image" && url) return el("img", { src: url, alt: "Image attachment" });
  const label = `📎 ${att.type}`;
  return url ? el("a", { class: "attachment", href: url, target: "_blank", rel: "noopener", text: label })
    : el("span", { class: "attachment", text: label });
}

function messageNode(m) {
  const inbound = m.direction === "in";
  const bubble = el("div", { class: "bubble" });
  if (m.text) bubble.append(m.text);
  if (m.attachment) bubble.append(attachmentNode(m.attachment));
  const emoji = sim.reacted.get(m.mid);
  if (emoji) bubble.append(el("span", { class: "reaction", text: emoji, "aria-label": "You reacted " + emoji }));
  const meta = el("div", { class: "meta" },
    el("span", { text: (inbound ? "You" : ui.chatName.textContent) + " · " + time(m.ts_ms) }));
  if (!inbound) {
    meta.append(el("button", {
      type: "button", class: "react", disabled: Boolean(emoji),
      "aria-label": emoji ? "Reacted with a heart" : `React with a heart to “${(m.text || "attachment").slice(0, 60)}”`,
      text: emoji ? "❤ Reacted" : "❤ React",
      onclick: () => react(m.mid),
    }));
  }
  return el("div", { class: "msg " + (inbound ? "in" : "out") }, bubble, meta);
}

function renderChat(messages) {
  const key = sim.customer + sim.channel + messages.map((m) => m.mid + (sim.reacted.get(m.mid) || "")).join(",");
  if (key === sim.shown) return;
  sim.shown = key;
  const log = ui.log;
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  if (!messages.length) {
    const who = sim.world ? sim.world.customers[sim.customer].name : "the customer";
    log.replaceChildren(el("p", { class: "empty", text: `No messages yet. Write something as ${who} below.` }));
    return;
  }
  log.replaceChildren(...messages.map(messageNode));
  if (atBottom || messages[messages.length - 1].direction === "in") log.scrollTop = log.scrollHeight;
}

async function loadChat(world) {
  const thread = currentThread(world);
  renderWindow(world, thread);
  if (!thread) {
    renderChat([]);
    return;
  }
  const t = await api("GET", `/_emulator/threads/${encodeURIComponent(thread.id)}`);
  renderChat(t.messages);
}

async function act(body) {
  return api("POST", `/_emulator/customers/${sim.customer}/messages`,
    { channel: sim.channel, page: sim.page, ...body });
}

ui.composer.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const text = ui.text.value.trim();
  if (!text) return;
  ui.send.disabled = true;
  try {
    await act({ kind: "message", text });
    ui.text.value = "";
    await refresh();
  } catch (e) {
    showError(e);
  } finally {
    ui.send.disabled = false;
    ui.text.focus();
  }
});

async function react(mid) {
  try {
    await act({ kind: "reaction", mid, reaction: "love" });
    sim.reacted.set(mid, "❤️");
    sim.shown = "";
    await refresh();
  } catch (e) {
    showError(e);
  }
}

// ---- posts ----

function postNode(post, page) {
  const media = post.has_image
    ? el("div", { class: "post-media" },
      el("img", { src: `/_emulator/media/${encodeURIComponent(post.id)}.jpg`, alt: post.caption || "Instagram post" }))
    : el("div", { class: "post-media placeholder" },
      el("span", { class: "cup", "aria-hidden": "true", text: "☕" }),
      el("span", { text: "Seeded post · no image" }));
  const inputId = `comment-${post.id}`;
  const input = el("input", { id: inputId, type: "text", autocomplete: "off", maxlength: "2200" });
  const form = el("form", { class: "comment-form" },
    el("label", { for: inputId, class: "visually-hidden", text: "Comment on this post" }),
    input,
    el("button", { type: "submit", class: "primary", text: "Comment" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    try {
      await api("POST", `/_emulator/customers/${sim.customer}/comments`, { media_id: post.id, text });
      input.value = "";
      await refresh();
    } catch (e) {
      showError(e);
    }
  });
  return el("article", { class: "post", "data-id": post.id, "aria-label": "Post " + post.id },
    media,
    el("div", { class: "post-body" },
      el("p", { class: "caption" }, el("strong", { text: "@" + (page.ig_username || page.name) }), post.caption || ""),
      el("div", { class: "post-meta" }),
      el("ul", { class: "comments", "aria-label": "Comments" }),
      form));
}

function updatePost(node, post) {
  const who = sim.world ? sim.world.customers[sim.customer].name : "the customer";
  node.querySelector(".comment-form input").placeholder = `Comment as ${who}…`;
  node.querySelector(".post-meta").textContent =
    `${new Date(post.ts_ms).toLocaleDateString()} · ${post.comments} comment${post.comments === 1 ? "" : "s"}`;
  const list = node.querySelector(".comments");
  const key = post.latest_comments.map((c) => c.id).join(",");
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  list.replaceChildren(...post.latest_comments.map((c) =>
    el("li", { class: c.parent_id ? "reply" : "" },
      el("span", { class: "who", text: "@" + c.username }), c.text)));
}

function renderPosts(world) {
  const page = world.pages[sim.page];
  const posts = world.media.filter((m) => m.page === sim.page).reverse();
  const existing = new Map([...ui.posts.children].map((n) => [n.dataset.id, n]));
  const nodes = posts.map((p) => existing.get(p.id) || postNode(p, page));
  nodes.forEach((n, i) => updatePost(n, posts[i]));
  if (nodes.some((n, i) => ui.posts.children[i] !== n) || nodes.length !== ui.posts.children.length)
    ui.posts.replaceChildren(...nodes);
  if (!posts.length) ui.posts.replaceChildren(el("p", { class: "empty", text: "No posts yet." }));
}

// ---- status line ----

function renderStatus(world, deliveries) {
  const d = deliveries.deliveries;
  const events = (list) => list.reduce((n, x) => n + x.events, 0);
  const ok = events(d.filter((x) => x.delivered));
  const dropped = events(d.filter((x) => x.dropped));
  const retrying = events(d.filter((x) => !x.delivered && !x.dropped && x.attempts > 0));
  const url = world.webhook_url;
  const bad = !url || dropped > 0 || retrying > 0;
  const parts = [
    el("span", { class: "dot" + (bad ? " bad" : ""), "aria-hidden": "true" }),
    "Webhooks → ", url ? el("code", { text: url }) : "no webhook URL configured",
    ` · events: ${ok} delivered in ${d.filter((x) => x.delivered).length} POSTs · ${retrying} retrying · ` +
      `${dropped} dropped · ${deliveries.pending} pending`,
  ];
  if (world.clock_offset_ms) parts.push(` · clock +${Math.round(world.clock_offset_ms / 60000)} min`);
  if (sim.lastError) parts.push(" · ", el("strong", { text: sim.lastError }));
  ui.status.replaceChildren(...parts);
}

function showError(e) {
  sim.lastError = e.message || String(e);
  setTimeout(() => { sim.lastError = ""; }, 6000);
  ui.status.textContent = sim.lastError;
}

// ---- polling ----

let inFlight = null;
let again = false;

async function poll() {
  const world = await api("GET", "/_emulator/state");
  sim.world = world;
  renderCustomers(world);
  renderTargets(world);
  await loadChat(world);
  if (!ui.panelPosts.hidden) renderPosts(world);
  renderStatus(world, await api("GET", "/_emulator/deliveries"));
}

// One poll at a time; a refresh asked for during a poll runs once more right after it.
function refresh() {
  if (inFlight) {
    again = true;
    return inFlight;
  }
  inFlight = poll()
    .catch((e) => { ui.status.textContent = "The emulator is not answering: " + e.message; })
    .finally(() => {
      inFlight = null;
      if (again) {
        again = false;
        refresh();
      }
    });
  return inFlight;
}

async function loop() {
  await refresh();
  setTimeout(loop, POLL_MS);
}

readLocation();
loop();
