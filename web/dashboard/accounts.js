// accounts.js - connected Pages and Instagram accounts: status, token expiry and warnings,
// webhook subscription, connect (Facebook Login through /oauth/start), delete (admin).

import { api } from './api.js';
import { clear, h, timeOf, toast } from './ui.js';

export function mount(root, ctx) {
  const admin = ctx.me.role === 'admin';
  const list = h('div', { class: 'cards' });
  root.append(h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h2', {}, 'Accounts'),
      admin ? h('a', { class: 'button primary', href: '/oauth/start' }, 'Connect with Facebook') : null),
    h('p', { class: 'muted' }, 'Each Facebook Page and its linked Instagram account. A token that stops working is marked here and on every page until it is reconnected.'),
    list));

  async function load() {
    try {
      const r = await api('GET', '/api/accounts');
      clear(list);
      if (!r.accounts.length) list.append(h('p', { class: 'muted' }, 'No account is connected yet.'));
      for (const a of r.accounts) {
        const ok = a.status === 'active';
        list.append(h('article', { class: 'card account', 'aria-label': a.username ? `@${a.username}` : a.name || a.external_id },
          h('div', { class: 'account-head' },
            h('h3', {}, a.platform === 'instagram' ? `@${a.username || a.external_id}` : a.name || a.external_id),
            h('span', { class: `pill ${ok ? 'ok' : 'bad'}` }, ok ? 'Active' : a.status === 'revoked' ? 'Revoked' : 'Needs reconnecting'),
            a.silent ? h('span', { class: 'pill bad', title: 'Nothing has come from Meta for far longer than usual' }, 'Silent') : null,
            a.sends_paused_until ? h('span', { class: 'pill warn' }, 'Throttled by Meta') : null),
          h('dl', {},
            h('dt', {}, 'Platform'), h('dd', {}, a.platform === 'instagram' ? 'Instagram' : 'Facebook Page'),
            h('dt', {}, 'Token'), h('dd', {}, a.token_expires_at ? `expires ${timeOf(Date.parse(a.token_expires_at))}` : 'does not expire'),
            h('dt', {}, 'Data access'), h('dd', {}, a.data_access_expires_at ? `until ${timeOf(Date.parse(a.data_access_expires_at))}` : 'unknown'),
            h('dt', {}, 'Webhooks'), h('dd', {}, a.subscribed_fields.length ? a.subscribed_fields.join(', ') : 'not subscribed'),
            h('dt', {}, 'Last heard from Meta'), h('dd', {}, a.last_event_at ? timeOf(Date.parse(a.last_event_at)) : 'never'),
            h('dt', {}, 'Publishing quota'), h('dd', {}, a.quota && a.quota.total ? `${a.quota.used} of ${a.quota.total} posts in 24 h` : a.quota ? `${a.quota.ours_24h} published in 24 h (limit read at the next post)` : a.platform === 'instagram' ? 'read by the Posts section' : 'not applicable')),
          a.warning ? h('p', { class: 'alert' }, a.warning) : null,
          a.silent ? h('p', { class: 'alert' }, `Nothing has come from Meta since ${a.last_event_at ? timeOf(Date.parse(a.last_event_at)) : 'it was connected'}: check the webhook subscription and, on Instagram, "Allow access to messages".`) : null,
          a.sends_paused_until ? h('p', { class: 'muted' }, `Meta is throttling this account: replies wait until ${timeOf(Date.parse(a.sends_paused_until))}.`) : null,
          a.status_reason ? h('p', { class: 'muted' }, a.status_reason) : null,
          admin ? h('button', { type: 'button', class: 'danger ghost', onclick: () => remove(a) }, 'Delete') : null));
      }
    } catch (e) { clear(list).append(h('p', { class: 'alert', role: 'alert' }, e.message)); }
  }

  async function remove(a) {
    if (!confirm(`Delete ${a.name || a.username || a.external_id} and its conversations from Switchboard?`)) return;
    try { await api('DELETE', `/api/accounts/${a.id}`); toast('Deleted.'); load(); } catch (e) { toast(e.message, 'error'); }
  }

  load();
  return { refresh: load, onEvent(ev) { if (ev.event === 'account.updated') load(); } };
}
