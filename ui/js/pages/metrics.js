// metrics.js: line charts of the server's recent samples (/api/metrics/series):
// request rate and latency, ingest, catalog commits, CDC events and lag, log appends,
// builds and checks, memory and CPU; refreshed on the server's sampling interval.
import { h, clear, state, loading, errorBox } from '../dom.js';
import { get } from '../api.js';
import { compact, bytes, seconds } from '../fmt.js';
import { lineChart } from '../chart.js';

// Charts of known series (several series share a chart); any other series gets its own.
const CHARTS = [
  { title: 'Requests', unit: '/s', series: [['http_requests_per_s', 'requests'], ['http_errors_per_s', 'errors']] },
  { title: 'Request latency', unit: 'ms', series: [['http_latency_p50_ms', 'p50'], ['http_latency_p99_ms', 'p99']] },
  { title: 'Ingest rows', unit: '/s', series: [['ingest_rows_per_s', 'rows']] },
  { title: 'Ingest bytes', unit: 'B/s', series: [['ingest_bytes_per_s', 'bytes']] },
  { title: 'CDC events', unit: '/s', series: [['cdc_events_per_s', 'events']] },
  { title: 'CDC lag', unit: 'B', series: [['cdc_lag_bytes', 'lag']] },
  { title: 'CDC lag time', unit: 's', series: [['cdc_lag_seconds', 'lag']] },
  { title: 'Log appends', unit: '/s', series: [['log_appends_per_s', 'appends']] },
  { title: 'Consumer lag', unit: '', series: [['log_consumer_lag', 'lag'], ['consumer_lag', 'lag']] },
  { title: 'Catalog commits', unit: '/s', series: [['catalog_commits_per_s', 'commits'], ['catalog_conflicts_per_s', 'conflicts']] },
  { title: 'Builds', unit: '', series: [['builds', 'builds'], ['builds_failed', 'failed']] },
  { title: 'Checks', unit: '', series: [['checks', 'checks'], ['checks_failed', 'failed']] },
  { title: 'Memory (RSS)', unit: 'B', series: [['rss_bytes', 'RSS']] },
  { title: 'CPU', unit: '%', series: [['cpu_percent', 'CPU']] },
];
const COLORS = ['var(--chart-1)', 'var(--chart-3)', 'var(--chart-2)', 'var(--chart-4)'];

function guessUnit(name) {
  if (/bytes_per_s$/.test(name)) return 'B/s';
  if (/bytes$/.test(name)) return 'B';
  if (/_ms$/.test(name)) return 'ms';
  if (/seconds$/.test(name)) return 's';
  if (/percent$/.test(name)) return '%';
  if (/per_s$/.test(name)) return '/s';
  return '';
}
function formatter(unit) {
  if (unit === 'B') return bytes;
  if (unit === 'B/s') return (v) => bytes(v) + '/s';
  if (unit === 's') return seconds;
  if (unit === 'ms') return (v) => compact(v) + ' ms';
  if (unit === '/s') return (v) => compact(v) + '/s';
  if (unit === '%') return (v) => compact(v) + '%';
  return compact;
}
// Samples without a value (null: nothing to measure in that interval) are left out.
const points = (raw) => (raw || []).filter((p) => Array.isArray(p) && p[1] !== null && Number.isFinite(Number(p[1]))).map((p) => [Number(p[0]), Number(p[1])]);

function plan(series) {
  const used = new Set(), out = [];
  for (const c of CHARTS) {
    const ss = c.series.filter(([n]) => n in series && !used.has(n));
    if (!ss.length) continue;
    ss.forEach(([n]) => used.add(n));
    out.push({ title: c.title, unit: c.unit, series: ss });
  }
  for (const n of Object.keys(series).sort())
    if (!used.has(n)) out.push({ title: n.replace(/_/g, ' ').replace(/^./, (x) => x.toUpperCase()), unit: guessUnit(n), series: [[n, n]] });
  return out;
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
        stamp.textContent = 'Updated ' + new Date().toLocaleTimeString();
        const charts = plan(series);
        if (!charts.length) { clear(body, state('No samples yet', 'The server samples its metrics every few seconds; charts appear after the first samples.')); return; }
        clear(grid, charts.map((c) => {
          const fmt = formatter(c.unit);
          const ss = c.series.map(([n, label], i) => ({ name: label, id: n, color: COLORS[i % COLORS.length], points: points(series[n]) }));
          const main0 = ss[0].points;
          return h('section', { class: 'card chart-card', 'data-series': c.series.map(([n]) => n).join(' ') },
            h('div', { class: 'card-head' }, h('h2', null, c.title),
              ss.length > 1 ? h('span', { class: 'chart-legend' }, ss.map((x) => h('span', null, h('i', { style: `background:${x.color}` }), x.name))) : h('span', { class: 'meta' }, h('code', null, c.series[0][0])),
              h('span', { class: 'value', title: 'Latest ' + ss[0].name }, main0.length ? fmt(main0.at(-1)[1]) : '—')),
            h('div', { class: 'card-body', style: 'padding:10px 12px 6px' },
              ss.some((x) => x.points.length) ? lineChart(ss, fmt) : state('No samples yet', 'Nothing to measure in this window.')));
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
