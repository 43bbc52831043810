// duckdb_build.cjs COMPILED_JSON OUTDIR THREADS: the peer of bench_build.sh. DuckDB
// alone, through @duckdb/node-api, runs the SQL `sluice compile --refs names --format
// json` printed: the helper macros, a view over each input table's Parquet files, then
// each model in dependency order, tables written to zstd Parquet (as sluice writes
// them) and read back through a view by the models downstream. Prints the seconds the
// models took and the rows of each table written, as JSON. The COPY options are the
// ones sluice writes a model's output with (ingest: section defaults).
const { DuckDBInstance } = require('@duckdb/node-api');
const fs = require('fs');

(async () => {
  const [json, outdir, threads] = process.argv.slice(2);
  const c = JSON.parse(fs.readFileSync(json, 'utf8'));
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await db.connect();
  const q = (s) => "'" + s.replaceAll("'", "''") + "'";
  const id = (s) => '"' + s.replaceAll('"', '""') + '"';
  const rel = (t) => t.split('.').map(id).join('.');
  const models = new Set(c.models.map((m) => m.table));
  fs.mkdirSync(outdir, { recursive: true });
  const t0 = process.hrtime.bigint();
  await con.run(c.macros);
  const schemas = new Set();
  const schema = async (t) => {
    const ns = t.split('.')[0];
    if (!schemas.has(ns)) await con.run(`CREATE SCHEMA IF NOT EXISTS ${id(ns)}`);
    schemas.add(ns);
  };
  const rows = {};
  for (const m of c.models) {
    for (const i of m.inputs) {
      if (models.has(i.table) || !i.sql) continue;
      await schema(i.table);
      await con.run(`CREATE OR REPLACE VIEW ${rel(i.table)} AS SELECT * FROM ${i.sql}`);
    }
    await schema(m.table);
    if (m.materialized === 'view') {
      await con.run(`CREATE OR REPLACE VIEW ${rel(m.table)} AS ${m.sql}`);
      continue;
    }
    const out = `${outdir}/${m.table}`;
    const r = await con.runAndReadAll(
      `COPY (SELECT * FROM (\n${m.sql}\n)) TO ${q(out)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3, ` +
        `ROW_GROUP_SIZE 122880, FILE_SIZE_BYTES 268435456, FILENAME_PATTERN 'part_{i}', OVERWRITE_OR_IGNORE, RETURN_STATS)`);
    rows[m.table] = r.getRows().reduce((n, x) => n + Number(x[1]), 0);
    const files = r.getRows().map((x) => q(String(x[0]))).join(',');
    await con.run(`CREATE OR REPLACE VIEW ${rel(m.table)} AS SELECT * FROM read_parquet([${files}])`);
  }
  const t1 = process.hrtime.bigint();
  console.log(JSON.stringify({ seconds: Number(t1 - t0) / 1e9, rows }));
})().catch((e) => { console.error(e); process.exit(1); });
