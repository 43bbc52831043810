// topics.js: topics with partitions and offsets, a message browser by partition and
// offset, and consumer groups with their lag (what Kafka Control Center shows).
import { h, clear, state, loading, errorBox, card, searchBox, badge } from '../dom.js';
import { get, qs, enc } from '../api.js';
import { num, bytes, date } from '../fmt.js';
import { dataTable } from '../table.js';

function unavailable(e) {
  return e.status === 404 || e.status === 501
    ? state('Topics are not available', 'This server has no topics log configured (the log: section of sluice.yaml), or it does not serve topics yet.', 'off')
    : errorBox('Could not read the topics', e.message);
}

export default {
  title: 'Topics',
  async render(main, { args, query }, ctx) {
    if (args.length) return topicPage(main, args.join('/'), query, ctx);
    let filter = '';
    const body = h('div', null, loading(5));
    const sub = h('span', { class: 'sub' });
    clear(main, h('div', { class: 'page-head' }, h('h1', null, 'Topics'), sub,
      h('div', { class: 'actions' }, searchBox('Filter topics', (v) => { filter = v.toLowerCase(); draw(); }))),
    h('section', { class: 'card' }, body));
    let topics = null, last = '';
    const load = async () => {
      try {
        const r = await get('/api/topics', { signal: ctx.signal });
        const key = JSON.stringify(r.topics || []);
        if (key === last) return; // unchanged: keep the table (and the focus in it)
        last = key;
        topics = r.topics || [];
        draw();
      }
      catch (e) { if (ctx.alive && !topics) clear(body, unavailable(e)); }
    };
    function draw() {
      sub.textContent = `${num(topics.length)} topics · ${num(topics.reduce((a, t) => a + (Number(t.messages) || 0), 0))} messages`;
      if (!topics.length) { clear(body, state('No topics yet', 'Topics appear when CDC or a producer writes to the log.')); return; }
      const shown = topics.filter((t) => !filter || t.name.toLowerCase().includes(filter));
      if (!shown.length) { clear(body, state('No topic matches', `Nothing matches “${filter}”.`, 'search')); return; }
      clear(body, dataTable([
        { label: 'Topic', render: (t) => h('a', { href: '#/topics/' + enc(t.name) }, t.name) },
        { label: 'Partitions', num: true, render: (t) => num(t.partitions) },
        { label: 'Messages', num: true, render: (t) => num(t.messages) },
        { label: 'Size', num: true, render: (t) => bytes(t.bytes) },
      ], shown, { tall: true, caption: 'Topics', onRow: (t) => { location.hash = '#/topics/' + enc(t.name); } }));
    }
    await load();
    ctx.every(5000, load);
  },
};

async function topicPage(main, name, query, ctx) {
  const parts = h('div', null, loading(3));
  const groups = h('div', null, loading(3));
  const msgs = h('div', null);
  const partSel = h('select', { class: 'input', 'aria-label': 'Partition' });
  const offIn = h('input', { class: 'input', type: 'number', min: '0', 'aria-label': 'Offset', style: 'width:130px', value: query.get('offset') || '' });
  const limSel = h('select', { class: 'input', 'aria-label': 'Messages per page' }, [20, 50, 200].map((n) => h('option', { value: n, selected: n === 50 }, n + ' per page')));
  const fetchBtn = h('button', { class: 'btn primary', type: 'submit' }, 'Fetch');
  const form = h('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); loadMsgs(); } },
    h('label', { class: 'field' }, h('span', null, 'Partition'), partSel), h('label', { class: 'field' }, h('span', null, 'From offset'), offIn),
    h('label', { class: 'field' }, h('span', null, 'Show'), limSel), h('div', { class: 'field' }, h('span', null, '\u00a0'), fetchBtn),
    h('div', { class: 'field' }, h('span', null, '\u00a0'), h('button', { class: 'btn', type: 'button', onclick: () => { offIn.value = ''; loadMsgs(true); } }, 'Latest')));
  clear(main,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/topics' }, 'Topics'), '/', h('span', null, name)),
    h('div', { class: 'page-head' }, h('h1', null, name)),
    h('div', { class: 'stack' },
      h('div', { class: 'grid-2' }, card('Partitions', null, null, h('div', { class: 'topic-partitions' }, parts)), card('Consumer groups', null, null, h('div', { class: 'topic-groups' }, groups))),
      h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', null, 'Messages')), form, h('div', { class: 'topic-messages' }, msgs))));
  let info;
  try { info = await get('/api/topics/' + enc(name), { signal: ctx.signal }); }
  catch (e) { if (ctx.alive) { clear(parts, unavailable(e)); clear(groups); } return; }
  const ps = info.partitions || [];
  clear(partSel, ps.map((p) => h('option', { value: p.partition }, 'Partition ' + p.partition)));
  if (query.get('partition')) partSel.value = query.get('partition');
  clear(parts, ps.length ? dataTable([
    { label: 'Partition', num: true, key: 'partition' },
    { label: 'Start offset', num: true, render: (p) => num(p.start_offset) },
    { label: 'End offset', num: true, render: (p) => num(p.end_offset) },
    { label: 'Messages', num: true, render: (p) => num(p.end_offset - p.start_offset) },
    { label: 'Size', num: true, render: (p) => bytes(p.bytes) },
  ], ps, { caption: 'Partitions', onRow: (p) => { partSel.value = p.partition; offIn.value = p.start_offset; loadMsgs(); } }) : state('No partitions'));
  const gs = info.groups || [];
  clear(groups, gs.length ? dataTable([
    { label: 'Group', key: 'group' },
    { label: 'Lag', num: true, render: (g) => h('span', null, num(g.lag), ' ', Number(g.lag) > 0 ? badge('behind', 'warn') : badge('caught up', 'ok')) },
    { label: 'Committed (lag) per partition', cls: 'wrap', render: (g) => (g.committed || []).map((c, i) => {
      const part = typeof c === 'object' && c !== null ? c.partition ?? i : i, off = typeof c === 'object' && c !== null ? c.offset : c;
      const p = ps.find((x) => x.partition === part);
      return `p${part}: ${off === null || off < 0 ? 'none' : num(off)}${p && off !== null && off >= 0 ? ` (${num(Math.max(0, p.end_offset - off))})` : ''}`;
    }).join(', ') || '—' },
  ], gs, { caption: 'Consumer groups' }) : state('No consumer groups', 'No group has committed an offset on this topic.'));
  if (ps.length) loadMsgs(!query.get('offset'));
  else clear(msgs, state('No messages'));

  async function loadMsgs(latest) {
    const p = ps.find((x) => String(x.partition) === partSel.value) || ps[0];
    const limit = Number(limSel.value);
    let off = offIn.value === '' || latest ? Math.max(p.start_offset, p.end_offset - limit) : Number(offIn.value);
    offIn.value = off;
    history.replaceState(null, '', `#/topics/${enc(name)}?partition=${p.partition}&offset=${off}`);
    clear(msgs, loading(5));
    try {
      const r = await get(`/api/topics/${enc(name)}/messages` + qs({ partition: p.partition, offset: off, limit }), { signal: ctx.signal });
      const ms = r.messages || [];
      const prev = h('button', { class: 'btn small', type: 'button', disabled: off <= p.start_offset, onclick: () => { offIn.value = Math.max(p.start_offset, off - limit); loadMsgs(); } }, '← Older');
      const next = h('button', { class: 'btn small', type: 'button', disabled: off + ms.length >= p.end_offset, onclick: () => { offIn.value = off + ms.length; loadMsgs(); } }, 'Newer →');
      clear(msgs, ms.length ? dataTable([
        { label: 'Offset', num: true, render: (m) => num(m.offset) },
        { label: 'Time', render: (m) => date(m.ts_ms) },
        { label: 'Key', render: (m) => payload(m.key, m.encoding), cls: 'code' },
        { label: 'Value', render: (m) => payload(m.value, m.encoding), cls: 'wrap' },
      ], ms, { tall: true, caption: 'Messages' }) : state('No messages here', `Partition ${p.partition} has offsets ${num(p.start_offset)} to ${num(p.end_offset)}.`),
      h('div', { class: 'pager' }, `Offsets ${num(off)}–${num(off + Math.max(ms.length - 1, 0))} of ${num(p.start_offset)}–${num(Math.max(p.end_offset - 1, 0))}`, h('span', { class: 'right' }, prev, next)));
    } catch (e) { if (ctx.alive) clear(msgs, errorBox('Could not read the messages', e.message)); }
  }
}

// A key or value: JSON is shown folded with a one-line summary, base64 marked as such.
function payload(v, encoding) {
  if (v === null || v === undefined) return h('span', { class: 'muted' }, 'null');
  if (encoding === 'base64') return h('span', { class: 'msg-value' }, badge('base64'), ' ', String(v).slice(0, 120));
  const text = String(v);
  if (/^\s*[{[]/.test(text)) {
    try {
      const pretty = JSON.stringify(JSON.parse(text), null, 2);
      return h('details', { class: 'json' }, h('summary', { class: 'msg-value' }, text.length > 140 ? text.slice(0, 140) + '…' : text), h('pre', null, pretty));
    } catch { /* not JSON: plain text */ }
  }
  return h('span', { class: 'msg-value' }, text.length > 300 ? text.slice(0, 300) + '…' : text);
}
