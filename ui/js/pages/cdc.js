// cdc.js: each PostgreSQL source: its replication slot, whether it is streaming, the
// confirmed LSN and how far behind it is, in bytes and seconds. Refreshes every 5 s.
import { h, clear, state, loading, errorBox, badge } from '../dom.js';
import { get } from '../api.js';
import { num, bytes, seconds, plural } from '../fmt.js';
import { dataTable } from '../table.js';

export default {
  title: 'CDC',
  async render(main, _args, ctx) {
    const body = h('div', null, loading(4));
    const sub = h('span', { class: 'sub' });
    const stamp = h('span', { class: 'muted small' });
    clear(main, h('div', { class: 'page-head' }, h('h1', null, 'Change data capture'), sub, h('div', { class: 'actions' }, stamp)),
      h('section', { class: 'card' }, body));
    let had = false, last = '';
    async function load() {
      try {
        const r = await get('/api/cdc', { signal: ctx.signal });
        had = true;
        stamp.textContent = 'Updated ' + new Date().toLocaleTimeString();
        const key = JSON.stringify(r.sources || []);
        if (key === last) return; // unchanged: keep the table (and the focus in it)
        last = key;
        const src = r.sources || [];
        const active = src.filter((x) => x.active).length;
        sub.textContent = `${plural(src.length, 'source')} · ${num(active)} streaming`;
        if (!src.length) { clear(body, state('No sources', 'Add a PostgreSQL source under sources: in sluice.yaml, then run `sluice cdc` or `sluice up`.')); return; }
        clear(body, dataTable([
          { label: 'Source', render: (x) => h('strong', null, x.name) },
          { label: 'Status', render: (x) => x.error ? badge('error') : x.active ? badge('streaming', 'active') : badge('idle', 'warn') },
          { label: 'Slot', render: (x) => h('code', null, x.slot || '—') },
          { label: 'Plugin', key: 'plugin' },
          { label: 'Confirmed LSN', render: (x) => h('code', null, x.confirmed_lsn || '—') },
          { label: 'Lag', num: true, render: (x) => bytes(x.lag_bytes) },
          { label: 'Lag time', num: true, render: (x) => seconds(x.lag_seconds) },
          { label: 'Tables', cls: 'wrap', render: (x) => (x.tables || []).join(', ') || '—' },
          { label: 'Error', cls: 'wrap', render: (x) => x.error ? h('span', { style: 'color:var(--fail)' }, x.error) : '—' },
        ], src, { caption: 'CDC sources' }));
      } catch (e) {
        if (!ctx.alive || had) return;
        clear(body, e.status === 404 || e.status === 501
          ? state('CDC is not available', 'This server does not report change data capture yet.', 'off')
          : errorBox('Could not read the CDC status', e.message));
      }
    }
    await load();
    ctx.every(5000, load);
  },
};
