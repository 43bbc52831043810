// metrics.js: line charts of the server's recent samples (/api/metrics/series):
// request rate, ingest rows/s, CDC lag, log appends, builds; refreshed on its interval.
import { h, clear, state, loading, errorBox } from '../dom.js';
import { get } from '../api.js';
import { compact, bytes, seconds } from '../fmt.js';
import { lineChart } from '../chart.js';

// Known series get a title and unit; any other series the server sends is drawn too.
const KNOWN = [
  [/^(http_)?req(uest)?s?(_per_s|_rate|\/s)?$|requests_per_s|request_rate|http_requests/, 'Requests', '/s'],
  [/latency|p99|p50/, 'Request latency', 'ms'],
  [/ingest.*rows|rows.*ingest/, 'Ingest rows', '/s'],
  [/ingest.*bytes/, 'Ingest bytes', 'B/s'],
  [/cdc.*lag.*bytes|lag_bytes/, 'CDC lag', 'B'],
  [/cdc.*lag.*sec|lag_seconds/, 'CDC lag time', 's'],
  [/cdc.*event/, 'CDC events', '/s'],
  [/log.*append|append/, 'Log appends', '/s'],
  [/consumer.*lag/, 'Consumer lag', ''],
  [/build/, 'Builds', ''],
  [/check/, 'Checks', ''],
  [/commit/, 'Catalog commits', ''],
  [/rss|memory/, 'Memory (RSS)', 'B'],
  [/cpu/, 'CPU', ''],
];
const COLORS = ['var(--chart-1)', 'var(--chart-2)', 'var(--chart-3)', 'var(--chart-4)'];

function describe(name) {
  for (const [re, title, unit] of KNOWN) if (re.test(name)) return { title, unit };
  return { title: name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()), unit: '' };
}
function formatter(unit) {
  if (unit === 'B') return bytes;
  if (unit === 'B/s') return (v) => bytes(v) + '/s';
  if (unit === 's') return seconds;
  if (unit === 'ms') return (v) => compact(v) + ' ms';
  if (unit === '/s') return (v) => compact(v) + '/s';
  return compact;
}

export default {
  title: 'Metrics',
  async render(main, _args, ctx) {
    const grid = h('div', { class: 'charts' });
    const body = h('div', null, loading(6));
    let auto = true;
    const stamp = h('span', { class: 'muted small', 'aria-live': 'off' });
    const autoBox = h('input', { type: 'checkbox', checked: true, onchange: () => { auto = autoBox.checked; } });
    clear(main, h('div', { class: 'page-head' }, h('h1', null, 'Metrics'), h('span', { class: 'sub' }, 'recent samples; Prometheus format at ', h('a', { href: '/metrics' }, '/metrics')),
      h('div', { class: 'actions' }, stamp, h('label', { class: 'row', style: 'gap:6px;align-items:center' }, autoBox, 'Auto-refresh'))),
    body);
    let interval = 5, timer = null, ok = false;
    async function load() {
      try {
        const r = await get('/api/metrics/series', { signal: ctx.signal });
        ok = true;
        const series = r.series || {};
        const names = Object.keys(series).sort((a, b) => order(a) - order(b) || a.localeCompare(b));
        stamp.textContent = 'Updated ' + new Date().toLocaleTimeString();
        if (!names.length) { clear(body, state('No samples yet', 'The server samples its metrics every few seconds; charts appear after the first samples.')); return; }
        clear(grid, names.map((n, i) => {
          const { title, unit } = describe(n);
          const pts = (series[n] || []).filter((p) => Array.isArray(p) && Number.isFinite(Number(p[1]))).map((p) => [Number(p[0]), Number(p[1])]);
          const fmt = formatter(unit);
          return h('section', { class: 'card chart-card', 'data-series': n },
            h('div', { class: 'card-head' }, h('h2', null, title), h('span', { class: 'meta' }, h('code', null, n)), h('span', { class: 'value' }, pts.length ? fmt(pts.at(-1)[1]) : '—')),
            h('div', { class: 'card-body', style: 'padding:10px 12px 6px' }, pts.length ? lineChart([{ name: n, color: COLORS[i % COLORS.length], points: pts }], fmt) : state('No samples')));
        }));
        if (grid.parentNode !== body) clear(body, grid);
        const iv = Math.max(2, Number(r.interval_s) || 5);
        if (iv !== interval || !timer) { interval = iv; if (timer) clearInterval(timer); timer = ctx.every(interval * 1000, () => { if (auto) load(); }); }
      } catch (e) {
        if (!ctx.alive) return;
        if (!ok) clear(body, e.status === 404 ? state('Metrics are not available', 'This server does not keep metric samples yet; /metrics may still answer.', 'off') : errorBox('Could not read the metrics', e.message));
        if (!timer) timer = ctx.every(interval * 1000, () => { if (auto) load(); });
      }
    }
    await load();
  },
};
function order(n) {
  const i = KNOWN.findIndex(([re]) => re.test(n));
  return i < 0 ? 99 : i;
}
