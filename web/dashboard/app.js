// app.js - the shell: sign-in, the section registry, the hash router, the live connection.
//
// A section is an ES module in this folder exporting
//     mount(root, ctx) -> { unmount(), onEvent(event), refresh() }   (all three optional)
// where ctx = { me, api, route: [parts of the hash after the section], navigate(hash) }.
// To add one (the Posts section, say): write posts.js, add a row to SECTIONS below, and
// embed the file in src/dashboard/web.c (one WEB_ASSET line and one row of assets[]).

import { api, lastEventId, setCsrf, whenSignedOut } from './api.js';
import * as live from './live.js';
import { clear, h } from './ui.js';

const SECTIONS = [
  { id: 'inbox', label: 'Inbox', module: './inbox.js' },
  { id: 'posts', label: 'Posts', module: './posts.js' },
  { id: 'accounts', label: 'Accounts', module: './accounts.js' },
  { id: 'kb', label: 'Knowledge base', module: './kb.js' },
  { id: 'settings', label: 'Settings', module: './settings.js' },
];

const $ = (id) => document.getElementById(id);
let me = null, current = null, currentId = null;

function showSignIn(message) {
  live.stop();
  if (current && current.unmount) current.unmount();
  current = null; currentId = null;
  me = null;
  $('shell').hidden = true;
  $('signin').hidden = false;
  const err = $('signin-error');
  err.hidden = !message;
  err.textContent = message || '';
  $('email').focus();
}

async function signIn(ev) {
  ev.preventDefault();
  const email = $('email').value.trim(), password = $('password').value;
  const err = $('signin-error');
  try {
    const r = await api('POST', '/api/login', { email, password });
    $('password').value = '';
    err.hidden = true;
    start(r);
  } catch (e) {
    err.textContent = e.status === 401 ? 'Wrong email or password.' : e.message;
    err.hidden = false;
  }
}

async function signOut() {
  try { await api('POST', '/api/logout'); } catch (e) { /* signed out either way */ }
  showSignIn('');
}

function renderNav() {
  const nav = clear($('nav'));
  for (const s of SECTIONS)
    nav.append(h('a', { href: `#/${s.id}`, 'data-section': s.id }, s.label));
}

function markNav(id) {
  for (const a of $('nav').querySelectorAll('a')) {
    if (a.dataset.section === id) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route() {
  if (!me) return;
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const section = SECTIONS.find((s) => s.id === parts[0]) || SECTIONS[0];
  const rest = parts.slice(1);
  markNav(section.id);
  if (currentId === section.id && current && current.route) {
    current.route(rest);
    return;
  }
  if (current && current.unmount) current.unmount();
  const root = clear($('main'));
  currentId = section.id;
  const mod = await import(section.module);
  if (currentId !== section.id) return;
  current = mod.mount(root, { me, api, route: rest, navigate: (hash) => { location.hash = hash; } }) || {};
}

async function banner() {
  try {
    const r = await api('GET', '/api/accounts');
    const b = $('banner');
    b.hidden = !r.banner;
    b.textContent = r.banner || '';
  } catch (e) { /* shown where it matters */ }
}

async function start(r) {
  me = r.operator;
  setCsrf(r.csrf);
  $('signin').hidden = true;
  $('shell').hidden = false;
  $('who').textContent = `${me.email} · ${me.role}`;
  renderNav();
  // The banner's answer carries the bus's newest id: the live connection resumes from it, and
  // everything the sections load afterwards is at least that new, so nothing falls between.
  await banner();
  live.start(lastEventId);
  route();
}

live.onStatus((s) => {
  const el = $('live');
  el.dataset.state = s;
  el.textContent = s === 'live' ? 'Live' : s === 'connecting' ? 'Connecting…' : 'Offline, retrying…';
});

live.onEvent((ev) => {
  if (ev.type === 'resync') {
    if (current && current.refresh) current.refresh();
    banner();
    return;
  }
  if (ev.event === 'account.updated') banner();
  if (current && current.onEvent) current.onEvent(ev);
});

whenSignedOut(() => { if (me) showSignIn('Your session has ended. Sign in again.'); });
window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', async () => {
  $('signin-form').addEventListener('submit', signIn);
  $('signout').addEventListener('click', signOut);
  try {
    start(await api('GET', '/api/me'));
  } catch (e) {
    showSignIn('');
  }
});
