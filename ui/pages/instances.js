// Instances: state, resources, group and restarts, with suspend, resume and delete.
import { api, get } from '../api.js';
import { h, problemText, status, table } from '../dom.js';

const enc = encodeURIComponent;

async function act(id, action, refresh, note) {
  try {
    if (action === 'delete') await api('DELETE', `/v1/instances/${enc(id)}`);
    else await api('POST', `/v1/instances/${enc(id)}/${action}`);
    note.textContent = `${action} ${id}: done`;
  } catch (err) {
    note.textContent = `${action} ${id}: ${problemText(err.problem ?? err)}`;
  }
  await refresh();
}

export const instancesPage = {
  title: () => 'Instances',
  frame() {
    return h('p', { id: 'instance-note', role: 'status', class: 'muted' });
  },
  async live(_params, refresh) {
    const { instances } = await get('/v1/instances');
    const note = () => document.getElementById('instance-note');
    const button = (instance, action, label) =>
      h('button', { type: 'button', 'data-key': `${action}-${instance.id}`, 'aria-label': `${label} ${instance.id}`, onclick: () => act(instance.id, action, refresh, note()) }, label);
    return table(
      'Stateful instances',
      ['Id', 'Function', 'Class', 'Status', 'CPU', 'Memory', 'Group', 'Restarts', 'Node', 'Actions'],
      instances.map((instance) => [
        h('code', {}, instance.id),
        h('a', { href: `#/functions/${enc(instance.function)}` }, instance.function),
        instance.class,
        [status(instance.status), instance.failure ? h('span', { class: 'muted' }, ` ${instance.failure}`) : ''],
        `${instance.resources.cpu} m`,
        `${instance.resources.memory} MiB`,
        instance.group ? h('a', { href: '#/groups' }, instance.group) : '—',
        `${instance.restarts}/${instance.maxRestarts}`,
        instance.node ?? '—',
        instance.group
          ? h('span', { class: 'muted' }, 'act on its group')
          : h('div', { class: 'actions' }, instance.status === 'running' ? button(instance, 'suspend', 'Suspend') : '', instance.status === 'suspended' || instance.status === 'hibernated' ? button(instance, 'resume', 'Resume') : '', button(instance, 'delete', 'Delete')),
      ]),
      'No instances.',
    );
  },
};
