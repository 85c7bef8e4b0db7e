// Building the page: h() makes an element from a tag, attributes and children (strings are text,
// never HTML, so nothing a function or a user sent can run as markup).
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A table with a caption, column headers and rows of cells; an empty note when there are none. */
export function table(caption, headers, rows, empty = 'None yet.') {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h(
    'table',
    {},
    h('caption', { class: 'muted', style: 'text-align:left' }, caption),
    h('thead', {}, h('tr', {}, headers.map((name) => h('th', { scope: 'col' }, name)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell) => h('td', {}, cell))))),
  );
}

export const status = (value) => h('span', { class: `status status-${value}` }, value);

export const time = (iso) => (iso ? h('time', { datetime: iso }, new Date(iso).toLocaleTimeString()) : '—');

export const json = (value) => h('pre', {}, JSON.stringify(value, null, 2));

/** The text of a problem document (RFC 9457) or an error, for people. */
export function problemText(problem) {
  // A problem document has `detail`; an invocation's stored error has `message`.
  if (problem && typeof problem === 'object' && 'code' in problem) return `${problem.code}: ${problem.detail ?? problem.message ?? problem.title ?? ''}`;
  return String(problem?.message ?? problem);
}

/** An SVG element (h() makes HTML ones). */
export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children.flat(Infinity)) if (child) element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return element;
}
