// duckdb_copy.cjs CSV OUT THREADS: the peer of bench_ingest.sh. DuckDB alone, through
// @duckdb/node-api, copies the CSV into zstd Parquet; prints the seconds it took.
const { DuckDBInstance } = require('@duckdb/node-api');

(async () => {
  const [csv, out, threads] = process.argv.slice(2);
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await db.connect();
  const q = (s) => "'" + s.replaceAll("'", "''") + "'";
  const t0 = process.hrtime.bigint();
  await con.run(`COPY (SELECT * FROM read_csv(${q(csv)}, header=true)) TO ${q(out)} (FORMAT parquet, COMPRESSION zstd)`);
  const t1 = process.hrtime.bigint();
  const r = await con.runAndReadAll(`SELECT count(*)::BIGINT FROM read_parquet(${q(out)})`);
  if (r.getRows()[0][0] <= 0n) throw new Error('DuckDB wrote no rows');
  console.log((Number(t1 - t0) / 1e9).toFixed(3));
})().catch((e) => { console.error(e); process.exit(1); });
