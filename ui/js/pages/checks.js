// checks.js: the latest result of every check, grouped by table, with pass/fail/warn
// badges and failing row counts; older runs of the same check are folded away.
import { h, clear, state, loading, errorBox, badge, searchBox } from '../dom.js';
import { get, enc } from '../api.js';
import { num, ago, date } from '../fmt.js';
import { dataTable } from '../table.js';

const ORDER = { error: 0, fail: 1, warn: 2, pass: 3 };

export default {
  title: 'Checks',
  async render(main, { query }, ctx) {
    let filter = '', only = query.get('status') || '';
    const body = h('div', { class: 'stack' }, h('section', { class: 'card' }, loading(5)));
    const stats = h('div', { class: 'stats' });
    const statusSel = h('select', { class: 'input', 'aria-label': 'Status', onchange: () => { only = statusSel.value; draw(); } },
      ['', 'fail', 'warn', 'error', 'pass'].map((v) => h('option', { value: v, selected: v === only }, v ? 'Only ' + v : 'All results')));
    clear(main, h('div', { class: 'page-head' }, h('h1', null, 'Checks'), h('span', { class: 'sub' }, 'latest result per check'),
      h('div', { class: 'actions' }, searchBox('Filter tables or checks', (v) => { filter = v.toLowerCase(); draw(); }), statusSel)),
    h('div', { class: 'stack' }, stats, body));
    let latest = [];
    try {
      const r = await get('/api/checks?limit=500', { signal: ctx.signal });
      const seen = new Set();
      for (const x of r.results || []) {
        const k = `${x.table}\u0000${x.check}\u0000${x.column ?? ''}`;
        if (seen.has(k)) continue;
        seen.add(k);
        latest.push(x);
      }
    } catch (e) {
      if (!ctx.alive) return;
      clear(body, e.status === 404 ? state('Checks are not available', 'This server does not report check results yet.', 'off') : errorBox('Could not read the check results', e.message));
      return;
    }
    draw();
    function draw() {
      const count = (s) => latest.filter((x) => x.status === s).length;
      clear(stats, [['Checks', latest.length], ['Passing', count('pass')], ['Failing', count('fail') + count('error')], ['Warnings', count('warn')]]
        .map(([l, v]) => h('div', { class: 'stat' }, h('div', { class: 'label' }, l), h('div', { class: 'value' }, num(v)))));
      if (!latest.length) { clear(body, h('section', { class: 'card' }, state('No check results yet', 'Checks run with `sluice build` and `sluice check`; their results show here.'))); return; }
      const shown = latest.filter((x) => (!only || x.status === only) &&
        (!filter || `${x.table} ${x.check} ${x.column ?? ''}`.toLowerCase().includes(filter)));
      const groups = new Map();
      for (const x of shown) { if (!groups.has(x.table)) groups.set(x.table, []); groups.get(x.table).push(x); }
      if (!groups.size) { clear(body, h('section', { class: 'card' }, state('No check matches', 'Change the filter to see more.', 'search'))); return; }
      const sorted = [...groups].sort((a, b) => worst(a[1]) - worst(b[1]) || a[0].localeCompare(b[0]));
      clear(body, sorted.map(([table, xs]) => {
        xs.sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.check.localeCompare(b.check));
        const tally = ['fail', 'error', 'warn', 'pass'].map((s) => [s, xs.filter((x) => x.status === s).length]).filter(([, n]) => n);
        const [ns, ...rest] = table.split('.');
        return h('section', { class: 'card check-group', 'data-table': table },
          h('div', { class: 'card-head' }, h('h2', null, h('a', { href: `#/lake/${enc(ns)}/${enc(rest.join('.'))}` }, table)),
            h('span', { class: 'meta' }, 'last run ' + ago(Math.max(...xs.map((x) => x.time_ms)))),
            h('div', { class: 'right' }, tally.map(([s, n]) => badge(`${n} ${s}`, s)))),
          dataTable([
            { label: 'Status', render: (x) => badge(x.status) },
            { label: 'Check', render: (x) => h('code', null, x.check) },
            { label: 'Column', render: (x) => x.column || '—' },
            { label: 'Severity', render: (x) => x.severity || '—' },
            { label: 'Failing', num: true, render: (x) => Number(x.failing) > 0 ? h('strong', { style: x.status === 'pass' ? null : 'color:var(--fail)' }, num(x.failing)) : num(x.failing) },
            { label: 'Of rows', num: true, render: (x) => num(x.total) },
            { label: 'Message', cls: 'wrap', render: (x) => x.message || '—' },
            { label: 'When', render: (x) => h('span', { title: date(x.time_ms) }, ago(x.time_ms)) },
          ], xs, { caption: 'Checks on ' + table }));
      }));
    }
  },
};
function worst(xs) { return Math.min(...xs.map((x) => ORDER[x.status] ?? 4)); }
