// sql.js: the SQL console: an editor (Ctrl/Cmd+Enter runs), the result with column
// types, row count and time, errors in full, and a history kept in localStorage.
import { h, clear, state, errorBox, card } from '../dom.js';
import { post } from '../api.js';
import { num, duration, ago, plural } from '../fmt.js';
import { resultTable } from '../table.js';

const HKEY = 'sluice.sql.history', MAX_HISTORY = 100;
const loadHistory = () => { try { return JSON.parse(localStorage.getItem(HKEY)) || []; } catch { return []; } };
const saveHistory = (hs) => { try { localStorage.setItem(HKEY, JSON.stringify(hs.slice(0, MAX_HISTORY))); } catch { /* full or disabled */ } };

export default {
  title: 'SQL',
  async render(main, { query }, ctx) {
    const hist = loadHistory();
    const initial = query.get('q') || sessionStorage.getItem('sluice.sql.draft') || (hist[0] && hist[0].sql) || 'SELECT table_schema, table_name\nFROM information_schema.tables\nORDER BY 1, 2';
    const editor = h('textarea', { class: 'editor', id: 'sql-editor', spellcheck: 'false', autocomplete: 'off', 'aria-label': 'SQL', 'data-search': '' }, initial);
    editor.value = initial;
    const limit = h('select', { class: 'input', 'aria-label': 'Row limit', title: 'Row limit' }, [100, 1000, 10000].map((n) => h('option', { value: n, selected: n === 1000 }, num(n) + ' rows')));
    const asOf = h('input', { class: 'input', name: 'as_of', style: 'width:190px', placeholder: 'As of: latest', 'aria-label': 'As of snapshot id or time',
      title: 'Time travel: a snapshot id, or a time like 2026-01-31T12:00:00Z; empty for the latest data', value: query.get('as_of') || '' });
    const run = h('button', { class: 'btn primary', type: 'button', onclick: () => exec() }, '▶ Run');
    const status = h('span', { class: 'run-status', 'aria-live': 'polite' });
    const out = h('div', { class: 'sql-result' }, state('Run a query', 'Write SQL above and press Ctrl+Enter (⌘+Enter on a Mac). Tables are namespace.table, e.g. bronze.loans.'));
    const histList = h('ul', { class: 'history', 'aria-label': 'Query history' });
    const clearHist = h('button', { class: 'btn small ghost', type: 'button', onclick: () => { hist.length = 0; saveHistory(hist); drawHistory(); } }, 'Clear');
    editor.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') { e.preventDefault(); exec(); }
      else if (e.key === 'Tab' && !e.shiftKey && editor.value.slice(0, editor.selectionStart).split('\n').pop().trim() === '' && editor.selectionStart !== editor.value.length) {
        // Indent only at the start of a line that has more below it; elsewhere Tab moves focus.
        e.preventDefault();
        editor.setRangeText('  ', editor.selectionStart, editor.selectionEnd, 'end');
      } else if (e.key === 'Escape') editor.blur();
    });
    editor.addEventListener('input', () => sessionStorage.setItem('sluice.sql.draft', editor.value));
    clear(main,
      h('div', { class: 'page-head' }, h('h1', null, 'SQL'), h('span', { class: 'sub' }, 'DuckDB over every lake table as namespace.table')),
      h('div', { class: 'grid-side' },
        h('div', { class: 'stack' },
          h('section', { class: 'card' }, editor,
            h('div', { class: 'toolbar' }, run, limit, asOf, h('span', { class: 'muted small' }, h('kbd', null, 'Ctrl'), ' + ', h('kbd', null, 'Enter')), h('span', { class: 'right' }, status))),
          out),
        card('History', null, clearHist, histList)));
    drawHistory();
    if (query.get('q') && query.get('run') !== '0') exec();

    let seq = 0;
    async function exec(sqlText, at) {
      const sql = (sqlText ?? editor.value).trim();
      if (!sql) { editor.focus(); return; }
      if (sqlText !== undefined) { editor.value = sqlText; asOf.value = at || ''; }
      const as_of = asOf.value.trim() || null;
      const my = ++seq;
      run.disabled = true;
      clear(status, h('span', { class: 'spinner' }), ' Running…');
      out.setAttribute('aria-busy', 'true');
      const t0 = performance.now();
      let entry = { sql, at: Date.now(), as_of };
      try {
        const r = await post('/api/sql', { sql, limit: Number(limit.value), timeout_ms: 30000, as_of: as_of && /^\d+$/.test(as_of) ? Number(as_of) : as_of }, { signal: ctx.signal });
        if (my !== seq) return;
        const rows = r.rows || [], cols = r.columns || [];
        const ms = r.elapsed_ms ?? performance.now() - t0;
        entry = Object.assign(entry, { rows: rows.length, ms });
        clear(status, h('span', { class: 'result-count' }, plural(rows.length, 'row')), r.truncated ? ` (first ${num(rows.length)}; raise the limit for more)` : '',
          as_of ? h('span', { class: 'asof' }, 'as of ' + as_of) : null, ' · ', h('span', { class: 'elapsed' }, duration(ms)));
        clear(out, cols.length
          ? h('section', { class: 'card' }, rows.length ? resultTable(cols, rows, { tall: true, caption: 'Result' }) : state('No rows', 'The query ran and returned nothing.'))
          : h('section', { class: 'card' }, state('Done', 'The statement ran and returned no columns.')));
      } catch (e) {
        if (!ctx.alive || my !== seq) return;
        entry.error = e.message;
        clear(status, h('span', { style: 'color:var(--fail)' }, 'Failed'), ' · ', duration(performance.now() - t0));
        clear(out, errorBox(e.status === 400 ? 'The query failed' : 'The server could not run the query', e.message));
      } finally {
        if (my === seq) { run.disabled = false; out.removeAttribute('aria-busy'); }
        const i = hist.findIndex((x) => x.sql === sql && (x.as_of || null) === as_of);
        if (i >= 0) hist.splice(i, 1);
        hist.unshift(entry);
        saveHistory(hist);
        drawHistory();
      }
    }
    function drawHistory() {
      if (!hist.length) { clear(histList, h('li', null, h('div', { class: 'state small' }, 'Queries you run appear here.'))); return; }
      clear(histList, hist.slice(0, 50).map((x) => h('li', null,
        h('button', { class: 'q', type: 'button', title: x.sql + '\n\nClick to load, double-click to run', onclick: () => { editor.value = x.sql; asOf.value = x.as_of || ''; editor.focus(); }, ondblclick: () => exec(x.sql, x.as_of) },
          h('code', null, x.sql.replace(/\s+/g, ' ')),
          h('span', { class: 'when' + (x.error ? ' err' : '') }, ago(x.at), x.as_of ? ` · as of ${x.as_of}` : '', ' · ', x.error ? 'failed' : `${plural(x.rows ?? 0, 'row')} · ${duration(x.ms)}`)),
        h('button', { class: 'btn small ghost rerun', type: 'button', 'aria-label': 'Run again: ' + x.sql.slice(0, 60), title: 'Run again', onclick: () => exec(x.sql, x.as_of) }, '▶'))));
    }
  },
};
