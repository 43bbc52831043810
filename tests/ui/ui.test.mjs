// ui.test.mjs: drives the web UI in Chromium (playwright-core) against a running
// `sluice serve`. Prints "ok   NAME" / "FAIL NAME: why" lines (read by test_ui.sh) and
// saves a PNG of each page to $SL_OUT. Inputs come from the environment: SL_URL,
// SL_OUT, SL_EXPECT (what the CLI says), SL_UPLOAD_CSV, SL_UPLOAD_JSONL,
// SL_NODE_MODULES, SL_PROFILE (a fresh Chromium profile folder).
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';

const env = (k) => { const v = process.env[k]; if (!v) { console.log(`FAIL environment: ${k} is not set`); process.exit(1); } return v; };
const URL_ = env('SL_URL'), OUT = env('SL_OUT'), EXPECT = JSON.parse(env('SL_EXPECT'));
const require = createRequire(env('SL_NODE_MODULES') + '/');
const { chromium } = require('playwright-core');

let failed = 0;
const ok = (name) => console.log('ok   ' + name);
const fail = (name, why) => { failed++; console.log('FAIL ' + name + ': ' + String(why).replace(/\s+/g, ' ').slice(0, 600)); };
const eq = (name, got, want) => (JSON.stringify(got) === JSON.stringify(want) ? ok(name) : fail(name, `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`));
const has = (name, text, needle) => (String(text).includes(needle) ? ok(name) : fail(name, `'${needle}' not in: ${String(text).slice(0, 300)}`));
const fmt = (n) => new Intl.NumberFormat('en-US').format(n);
const fmtPlain = (n) => String(n);
async function step(name, fn) {
  try { await fn(); } catch (e) { fail(name, e.message.split('\n')[0]); }
}

mkdirSync(OUT, { recursive: true });
// A fresh profile folder per run (launchPersistentContext passes it as --user-data-dir).
const context = await chromium.launchPersistentContext(env('SL_PROFILE'), {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1440, height: 900 }, colorScheme: 'light',
});
const page = await context.newPage();
page.setDefaultTimeout(60000); // generous: the machine may be busy with other builds

// Console errors and uncaught exceptions fail the run; failed loads are judged by status:
// the bad query's 400 is expected, and so is a 404 from an API this server lacks (topics).
const problems = [];
page.on('pageerror', (e) => problems.push('uncaught: ' + e.message));
page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) problems.push('console: ' + m.text()); });
page.on('response', (r) => {
  const u = new URL(r.url()), s = r.status();
  if (s >= 500) problems.push(`${s} from ${u.pathname}`);
  else if (s === 404 && !/^\/api\/(topics|cdc|metrics\/series|checks|builds)/.test(u.pathname)) problems.push(`404 from ${u.pathname}`);
  else if (s === 400 && u.pathname !== '/api/sql') problems.push(`400 from ${u.pathname}`);
});
const shot = (name) => page.screenshot({ path: `${OUT}/${name}.png` });
const go = async (hash) => { await page.goto(URL_ + '/' + hash); };
const text = (sel) => page.locator(sel).first().innerText();

// --- Lake: the table list ---
await step('lake: list', async () => {
  await go('#/lake');
  await page.waitForSelector('#tables-card table');
  const rows = await page.$$eval('#tables-card tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.innerText)));
  for (const [t, n] of Object.entries(EXPECT.rows)) {
    const r = rows.find((x) => x[0] === t);
    if (!r) { fail(`lake: ${t} is listed`, `not in ${rows.map((x) => x[0]).join(', ')}`); continue; }
    eq(`lake: ${t} shows ${fmt(n)} rows`, r[2], fmt(n));
  }
  const view = rows.find((x) => x[0] === 'gold.loan_default_rates');
  if (view) eq('lake: the view is marked as a view', view[1], 'view'); else fail('lake: the view is listed', 'gold.loan_default_rates missing');
  has('lake: header shows the project', await text('#project-name'), 'loans');
  await page.waitForSelector('#health.ok');
  ok('lake: health is ok');
  await shot('lake');
});

await step('lake: keyboard', async () => {
  await page.keyboard.press('/');
  eq('keys: / focuses the filter', await page.evaluate(() => document.activeElement.hasAttribute('data-search')), true);
  await page.keyboard.type('silver');
  await page.waitForFunction(() => document.querySelectorAll('#tables-card tbody tr').length === 1);
  ok('lake: the filter narrows the list');
  await page.keyboard.press('Escape');
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('g'); await page.keyboard.press('s');
  await page.waitForFunction(() => location.hash === '#/sql');
  ok('keys: g s opens the SQL console');
  await page.keyboard.press('Escape');
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('g'); await page.keyboard.press('l');
  await page.waitForFunction(() => location.hash.startsWith('#/lake'));
  ok('keys: g l opens the lake');
});

// --- A table: stats, schema, snapshots, paging, time travel ---
const snaps = EXPECT.snapshots; // [[id, rows]] oldest first
await step('table: page', async () => {
  await go('#/lake/bronze/loan');
  await page.waitForSelector('.preview-range');
  const stats = await page.$$eval('.stat', (els) => Object.fromEntries(els.map((e) => [e.querySelector('.label').innerText.toLowerCase(), e.querySelector('.value').innerText])));
  eq('table: rows stat', stats.rows, fmt(EXPECT.rows['bronze.loan']));
  eq('table: snapshot stat', stats.snapshot, String(snaps.at(-1)[0]));
  has('table: preview range', await text('.preview-range'), `Rows 1–50 of ${fmt(EXPECT.rows['bronze.loan'])}`);
  const heads = await page.$$eval('.table-data thead th', (ths) => ths.map((t) => t.firstChild.textContent));
  eq('table: preview has the schema columns', heads.slice(0, EXPECT.columns.length), EXPECT.columns);
  const ids = await page.$$eval('tr[data-snapshot]', (trs) => trs.map((t) => Number(t.dataset.snapshot)));
  eq('table: snapshots listed newest first', ids, snaps.map((s) => s[0]).reverse());
  const numAlign = await page.$eval('.table-data tbody td:nth-child(1)', (td) => getComputedStyle(td).textAlign);
  eq('table: numbers are right-aligned', numAlign, 'right');
  await shot('table');
  await page.getByRole('button', { name: 'Next →' }).click();
  await page.waitForFunction(() => document.querySelector('.preview-range').innerText.startsWith('Rows 51–100'));
  ok('table: Next shows the second page');
  await page.getByRole('tab', { name: 'Schema' }).click();
  const cols = await page.$$eval('.table-data tbody tr td:nth-child(2)', (tds) => tds.map((t) => t.innerText));
  eq('table: schema tab lists the columns', cols, EXPECT.columns);
  await shot('schema');
  await page.getByRole('tab', { name: 'Preview' }).click();
  await page.waitForSelector('.preview-range');
});

await step('table: time travel', async () => {
  const firstId = snaps[0][0];
  const before = await page.$$eval('.table-data tbody tr', (trs) => trs.length);
  await page.click(`tr[data-snapshot="${firstId}"]`);
  await page.waitForFunction((n) => document.querySelector('.preview-range')?.innerText.endsWith('of ' + n), fmt(snaps[0][1]));
  ok(`time travel: snapshot ${firstId} shows ${fmt(snaps[0][1])} rows`);
  has('time travel: the as-of marker names the snapshot', await text('.asof'), `As of snapshot ${firstId}`);
  const st = await page.$$eval('.stat', (els) => Object.fromEntries(els.map((e) => [e.querySelector('.label').innerText.toLowerCase(), e.querySelector('.value').innerText])));
  eq('time travel: the stats are those of the snapshot', [st.rows, st.snapshot], [fmt(snaps[0][1]), String(firstId)]);
  has('time travel: the URL keeps the snapshot', await page.evaluate(() => location.hash), `as_of=${firstId}`);
  eq('time travel: the picked snapshot is selected', await page.$eval(`tr[data-snapshot="${firstId}"]`, (t) => t.classList.contains('selected')), true);
  if (before < 1) fail('time travel: preview had rows before', before);
  await shot('timetravel');
  await page.click('.asof button');
  await page.waitForFunction((n) => document.querySelector('.preview-range')?.innerText.endsWith('of ' + n), fmt(EXPECT.rows['bronze.loan']));
  ok('time travel: back to the current snapshot');
});

await step('table: an expired snapshot', async () => {
  const id = EXPECT.expired[0];
  if (!id) return fail('expired: silver.loan has an expired snapshot', EXPECT.expired);
  await go('#/lake/silver/loan');
  await page.waitForSelector(`tr[data-snapshot="${id}"]`);
  has('expired: its row says so', await page.$eval(`tr[data-snapshot="${id}"]`, (t) => t.innerText), 'expired');
  eq('expired: it is shown muted, not as a link', await page.$eval(`tr[data-snapshot="${id}"]`, (t) => [t.classList.contains('muted'), t.classList.contains('clickable')]), [true, false]);
  await page.click(`tr[data-snapshot="${id}"]`);
  await page.waitForTimeout(300);
  eq('expired: clicking it travels nowhere', [await page.$('.asof'), (await page.evaluate(() => location.hash)).includes('as_of')], [null, false]);
});

// --- SQL console ---
await step('sql: run', async () => {
  await go('#/sql');
  const editor = page.locator('#sql-editor');
  await editor.fill('SELECT loan_intent, count(*) AS n\nFROM bronze.loan\nGROUP BY 1\nORDER BY 1');
  await editor.press('Control+Enter');
  await page.waitForSelector('.result-count');
  const want = EXPECT.intents;
  has('sql: row count shown', await text('.result-count'), `${want.length} rows`);
  const rows = await page.$$eval('.sql-result tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.innerText)));
  eq('sql: rows equal `sluice sql`', rows, want.map((r) => [r.loan_intent, String(r.n)]));
  const types = await page.$$eval('.sql-result thead th .type', (els) => els.map((e) => e.innerText.toLowerCase()));
  eq('sql: column types shown', types, ['varchar', 'bigint']);
  if (!/\d/.test(await text('.elapsed'))) fail('sql: elapsed time shown', await text('.elapsed')); else ok('sql: elapsed time shown');
  await shot('sql');
});

await step('sql: long results', async () => {
  const editor = page.locator('#sql-editor');
  await editor.fill('SELECT id, NULL::INTEGER AS nothing FROM bronze.loan ORDER BY id LIMIT 1200');
  await editor.press('Control+Enter');
  await page.waitForFunction(() => document.querySelector('.result-count')?.innerText === '1,000 rows');
  has('sql: the row limit cuts the result and says so', await text('.run-status'), 'first 1,000; raise the limit');
  await page.selectOption('select[aria-label="Row limit"]', '10000');
  await editor.press('Control+Enter');
  await page.waitForFunction(() => document.querySelector('.result-count')?.innerText === '1,200 rows');
  eq('sql: long results are drawn in chunks', await page.$$eval('.sql-result tbody tr', (t) => t.length), 500);
  has('sql: ... with a button for the rest', await text('.sql-result .pager'), 'Show 500 more of 700 not shown');
  await page.click('.sql-result .pager button');
  eq('sql: the button draws the next chunk', await page.$$eval('.sql-result tbody tr', (t) => t.length), 1000);
  eq('sql: NULL is shown as NULL', await page.$eval('.sql-result tbody tr td:nth-child(2)', (td) => td.innerText), 'NULL');
  eq('sql: the last row drawn is id 1000', await page.$eval('.sql-result tbody tr:last-child td', (td) => td.innerText), '1000');
});

await step('sql: error', async () => {
  const editor = page.locator('#sql-editor');
  await editor.fill('SELECT no_such_column FROM bronze.loan');
  await page.getByRole('button', { name: '▶ Run' }).click();
  await page.waitForSelector('.sql-result .error-box');
  const msg = await text('.sql-result .error-box');
  has('sql: the error names the column', msg, 'no_such_column');
  has('sql: the error box says it failed', msg, 'The query failed');
  await shot('sql-error');
});

await step('sql: history', async () => {
  await page.reload();
  await page.waitForSelector('.history button.q');
  const items = await page.$$eval('.history code', (els) => els.map((e) => e.innerText));
  eq('sql: history keeps the queries, newest first', items.slice(0, 3), ['SELECT no_such_column FROM bronze.loan',
    'SELECT id, NULL::INTEGER AS nothing FROM bronze.loan ORDER BY id LIMIT 1200', 'SELECT loan_intent, count(*) AS n FROM bronze.loan GROUP BY 1 ORDER BY 1']);
  await page.locator('.history button.rerun').nth(2).click();
  await page.waitForSelector('.result-count');
  has('sql: a history entry runs again', await text('.result-count'), `${EXPECT.intents.length} rows`);
});

await step('sql: time travel', async () => {
  await page.locator('#sql-editor').fill('SELECT count(*) AS n FROM bronze.loan');
  await page.fill('input[name=as_of]', String(snaps[0][0]));
  await page.locator('#sql-editor').press('Control+Enter');
  await page.waitForSelector('.run-status .asof');
  eq('sql: as of the first snapshot the count is that of the snapshot', await page.$eval('.sql-result tbody td', (td) => td.innerText), fmtPlain(snaps[0][1]));
  await page.fill('input[name=as_of]', '');
  await page.locator('#sql-editor').press('Control+Enter');
  await page.waitForFunction((n) => !document.querySelector('.run-status .asof') && document.querySelector('.sql-result tbody td')?.innerText === n, fmtPlain(EXPECT.rows['bronze.loan']));
  ok('sql: without as-of the count is the current one');
});

// --- Upload ---
async function upload(file, table, mode) {
  await go('#/lake?upload=1');
  await page.setInputFiles('input[type=file]', file);
  await page.fill('input[name=table]', table);
  await page.selectOption('select[name=mode]', mode);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.waitForSelector('.upload-result .new-snapshot, .upload-result .error-box');
  const err = await page.$('.upload-result .error-box');
  if (err) throw new Error('upload failed: ' + (await err.innerText()));
  return Number(await text('.upload-result .new-snapshot'));
}
await step('upload: csv', async () => {
  const id = await upload(process.env.SL_UPLOAD_CSV, 'loan', 'append');
  has('upload: the result names the rows', await text('.upload-result'), 'Loaded 500 rows into bronze.loan');
  const r = await (await page.request.get(URL_ + '/api/tables/bronze/loan/snapshots')).json();
  eq('upload: the API lists the new snapshot first', r.snapshots[0].id, id);
  if (snaps.some((s) => s[0] === id)) fail('upload: the snapshot is new', id); else ok('upload: the snapshot is new');
  await page.waitForFunction(() => [...document.querySelectorAll('#tables-card tbody tr')].some((tr) => tr.cells[0].innerText === 'bronze.loan' && tr.cells[2].innerText === '4,500'));
  ok('upload: the table list shows the new row count');
  await shot('upload');
  await page.click('.upload-result a');
  await page.waitForSelector(`tr[data-snapshot="${id}"].selected`);
  ok('upload: the table page shows the new snapshot as current');
});
await step('upload: jsonl into a new table', async () => {
  const id = await upload(process.env.SL_UPLOAD_JSONL, 'trips', 'replace');
  const r = await (await page.request.get(URL_ + '/api/tables/bronze/trips')).json();
  eq('upload: bronze.trips exists at the new snapshot', [r.snapshot_id, r.rows], [id, 250]);
});

// --- The other pages ---
await step('topics', async () => {
  await go('#/topics');
  await page.waitForSelector('main .state, main table.data');
  const r = await page.request.get(URL_ + '/api/topics');
  if (r.status() === 404) {
    has('topics: no topics API here, a clean unavailable state', await text('main .state'), 'Topics are not available');
    await shot('topics');
    return;
  }
  const t = EXPECT.topic;
  const rows = await page.$$eval('main tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.innerText)));
  eq('topics: the topic is listed with partitions and messages', rows.find((x) => x[0] === t.topic)?.slice(0, 3),
    [t.topic, String(t.partitions), fmt(t.partition_offsets.reduce((a, p) => a + p.end_offset - p.start_offset, 0))]);
  await shot('topics');
  await page.click(`a[href="#/topics/${t.topic}"]`);
  await page.waitForSelector('.topic-partitions tbody tr');
  const parts = await page.$$eval('.topic-partitions tbody tr', (trs) => trs.map((tr) => [...tr.cells].slice(0, 3).map((c) => c.innerText)));
  eq('topics: partitions with start and end offsets', parts, t.partition_offsets.map((p) => [String(p.partition), fmt(p.start_offset), fmt(p.end_offset)]));
  const groups = await page.$$eval('.topic-groups tbody tr', (trs) => trs.map((tr) => [tr.cells[0].innerText, tr.cells[1].innerText.split(' ')[0]]));
  eq('topics: consumer groups with their lag', groups, t.groups.map((g) => [g.group, fmt(g.lag)]));
  await page.selectOption('select[aria-label="Partition"]', '0');
  await page.fill('input[aria-label="Offset"]', '0');
  await page.click('form.toolbar button[type=submit]');
  await page.waitForFunction(() => location.hash.includes('partition=0&offset=0'));
  await page.waitForSelector('.topic-messages tbody tr');
  const msgs = await page.$$eval('.topic-messages tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.innerText)));
  const p0 = t.partition_offsets.find((p) => p.partition === 0);
  eq('topics: partition 0 shows all its messages', msgs.length, p0.end_offset - p0.start_offset);
  const m = EXPECT.first_message;
  eq('topics: the first message is offset 0 with its key', msgs[0].slice(0, 1).concat(msgs[0][2]), ['0', m.key]);
  has('topics: ... and its value', msgs[0][3], m.value);
  await shot('topic');
});
await step('cdc', async () => {
  await go('#/cdc');
  await page.waitForSelector('main .state, main table.data');
  if (await page.$('main .error-box')) fail('cdc: no error', await text('main .error-box'));
  else has('cdc: no sources in this project', await text('main'), 'No sources');
  await shot('cdc');
});
await step('checks', async () => {
  await go('#/checks');
  await page.waitForSelector('.check-group, main .state');
  const api = await (await page.request.get(URL_ + '/api/checks?limit=500')).json();
  const latest = new Map();
  for (const x of api.results) { const k = `${x.table}|${x.check}|${x.column ?? ''}`; if (!latest.has(k)) latest.set(k, x); }
  const tables = [...new Set([...latest.values()].map((x) => x.table))].sort();
  const shown = (await page.$$eval('.check-group', (gs) => gs.map((g) => g.dataset.table))).sort();
  eq('checks: one group per checked table', shown, tables);
  if (!tables.includes('silver.loan')) fail('checks: silver.loan was checked by the build', tables.join(','));
  else {
    const n = [...latest.values()].filter((x) => x.table === 'silver.loan').length;
    eq('checks: silver.loan lists its latest checks', await page.$$eval('.check-group[data-table="silver.loan"] tbody tr', (t) => t.length), n);
    for (const st of ['pass', 'warn']) {
      const want = [...latest.values()].filter((x) => x.table === 'silver.loan' && x.status === st).length;
      eq(`checks: ${st} badges on silver.loan`, await page.$$eval(`.check-group[data-table="silver.loan"] tbody .badge.${st}`, (t) => t.length), want);
      if (st === 'warn' && want !== 1) fail('checks: the build left one warning', want);
    }
    const warnRow = await page.$$eval('.check-group[data-table="silver.loan"] tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.innerText)).find((r) => r[0] === 'warn'));
    has('checks: the warning names its check', warnRow && warnRow[1], 'mean_between(person_income)');
  }
  await shot('checks');
});
await step('builds', async () => {
  await go('#/builds');
  await page.waitForSelector('main table.data');
  const models = await page.$$eval('section.run-detail tbody tr', (trs) => trs.map((tr) => [tr.cells[0].innerText, tr.cells[3].innerText]));
  const silver = models.find((m) => m[0] === 'silver.loan');
  if (!silver) fail('builds: the run lists silver.loan', JSON.stringify(models));
  else eq('builds: silver.loan rows equal the table', silver[1], fmt(EXPECT.rows['silver.loan']));
  await shot('builds');
});
await step('lineage', async () => {
  await go('#/lineage');
  await page.waitForSelector('svg.graph');
  const ids = await page.$$eval('svg.graph g.node', (gs) => gs.map((g) => g.dataset.id));
  for (const id of ['bronze.loan', 'silver.loan', 'gold.loan_features', 'gold.loan_default_rates', 'checks:silver.loan'])
    if (ids.includes(id)) ok(`lineage: ${id} drawn`); else fail(`lineage: ${id} drawn`, ids.join(', '));
  const x = async (id) => page.$eval(`g.node[data-id="${id}"]`, (g) => g.getBoundingClientRect().x);
  if ((await x('bronze.loan')) < (await x('silver.loan')) && (await x('silver.loan')) < (await x('gold.loan_features'))) ok('lineage: drawn left to right');
  else fail('lineage: drawn left to right', 'bronze, silver, gold are not in order');
  eq('lineage: one edge per dependency plus checks', await page.$$eval('svg.graph path.edge', (p) => p.length),
    (await (await page.request.get(URL_ + '/api/lineage')).json()).edges.length + ids.filter((i) => i.startsWith('checks:')).length);
  await shot('lineage');
});
await step('metrics', async () => {
  await go('#/metrics');
  await page.waitForSelector('.chart-card, main .state');
  const r = await page.request.get(URL_ + '/api/metrics/series');
  if (r.ok()) {
    const series = Object.entries((await r.json()).series || {}).filter(([, v]) => v.some((p) => p[1] !== null));
    if (series.length) {
      await page.waitForSelector('.chart-card svg path.line');
      const drawn = await page.$$eval('.chart-card', (cs) => cs.flatMap((c) => c.dataset.series.split(' ')));
      for (const [n] of series) if (drawn.includes(n)) ok(`metrics: ${n} charted`); else fail(`metrics: ${n} charted`, drawn.join(', '));
    } else ok('metrics: no samples yet, empty state shown');
  } else ok('metrics: endpoint missing, unavailable state shown');
  await shot('metrics');
});

// --- Dark mode and a narrow screen look right too ---
await step('dark', async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await go('#/lake');
  await page.waitForSelector('#tables-card table');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  if (bg === 'rgb(15, 19, 24)') ok('dark: the dark palette applies'); else fail('dark: the dark palette applies', bg);
  await shot('lake-dark');
  await page.emulateMedia({ colorScheme: 'light' });
});

await step('narrow', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await go('#/lake/bronze/loan');
  await page.waitForSelector('.preview-range');
  // the nav slides away with a short transition: wait for it to end
  await page.waitForFunction(() => document.querySelector('#nav').getBoundingClientRect().right <= 0, null, { timeout: 5000 })
    .then(() => ok('narrow: the nav is folded away'), (e) => fail('narrow: the nav is folded away', e.message));
  await shot('table-narrow');
  await page.click('.nav-toggle');
  await page.waitForFunction(() => document.querySelector('#nav').getBoundingClientRect().left >= 0);
  ok('narrow: the menu button opens the nav');
  await page.click('#nav a[data-page="sql"]');
  await page.waitForSelector('#sql-editor');
  eq('narrow: picking a page folds the nav again', await page.evaluate(() => document.body.classList.contains('nav-open')), false);
  await page.setViewportSize({ width: 1440, height: 900 });
});

if (problems.length) fail('no console errors', problems.join(' | ')); else ok('no console errors');

// --- A server with a token: the UI asks for it, refuses a wrong one, then sends it ---
const AUTH_URL = process.env.SL_AUTH_URL, TOKEN = process.env.SL_TOKEN;
if (AUTH_URL && TOKEN) await step('auth', async () => {
  const p = await context.newPage();
  const r = await p.request.get(AUTH_URL + '/');
  eq('auth: the page itself loads without the token', r.status(), 200);
  const sent = [];
  p.on('request', (q) => { if (new URL(q.url()).pathname === '/api/tables') sent.push(q.headers().authorization || ''); });
  await p.goto(AUTH_URL + '/#/lake');
  await p.waitForSelector('#token-dialog[open]');
  ok('auth: a 401 opens the token prompt');
  await p.fill('#token-dialog input', 'wrong-token-0123456789');
  await p.click('#token-dialog button');
  await p.waitForFunction(() => document.querySelector('#token-dialog[open] .why')?.textContent.includes('refused'));
  ok('auth: a wrong token is refused and asked again');
  await p.fill('#token-dialog input', TOKEN);
  await p.click('#token-dialog button');
  await p.waitForSelector('#tables-card table');
  ok('auth: with the right token the tables load');
  eq('auth: the API calls carry the bearer token', sent.at(-1), 'Bearer ' + TOKEN);
  eq('auth: the token is kept for the tab only', await p.evaluate(() => [sessionStorage.getItem('sluice.token'), localStorage.getItem('sluice.token')]), [TOKEN, null]);
  await p.screenshot({ path: `${OUT}/auth.png` });
  await p.close();
});
await context.close();
process.exit(failed ? 1 : 0);
