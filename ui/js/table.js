// table.js: data tables with sticky headers, typed columns (numbers right-aligned) and
// optional row selection. Rows are built into a fragment and inserted once.
import { h } from './dom.js';
import { cell, isNumericType } from './fmt.js';

// cols: [{label, key|get, num, type, render(row) -> Node|string, cls}]
export function dataTable(cols, rows, opts = {}) {
  const thead = h('thead', null, h('tr', null, cols.map((c) =>
    h('th', { class: c.num ? 'num' : null, scope: 'col', title: c.title || null }, c.label, c.type ? h('span', { class: 'type' }, c.type) : null))));
  const tbody = h('tbody');
  const frag = document.createDocumentFragment();
  rows.forEach((r, i) => {
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
    frag.append(tr);
  });
  tbody.append(frag);
  const table = h('table', { class: 'data' }, opts.caption ? h('caption', { class: 'sr', hidden: true }, opts.caption) : null, thead, tbody);
  return h('div', { class: 'table-wrap' + (opts.tall ? ' tall' : ''), tabindex: '0', role: 'region', 'aria-label': opts.caption || 'table' }, table);
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
  const wrap = dataTable(cols, rows, opts);
  // Mark NULL cells for styling without a second pass over the DOM per cell.
  for (const td of wrap.querySelectorAll('td')) if (td.firstChild && td.firstChild.nodeType === 1 && td.firstChild.dataset.null) td.classList.add('null');
  return wrap;
}
function nullCell() { const sp = document.createElement('span'); sp.dataset.null = '1'; sp.textContent = 'NULL'; return sp; }
