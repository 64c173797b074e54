// query.mjs - run one SQL statement in an in-memory DuckDB and print each
// result row as a JSON array on its own line. Used by tests/duckdb/compare.py
// to read the Parquet files attn writes. Needs @duckdb/node-api under
// build/npm/duckdb (scripts/install-npm-duckdb).
import { createRequire } from 'node:module';
import path from 'node:path';

const root = process.env.ATTN_ROOT || process.cwd();
const require = createRequire(path.join(root, 'build/npm/duckdb/package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const sql = process.argv[2];
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
await conn.run("SET TimeZone = 'UTC'");
const reader = await conn.runAndReadAll(sql);
for (const row of reader.getRowsJson())
    process.stdout.write(JSON.stringify(row) + '\n');
