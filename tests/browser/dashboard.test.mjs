// The dashboard in a real browser (Debian's chromium, headless, driven by playwright-core):
// sign in; connect the accounts through the (emulated) Facebook Login dialog on another site,
// so the SameSite=Strict cookie really is missing on the way back; a customer's message
// appears live; scroll back through 200 messages without the view jumping; take over; reply
// inside 24 h (RESPONSE) and at 3 days (HUMAN_AGENT); no reply after 7 days; hand back.
// Screenshots (desktop and phone width) go to build/browser-screenshots/.
//
// The local Meta's clock starts 8 days in the past: customers write "8 days ago" and "3 days
// ago" with Meta's own timestamps, then its clock moves to now.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.resolve(ROOT, process.env.SB_BIN || 'build/asan/switchboard');
const SHOTS = path.join(ROOT, 'build', 'browser-screenshots');
const DAY = 24 * 3600 * 1000;
const APP_ID = '1234567890123456', APP_SECRET = 'emulator-app-secret';
const EMAIL = 'ana@shop.example', PASSWORD = 'correct horse battery staple';

const procs = [];
let work, emuPort, sbPort, browser, page, base;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

function start(args, env, log) {
  const out = fs.openSync(path.join(work, log), 'w');
  const p = spawn(BIN, args, { env: { ...cleanEnv(), ...env }, cwd: ROOT, stdio: ['ignore', out, out] });
  procs.push(p);
  return p;
}

function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SB_')));
}

async function waitHttp(url, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try { if ((await fetch(url)).status < 500) return; } catch (e) { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

async function emu(method, p, body) {
  const r = await fetch(`http://127.0.0.1:${emuPort}${p}`, {
    method, headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined });
  assert.ok(r.ok, `${method} ${p}: ${r.status}`);
  return r.json();
}

const say = (customer, text, channel = 'messenger') =>
  emu('POST', `/_emulator/customers/${customer}/messages`, { channel, text });

async function shot(name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

async function until(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// The server's own rows, read with its REST API as the signed-in page would.
async function apiGet(p) {
  return page.evaluate(async (u) => (await fetch(u)).json(), p);
}

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-browser-'));
  emuPort = await freePort();
  sbPort = await freePort();
  base = `http://127.0.0.1:${sbPort}`;
  start(['emulator', '--listen', `127.0.0.1:${emuPort}`, '--start-days-ago', '8',
         '--webhook', `${base}/webhooks/meta`, '--webhook-retry-ms', '100'], {}, 'emulator.log');
  start(['serve'], {
    SB_LISTEN: `127.0.0.1:${sbPort}`, SB_DATA_DIR: path.join(work, 'data'),
    SB_META_APP_ID: APP_ID, SB_META_APP_SECRET: APP_SECRET, SB_META_VERIFY_TOKEN: 'verify',
    SB_META_GRAPH_URL: `http://127.0.0.1:${emuPort}`,
    SB_META_OAUTH_URL: `http://localhost:${emuPort}`, // another site than the dashboard's
    SB_TURN_BURST_MS: '300', SB_KB_DIR: path.join(ROOT, 'examples', 'kb'),
    SB_BUSINESS_NAME: 'Northwind Coffee',
  }, 'server.log');
  await waitHttp(`http://127.0.0.1:${emuPort}/_emulator/state`);
  await waitHttp(`${base}/healthz`);
  const add = spawnSync(BIN, ['user', 'add', '--email', EMAIL, '--role', 'admin'], {
    input: `${PASSWORD}\n`, env: { ...cleanEnv(), SB_DATA_DIR: path.join(work, 'data') } });
  assert.equal(add.status, 0, String(add.stderr));
  // A fresh profile each run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(path.join(work, 'chromium'), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = browser.pages()[0] || await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
});

after(async () => {
  if (browser) await browser.close();
  for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r() : p.on('exit', r)))));
  for (const p of procs)
    assert.ok(p.exitCode === 0 || p.signalCode === 'SIGTERM',
              `${p.spawnargs.slice(1, 2)} exited ${p.exitCode} (logs in ${work})`);
});

test('sign in: a wrong password says so, the right one opens the inbox', async () => {
  await page.goto(base + '/');
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong email or password' }).waitFor();
  await shot('01-sign-in-failed');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await page.getByRole('list', { name: 'Conversations' }).waitFor({ state: 'attached' });
  await page.locator('#live[data-state="live"]').waitFor();
});

test('connect through Facebook Login on another site (no Strict cookie on the way back)', async () => {
  await page.getByRole('link', { name: 'Accounts' }).click();
  await page.getByRole('link', { name: 'Connect with Facebook' }).click();
  await page.waitForURL(/localhost:\d+\/v\d+\.\d+\/dialog\/oauth/);
  await page.getByRole('button', { name: /Continue as/ }).click();
  await page.waitForURL(/\/oauth\/finish\?/);
  await page.getByText('Connected Page Northwind Coffee').waitFor();
  await shot('02-connected');
  await page.goto(base + '/#/accounts');
  await page.getByRole('article', { name: '@northwind.coffee' }).waitFor();
  await shot('03-accounts');
});

test('a customer message appears live; older and closed conversations', async () => {
  await say(3, 'Hello? Anyone there? (Jonas, 8 days ago)');
  await emu('POST', '/_emulator/clock', { advance_ms: 5 * DAY });
  await say(1, 'My order never arrived (Sam, 3 days ago)');
  await emu('POST', '/_emulator/clock', { advance_ms: 3 * DAY });
  await page.goto(base + '/#/inbox');
  const list = page.getByRole('list', { name: 'Conversations' });
  await list.getByRole('listitem').filter({ hasText: 'Sam, 3 days ago' }).waitFor();
  await say(0, 'Do you ship to Canada?');
  // no reload: it comes over the WebSocket
  await list.getByRole('listitem').filter({ hasText: /Canada/ }).first().waitFor();
  await shot('04-inbox-live');
});

async function openConversation(text) {
  await page.getByRole('list', { name: 'Conversations' }).getByRole('listitem')
    .filter({ hasText: text }).first().getByRole('link').click();
  await page.getByRole('log', { name: 'Messages' }).waitFor();
}

test('take over and reply inside 24 h: RESPONSE', async () => {
  await openConversation(/Canada/);
  const log = page.getByRole('log', { name: 'Messages' });
  await log.getByText('Do you ship to Canada?').waitFor();
  await log.getByText(/AI assistant/).waitFor(); // the AI's answer, live
  await page.getByRole('button', { name: 'Take over' }).click();
  await page.getByRole('button', { name: 'Hand back' }).waitFor();
  await page.getByRole('textbox', { name: 'Reply' }).fill('Yes, we ship to Canada in 5 to 8 days.');
  await page.getByRole('button', { name: 'Send' }).click();
  await log.getByText('Yes, we ship to Canada in 5 to 8 days.').waitFor();
  const id = Number(page.url().split('/').pop());
  const row = await until(async () => {
    const r = await apiGet(`/api/conversations/${id}/messages?limit=5`);
    const m = r.messages.find((x) => x.text === 'Yes, we ship to Canada in 5 to 8 days.');
    return m && m.status === 'sent' ? m : null;
  }, 'the reply to be sent');
  assert.equal(row.messaging_type, 'RESPONSE');
  assert.equal(row.tag, null);
  assert.equal(row.author, 'human');
  await shot('05-reply-24h');
  await page.getByRole('button', { name: 'Hand back' }).click();
  await page.getByRole('button', { name: 'Take over' }).waitFor();
});

test('reply at 3 days: HUMAN_AGENT, accepted by Meta', async () => {
  await openConversation('Sam, 3 days ago');
  await page.getByText(/HUMAN_AGENT tag/).waitFor();
  await page.getByRole('button', { name: 'Take over' }).click();
  await page.getByRole('textbox', { name: 'Reply' }).fill('Sorry, Sam: a new bag is on its way today.');
  await page.getByRole('button', { name: 'Send' }).click();
  const id = Number(page.url().split('/').pop());
  const row = await until(async () => {
    const r = await apiGet(`/api/conversations/${id}/messages?limit=5`);
    const m = r.messages.find((x) => x.author === 'human');
    return m && m.status !== 'queued' && m.status !== 'sending' ? m : null;
  }, 'the tagged reply to settle');
  assert.equal(row.status, 'sent', row.error || '');
  assert.equal(row.messaging_type, 'MESSAGE_TAG');
  assert.equal(row.tag, 'HUMAN_AGENT');
  const thread = await emu('GET', `/_emulator/threads/${(await say(1, 'Thanks!')).thread}`);
  assert.ok(thread.messages.some((m) => m.tag === 'HUMAN_AGENT' && /new bag/.test(m.text || '')));
  await shot('06-reply-3-days');
  await page.getByRole('button', { name: 'Hand back' }).click();
  await page.getByRole('button', { name: 'Take over' }).waitFor();
});

test('after 7 days no reply is possible, and the page says why', async () => {
  await openConversation('Jonas, 8 days ago');
  await page.getByRole('alert').filter({ hasText: /more than 7 days/ }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Send' }).isDisabled(), true);
  await shot('07-closed');
});

test('scroll back through 200 messages without the view jumping', async () => {
  const first = await say(2, 'Message 1 of 200');
  for (let i = 2; i <= 200; i++) await say(2, `Message ${i} of 200`);
  const psid = (await emu('GET', '/_emulator/state')).customers[2].psid['104000000000001'];
  await page.goto(base + '/#/inbox');
  await openConversation(`…${psid.slice(-4)}`); // no profile names: the id's last digits
  const log = page.getByRole('log', { name: 'Messages' });
  try {
    await log.getByText('Message 200 of 200', { exact: true }).waitFor();
  } catch (e) {
    await shot('08-failed');
    throw e;
  }
  for (let round = 0; round < 20; round++) {
    if (await log.getByText('Message 1 of 200', { exact: true }).count()) break;
    // scroll to the top and note where the first message shown sits on screen ...
    const anchor = await page.evaluate(() => {
      const log = document.querySelector('.log');
      log.scrollTop = 0;
      const el = log.querySelector('.msg');
      return { id: el.dataset.id, top: el.getBoundingClientRect().top };
    });
    // ... then, once the older page is in, it is still there: the view did not jump
    const moved = await until(() => page.evaluate((a) => {
      const firstNow = document.querySelector('.log .msg');
      if (firstNow.dataset.id === a.id) return null;
      return { top: document.querySelector(`.log .msg[data-id="${a.id}"]`).getBoundingClientRect().top };
    }, anchor), 'older messages');
    assert.ok(Math.abs(moved.top - anchor.top) < 2, `the view jumped ${moved.top - anchor.top}px`);
  }
  // every message once, in the store's order (arrival: Meta does not promise to deliver a
  // burst in order, so the numbers may be shuffled a little, never lost or doubled)
  const texts = await log.locator('.msg.in .bubble').allInnerTexts();
  const mine = texts.filter((t) => /^Message \d+ of 200$/.test(t.trim())).map((t) => Number(t.split(' ')[1]));
  assert.deepEqual([...mine].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1));
  const ids = await log.locator('.msg').evaluateAll((els) => els.map((e) => Number(e.dataset.id)));
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(first.thread);
  await shot('08-scrolled-back');
});

test('phone width: one pane at a time, everything reachable', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(base + '/#/inbox');
  await page.getByRole('list', { name: 'Conversations' }).getByRole('listitem').first().waitFor();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await shot('09-phone-inbox');
  await openConversation(/Canada/);
  await page.getByRole('textbox', { name: 'Reply' }).waitFor();
  await shot('10-phone-conversation');
  await page.getByRole('button', { name: 'Back to the inbox' }).click();
  await page.getByRole('list', { name: 'Conversations' }).waitFor();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('History turns').waitFor();
  await shot('11-settings');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
});
