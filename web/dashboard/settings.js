// settings.js - what the agent and the inbox read from the settings table: persona, tone,
// handoff keywords, thresholds, history, cool-down, comments. Admins edit; agents read.

import { api } from './api.js';
import { clear, h, toast } from './ui.js';

function field(s, editable) {
  const id = `set-${s.key.replace(/\W/g, '-')}`;
  let input;
  if (s.kind === 'boolean')
    input = h('select', { id }, h('option', { value: 'true', selected: s.value === 'true' }, 'Yes'), h('option', { value: 'false', selected: s.value === 'false' }, 'No'));
  else if (s.kind === 'choice')
    input = h('select', { id }, ...s.choices.split('|').map((c) => h('option', { value: c, selected: s.value === c }, c.replace('_', ' '))));
  else if (s.kind === 'text' || s.kind === 'lines')
    input = h('textarea', { id, rows: s.kind === 'lines' || s.max_bytes > 500 ? '4' : '1', maxlength: String(s.max_bytes) });
  else
    input = h('input', { id, type: 'number', min: String(s.range[0]), max: String(s.range[1]), step: s.kind === 'number' ? '0.05' : '1' });
  if (input.tagName !== 'SELECT') input.value = s.value;
  input.disabled = !editable;
  input.dataset.key = s.key;
  const hint = s.kind === 'lines' ? 'One per line.' : s.range ? `${s.range[0]} to ${s.range[1]}.` : '';
  return h('div', { class: 'field' }, h('label', { for: id }, s.label), input,
           h('small', { class: 'muted' }, `${hint}${s.is_set ? '' : ' (default)'}`));
}

export function mount(root) {
  const form = h('form', { class: 'card settings', onsubmit: save });
  root.append(h('section', { class: 'page' }, h('div', { class: 'page-head' }, h('h2', {}, 'Settings')), form));
  let editable = false;

  async function load() {
    try {
      const r = await api('GET', '/api/settings');
      editable = r.editable;
      clear(form).append(...r.settings.map((s) => field(s, editable)),
        editable ? h('button', { type: 'submit', class: 'primary' }, 'Save') : h('p', { class: 'muted' }, 'Only an admin can change these.'));
    } catch (e) { clear(form).append(h('p', { class: 'alert', role: 'alert' }, e.message)); }
  }

  async function save(e) {
    e.preventDefault();
    const body = {};
    form.querySelectorAll('[data-key]').forEach((el) => { body[el.dataset.key] = el.value; });
    try { await api('PUT', '/api/settings', body); toast('Saved.'); load(); } catch (err) { toast(err.message, 'error'); }
  }

  load();
  return { refresh: load };
}
