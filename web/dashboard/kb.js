// kb.js - the knowledge base the AI answers from: documents, add one, try a search, delete.

import { api } from './api.js';
import { clear, h, timeOf, toast } from './ui.js';

export function mount(root, ctx) {
  const admin = ctx.me.role === 'admin';
  const docs = h('ul', { class: 'doc-list', role: 'list', 'aria-label': 'Documents' });
  const q = h('input', { id: 'kb-q', type: 'search', placeholder: 'What might a customer ask?' });
  const hits = h('ol', { class: 'hits', 'aria-label': 'Search results' });
  const title = h('input', { id: 'kb-title', maxlength: '120', required: true });
  const body = h('textarea', { id: 'kb-text', rows: '8', required: true, placeholder: 'Markdown: headings become sections the AI can quote.' });
  root.append(h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h2', {}, 'Knowledge base')),
    h('form', { class: 'card', onsubmit: search, role: 'search' },
      h('label', { for: 'kb-q' }, 'Try a search'), h('div', { class: 'row' }, q, h('button', { type: 'submit', class: 'primary' }, 'Search')), hits),
    h('div', { class: 'card' }, h('h3', {}, 'Documents'), docs),
    admin ? h('form', { class: 'card', onsubmit: add },
      h('h3', {}, 'Add a document'),
      h('label', { for: 'kb-title' }, 'Title'), title,
      h('label', { for: 'kb-text' }, 'Text'), body,
      h('button', { type: 'submit', class: 'primary' }, 'Add')) : null));

  async function load() {
    try {
      const r = await api('GET', '/api/kb');
      clear(docs);
      if (!r.documents.length) docs.append(h('li', { role: 'listitem', class: 'muted' }, 'No documents yet.'));
      for (const d of r.documents)
        docs.append(h('li', { role: 'listitem' }, h('strong', {}, d.title || d.path), ' ',
          h('span', { class: 'muted' }, `${d.chunks} sections · ${timeOf(d.updated_at_ms)}`),
          admin ? h('button', { type: 'button', class: 'ghost danger', 'aria-label': `Delete ${d.title || d.path}`, onclick: () => del(d) }, 'Delete') : null));
    } catch (e) { toast(e.message, 'error'); }
  }

  async function search(e) {
    e.preventDefault();
    if (!q.value.trim()) return;
    try {
      const r = await api('GET', `/api/kb/search?q=${encodeURIComponent(q.value)}`);
      clear(hits);
      if (!r.hits.length) hits.append(h('li', { class: 'muted' }, 'Nothing matches: the AI would hand this to a person.'));
      for (const x of r.hits)
        hits.append(h('li', {}, h('strong', {}, x.heading || x.path), h('span', { class: 'muted' }, ` · ${Math.round(x.coverage * 100)}% of the words`), h('p', {}, x.text)));
    } catch (err) { toast(err.message, 'error'); }
  }

  async function add(e) {
    e.preventDefault();
    try {
      const r = await api('POST', '/api/kb', { title: title.value.trim(), text: body.value });
      toast(`Indexed (${r.chunks} sections).`);
      title.value = ''; body.value = '';
      load();
    } catch (err) { toast(err.message, 'error'); }
  }

  async function del(d) {
    if (!confirm(`Delete "${d.title || d.path}"?`)) return;
    try { await api('DELETE', `/api/kb/${d.id}`); load(); } catch (err) { toast(err.message, 'error'); }
  }

  load();
  return { refresh: load };
}
