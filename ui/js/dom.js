// dom.js: a tiny element builder and the shared view pieces (states, banners, badges).
export function h(tag, attrs, ...children) {
  const el = document.createElementNS(tag.startsWith('svg:') ? 'http://www.w3.org/2000/svg' : 'http://www.w3.org/1999/xhtml',
    tag.replace(/^svg:/, ''));
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.setAttribute('class', v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'value' && 'value' in el) el.value = v;
      else if (k === 'checked' || k === 'selected' || k === 'disabled') { el[k] = !!v; if (v) el.setAttribute(k, ''); }
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}
export const s = (tag, attrs, ...children) => h('svg:' + tag, attrs, ...children);

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const icons = {
  empty: 'M4 7h16v11a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2zM4 7l2-3h12l2 3M9 12h6',
  off: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM5.6 5.6l12.8 12.8',
  error: 'M12 3l10 18H2zM12 10v4M12 17.5v.5',
  search: 'M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14zM21 21l-5-5',
};
export function icon(name) {
  return s('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true' }, s('path', { d: icons[name] || icons.empty, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }));
}

// An empty or unavailable state: a title and a line of help.
export function state(title, text, kind = 'empty') {
  return h('div', { class: 'state', role: 'status' }, icon(kind), h('div', { class: 'title' }, title), text ? h('div', null, ticks(text)) : null);
}

// `code` in help texts becomes <code>.
export function ticks(text) {
  return String(text).split('`').map((part, i) => (i % 2 ? h('code', null, part) : part));
}

export function loading(lines = 4) {
  const d = h('div', { class: 'loading', 'aria-busy': 'true', 'aria-label': 'Loading' });
  for (let i = 0; i < lines; i++) d.append(h('span', { class: 'skeleton', style: `width:${90 - (i % 3) * 18}%` }));
  return d;
}

export function errorBox(title, message) {
  return h('div', { class: 'error-box', role: 'alert' }, h('div', { class: 'title' }, title), h('pre', null, message));
}

export function badge(text, cls) {
  return h('span', { class: 'badge ' + (cls || String(text).toLowerCase()) }, text);
}

// Banners at the top of the page; errors stay until closed, successes fade after a while.
export function banner(message, kind = 'error', ms = kind === 'error' ? 0 : 6000) {
  const area = document.getElementById('banners');
  for (const b of area.children) if (b.dataset.msg === message) return b;
  const close = h('button', { type: 'button', 'aria-label': 'Dismiss', onclick: () => b.remove() }, '×');
  const b = h('div', { class: 'banner ' + kind, role: kind === 'error' ? 'alert' : 'status', dataset: { msg: message } },
    h('span', { class: 'msg' }, message), close);
  area.append(b);
  if (ms) setTimeout(() => b.remove(), ms);
  return b;
}
export function clearBanners() { document.getElementById('banners').replaceChildren(); }

export function card(title, meta, right, ...body) {
  return h('section', { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', null, title), meta ? h('span', { class: 'meta' }, meta) : null,
      right ? h('div', { class: 'right' }, right) : null),
    ...body);
}

export function searchBox(placeholder, oninput, value = '') {
  return h('label', { class: 'search' }, h('span', { class: 'sr', hidden: true }, placeholder), icon('search'),
    h('input', { class: 'input', type: 'search', placeholder: placeholder + '  /', 'aria-label': placeholder, 'data-search': '', value, oninput: (e) => oninput(e.target.value) }));
}
