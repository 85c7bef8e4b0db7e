// Groups: each with its state and its members'.
import { get } from '../api.js';
import { h, status, table } from '../dom.js';

export const groupsPage = {
  title: () => 'Groups',
  async live() {
    const { groups } = await get('/v1/groups');
    if (groups.length === 0) return h('p', { class: 'muted' }, 'No groups.');
    return h(
      'div',
      {},
      groups.map((group) =>
        h(
          'section',
          { 'aria-labelledby': `group-${group.name}` },
          h('h3', { id: `group-${group.name}` }, `Group ${group.name} `, status(group.status)),
          group.failure ? h('p', { class: 'problem' }, group.failure) : '',
          table(`Members of ${group.name}`, ['Id', 'Function', 'Class', 'Status', 'Node'], group.instances.map((m) => [h('code', {}, m.id), m.function, m.class, status(m.status), m.node ?? '—'])),
        ),
      ),
    );
  },
};
