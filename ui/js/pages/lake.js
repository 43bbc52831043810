// lake.js: the lake browser: namespaces and tables, a table's schema and snapshots,
// a paged preview that can travel to any snapshot, and file upload into bronze.
import { h, clear, state, loading, errorBox, badge, banner, card, searchBox } from '../dom.js';
import { get, api, qs, enc } from '../api.js';
import { num, bytes, ago, date, plural } from '../fmt.js';
import { dataTable, resultTable } from '../table.js';

const PAGE = 50;

export default {
  title: 'Lake',
  async render(main, { args, query }, ctx) {
    if (args.length >= 2) return tablePage(main, args[0], args.slice(1).join('/'), query, ctx);
    return listPage(main, query, ctx);
  },
};

function tableHref(t) { return `#/lake/${enc(t.namespace)}/${enc(t.name)}`; }

async function listPage(main, query, ctx) {
  let ns = query.get('ns') || '';
  let filter = '';
  const listBody = h('div', null, loading(6));
  const nsBox = h('div', { class: 'ns-list', role: 'group', 'aria-label': 'Namespaces' });
  const sub = h('span', { class: 'sub' });
  const uploadCard = uploadPanel(ctx, () => load());
  uploadCard.hidden = query.get('upload') !== '1';
  const uploadBtn = h('button', { class: 'btn primary', type: 'button', 'aria-expanded': String(!uploadCard.hidden), onclick: () => {
    uploadCard.hidden = !uploadCard.hidden;
    uploadBtn.setAttribute('aria-expanded', String(!uploadCard.hidden));
    if (!uploadCard.hidden) uploadCard.querySelector('input[type=file]').focus();
  } }, '↑ Upload to bronze');
  clear(main,
    h('div', { class: 'page-head' }, h('h1', null, 'Lake'), sub,
      h('div', { class: 'actions' }, searchBox('Filter tables', (v) => { filter = v.toLowerCase(); draw(); }), uploadBtn)),
    h('div', { class: 'stack' }, uploadCard,
      h('div', { class: 'lake-layout' }, h('div', { class: 'card' }, nsBox), h('div', { class: 'card', id: 'tables-card' }, listBody))));

  let tables = [];
  async function load() {
    try {
      const r = await get('/api/tables', { signal: ctx.signal });
      tables = (r.tables || []).slice().sort((a, b) => (a.namespace + '.' + a.name).localeCompare(b.namespace + '.' + b.name));
      draw();
    } catch (e) {
      if (!ctx.alive) return;
      clear(listBody, errorBox('Could not list the tables', e.message));
    }
  }
  function draw() {
    const byNs = new Map();
    for (const t of tables) byNs.set(t.namespace, (byNs.get(t.namespace) || 0) + 1);
    const totalBytes = tables.reduce((a, t) => a + (Number(t.bytes) || 0), 0);
    sub.textContent = `${plural(tables.length, 'table')} in ${plural(byNs.size, 'namespace')} · ${bytes(totalBytes)}`;
    const nsButton = (name, label, count) => h('button', { type: 'button', 'aria-pressed': String(ns === name), onclick: () => {
      ns = name;
      history.replaceState(null, '', '#/lake' + (ns ? '?ns=' + enc(ns) : ''));
      draw();
    } }, h('span', null, label), h('span', { class: 'pill-count small' }, num(count)));
    clear(nsBox, nsButton('', 'All namespaces', tables.length), [...byNs].map(([n, c]) => nsButton(n, n, c)));
    const shown = tables.filter((t) => (!ns || t.namespace === ns) && (!filter || (t.namespace + '.' + t.name).toLowerCase().includes(filter)));
    if (!tables.length) {
      clear(listBody, state('The lake is empty', 'Upload a file above, or run `sluice ingest FILE --into bronze.NAME`.'));
      return;
    }
    if (!shown.length) { clear(listBody, state('No table matches', `Nothing in ${ns || 'any namespace'} matches “${filter}”.`, 'search')); return; }
    clear(listBody, dataTable([
      { label: 'Table', render: (t) => h('a', { href: tableHref(t) }, h('span', { class: 'muted' }, t.namespace + '.'), t.name) },
      { label: 'Kind', render: (t) => badge(t.kind || 'table', 'kind') },
      { label: 'Rows', num: true, render: (t) => t.kind === 'view' ? '—' : num(t.rows) },
      { label: 'Size', num: true, render: (t) => t.kind === 'view' ? '—' : bytes(t.bytes) },
      { label: 'Files', num: true, render: (t) => t.kind === 'view' ? '—' : num(t.files) },
      { label: 'Snapshot', num: true, render: (t) => t.snapshot_id ?? '—' },
      { label: 'Updated', render: (t) => h('span', { title: date(t.updated_ms) }, ago(t.updated_ms)) },
    ], shown, { tall: true, caption: 'Tables', onRow: (t) => { location.hash = tableHref(t); } }));
  }
  await load();
}

// Upload: a file, a table name in bronze, append or replace; shows the new snapshot.
function uploadPanel(ctx, onDone) {
  const file = h('input', { type: 'file', accept: '.csv,.tsv,.parquet,.jsonl,.ndjson,.json', 'aria-label': 'File to upload', name: 'file' });
  const name = h('input', { class: 'input', name: 'table', placeholder: 'table name', required: true, pattern: '[A-Za-z_][A-Za-z0-9_]*', 'aria-label': 'Table name', style: 'width:220px' });
  const mode = h('select', { class: 'input', name: 'mode', 'aria-label': 'Mode' }, h('option', { value: 'append' }, 'Append'), h('option', { value: 'replace' }, 'Replace'));
  const format = h('select', { class: 'input', name: 'format', 'aria-label': 'Format' },
    h('option', { value: '' }, 'Format from name'), h('option', { value: 'csv' }, 'CSV'), h('option', { value: 'parquet' }, 'Parquet'), h('option', { value: 'jsonl' }, 'JSON lines'));
  const go = h('button', { class: 'btn primary', type: 'submit' }, 'Upload');
  const result = h('div', { class: 'upload-result', 'aria-live': 'polite' });
  const drop = h('div', { class: 'drop' }, h('div', null, 'Drop a CSV, Parquet or JSON-lines file here, or choose one:'), file);
  const pick = (f) => {
    if (!f) return;
    if (!name.value) name.value = f.name.replace(/\.[^.]+$/, '').toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^([0-9])/, '_$1');
  };
  file.addEventListener('change', () => pick(file.files[0]));
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault(); drop.classList.remove('over');
    if (e.dataTransfer.files.length) { file.files = e.dataTransfer.files; pick(file.files[0]); }
  });
  const form = h('form', { class: 'card-body stack', onsubmit: async (e) => {
    e.preventDefault();
    const f = file.files[0];
    if (!f) { banner('Choose a file to upload first.'); return; }
    const fmt = format.value || guessFormat(f.name);
    if (!fmt) { banner(`Cannot tell the format of ${f.name}: pick CSV, Parquet or JSON lines.`); return; }
    go.disabled = true;
    clear(result, h('span', { class: 'muted' }, h('span', { class: 'spinner' }), ` Uploading ${f.name} (${bytes(f.size)})…`));
    try {
      const r = await api(`/api/ingest/bronze/${enc(name.value)}${qs({ format: fmt, mode: mode.value })}`,
        { method: 'POST', body: f, headers: { 'Content-Type': 'application/octet-stream' } });
      const [rns, rtable] = String(r.table || 'bronze.' + name.value).split(/\.(.*)/s);
      clear(result, h('div', { class: 'banner success', role: 'status' }, h('span', { class: 'msg' },
        `Loaded ${plural(r.rows, 'row')} into ${r.table}: new snapshot `, h('strong', { class: 'new-snapshot' }, String(r.snapshot_id)), '. ',
        h('a', { href: `#/lake/${enc(rns)}/${enc(rtable)}` }, 'Open the table →'))));
      onDone();
    } catch (err) {
      clear(result, errorBox(`Upload of ${f.name} failed`, err.message));
    } finally { go.disabled = false; }
  } },
  drop,
  h('div', { class: 'row' },
    h('label', { class: 'field' }, h('span', null, 'Into'), h('div', { class: 'row', style: 'gap:6px;align-items:center' }, h('code', { class: 'muted' }, 'bronze.'), name)),
    h('label', { class: 'field' }, h('span', null, 'Mode'), mode),
    h('label', { class: 'field' }, h('span', null, 'Format'), format), go),
  result);
  return card('Upload a file into bronze', 'Each upload is one new snapshot; nothing changes if it fails.', null, form);
}
function guessFormat(n) {
  const m = n.toLowerCase().match(/\.(csv|tsv|parquet|jsonl|ndjson|json)$/);
  if (!m) return '';
  return { tsv: 'csv', ndjson: 'jsonl', json: 'jsonl' }[m[1]] || m[1];
}

async function tablePage(main, ns, name, query, ctx) {
  const base = `/api/tables/${enc(ns)}/${enc(name)}`;
  let asOf = query.get('as_of') || '';
  let offset = Math.max(0, Number(query.get('offset')) || 0);
  let tab = query.get('tab') === 'schema' ? 'schema' : 'preview';
  const title = h('h1', null, h('span', { class: 'muted' }, ns + '.'), name);
  const sqlHref = '#/sql?q=' + enc(`SELECT * FROM ${ident(ns)}.${ident(name)} LIMIT 100`);
  const stats = h('div', { class: 'stats' }, Array.from({ length: 5 }, () => h('div', { class: 'stat' }, h('span', { class: 'skeleton' }))));
  const snapBody = h('div', null, loading(5));
  const body = h('div', null, loading(8));
  const chip = h('span');
  const tabBtn = (id, label) => h('button', { type: 'button', role: 'tab', id: 'tab-' + id, 'aria-selected': String(tab === id), onclick: () => { tab = id; sync(); drawTab(); } }, label);
  const tabs = h('div', { class: 'tabs', role: 'tablist' }, tabBtn('preview', 'Preview'), tabBtn('schema', 'Schema'));
  clear(main,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/lake' }, 'Lake'), '/', h('a', { href: '#/lake?ns=' + enc(ns) }, ns), '/', h('span', null, name)),
    h('div', { class: 'page-head' }, title, h('span', { class: 'kind-badge' }), chip,
      h('div', { class: 'actions' }, h('a', { class: 'btn', href: sqlHref, onmousedown: (e) => { e.currentTarget.href = sqlHref + (asOf ? '&as_of=' + enc(asOf) : ''); },
        onclick: (e) => { e.currentTarget.href = sqlHref + (asOf ? '&as_of=' + enc(asOf) : ''); } }, 'Query in SQL'))),
    h('div', { class: 'stack' }, stats,
      h('div', { class: 'grid-side' },
        h('section', { class: 'card table-data', 'aria-label': 'Table data' }, tabs, body),
        card('Snapshots', null, null, snapBody))));

  let info = null, snaps = [], seq = 0;
  function sync() {
    const q = new URLSearchParams();
    if (asOf) q.set('as_of', asOf);
    if (offset) q.set('offset', offset);
    if (tab !== 'preview') q.set('tab', tab);
    const s = q.toString();
    history.replaceState(null, '', `#/lake/${enc(ns)}/${enc(name)}${s ? '?' + s : ''}`);
    for (const b of tabs.children) b.setAttribute('aria-selected', String(b.id === 'tab-' + tab));
  }
  try {
    [info, snaps] = await Promise.all([
      get(base, { signal: ctx.signal }),
      get(base + '/snapshots', { signal: ctx.signal }).then((r) => r.snapshots || []).catch((e) => { if (e.status === 404) return []; throw e; }),
    ]);
  } catch (e) {
    if (!ctx.alive) return;
    clear(body, e.status === 404 ? state(`No table ${ns}.${name}`, e.message, 'off') : errorBox(`Could not read ${ns}.${name}`, e.message));
    clear(snapBody);
    clear(stats);
    return;
  }
  if (info.kind) main.querySelector('.kind-badge').replaceWith(badge(info.kind, 'kind'));
  drawStats();
  drawSnaps();
  drawTab();

  // The figures of the snapshot on show: the current one, or the one travelled to.
  function drawStats() {
    const cur = snaps.find((s) => String(s.id) === String(asOf || info.snapshot_id)) || snaps[0];
    const past = asOf && cur && String(cur.id) !== String(info.snapshot_id);
    clear(stats,
      stat('Rows', num(past ? cur.rows ?? '—' : info.rows), past ? 'at this snapshot' : null),
      stat('Size', bytes(info.bytes), past ? 'current' : null), stat('Files', num(info.files), past ? 'current' : null),
      stat('Columns', num((info.columns || []).length)),
      stat('Snapshot', past ? cur.id : info.snapshot_id ?? '—', cur ? (past ? date(cur.time_ms) : ago(cur.time_ms)) : null));
  }
  function drawSnaps() {
    if (!snaps.length) { clear(snapBody, state('No snapshots', 'Views have no snapshots.')); return; }
    const shown = asOf || String(info.snapshot_id);
    clear(snapBody, dataTable([
      { label: 'ID', num: true, render: (s) => h('span', null, String(s.id)) },
      { label: 'Operation', render: (s) => h('span', null, s.operation || '—', String(s.id) === String(info.snapshot_id) ? [' ', badge('current', 'kind')] : s.expired_ms ? [' ', badge('expired')] : null) },
      { label: 'Rows', num: true, render: (s) => s.summary && s.summary['added-rows'] !== undefined ? '+' + num(s.summary['added-rows']) : s.rows !== undefined ? num(s.rows) : '—' },
      { label: 'When', render: (s) => h('span', { title: date(s.time_ms) }, ago(s.time_ms)) },
    ], snaps, {
      caption: 'Snapshots, newest first; pick one to see the table as it was',
      // An expired snapshot's files are gone (sluice vacuum): listed, not travelled to.
      rowAttrs: (s) => s.expired_ms ? { class: 'muted', 'data-snapshot': s.id, title: `Expired by sluice vacuum ${date(s.expired_ms)}: its files are gone` }
        : ({ class: 'clickable' + (String(s.id) === shown ? ' selected' : ''), 'aria-selected': String(String(s.id) === shown), 'data-snapshot': s.id, title: 'Show the table as of this snapshot' }),
      onRow: (s) => { if (!s.expired_ms) travel(String(s.id) === String(info.snapshot_id) ? '' : String(s.id)); },
    }));
  }
  function travel(id) {
    asOf = id; offset = 0; tab = 'preview';
    sync(); drawStats(); drawSnaps(); drawTab();
  }
  function drawChip() {
    if (!asOf) { clear(chip); return; }
    const s = snaps.find((x) => String(x.id) === asOf);
    clear(chip, h('span', { class: 'asof', role: 'status' }, `As of snapshot ${asOf}${s ? ' · ' + date(s.time_ms) : ''}`,
      h('button', { type: 'button', 'aria-label': 'Back to the current snapshot', title: 'Back to the current snapshot', onclick: () => travel('') }, '×')));
  }
  function drawTab() {
    drawChip();
    if (tab === 'schema') {
      clear(body, dataTable([
        { label: '#', num: true, render: (c, i) => c.id ?? i + 1 },
        { label: 'Column', render: (c) => h('code', null, c.name) },
        { label: 'Type', render: (c) => h('code', { class: 'muted' }, c.type) },
      ], info.columns || [], { caption: 'Schema', tall: true }));
      return;
    }
    return drawPreview();
  }
  async function drawPreview() {
    const my = ++seq;
    body.setAttribute('aria-busy', 'true');
    if (!body.querySelector('table')) clear(body, loading(8));
    try {
      const r = await get(base + '/preview' + qs({ limit: PAGE, offset, as_of: asOf }), { signal: ctx.signal });
      if (my !== seq) return;
      const total = Number(r.total ?? 0), rows = r.rows || [];
      const first = rows.length ? offset + 1 : 0, last = offset + rows.length;
      const prev = h('button', { class: 'btn small', type: 'button', disabled: offset === 0, onclick: () => { offset = Math.max(0, offset - PAGE); sync(); drawPreview(); } }, '← Prev');
      const next = h('button', { class: 'btn small', type: 'button', disabled: last >= total, onclick: () => { offset += PAGE; sync(); drawPreview(); } }, 'Next →');
      clear(body,
        rows.length ? resultTable(r.columns || [], rows, { tall: true, caption: 'Preview' }) : state('No rows', asOf ? `The table had no rows at snapshot ${asOf}.` : 'This table has no rows yet.'),
        h('div', { class: 'pager' }, h('span', { class: 'preview-range' }, `Rows ${num(first)}–${num(last)} of ${num(total)}`),
          asOf ? h('span', { class: 'muted' }, `· snapshot ${asOf}`) : null, h('span', { class: 'right' }, prev, next)));
    } catch (e) {
      if (!ctx.alive || my !== seq) return;
      clear(body, errorBox('Could not read the preview', e.message));
    } finally { body.removeAttribute('aria-busy'); }
  }
}

function stat(label, value, hint) {
  return h('div', { class: 'stat' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), hint ? h('div', { class: 'muted small' }, hint) : null);
}
function ident(x) { return /^[a-z_][a-z0-9_]*$/.test(x) ? x : '"' + x.replace(/"/g, '""') + '"'; }
