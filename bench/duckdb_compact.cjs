// duckdb_compact.cjs LISTFILE OUT THREADS: the peer of bench_compact.sh. DuckDB alone,
// through @duckdb/node-api, rewrites the Parquet files named in LISTFILE (one path a
// line) into one zstd Parquet file; prints the seconds it took and the rows written.
const { DuckDBInstance } = require('@duckdb/node-api');
const fs = require('fs');

(async () => {
  const [list, out, threads] = process.argv.slice(2);
  const files = fs.readFileSync(list, 'utf8').split('\n').filter(Boolean);
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await db.connect();
  const q = (s) => "'" + s.replaceAll("'", "''") + "'";
  const t0 = process.hrtime.bigint();
  await con.run(`COPY (SELECT * FROM read_parquet([${files.map(q).join(',')}])) TO ${q(out)} (FORMAT parquet, COMPRESSION zstd)`);
  const t1 = process.hrtime.bigint();
  const r = await con.runAndReadAll(`SELECT count(*)::BIGINT FROM read_parquet(${q(out)})`);
  console.log(JSON.stringify({ seconds: Number(t1 - t0) / 1e9, rows: Number(r.getRows()[0][0]) }));
})().catch((e) => { console.error(e); process.exit(1); });
