// api.js: the JSON API client. A 401 asks for the server's token once (kept in
// sessionStorage) and retries; other errors become ApiError with the server's message.
const TOKEN_KEY = 'sluice.token';
export class ApiError extends Error {
  constructor(status, message, path) { super(message); this.status = status; this.path = path; }
}
let tokenPrompt = null;

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

export async function api(path, opts = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
    const t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    let res;
    try {
      res = await fetch(path, { method: opts.method || 'GET', headers, body: opts.body, signal: opts.signal });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, 'Cannot reach the sluice server (' + e.message + '). Is `sluice serve` running?', path);
    }
    if (res.status === 401 && attempt < 3) {
      if (token() !== t) continue; // a token was entered while this request was on its way
      await askToken(t ? 'That token was refused. Enter the server token:' : 'This server needs a token (SLUICE_SERVER_TOKEN).');
      continue;
    }
    const text = await res.text();
    let body = null;
    if (text) {
      try { body = JSON.parse(text); } catch { body = null; }
    }
    if (!res.ok) {
      const msg = body && body.error ? body.error : `${res.status} ${res.statusText || 'error'} for ${path}`;
      throw new ApiError(res.status, msg, path);
    }
    if (body === null && text) throw new ApiError(res.status, `The server answered ${path} with something that is not JSON.`, path);
    return body;
  }
}

export const get = (path, opts) => api(path, opts);
export const post = (path, json, opts = {}) =>
  api(path, Object.assign({ method: 'POST', body: JSON.stringify(json), headers: { 'Content-Type': 'application/json' } }, opts));

// The token dialog; resolves when a token was entered.
function askToken(message) {
  if (tokenPrompt) return tokenPrompt;
  tokenPrompt = new Promise((resolve) => {
    const dlg = document.getElementById('token-dialog') || buildDialog();
    dlg.querySelector('.why').textContent = message;
    const input = dlg.querySelector('input');
    input.value = '';
    dlg.onclose = () => {
      const v = input.value.trim();
      if (v) sessionStorage.setItem(TOKEN_KEY, v);
      tokenPrompt = null;
      resolve();
    };
    dlg.showModal();
    input.focus();
  });
  return tokenPrompt;
}

function buildDialog() {
  const dlg = document.createElement('dialog');
  dlg.id = 'token-dialog';
  dlg.setAttribute('aria-labelledby', 'token-title');
  dlg.innerHTML = `<form method="dialog">
    <h2 id="token-title">Server token</h2>
    <p class="why muted" style="margin:0"></p>
    <label class="field"><span>Token</span><input class="input" type="password" name="token" autocomplete="off" required></label>
    <div class="actions"><button class="btn primary" value="ok">Connect</button></div></form>`;
  dlg.addEventListener('cancel', (e) => e.preventDefault());
  document.body.append(dlg);
  return dlg;
}

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') u.set(k, v);
  const s = u.toString();
  return s ? '?' + s : '';
}
export const enc = encodeURIComponent;
