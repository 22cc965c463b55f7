// conversation.js - one conversation: the messages as an inverted list (newest at the bottom,
// older pages loaded by cursor when scrolled to the top, keeping the view where it was), the
// window indicator, take over / reply / hand back, the handoff reason and the sentiment trend.

import { api } from './api.js';
import { clear, h, leftOf, timeOf, toast } from './ui.js';

const MODE_WORDS = { ai: 'The AI is answering', human: 'A person has it', paused: 'The AI is paused' };
const PLATFORM = { instagram: 'Instagram', messenger: 'Messenger' };

function windowWords(w) {
  if (w.state === 'open')
    return { text: `Window open, ${leftOf(w.until_ms)} left. A reply goes out as a standard response.`, kind: 'ok' };
  if (w.state === 'human_only')
    return { text: `24-hour window closed. A person may reply for ${leftOf(w.until_ms)} more; it is sent with the HUMAN_AGENT tag.`, kind: 'warn' };
  return { text: 'No reply is possible: the customer last wrote more than 7 days ago. They must write again first.', kind: 'closed' };
}

function sparkline(values) {
  const w = 120, hgt = 28, n = values.length;
  const pts = values.map((v, i) => `${n === 1 ? w / 2 : (i * w) / (n - 1)},${((1 - v) / 2) * hgt}`).join(' ');
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('aria-hidden', 'true');
  const mid = document.createElementNS(svg.namespaceURI, 'line');
  Object.entries({ x1: 0, x2: w, y1: hgt / 2, y2: hgt / 2, class: 'spark-mid' }).forEach(([k, v]) => mid.setAttribute(k, v));
  const line = document.createElementNS(svg.namespaceURI, 'polyline');
  line.setAttribute('points', pts);
  svg.append(mid, line);
  return svg;
}

export function mount(root, ctx) {
  let conv = null, before = null, loadingOlder = false, alive = true, ticker = null;
  const messages = new Map();
  const title = h('h2', { class: 'conv-title' }, '…');
  const sub = h('p', { class: 'muted conv-sub' });
  const takeBtn = h('button', { type: 'button', class: 'primary', hidden: true, onclick: () => move('takeover') }, 'Take over');
  const backBtn = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => move('handback') }, 'Hand back');
  const handoff = h('p', { class: 'handoff', hidden: true });
  const trend = h('div', { class: 'trend', hidden: true });
  const windowEl = h('p', { class: 'window' });
  const older = h('p', { class: 'muted older', hidden: true }, 'Loading older messages…');
  const log = h('div', { class: 'log', role: 'log', 'aria-label': 'Messages', tabindex: '0' }, older);
  const jump = h('button', { type: 'button', class: 'jump', hidden: true, onclick: () => toBottom() }, 'New messages ↓');
  const text = h('textarea', { id: `reply-${ctx.id}`, rows: '2', maxlength: '4000', placeholder: 'Write a reply…' });
  const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
  const why = h('p', { class: 'alert', role: 'alert', hidden: true });
  const form = h('form', { class: 'compose', onsubmit: onSend },
                 h('label', { for: `reply-${ctx.id}`, class: 'sr-only' }, 'Reply'), text, send);
  const head = h('header', { class: 'conv-head' },
    h('button', { type: 'button', class: 'ghost back', 'aria-label': 'Back to the inbox', onclick: ctx.back }, '←'),
    h('div', { class: 'conv-ident' }, title, sub), h('div', { class: 'actions' }, takeBtn, backBtn));
  root.append(h('div', { class: 'conv' }, head, h('div', { class: 'conv-meta' }, handoff, trend, windowEl), log, jump, why, form));

  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
  });

  const atBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  function toBottom() { log.scrollTop = log.scrollHeight; jump.hidden = true; }

  function bubble(m) {
    const who = m.author === 'customer' ? '' : m.author === 'ai' ? 'AI' : m.author === 'human' ? 'You' : m.author;
    const status = m.direction === 'out' && m.status !== 'sent' ? h('span', { class: `status st-${m.status}` }, m.status === 'failed' ? `Not sent${m.error ? `: ${m.error}` : ''}` : m.status) : null;
    const att = (m.attachments || []).map((a) => h('span', { class: 'att' }, `[${a.type || 'attachment'}]`));
    return h('div', { class: `msg ${m.direction} a-${m.author}${m.status === 'deleted' ? ' deleted' : ''}`, 'data-id': m.id },
      h('div', { class: 'bubble' },
        m.status === 'deleted' ? h('em', {}, 'Message deleted') : (m.text || ''), att,
        m.reaction && m.reaction.action === 'react' ? h('span', { class: 'reaction', 'aria-label': 'reaction' }, m.reaction.emoji || '♥') : null),
      h('div', { class: 'msg-meta muted' }, who ? `${who} · ` : '', h('time', {}, timeOf(m.at_ms)),
        m.tag ? h('span', { class: 'pill tag' }, m.tag) : null, m.edited ? ' · edited' : '', status));
  }

  function renderMeta() {
    if (!conv) return;
    title.textContent = conv.customer.display;
    sub.textContent = `${PLATFORM[conv.platform] || conv.platform}${conv.account.name ? ` · ${conv.account.name}` : ''} · ${MODE_WORDS[conv.mode] || conv.mode}`;
    takeBtn.hidden = conv.mode === 'human';
    backBtn.hidden = conv.mode === 'ai';
    handoff.hidden = conv.mode === 'ai' || !conv.handoff.reason;
    handoff.textContent = conv.handoff.reason ? `Handed to a person: ${conv.handoff.reason}` : '';
    const w = windowWords(conv.window);
    windowEl.textContent = w.text;
    windowEl.className = `window win-${w.kind}`;
    const closed = conv.window.state === 'closed';
    send.disabled = closed;
    text.disabled = closed;
    why.hidden = !closed;
    why.textContent = closed ? w.text : '';
    renderTrend();
  }

  function renderTrend() {
    const scores = [...messages.values()].filter((m) => typeof m.sentiment === 'number').map((m) => m.sentiment);
    trend.hidden = scores.length === 0;
    clear(trend);
    if (!scores.length) return;
    const last = scores[scores.length - 1];
    const words = last <= -0.3 ? 'upset' : last >= 0.3 ? 'happy' : 'neutral';
    trend.append(h('span', { class: 'muted' }, 'Sentiment '), sparkline(scores.slice(-20)),
                 h('span', { class: `sent sent-${words}` }, ` ${words} (${last.toFixed(2)})`));
  }

  function place(m) {
    const had = messages.has(m.id);
    messages.set(m.id, m);
    const el = bubble(m);
    const old = log.querySelector(`.msg[data-id="${m.id}"]`);
    if (old) { old.replaceWith(el); return had; }
    const next = [...log.querySelectorAll('.msg')].find((x) => Number(x.dataset.id) > m.id);
    log.insertBefore(el, next || null);
    return had;
  }

  async function loadNewest() {
    try {
      const [c, p] = await Promise.all([api('GET', `/api/conversations/${ctx.id}`),
                                        api('GET', `/api/conversations/${ctx.id}/messages?limit=40`)]);
      if (!alive) return;
      conv = c.conversation;
      p.messages.forEach(place);
      before = p.before;
      renderMeta();
      toBottom();
      if (conv.unread) api('POST', `/api/conversations/${ctx.id}/read`).catch(() => {});
    } catch (e) {
      clear(log).append(h('p', { class: 'alert', role: 'alert' }, e.message));
    }
  }

  async function loadOlder() {
    if (!before || loadingOlder) return;
    loadingOlder = true;
    older.hidden = false;
    try {
      // A page can hold nothing new (its messages came live meanwhile): then the view does
      // not move, no scroll event follows, and the next page is read now instead.
      let added = 0;
      while (before && !added) {
        const p = await api('GET', `/api/conversations/${ctx.id}/messages?limit=40&before=${encodeURIComponent(before)}`);
        if (!alive) return;
        const height = log.scrollHeight, top = log.scrollTop;
        added = p.messages.filter((m) => !place(m)).length;
        before = p.before;
        log.scrollTop = top + (log.scrollHeight - height); // the same messages stay in view
      }
      renderTrend();
    } catch (e) {
      toast(e.message, 'error');
    } finally {
      loadingOlder = false;
      older.hidden = true;
    }
  }

  log.addEventListener('scroll', () => {
    if (log.scrollTop < 120) loadOlder();
    if (atBottom()) jump.hidden = true;
  });

  async function move(what) {
    try {
      const r = await api('POST', `/api/conversations/${ctx.id}/${what}`);
      conv = r.conversation;
      renderMeta();
      if (what === 'takeover') text.focus();
    } catch (e) { toast(e.message, 'error'); }
  }

  async function onSend(e) {
    e.preventDefault();
    const body = text.value.trim();
    if (!body) return;
    send.disabled = true;
    try {
      const r = await api('POST', `/api/conversations/${ctx.id}/reply`, { text: body });
      text.value = '';
      conv = r.conversation;
      renderMeta();
      toBottom();
    } catch (err) {
      toast(err.message, 'error');
    } finally {
      send.disabled = conv && conv.window.state === 'closed';
      text.focus();
    }
  }

  loadNewest();
  ticker = setInterval(renderMeta, 30000);
  return {
    refresh() { messages.clear(); log.querySelectorAll('.msg').forEach((x) => x.remove()); loadNewest(); },
    onEvent(ev) {
      if (ev.event === 'conversation.updated' && ev.conversation) { conv = ev.conversation; renderMeta(); }
      if ((ev.event === 'message.created' || ev.event === 'message.updated') && ev.message) {
        const stick = atBottom();
        const had = place(ev.message);
        if (stick) toBottom();
        else if (!had) jump.hidden = false;
        renderTrend();
        if (ev.message.direction === 'in' && ev.event === 'message.created' && !document.hidden)
          api('POST', `/api/conversations/${ctx.id}/read`).catch(() => {});
      }
    },
    unmount() { alive = false; clearInterval(ticker); },
  };
}
