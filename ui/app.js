// The dashboard: one page per section (pages/*.js), chosen by the URL's hash, e.g.
// #/invocations?status=failed. Each page has a fixed frame (forms, which keep what is typed) and
// a live part that is fetched again every POLL_MS and swapped in only when it changed, keeping
// the keyboard focus on the element it was on.
import { ApiError } from './api.js';
import { h, problemText } from './dom.js';
import { functionPage, functionsPage } from './pages/functions.js';
import { invocationPage, invocationsPage } from './pages/invocations.js';
import { instancesPage } from './pages/instances.js';
import { groupsPage } from './pages/groups.js';
import { nodePage } from './pages/node.js';

const POLL_MS = 2000;

/** Route patterns, first match wins: [section, regexp over the path, page]. */
const ROUTES = [
  ['functions', /^\/functions\/([^/]+)$/, functionPage],
  ['functions', /^\/functions$/, functionsPage],
  ['invocations', /^\/invocations\/([^/]+)$/, invocationPage],
  ['invocations', /^\/invocations$/, invocationsPage],
  ['instances', /^\/instances$/, instancesPage],
  ['groups', /^\/groups$/, groupsPage],
  ['node', /^\/node$/, nodePage],
];

const view = document.getElementById('view');
const liveNote = document.getElementById('live');
let current = null;
let timer;
/** The first page shown leaves the focus at the top; a page changed to moves it to its content. */
let firstShow = true;

function route() {
  const hash = location.hash.replace(/^#/, '') || '/functions';
  const [path, query = ''] = hash.split('?');
  for (const [section, pattern, page] of ROUTES) {
    const match = pattern.exec(path);
    if (match) return { section, page, params: { id: match[1] && decodeURIComponent(match[1]), query: new URLSearchParams(query) } };
  }
  return { section: 'functions', page: functionsPage, params: { query: new URLSearchParams() } };
}

async function show() {
  clearTimeout(timer);
  const { section, page, params } = route();
  for (const link of document.querySelectorAll('nav a')) {
    if (link.getAttribute('href') === `#/${section}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const live = h('div', { class: 'live-part' });
  const refresh = () => poll(shown);
  const shown = { page, params, live, refresh };
  current = shown;
  view.replaceChildren(h('h2', { id: 'page-title' }, page.title(params)), page.frame?.(params, refresh) ?? '', live);
  document.title = `${page.title(params)} · Wisp`;
  if (!firstShow) view.focus();
  firstShow = false;
  await poll(shown);
}

/** Fetches the live part again and swaps it in if it changed; then waits POLL_MS. */
async function poll(shown) {
  clearTimeout(timer);
  if (current !== shown) return;
  let next;
  try {
    next = await shown.page.live(shown.params, shown.refresh);
    liveNote.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    next = h('p', { class: 'problem', role: 'alert' }, err instanceof ApiError ? problemText(err.problem) : String(err));
    liveNote.textContent = 'live · last update failed';
  }
  if (current !== shown) return;
  const before = shown.live.firstElementChild;
  if (!before || before.outerHTML !== next.outerHTML) swap(shown.live, next);
  timer = setTimeout(() => poll(shown), POLL_MS);
}

/** Replaces the live part, putting the focus back on the element with the same data-key. */
function swap(container, next) {
  const focused = container.contains(document.activeElement) ? document.activeElement.getAttribute('data-key') : null;
  container.replaceChildren(next);
  if (focused) container.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
}

window.addEventListener('hashchange', show);
show();
