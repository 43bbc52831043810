// fmt.js: human units: 1.2 MB, 45,000, "3 min ago", 1.4 s.
const nf = new Intl.NumberFormat('en-US');
export function num(n) {
  if (n === null || n === undefined || n === '') return '—';
  const v = Number(n);
  return Number.isFinite(v) ? nf.format(v) : String(n);
}
export function compact(n) {
  const v = Number(n);
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 1e9) return trim(v / 1e9) + 'G';
  if (a >= 1e6) return trim(v / 1e6) + 'M';
  if (a >= 1e4) return trim(v / 1e3) + 'k';
  if (a >= 100 || Number.isInteger(v)) return nf.format(Math.round(v));
  return trim(v);
}
function trim(v) { const a = Math.abs(v); return (a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2)).replace(/\.?0+$/, ''); }
export function bytes(n) {
  if (n === null || n === undefined) return '—';
  let v = Number(n);
  if (!Number.isFinite(v)) return '—';
  const u = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (Math.abs(v) >= 1000 && i < u.length - 1) { v /= 1000; i++; }
  return (i === 0 ? String(Math.round(v)) : v.toFixed(Math.abs(v) >= 100 ? 0 : 1)) + ' ' + u[i];
}
export function plural(n, one, many = one + 's') { return num(n) + ' ' + (Number(n) === 1 ? one : many); }
export function ago(ms, now = Date.now()) {
  if (!ms) return '—';
  const s = Math.round((now - Number(ms)) / 1000);
  if (s < 0) return 'just now';
  if (s < 45) return s <= 5 ? 'just now' : s + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400) return Math.round(s / 3600) + ' h ago';
  if (s < 86400 * 30) return Math.round(s / 86400) + ' d ago';
  return date(ms);
}
export function date(ms) {
  if (!ms) return '—';
  const d = new Date(Number(ms));
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
export function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  const v = Number(ms);
  if (v < 1) return v.toFixed(2) + ' ms';
  if (v < 1000) return (v < 10 ? v.toFixed(1) : Math.round(v)) + ' ms';
  if (v < 60000) return (v / 1000).toFixed(v < 10000 ? 2 : 1) + ' s';
  const m = Math.floor(v / 60000), s = Math.round((v % 60000) / 1000);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
export function seconds(s) { return s === null || s === undefined ? '—' : duration(Number(s) * 1000); }
const NUMERIC = /^(tinyint|smallint|integer|int|bigint|hugeint|utinyint|usmallint|uinteger|ubigint|uhugeint|float|double|real|decimal|numeric|int\d+|uint\d+|float\d+)/i;
export function isNumericType(t) { return NUMERIC.test(String(t || '').trim()); }
// One cell of query output as text.
export function cell(v) {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(+v.toPrecision(12));
  return String(v);
}
