// Functions: what is deployed; one function's versions, config, triggers, and a form to call it.
import { api, get } from '../api.js';
import { h, json, problemText, table, time } from '../dom.js';

const enc = encodeURIComponent;

export const functionsPage = {
  title: () => 'Functions',
  async live() {
    const { functions } = await get('/v1/functions');
    return table(
      'Deployed functions',
      ['Name', 'Active version', 'Latest', 'Exports', 'Updated'],
      functions.map((fn) => [
        h('a', { href: `#/functions/${enc(fn.name)}`, 'data-key': `fn-${fn.name}` }, fn.name),
        fn.activeVersion,
        fn.latestVersion,
        exportsOf(fn.exports),
        time(fn.updatedAt),
      ]),
      'No functions yet: deploy one with `wisp deploy FILE` or PUT /v1/functions/{name}.',
    );
  },
};

function exportsOf(exports) {
  const parts = [];
  if (exports?.handler) parts.push('handler');
  if (exports?.fetch) parts.push('fetch');
  for (const name of exports?.classes ?? []) parts.push(`class ${name}`);
  return parts.join(', ') || '—';
}

export const functionPage = {
  title: ({ id }) => `Function ${id}`,
  /** The invoke form: JSON input, the answer (or the problem) below it. */
  frame({ id }) {
    const input = h('textarea', { id: 'invoke-input', name: 'input', 'aria-describedby': 'invoke-help' }, '{}');
    const output = h('div', { id: 'invoke-output', 'aria-live': 'polite' });
    const form = h(
      'form',
      {
        'aria-labelledby': 'invoke-title',
        onsubmit: async (event) => {
          event.preventDefault();
          let body;
          try {
            body = JSON.parse(input.value || 'null');
          } catch (err) {
            output.replaceChildren(h('p', { class: 'problem', role: 'alert' }, `The input is not JSON: ${err.message}`));
            return;
          }
          output.replaceChildren(h('p', { class: 'muted' }, 'Calling…'));
          try {
            const res = await api('POST', `/v1/functions/${enc(id)}/invoke`, body);
            const invocation = res.headers.get('x-invocation-id');
            output.replaceChildren(
              h('p', {}, 'Result', invocation ? [' of ', h('a', { href: `#/invocations/${invocation}` }, invocation)] : ''),
              json(res.body),
            );
          } catch (err) {
            output.replaceChildren(h('p', { class: 'problem', role: 'alert' }, problemText(err.problem ?? err)));
          }
        },
      },
      h('h3', { id: 'invoke-title' }, 'Invoke'),
      h('label', { for: 'invoke-input' }, 'Input (JSON)'),
      input,
      h('p', { id: 'invoke-help', class: 'muted' }, 'Sent as the body of POST /v1/functions/', id, '/invoke.'),
      h('button', { type: 'submit' }, 'Invoke'),
      output,
    );
    return h('section', {}, form);
  },
  async live({ id }) {
    const [fn, { versions }, { triggers }] = await Promise.all([get(`/v1/functions/${enc(id)}`), get(`/v1/functions/${enc(id)}/versions`), get(`/v1/functions/${enc(id)}/triggers`)]);
    return h(
      'div',
      {},
      h('p', {}, 'Active version ', h('strong', {}, fn.activeVersion), ` of ${fn.latestVersion}. `, h('a', { href: `#/invocations?function=${enc(id)}` }, 'Its invocations')),
      h('h3', {}, 'Config'),
      json(fn.config),
      h('h3', {}, 'Versions'),
      table('Versions, oldest first', ['Version', 'Digest', 'Deployed', 'Timeout', 'Memory'], versions.map((v) => [v.version === fn.activeVersion ? h('strong', {}, `${v.version} (active)`) : v.version, h('code', {}, v.digest.slice(0, 12)), time(v.createdAt), `${v.config.timeoutMs} ms`, `${v.config.memoryMb} MB`])),
      h('h3', {}, 'Triggers'),
      table('Triggers', ['Id', 'Type', 'Detail'], triggers.map((tr) => [h('code', {}, tr.id), tr.type, tr.type === 'cron' ? tr.schedule : tr.url])),
    );
  },
};
