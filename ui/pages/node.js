// Resources: each node's capacity against what instances hold (one row per node in a cluster),
// and calls and errors per second over the last two minutes, from the counters at /metrics.
import { get, metricsText } from '../api.js';
import { h, status, svg, table } from '../dom.js';

const KEPT = 60;
/** [time, calls, errors] at each poll; rates are the differences between neighbours. */
const samples = [];

function bar(used, total, unit) {
  const share = total > 0 ? Math.min(1, used / total) : 0;
  return h(
    'div',
    {},
    h('div', { class: 'bar', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': total, 'aria-valuenow': used, 'aria-label': `${used} of ${total} ${unit}` }, h('span', { style: `width:${(share * 100).toFixed(1)}%` })),
    h('span', { class: 'muted' }, `${used} / ${total} ${unit}`),
  );
}

/** Sums of wisp_calls_total: every finished call, and those whose outcome was not ok. */
function callTotals(text) {
  let calls = 0;
  let errors = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('wisp_calls_total{')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    calls += value;
    if (!/outcome="ok"/.test(line)) errors += value;
  }
  return { calls, errors };
}

function chart() {
  const rates = [];
  for (let i = 1; i < samples.length; i++) {
    const seconds = (samples[i][0] - samples[i - 1][0]) / 1000;
    rates.push([Math.max(0, (samples[i][1] - samples[i - 1][1]) / seconds), Math.max(0, (samples[i][2] - samples[i - 1][2]) / seconds)]);
  }
  const top = Math.max(1, ...rates.map(([calls]) => calls));
  // The newest rate at the right edge, older ones to its left, one step per update.
  const step = 580 / (KEPT - 2);
  const xy = (rate, i, index) => [590 - (rates.length - 1 - i) * step, 115 - (rate[index] / top) * 105];
  const points = (index) => rates.map((rate, i) => xy(rate, i, index).join(',')).join(' ');
  const dots = (index, colour) => rates.map((rate, i) => svg('circle', { cx: xy(rate, i, index)[0], cy: xy(rate, i, index)[1], r: 2.5, fill: colour }));
  if (rates.length === 0) return h('p', { class: 'muted' }, 'Collecting: the rates show from the next update.');
  const last = rates.at(-1);
  return h(
    'figure',
    {},
    svg(
      'svg',
      { class: 'chart', viewBox: '0 0 600 120', role: 'img', 'aria-label': `Calls per second, now ${last[0].toFixed(1)}; errors per second, now ${last[1].toFixed(1)}` },
      svg('polyline', { points: points(0), fill: 'none', stroke: '#2456c9', 'stroke-width': 2 }),
      svg('polyline', { points: points(1), fill: 'none', stroke: '#b3261e', 'stroke-width': 2 }),
      dots(0, '#2456c9'),
      dots(1, '#b3261e'),
    ),
    h(
      'figcaption',
      { class: 'legend' },
      h('span', {}, h('span', { class: 'swatch', style: 'background:#2456c9' }), `calls/s ${last[0].toFixed(1)}`),
      h('span', {}, h('span', { class: 'swatch', style: 'background:#b3261e' }), `errors/s ${last[1].toFixed(1)}`),
      h('span', { class: 'muted' }, `scale: ${top.toFixed(1)}/s at the top`),
    ),
  );
}

export const nodePage = {
  title: () => 'Resources',
  async live() {
    const [cluster, metrics] = await Promise.all([get('/v1/cluster'), metricsText()]);
    const totals = callTotals(metrics);
    samples.push([Date.now(), totals.calls, totals.errors]);
    if (samples.length > KEPT) samples.shift();
    return h(
      'div',
      {},
      h('p', {}, cluster.mode === 'cluster' ? `A cluster of ${cluster.nodes.length} nodes; this page is served by ${cluster.self}.` : 'A single node.'),
      table(
        'Capacity against what instances hold',
        ['Node', 'State', 'CPU (millicores)', 'Memory (MiB)', 'Instances'],
        cluster.nodes.map((node) => [node.id, status(node.state), bar(node.allocated.cpu, node.capacity.cpu, 'm'), bar(node.allocated.memory, node.capacity.memory, 'MiB'), node.instances]),
      ),
      h('h3', {}, 'Calls and errors per second'),
      metrics ? chart() : h('p', { class: 'muted' }, '/metrics is not readable with this token.'),
    );
  },
};
