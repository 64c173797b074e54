#!/usr/bin/env python3
"""compare.py - compare a SQLite query with a DuckDB query over Parquet, row by row.

usage: compare.py DB SQLITE_SQL DUCKDB_SQL
Both queries must return the same columns in the same order (ORDER BY in both).
Values are compared as text after normalising: NULL stays NULL, booleans become
0/1, integers and floats print the Python way. Exit 0 when equal, 1 with the
first difference otherwise, 77 when DuckDB is not installed (callers skip).
"""
import json, os, sqlite3, subprocess, sys

def norm(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)
    return str(v)

def main():
    db, lite_sql, duck_sql = sys.argv[1:4]
    root = os.environ.get("ATTN_ROOT", os.getcwd())
    if not os.path.isdir(os.path.join(root, "build/npm/duckdb/node_modules/@duckdb/node-api")):
        print("duckdb not installed (scripts/install-npm-duckdb)")
        return 77
    con = sqlite3.connect(db)
    want = [[norm(x) for x in r] for r in con.execute(lite_sql)]
    out = subprocess.run(["node", os.path.join(root, "tests/duckdb/query.mjs"), duck_sql],
                         capture_output=True, text=True)
    if out.returncode != 0:
        print("duckdb failed: " + out.stderr.strip()[-2000:])
        return 1
    got = [[norm(x) for x in json.loads(l)] for l in out.stdout.splitlines() if l]
    if len(got) != len(want):
        print("row count differs: sqlite %d, parquet %d" % (len(want), len(got)))
        return 1
    for i, (a, b) in enumerate(zip(want, got)):
        if a != b:
            print("row %d differs:\n sqlite  %r\n parquet %r" % (i, a, b))
            return 1
    print("%d rows equal" % len(want))
    return 0

if __name__ == "__main__":
    sys.exit(main())
