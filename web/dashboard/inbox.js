// inbox.js - the inbox: filters with unread counts, the conversation list (newest activity
// first, more loaded by cursor), and the open conversation beside it (conversation.js).
// Live: conversation.updated upserts and re-sorts the list; the open conversation gets every
// event for it.

import { api } from './api.js';
import * as conversation from './conversation.js';
import { agoOf, clear, h } from './ui.js';

const FILTERS = [
  { id: 'all', label: 'All' },
  { id: 'needs_human', label: 'Needs a human' },
  { id: 'ai', label: 'AI handling' },
  { id: 'closed', label: 'Window closed' },
];

function matches(filter, c) {
  if (filter === 'needs_human') return c.mode === 'human' || c.mode === 'paused';
  if (filter === 'ai') return c.mode === 'ai';
  if (filter === 'closed') return c.window.state === 'closed';
  return true;
}

export function mount(root, ctx) {
  let filter = 'all', rows = new Map(), before = null, openId = null, open = null, countsTimer = null;
  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Filter conversations' });
  const list = h('ul', { class: 'conv-list', role: 'list', 'aria-label': 'Conversations' });
  const more = h('button', { type: 'button', class: 'ghost more', hidden: true, onclick: () => load(false) }, 'Load more');
  const empty = h('p', { class: 'muted empty', hidden: true }, 'No conversations here.');
  const pane = h('section', { class: 'conv-pane', 'aria-label': 'Conversation' },
                 h('div', { class: 'placeholder muted' }, 'Choose a conversation.'));
  const side = h('aside', { class: 'inbox-side' }, tabs, list, empty, more);
  const layout = h('div', { class: 'inbox' }, side, pane);
  root.append(layout);

  function renderTabs(counts) {
    clear(tabs);
    for (const f of FILTERS) {
      const c = counts && counts[f.id];
      const badge = c && c.unread ? h('span', { class: 'badge', 'aria-label': `${c.unread} unread` }, String(c.unread)) : null;
      tabs.append(h('button', { type: 'button', role: 'tab', 'aria-selected': String(f.id === filter),
                                onclick: () => { filter = f.id; load(true); } },
                    f.label, c ? h('span', { class: 'count' }, ` ${c.total}`) : null, badge));
    }
  }

  function item(c) {
    const last = c.last_message;
    const mode = c.mode === 'ai' ? 'AI' : c.mode === 'human' ? 'Human' : 'Paused';
    return h('li', { role: 'listitem', class: `conv-item${c.id === openId ? ' open' : ''}${c.unread ? ' unread' : ''}`,
                     'data-id': c.id },
      h('a', { href: `#/inbox/${c.id}`, class: 'conv-link' },
        h('span', { class: 'conv-top' },
          h('span', { class: 'conv-name' }, c.customer.display),
          h('span', { class: `pill mode-${c.mode}` }, mode),
          c.window.state !== 'open' ? h('span', { class: `pill win-${c.window.state}` }, c.window.state === 'closed' ? 'Closed' : '7-day') : null,
          h('time', { class: 'muted' }, agoOf(c.last_message_at_ms))),
        h('span', { class: 'conv-last' },
          last ? `${last.author === 'customer' ? '' : last.author === 'ai' ? 'AI: ' : 'You: '}${last.text || '(attachment)'}` : ''),
        c.unread ? h('span', { class: 'badge', 'aria-label': `${c.unread} unread` }, String(c.unread)) : null));
  }

  // Keyed: an item is rebuilt only when its conversation changed, and moved (not recreated)
  // when the order changes, so focus and a click in progress survive a stream of events.
  const built = new Map(); // id -> { key, el }
  function render() {
    const sorted = [...rows.values()].filter((c) => matches(filter, c))
      .sort((a, b) => b.last_message_at_ms - a.last_message_at_ms || b.id - a.id);
    const keep = new Set();
    let prev = null;
    for (const c of sorted) {
      const key = JSON.stringify(c) + (c.id === openId);
      let b = built.get(c.id);
      if (!b || b.key !== key) {
        const el = item(c);
        if (b) b.el.replaceWith(el);
        b = { key, el };
        built.set(c.id, b);
      }
      keep.add(c.id);
      const want = prev ? prev.nextSibling : list.firstChild;
      if (want !== b.el) list.insertBefore(b.el, want);
      prev = b.el;
    }
    for (const [id, b] of built) if (!keep.has(id)) { b.el.remove(); built.delete(id); }
    empty.hidden = sorted.length > 0;
    more.hidden = !before;
  }

  async function counts() {
    try { renderTabs((await api('GET', '/api/conversations?limit=1')).counts); } catch (e) { /* next time */ }
  }

  async function load(reset) {
    if (reset) { rows = new Map(); before = null; }
    const q = new URLSearchParams({ filter, limit: '30' });
    if (!reset && before) q.set('before', before);
    try {
      const r = await api('GET', `/api/conversations?${q}`);
      r.conversations.forEach((c) => rows.set(c.id, c));
      before = r.before;
      renderTabs(r.counts);
      render();
    } catch (e) {
      built.clear();
      clear(list).append(h('li', { role: 'listitem', class: 'alert' }, e.message));
    }
  }

  function select(parts) {
    const id = Number(parts[0]) || null;
    layout.classList.toggle('has-open', !!id);
    if (id === openId) return;
    if (open) open.unmount();
    open = null;
    openId = id;
    clear(pane);
    if (id) open = conversation.mount(pane, { ...ctx, id, back: () => ctx.navigate('#/inbox') });
    else pane.append(h('div', { class: 'placeholder muted' }, 'Choose a conversation.'));
    render();
  }

  load(true);
  select(ctx.route);
  return {
    route: select,
    refresh() { load(true); if (open) open.refresh(); },
    onEvent(ev) {
      if (ev.event === 'conversation.updated') {
        if (ev.deleted) rows.delete(ev.conversation_id);
        else if (ev.conversation) rows.set(ev.conversation.id, ev.conversation);
        render();
        clearTimeout(countsTimer);
        countsTimer = setTimeout(counts, 500);
      }
      if (open && ev.conversation_id === openId) open.onEvent(ev);
    },
    unmount() { clearTimeout(countsTimer); if (open) open.unmount(); },
  };
}
