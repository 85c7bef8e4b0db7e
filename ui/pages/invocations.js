// Invocations: the asynchronous ones, filtered by function and status; one invocation with its
// result or error, attempts, logs and the tree of calls it made (ctx.invoke), drawn as a tree.
import { get } from '../api.js';
import { h, json, problemText, status, table, time } from '../dom.js';

const STATUSES = ['queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled'];
const enc = encodeURIComponent;

export const invocationsPage = {
  title: () => 'Invocations',
  frame({ query }) {
    const fn = h('input', { id: 'filter-function', name: 'function', value: query.get('function') ?? '', placeholder: 'any' });
    const state = h('select', { id: 'filter-status', name: 'status' }, h('option', { value: '' }, 'any'), STATUSES.map((s) => h('option', { value: s, selected: query.get('status') === s }, s)));
    return h(
      'form',
      {
        class: 'filters',
        role: 'search',
        'aria-label': 'Filter invocations',
        onsubmit: (event) => {
          event.preventDefault();
          const next = new URLSearchParams();
          if (fn.value.trim()) next.set('function', fn.value.trim());
          if (state.value) next.set('status', state.value);
          location.hash = `#/invocations${next.size ? `?${next}` : ''}`;
        },
      },
      h('div', {}, h('label', { for: 'filter-function' }, 'Function'), fn),
      h('div', {}, h('label', { for: 'filter-status' }, 'Status'), state),
      h('button', { type: 'submit' }, 'Filter'),
    );
  },
  async live({ query }) {
    const params = new URLSearchParams();
    for (const key of ['function', 'status']) if (query.get(key)) params.set(key, query.get(key));
    params.set('limit', '100');
    const { invocations } = await get(`/v1/invocations?${params}`);
    return table(
      'Asynchronous invocations, newest first (synchronous calls are linked from their function page)',
      ['Id', 'Function', 'Status', 'Attempts', 'Submitted', 'Finished', 'Error'],
      invocations.map((inv) => [
        h('a', { href: `#/invocations/${enc(inv.id)}`, 'data-key': `inv-${inv.id}` }, h('code', {}, inv.id.slice(0, 8))),
        inv.instance ? `${inv.function} ${inv.instance}.${inv.method}` : inv.function,
        status(inv.status),
        `${inv.attempts}/${inv.maxAttempts}`,
        time(inv.createdAt),
        time(inv.finishedAt),
        inv.error ? inv.error.code : '',
      ]),
      'No invocations match.',
    );
  },
};

export const invocationPage = {
  title: ({ id }) => `Invocation ${id.slice(0, 8)}`,
  async live({ id }) {
    const [inv, { logs }, tree] = await Promise.all([get(`/v1/invocations/${enc(id)}`), get(`/v1/invocations/${enc(id)}/logs`), get(`/v1/invocations/${enc(id)}/tree`)]);
    return h(
      'div',
      {},
      h(
        'dl',
        {},
        h('dt', {}, 'Id'), h('dd', {}, h('code', {}, inv.id)),
        h('dt', {}, 'Function'), h('dd', {}, h('a', { href: `#/functions/${enc(inv.function)}` }, inv.function), ` version ${inv.version ?? '—'}`, inv.instance ? ` · instance ${inv.instance}.${inv.method}` : ''),
        h('dt', {}, 'Status'), h('dd', {}, status(inv.status), ` · ${inv.mode} · attempt ${inv.attempts} of ${inv.maxAttempts}`),
        h('dt', {}, 'Times'), h('dd', {}, 'submitted ', time(inv.createdAt), ', started ', time(inv.startedAt), ', finished ', time(inv.finishedAt)),
      ),
      inv.error ? [h('h3', {}, 'Error'), h('p', { class: 'problem' }, problemText(inv.error)), inv.error.extensions?.error?.stack ? h('pre', {}, inv.error.extensions.error.stack) : ''] : '',
      inv.status === 'succeeded' ? [h('h3', {}, 'Result'), json(inv.result)] : '',
      h('h3', {}, 'Input'),
      json(inv.input),
      h('h3', {}, 'Logs'),
      table('Console output, every attempt', ['Time', 'Attempt', 'Level', 'Message'], logs.map((line) => [time(line.time), line.attempt, line.level, h('code', {}, line.message)]), 'It logged nothing.'),
      h('h3', {}, 'Call tree'),
      h('ul', { class: 'tree', 'aria-label': 'Calls made with ctx.invoke' }, treeItem(tree)),
    );
  },
};

function treeItem(node) {
  return h(
    'li',
    {},
    h('a', { href: `#/invocations/${enc(node.id)}` }, node.function), ' ', status(node.status), node.error ? h('span', { class: 'muted' }, ` ${node.error.code}`) : '',
    node.children?.length ? h('ul', {}, node.children.map(treeItem)) : '',
  );
}
