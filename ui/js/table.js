// table.js: data tables with sticky headers, typed columns (numbers right-aligned) and
// optional row selection. Rows are built into a fragment and inserted once.
import { h } from './dom.js';
import { cell, isNumericType } from './fmt.js';

// cols: [{label, key|get, num, type, render(row) -> Node|string, cls}]
export function dataTable(cols, rows, opts = {}) {
  const thead = h('thead', null, h('tr', null, cols.map((c) =>
    h('th', { class: c.num ? 'num' : null, scope: 'col', title: c.title || null }, c.label, c.type ? h('span', { class: 'type' }, c.type) : null))));
  const tbody = h('tbody');
  // Long results are drawn a chunk at a time; "Show more" appends the next chunk.
  const chunk = opts.chunk || rows.length || 1;
  let drawn = 0;
  const more = h('button', { class: 'btn small', type: 'button', onclick: () => { drawRows(); } });
  const moreBar = h('div', { class: 'pager' }, more);
  function drawRows() {
    const frag = document.createDocumentFragment();
    const end = Math.min(rows.length, drawn + chunk);
    for (let i = drawn; i < end; i++) frag.append(row(rows[i], i));
    drawn = end;
    tbody.append(frag);
    moreBar.hidden = drawn >= rows.length;
    more.textContent = `Show ${Math.min(chunk, rows.length - drawn).toLocaleString('en-US')} more of ${(rows.length - drawn).toLocaleString('en-US')} not shown`;
  }
  function row(r, i) {
    const tr = h('tr', opts.onRow ? { class: 'clickable', tabindex: '0' } : null);
    for (const c of cols) {
      const v = c.render ? c.render(r, i) : c.get ? c.get(r, i) : r[c.key];
      const td = h('td', { class: [c.num ? 'num' : '', c.cls || ''].join(' ').trim() || null });
      if (v instanceof Node) td.append(v);
      else td.textContent = v === null || v === undefined ? '—' : String(v);
      if (c.titleText) td.title = td.textContent;
      tr.append(td);
    }
    if (opts.onRow) {
      tr.addEventListener('click', () => opts.onRow(r, tr));
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); opts.onRow(r, tr); } });
    }
    if (opts.rowAttrs) for (const [k, v] of Object.entries(opts.rowAttrs(r) || {})) if (v !== null && v !== undefined) tr.setAttribute(k, v);
    return tr;
  }
  drawRows();
  const table = h('table', { class: 'data' }, opts.caption ? h('caption', { class: 'sr', hidden: true }, opts.caption) : null, thead, tbody);
  const wrap = h('div', { class: 'table-wrap' + (opts.tall ? ' tall' : ''), tabindex: '0', role: 'region', 'aria-label': opts.caption || 'table' }, table);
  if (drawn >= rows.length) return wrap;
  return h('div', null, wrap, moreBar);
}

// Query output: columns [{name, type}], rows [[...]].
export function resultTable(columns, rows, opts = {}) {
  const cols = columns.map((c, i) => {
    const num = isNumericType(c.type);
    return {
      label: c.name, type: c.type, num, titleText: true,
      render: (r) => {
        const v = r[i];
        if (v === null || v === undefined) return nullCell();
        return cell(v);
      },
    };
  });
  return dataTable(cols, rows, Object.assign({ chunk: 500 }, opts));
}
function nullCell() { const sp = document.createElement('span'); sp.className = 'null'; sp.textContent = 'NULL'; return sp; }
