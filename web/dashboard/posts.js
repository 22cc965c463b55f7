// posts.js - the Posts section's place in the shell (its own engineer builds it: create a post,
// compare the pad and crop previews, schedule, watch the quota and each post's status). The
// live connection already delivers post.updated events ({post_id, account_id}) to onEvent.

import { h } from './ui.js';

export function mount(root) {
  root.append(h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h2', {}, 'Posts')),
    h('div', { class: 'card' },
      h('p', {}, 'Publishing from the dashboard is not built yet.'),
      h('p', { class: 'muted' }, 'Until it is, queue a post from the command line: ',
        h('code', {}, 'switchboard publish --account ID --image PATH --caption TEXT')))));
  return {};
}
