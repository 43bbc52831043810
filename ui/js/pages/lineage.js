// lineage.js: the DAG of sources, models and checks from /api/lineage, laid out left to
// right in columns by depth (longest path from a source) and drawn as SVG.
import { h, s, clear, state, loading, errorBox } from '../dom.js';
import { get, enc } from '../api.js';
import { plural } from '../fmt.js';

const NW = 210, NH = 50, CW = 128, CH = 36, GX = 70, GY = 18, PAD = 16;

export default {
  title: 'Lineage',
  async render(main, _args, ctx) {
    const body = h('div', { class: 'graph-wrap' }, loading(4));
    const sub = h('span', { class: 'sub' });
    clear(main, h('div', { class: 'page-head' }, h('h1', null, 'Lineage'), sub,
      h('div', { class: 'actions legend' }, h('span', null, h('i', { style: 'background:var(--surface-2)' }), 'source'),
        h('span', null, h('i', { style: 'border-color:var(--accent)' }), 'model'), h('span', null, h('i', { style: 'background:var(--ok-bg);border-color:var(--ok)' }), 'checks'))),
    h('section', { class: 'card' }, body));
    let g, results = [], tables = [];
    try {
      [g, results, tables] = await Promise.all([
        get('/api/lineage', { signal: ctx.signal }),
        get('/api/checks?limit=500', { signal: ctx.signal }).then((r) => r.results || []).catch(() => []),
        get('/api/tables', { signal: ctx.signal }).then((r) => r.tables || []).catch(() => []),
      ]);
    } catch (e) {
      if (!ctx.alive) return;
      clear(body, errorBox('Could not read the lineage', e.message));
      return;
    }
    const rows = new Map(tables.filter((t) => t.kind !== 'view').map((t) => [`${t.namespace}.${t.name}`, t.rows]));
    const nodes = (g.nodes || []).map((n) => ({ ...n, rows: rows.get(n.id) }));
    const edges = (g.edges || []).map((e) => ({ ...e }));
    const models = nodes.filter((n) => n.kind === 'model').length;
    if (!nodes.length) {
      clear(body, state('No models yet', 'Models are .sql files under models/ in the project; `sluice build` builds them.'));
      sub.textContent = '';
      return;
    }
    // The latest status of the checks on each table colours its checks node.
    const latest = new Map();
    for (const r of results) {
      const k = `${r.table}\u0000${r.check}\u0000${r.column ?? ''}`;
      if (!latest.has(k)) latest.set(k, r);
    }
    const statusOf = (table) => {
      const xs = [...latest.values()].filter((r) => r.table === table);
      if (!xs.length) return 'unknown';
      if (xs.some((r) => r.status === 'fail' || r.status === 'error')) return 'fail';
      if (xs.some((r) => r.status === 'warn')) return 'warn';
      return 'pass';
    };
    let nchecks = 0;
    for (const n of nodes.slice()) {
      if (!(n.checks > 0)) continue;
      nchecks += n.checks;
      const id = 'checks:' + n.id;
      nodes.push({ id, kind: 'check', of: n.id, checks: n.checks, status: statusOf(n.id) });
      edges.push({ from: n.id, to: id, check: true });
    }
    sub.textContent = `${plural(nodes.filter((n) => n.kind === 'source').length, 'source')} · ${plural(models, 'model')} · ${plural(nchecks, 'check')}`;
    clear(body, draw(nodes, edges));
  },
};

function layout(nodes, edges) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const e of edges) {
    if (!byId.has(e.from)) { const n = { id: e.from, kind: 'source' }; nodes.push(n); byId.set(e.from, n); }
  }
  const preds = new Map(nodes.map((n) => [n.id, []]));
  for (const e of edges) if (preds.has(e.to)) preds.get(e.to).push(e.from);
  // Depth = longest path from a node without inputs; a cycle cannot occur (the CLI refuses them) but is capped.
  const depth = new Map();
  const d = (id, seen = new Set()) => {
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id)) return 0;
    seen.add(id);
    const ps = preds.get(id) || [];
    const v = ps.length ? 1 + Math.max(...ps.map((p) => d(p, seen))) : 0;
    depth.set(id, v);
    return v;
  };
  nodes.forEach((n) => { n.depth = d(n.id); });
  const cols = [];
  for (const n of nodes) (cols[n.depth] ||= []).push(n);
  // Order each column by the mean position of its inputs (two sweeps), sources by name.
  cols[0].sort((a, b) => a.id.localeCompare(b.id));
  for (let sweep = 0; sweep < 2; sweep++) {
    cols.forEach((col, ci) => {
      col.forEach((n, i) => { n.pos = i; });
      if (ci === 0) return;
      for (const n of col) {
        const ps = (preds.get(n.id) || []).map((p) => byId.get(p)).filter(Boolean);
        n.bary = ps.length ? ps.reduce((a, p) => a + p.pos, 0) / ps.length : n.pos;
      }
      col.sort((a, b) => a.bary - b.bary || a.id.localeCompare(b.id));
      col.forEach((n, i) => { n.pos = i; });
    });
  }
  const colH = cols.map((col) => col.reduce((a, n) => a + (n.kind === 'check' ? CH : NH) + GY, -GY));
  const height = Math.max(...colH) + PAD * 2;
  let x = PAD;
  cols.forEach((col, ci) => {
    let y = PAD + (height - PAD * 2 - colH[ci]) / 2;
    const w = Math.max(...col.map((n) => (n.kind === 'check' ? CW : NW)));
    for (const n of col) {
      n.w = n.kind === 'check' ? CW : NW; n.h = n.kind === 'check' ? CH : NH;
      n.x = x; n.y = y; y += n.h + GY;
    }
    x += w + GX;
  });
  return { byId, width: x - GX + PAD, height };
}

function draw(nodes, edges) {
  const { byId, width, height } = layout(nodes, edges);
  const svg = s('svg', { class: 'graph', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Lineage graph' },
    s('defs', null, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' },
      s('path', { class: 'arrow', d: 'M0,0L10,5L0,10z' }))));
  const eg = s('g');
  for (const e of edges) {
    const a = byId.get(e.from), b = byId.get(e.to);
    if (!a || !b) continue;
    const x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x - 2, y2 = b.y + b.h / 2, mx = (x1 + x2) / 2;
    // A check that reads another table (relationships) runs after it is built: dotted.
    const reads = e.kind === 'check';
    eg.append(s('path', { class: 'edge' + (e.check ? ' check' : '') + (reads ? ' reads' : ''), d: `M${x1},${y1}C${mx},${y1} ${mx},${y2} ${x2},${y2}`, 'marker-end': 'url(#arrow)' },
      s('title', null, reads ? `${e.to}'s check ${e.check} reads ${e.from}` : `${e.from} → ${e.to}`)));
  }
  const ng = s('g');
  for (const n of nodes) {
    const g = s('g', { class: `node ${n.kind}${n.kind === 'check' ? ' ' + n.status : ''}`, transform: `translate(${n.x},${n.y})`, 'data-id': n.id });
    const [ns, ...rest] = String(n.of || n.id).split('.');
    const href = n.kind === 'check' ? '#/checks' : `#/lake/${enc(ns)}/${enc(rest.join('.'))}`;
    const a = s('a', { href, 'aria-label': n.kind === 'check' ? `${n.checks} checks on ${n.of}: ${n.status}` : `${n.kind} ${n.id}` });
    a.append(s('rect', { width: n.w, height: n.h, rx: n.kind === 'check' ? 18 : 8 }));
    if (n.kind === 'check') {
      a.append(s('text', { x: n.w / 2, y: n.h / 2 + 4, 'text-anchor': 'middle' }, `${n.status === 'fail' ? '✕' : n.status === 'warn' ? '!' : n.status === 'pass' ? '✓' : '?'} ${plural(n.checks, 'check')}`));
    } else {
      a.append(s('text', { x: 12, y: 21 }, clip(n.id, 28)), s('text', { class: 'sub', x: 12, y: 38 },
        (n.kind === 'source' ? 'source' : `model · ${n.materialized || 'table'}`) + (n.rows !== undefined ? ` · ${plural(n.rows, 'row')}` : '')));
    }
    a.append(s('title', null, n.kind === 'check' ? `${n.checks} checks on ${n.of} (latest: ${n.status})` : n.path ? `${n.id}\n${n.path}` : n.id));
    g.append(a);
    ng.append(g);
  }
  svg.append(eg, ng);
  return svg;
}
function clip(t, n) { return t.length > n ? t.slice(0, n - 1) + '…' : t; }
