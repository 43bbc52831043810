// builds.js: build runs, newest first, each with its models' rows, time and status.
import { h, clear, state, loading, errorBox, badge, ticks } from '../dom.js';
import { get, enc } from '../api.js';
import { num, ago, date, duration, plural } from '../fmt.js';
import { dataTable } from '../table.js';

export default {
  title: 'Builds',
  async render(main, { args }, ctx) {
    const list = h('div', null, loading(4));
    const detail = h('div');
    clear(main, h('div', { class: 'page-head' }, h('h1', null, 'Builds'), h('span', { class: 'sub' }, ticks('runs of `sluice build`'))),
      h('div', { class: 'stack' }, h('section', { class: 'card' }, list), detail));
    let runs;
    try { runs = (await get('/api/builds?limit=50', { signal: ctx.signal })).runs || []; }
    catch (e) {
      if (!ctx.alive) return;
      clear(list, e.status === 404 ? state('Builds are not available', 'This server does not report build runs yet.', 'off') : errorBox('Could not read the build runs', e.message));
      return;
    }
    if (!runs.length) { clear(list, state('No builds yet', 'Run `sluice build` to build the models; each run shows here.')); return; }
    let sel = args[0] || String(runs[0].run_id);
    const draw = () => {
      clear(list, dataTable([
        { label: 'Run', render: (r) => h('code', null, String(r.run_id)) },
        { label: 'Status', render: (r) => badge(r.status || 'unknown') },
        { label: 'When', render: (r) => h('span', { title: date(r.started_ms || r.finished_ms) }, ago(r.started_ms || r.finished_ms)) },
        { label: 'Duration', num: true, render: (r) => !r.finished_ms ? 'running' : r.started_ms ? duration(r.finished_ms - r.started_ms) : '—' },
        { label: 'Models', num: true, render: (r) => num((r.models || []).length) },
        { label: 'Failed', num: true, render: (r) => num((r.models || []).filter((m) => !/^(ok|success|fresh|built|skipped_fresh)$/i.test(m.status || '')).length) },
        { label: 'Rows', num: true, render: (r) => num((r.models || []).reduce((a, m) => a + (Number(m.rows) || 0), 0)) },
      ], runs, {
        caption: 'Build runs', rowAttrs: (r) => ({ class: 'clickable' + (String(r.run_id) === sel ? ' selected' : '') }),
        onRow: (r) => { sel = String(r.run_id); history.replaceState(null, '', '#/builds/' + enc(sel)); draw(); },
      }));
      const run = runs.find((r) => String(r.run_id) === sel) || runs[0];
      const ms = run.models || [];
      clear(detail, h('section', { class: 'card run-detail' },
        h('div', { class: 'card-head' }, h('h2', null, 'Run ', h('code', null, String(run.run_id))), badge(run.status || 'unknown'),
          h('span', { class: 'meta' }, `${date(run.started_ms || run.finished_ms)} · ${plural(ms.length, 'model')}`)),
        ms.length ? dataTable([
          { label: 'Model', render: (m) => h('a', { href: `#/lake/${enc(m.namespace)}/${enc(m.model)}` }, h('span', { class: 'muted' }, m.namespace + '.'), m.model) },
          { label: 'Materialized', render: (m) => badge(m.materialized || '—', 'kind') },
          { label: 'Status', render: (m) => badge(m.status || '—') },
          { label: 'Rows', num: true, render: (m) => num(m.rows) },
          { label: 'Time', num: true, render: (m) => duration(m.ms) },
          { label: 'Message', cls: 'wrap', render: (m) => m.message || '—' },
        ], ms, { caption: 'Models of the run' }) : state('No models in this run')));
    };
    draw();
  },
};
