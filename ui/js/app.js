// app.js: the shell: hash routing (#/page/args...), the nav, project name and health in
// the header, keyboard shortcuts (/ to search, g + letter to jump, ? for help).
import { h, clear, banner, clearBanners, state } from './dom.js';
import { get } from './api.js';
import { ago, seconds } from './fmt.js';
import lake from './pages/lake.js';
import sql from './pages/sql.js';
import topics from './pages/topics.js';
import cdc from './pages/cdc.js';
import checks from './pages/checks.js';
import builds from './pages/builds.js';
import lineage from './pages/lineage.js';
import metrics from './pages/metrics.js';

const pages = { lake, sql, topics, cdc, checks, builds, lineage, metrics };
const jumps = { l: 'lake', s: 'sql', t: 'topics', c: 'cdc', k: 'checks', b: 'builds', n: 'lineage', m: 'metrics' };
const main = document.getElementById('main');
let view = null; // {name, ctl, timers}
let projectName = '';

// Each page view gets a context: an abort signal for its fetches, timers cleared on leave.
function makeCtx() {
  const ctl = new AbortController();
  const timers = [];
  return {
    signal: ctl.signal,
    every(ms, fn) { const id = setInterval(() => { if (!document.hidden) fn(); }, ms); timers.push(id); return id; },
    get alive() { return !ctl.signal.aborted; },
    go(hash) { location.hash = hash; },
    close() { ctl.abort(); timers.forEach(clearInterval); },
  };
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { name: parts[0] || 'lake', args: parts.slice(1), query: new URLSearchParams(query || '') };
}

async function route() {
  const { name, args, query } = parseHash();
  const page = pages[name];
  if (view) view.ctx.close();
  clearBanners();
  for (const a of document.querySelectorAll('.side a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.body.classList.remove('nav-open');
  const ctx = makeCtx();
  view = { name, ctx };
  if (!page) {
    clear(main, state('No such page', 'Pick a page on the left.', 'off'));
    document.title = 'sluice';
    return;
  }
  document.title = `${page.title} · ${projectName || 'sluice'}`;
  try {
    await page.render(main, { args, query }, ctx);
  } catch (e) {
    if (e.name === 'AbortError' || !ctx.alive) return;
    banner(e.message || String(e));
    console.warn(e);
  }
}

async function health() {
  const el = document.getElementById('health');
  const text = el.querySelector('.health-text');
  try {
    const r = await get('/api/health');
    el.className = 'health ' + (r.status === 'ok' ? 'ok' : 'down');
    text.textContent = (r.status === 'ok' ? 'Healthy' : r.status) + (r.version ? ' · v' + r.version : '');
    el.title = r.uptime_s !== undefined ? 'Up ' + seconds(r.uptime_s) : '';
    if (r.project && r.project !== projectName) {
      projectName = r.project;
      document.getElementById('project-name').textContent = r.project;
      if (view && pages[view.name]) document.title = `${pages[view.name].title} · ${projectName}`;
    }
  } catch (e) {
    el.className = 'health down';
    text.textContent = e.status ? 'Error ' + e.status : 'Unreachable';
    el.title = e.message;
  }
}

// Keyboard: "/" focuses the page's search, "g x" jumps, "?" shows the list.
let pendingG = 0;
function typing(t) {
  return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
}
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && e.target.matches?.('input[data-search]')) { e.target.blur(); return; }
  if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || document.querySelector('dialog[open]')) return;
  if (e.key === '/') {
    const f = main.querySelector('[data-search]');
    if (f) { e.preventDefault(); f.focus(); f.select?.(); }
    return;
  }
  if (e.key === '?') { e.preventDefault(); showKeys(); return; }
  if (pendingG && Date.now() - pendingG < 1500 && jumps[e.key]) {
    e.preventDefault();
    pendingG = 0;
    location.hash = '#/' + jumps[e.key];
    main.focus({ preventScroll: true });
    return;
  }
  pendingG = e.key === 'g' ? Date.now() : 0;
});

function showKeys() {
  let dlg = document.getElementById('keys-dialog');
  if (!dlg) {
    const rows = [['/', 'Focus search or filter'], ['Ctrl/⌘ + Enter', 'Run the SQL'], ['g l', 'Lake'], ['g s', 'SQL'], ['g t', 'Topics'],
      ['g c', 'CDC'], ['g k', 'Checks'], ['g b', 'Builds'], ['g n', 'Lineage'], ['g m', 'Metrics'], ['?', 'This list']];
    dlg = h('dialog', { id: 'keys-dialog', 'aria-labelledby': 'keys-title' },
      h('form', { method: 'dialog' }, h('h2', { id: 'keys-title' }, 'Keyboard shortcuts'),
        h('div', { class: 'keys' }, rows.flatMap(([k, d]) => [h('span', null, k.split(' ').map((x) => h('kbd', null, x)).reduce((a, b) => [a, ' ', b])), h('span', null, d)])),
        h('div', { class: 'actions' }, h('button', { class: 'btn primary', value: 'close' }, 'Close'))));
    document.body.append(dlg);
  }
  dlg.showModal();
}
document.getElementById('help-btn').addEventListener('click', showKeys);
const toggle = document.querySelector('.nav-toggle');
toggle.addEventListener('click', () => {
  const open = document.body.classList.toggle('nav-open');
  toggle.setAttribute('aria-expanded', String(open));
});

window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', (e) => {
  if (e.reason && e.reason.name === 'AbortError') { e.preventDefault(); return; }
});
if (!location.hash) history.replaceState(null, '', '#/lake');
health();
setInterval(() => { if (!document.hidden) health(); }, 10000);
route();
