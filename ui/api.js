// Wisp's HTTP API from the page. A token, when Wisp asks for one (401), is kept in
// sessionStorage: for this tab only, never in a cookie or on disk, never shown again.
const TOKEN_KEY = 'wisp-token';
let asking = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export const hasToken = () => sessionStorage.getItem(TOKEN_KEY) !== null;

/** Asks for a token with the page's dialog; resolves once one was given. */
function askForToken(why) {
  if (asking) return asking;
  const dialog = document.getElementById('token-dialog');
  const form = document.getElementById('token-form');
  const input = document.getElementById('token-input');
  document.getElementById('token-why').textContent = why;
  asking = new Promise((resolve) => {
    const submitted = (event) => {
      const token = input.value.trim();
      // A token is printable ASCII without spaces: anything else could not be sent in a header.
      if (!/^[\x21-\x7e]+$/.test(token)) {
        event.preventDefault();
        input.setCustomValidity('A token is printable characters without spaces.');
        input.reportValidity();
        return;
      }
      input.setCustomValidity('');
      form.removeEventListener('submit', submitted);
      sessionStorage.setItem(TOKEN_KEY, token);
      input.value = '';
      asking = null;
      resolve();
    };
    form.addEventListener('submit', submitted);
  });
  // Escape would close the dialog with every request still waiting for a token: it stays open.
  dialog.oncancel = (event) => event.preventDefault();
  dialog.showModal();
  input.focus();
  return asking;
}

/** Sends a request; JSON in and out. A 401 asks for a token and tries again. */
export async function api(method, path, body) {
  for (;;) {
    const headers = { accept: 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const parsed = text ? safeJson(text) : null;
    if (res.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      await askForToken(parsed?.detail ?? 'This Wisp needs a token.');
      continue;
    }
    if (!res.ok) throw new ApiError(res.status, parsed);
    return { body: parsed, text, headers: res.headers };
  }
}

/** GET, resolving to the JSON body. */
export const get = async (path) => (await api('GET', path)).body;

/** The Prometheus text at /metrics (scope invoke unless it is open). */
export async function metricsText() {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch('/metrics', { headers });
  return res.ok ? res.text() : '';
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
