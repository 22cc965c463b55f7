// posts.js - the Posts section: make a post (upload an image, generate one from a prompt, or
// draw one from the built-in template), compare the pad and crop previews side by side, pick
// one, write the caption (its limits counted as you type), publish now or schedule, and watch
// the account's quota and every post's state live (post.updated events carry the post).

import { api } from './api.js';
import { clear, h, timeOf, toast } from './ui.js';

const LIMITS = { chars: 2200, hashtags: 30, mentions: 20 };
const STATE_TEXT = { scheduled: 'Scheduled', deferred: 'Waiting for quota', publishing: 'Publishing',
                     published: 'Published', failed: 'Failed' };

// Counted as the server counts (content/caption.c).
function countCaption(text) {
  const word = (c) => c !== undefined && /[0-9A-Za-z_]|[^\x00-\x7f]/.test(c);
  let hashtags = 0, mentions = 0;
  const cs = Array.from(text);
  for (let i = 0; i < cs.length; i++) {
    if (cs[i] === '#' && word(cs[i + 1])) hashtags++;
    const after = i > 0 && (word(cs[i - 1]) || cs[i - 1] === '.');
    if (cs[i] === '@' && !after && (word(cs[i + 1]) || cs[i + 1] === '.')) mentions++;
  }
  return { chars: cs.length, hashtags, mentions };
}

function kb(bytes) { return `${Math.round(bytes / 1024)} KB`; }

export function mount(root, ctx) {
  let accounts = [], images = [], fit = 'pad', previews = {};
  const account = h('select', { id: 'post-account', 'aria-label': 'Account' });
  const quota = h('p', { class: 'quota', role: 'status', 'aria-live': 'polite' });
  const file = h('input', { id: 'post-file', type: 'file', accept: 'image/jpeg,image/png,image/webp,image/heic,image/heif' });
  const prompt = h('textarea', { id: 'post-prompt', rows: '2', placeholder: 'A cup of coffee on a wooden table, morning light' });
  const headline = h('input', { id: 'tpl-headline', maxlength: '120', value: 'Autumn blend is back' });
  const tbody = h('textarea', { id: 'tpl-body', rows: '2' }, 'Roasted this week in small batches.');
  const layout = h('select', { id: 'tpl-layout' }, ['centered', 'split', 'banner'].map((l) => h('option', { value: l }, l)));
  const colours = ['bg', 'fg', 'accent'].map((k, i) => h('input', { id: `tpl-${k}`, type: 'color', value: ['#1f2a44', '#ffffff', '#f2a541'][i], 'aria-label': `${k === 'bg' ? 'Background' : k === 'fg' ? 'Text' : 'Accent'} colour` }));
  const compare = h('div', { class: 'compare', role: 'radiogroup', 'aria-label': 'Fit' });
  const strip = h('ol', { class: 'strip', 'aria-label': 'Images of this post' });
  const caption = h('textarea', { id: 'post-caption', rows: '4', maxlength: '10000' });
  const counter = h('p', { class: 'muted counter', id: 'caption-count', 'aria-live': 'polite' });
  const at = h('input', { id: 'post-at', type: 'datetime-local' });
  const submit = h('button', { type: 'submit', class: 'primary', disabled: true }, 'Publish now');
  const list = h('ul', { class: 'post-list', role: 'list', 'aria-label': 'Posts' });
  const rows = new Map();

  root.append(h('section', { class: 'page posts-page' },
    h('div', { class: 'page-head' }, h('h2', {}, 'Posts')),
    h('form', { class: 'card', onsubmit: create },
      h('h3', {}, 'New post'),
      h('label', { for: 'post-account' }, 'Instagram account'), account, quota,
      h('div', { class: 'sources' },
        h('fieldset', {}, h('legend', {}, 'Upload'),
          h('label', { for: 'post-file' }, 'Image file'), file),
        h('fieldset', {}, h('legend', {}, 'Generate'),
          h('label', { for: 'post-prompt' }, 'Prompt'), prompt,
          h('button', { type: 'button', onclick: generate }, 'Generate')),
        h('fieldset', {}, h('legend', {}, 'Template'),
          h('label', { for: 'tpl-headline' }, 'Headline'), headline,
          h('label', { for: 'tpl-body' }, 'Text'), tbody,
          h('label', { for: 'tpl-layout' }, 'Layout'), layout,
          h('div', { class: 'row colours' }, colours),
          h('button', { type: 'button', onclick: drawTemplate }, 'Draw'))),
      h('h4', {}, 'Pad or crop'), compare, strip,
      h('label', { for: 'post-caption' }, 'Caption'), caption, counter,
      h('label', { for: 'post-at' }, 'Publish at (empty: now)'), at,
      h('div', { class: 'row' }, submit)),
    h('div', { class: 'card' }, h('h3', {}, 'Posts'), list)));

  file.addEventListener('change', upload);
  caption.addEventListener('input', showCount);
  at.addEventListener('input', () => { submit.textContent = at.value ? 'Schedule' : 'Publish now'; });
  account.addEventListener('change', showQuota);

  function showCount() {
    const c = countCaption(caption.value);
    const over = c.chars > LIMITS.chars || c.hashtags > LIMITS.hashtags || c.mentions > LIMITS.mentions;
    counter.textContent = `${c.chars} / ${LIMITS.chars} characters · ${c.hashtags} / ${LIMITS.hashtags} hashtags · ${c.mentions} / ${LIMITS.mentions} mentions`;
    counter.classList.toggle('alert', over);
    submit.disabled = over || !images.length || !account.value;
  }

  function showQuota() {
    const a = accounts.find((x) => String(x.id) === account.value);
    const q = a && a.quota;
    quota.textContent = !a ? 'Connect an Instagram account first (Accounts).'
      : q && q.total ? `Quota: ${q.used} of ${q.total} posts in the last 24 hours (read ${timeOf(Date.parse(q.checked_at))})`
      : `Quota: ${q ? q.ours_24h : 0} published in the last 24 hours; Meta's limit is read before the first post`;
  }

  async function loadAccounts() {
    const r = await api('GET', '/api/accounts');
    accounts = r.accounts.filter((a) => a.platform === 'instagram');
    const keep = account.value;
    clear(account);
    for (const a of accounts)
      account.append(h('option', { value: String(a.id) }, `@${a.username || a.external_id}${a.status === 'active' ? '' : ' (needs reconnecting)'}`));
    if (keep) account.value = keep;
    showQuota();
    showCount();
  }

  // A source is chosen: the pad and crop previews side by side (a carousel's later images take
  // the first one's ratio, so only the first is compared).
  async function chosen(src) {
    images.push(src);
    renderStrip();
    if (images.length === 1) await preview(src);
    showCount();
  }

  async function preview(src) {
    clear(compare).append(h('p', { class: 'muted' }, 'Fitting…'));
    try {
      const r = await api('POST', '/api/previews', { source: src.source, modes: ['pad', 'crop'] });
      clear(compare);
      previews = {};
      for (const p of r.previews) {
        previews[p.mode] = p;
        const d = p.decision;
        const id = `fit-${p.mode}`;
        compare.append(h('figure', { class: `choice ${fit === p.mode ? 'chosen' : ''}` },
          h('img', { src: p.url, alt: `${p.mode === 'pad' ? 'Padded' : 'Cropped'} preview, ${d.width} by ${d.height}` }),
          h('figcaption', {},
            h('input', { type: 'radio', name: 'fit', id, value: p.mode, checked: fit === p.mode, onchange: () => { fit = p.mode; markChoice(); } }),
            h('label', { for: id }, p.mode === 'pad' ? 'Pad' : 'Crop'),
            h('span', { class: 'muted' }, ` ${d.action} · ${d.width}×${d.height} · q${d.quality} · ${kb(d.bytes)}`))));
      }
    } catch (e) { clear(compare).append(h('p', { class: 'alert', role: 'alert' }, e.message)); }
  }

  function markChoice() {
    for (const f of compare.querySelectorAll('figure'))
      f.classList.toggle('chosen', f.querySelector('input').value === fit);
  }

  function renderStrip() {
    clear(strip);
    images.forEach((img, i) => strip.append(h('li', {},
      `${i + 1}. ${img.label} (${img.format}, ${img.width}×${img.height})`,
      h('button', { type: 'button', class: 'ghost', 'aria-label': `Remove image ${i + 1}`, onclick: () => { images.splice(i, 1); renderStrip(); if (!images.length) clear(compare); else if (i === 0) preview(images[0]); showCount(); } }, 'Remove'))));
    if (images.length > 1) strip.append(h('li', { class: 'muted' }, `A carousel of ${images.length} (2 to 10).`));
  }

  async function upload() {
    if (!file.files.length) return;
    const fd = new FormData();
    fd.append('image', file.files[0]);
    try {
      const r = await api('POST', '/api/uploads', fd);
      await chosen({ ...r, label: file.files[0].name });
    } catch (e) { toast(e.message, 'error'); }
    file.value = '';
  }

  async function generate() {
    if (!prompt.value.trim()) { toast('Write a prompt first.', 'error'); return; }
    try {
      const r = await api('POST', '/api/images/generate', { prompt: prompt.value });
      await chosen({ ...r, label: 'generated' });
    } catch (e) { toast(e.message, 'error'); }
  }

  async function drawTemplate() {
    try {
      const [bg, fg, accent] = colours.map((c) => c.value);
      const r = await api('POST', '/api/images/template', { layout: layout.value, headline: headline.value, body: tbody.value, bg, fg, accent });
      await chosen({ ...r, label: `template (${layout.value})` });
    } catch (e) { toast(e.message, 'error'); }
  }

  async function create(ev) {
    ev.preventDefault();
    const body = { account_id: Number(account.value), caption: caption.value, fit,
                   images: images.map((i) => ({ source: i.source })) };
    if (at.value) body.at = new Date(at.value).toISOString();
    try {
      const r = await api('POST', '/api/posts', body);
      toast(at.value ? 'Scheduled.' : 'Queued: publishing now.');
      images = []; renderStrip(); clear(compare); caption.value = ''; at.value = '';
      submit.textContent = 'Publish now';
      showCount();
      upsert(r.post);
    } catch (e) { toast(e.message, 'error'); }
  }

  async function cancel(p) {
    try { upsert((await api('POST', `/api/posts/${p.id}/cancel`)).post); } catch (e) { toast(e.message, 'error'); }
  }

  function row(p) {
    const when = p.state === 'published' ? `published ${timeOf(Date.parse(p.published_at))}`
      : p.state === 'deferred' ? `next slot ${timeOf(Date.parse(p.deferred_until))}`
      : p.state === 'scheduled' ? `at ${timeOf(Date.parse(p.scheduled_at))}`
      : p.state === 'publishing' ? `step: ${p.step}` : `updated ${timeOf(Date.parse(p.updated_at))}`;
    const text = p.caption.length > 90 ? `${p.caption.slice(0, 90)}…` : p.caption || '(no caption)';
    return h('li', { role: 'listitem', class: `post state-${p.state}`, 'data-id': String(p.id), 'aria-label': `Post ${p.id}: ${STATE_TEXT[p.state] || p.state}` },
      h('span', { class: `pill ${p.state === 'published' ? 'ok' : p.state === 'failed' ? 'bad' : ''}` }, STATE_TEXT[p.state] || p.state),
      h('span', { class: 'post-caption' }, text),
      h('span', { class: 'muted' }, ` ${p.kind === 'carousel' ? `${p.images} images · ` : ''}${p.fit} · ${when}`),
      p.reason ? h('p', { class: p.state === 'failed' ? 'alert' : 'muted' }, p.reason) : null,
      p.permalink ? h('a', { href: p.permalink, target: '_blank', rel: 'noopener' }, 'View on Instagram') : null,
      p.state === 'scheduled' || p.state === 'deferred' ? h('button', { type: 'button', class: 'ghost danger', onclick: () => cancel(p) }, 'Cancel') : null);
  }

  function upsert(p) {
    const el = row(p), old = rows.get(p.id);
    if (old) old.replaceWith(el); else list.prepend(el);
    rows.set(p.id, el);
    if (p.quota) {
      const a = accounts.find((x) => x.id === p.account_id);
      if (a) { a.quota = p.quota; showQuota(); }
    }
  }

  async function loadPosts() {
    try {
      const r = await api('GET', '/api/posts');
      clear(list); rows.clear();
      if (!r.posts.length) list.append(h('li', { role: 'listitem', class: 'muted' }, 'No posts yet.'));
      for (const p of r.posts.slice().reverse()) upsert(p);
    } catch (e) { toast(e.message, 'error'); }
  }

  async function refresh() {
    try { await loadAccounts(); } catch (e) { toast(e.message, 'error'); }
    await loadPosts();
  }

  showCount();
  refresh();
  return {
    refresh,
    onEvent(ev) {
      if (ev.event === 'post.updated' && ev.post) {
        const empty = list.querySelector('li.muted');
        if (empty && !rows.size) empty.remove();
        upsert(ev.post);
      } else if (ev.event === 'post.updated' && ev.deleted && rows.has(ev.post_id)) {
        rows.get(ev.post_id).remove(); rows.delete(ev.post_id);
      } else if (ev.event === 'account.updated') loadAccounts().catch(() => {});
    },
  };
}
