// duckdb_incremental.cjs MODEL_SQL INPUT_GLOB CHANGES KEY OUTDIR THREADS [EVENT_TIME
// SINCE]: the peer of bench_build.sh's incremental rounds. DuckDB alone, through
// @duckdb/node-api, does the least an incremental build of a model keyed by KEY must
// do: find the keys of the changed rows (CHANGES, the Parquet file the round appended,
// and the input rows with EVENT_TIME >= SINCE: the late rows of a lookback), read every
// input row of those keys (INPUT_GLOB: the input table's files), run the model over
// them and write its rows as zstd Parquet. No merge into the table, no catalog, no
// checks: a lower bound for any build that runs the model's SQL on the changed keys'
// rows. The model file's config block is dropped and its one source() replaced by
// those rows. Prints the seconds from opening DuckDB to the written file and the rows
// written, as JSON.
const { DuckDBInstance } = require('@duckdb/node-api');
const fs = require('fs');

(async () => {
  const [model, glob, changes, key, outdir, threads, et, since] = process.argv.slice(2);
  const q = (s) => "'" + s.replaceAll("'", "''") + "'";
  const id = (s) => '"' + s.replaceAll('"', '""') + '"';
  const rows = `(SELECT * FROM read_parquet(${q(glob)}, union_by_name=true) SEMI JOIN _k USING (${id(key)}))`;
  const sql = fs
    .readFileSync(model, 'utf8')
    .replace(/\{\{\s*config\([\s\S]*?\)\s*\}\}/, '')
    .replace(/\{\{\s*source\([^)]*\)\s*\}\}/, rows);
  fs.rmSync(outdir, { recursive: true, force: true });
  const t0 = process.hrtime.bigint();
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await db.connect();
  const late = et ? ` UNION SELECT ${id(key)} FROM read_parquet(${q(glob)}, union_by_name=true) WHERE ${id(et)} >= ${q(since)}` : '';
  await con.run(`CREATE TEMP TABLE _k AS SELECT ${id(key)} FROM read_parquet(${q(changes)})${late}`);
  const r = await con.runAndReadAll(
    `COPY (SELECT * FROM (\n${sql}\n)) TO ${q(outdir)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3, ` +
      `ROW_GROUP_SIZE 122880, FILENAME_PATTERN 'part_{i}', RETURN_STATS)`);
  const t1 = process.hrtime.bigint();
  const n = r.getRows().reduce((a, x) => a + Number(x[1]), 0);
  console.log(JSON.stringify({ seconds: Number(t1 - t0) / 1e9, rows: n }));
})().catch((e) => {
  console.error(`duckdb_incremental: ${e.message}`);
  process.exit(1);
});
