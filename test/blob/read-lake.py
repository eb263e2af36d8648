"""Reads an exchanges-layout lake with two independent readers and prints what each sees, as JSON.

    python read-lake.py DIR  ->  {"pyarrow": [row, ...], "duckdb": [row, ...]}

Rows are normalised to plain JSON (bytes as base64, timestamps as epoch microseconds, maps as
objects) so the test can compare every column with what was served. Both readers use Hive
partitioning, as Spark, Trino and Athena would.
"""
import base64
import datetime
import json
import sys

import duckdb
import pyarrow.dataset as ds


def plain(v):
    if isinstance(v, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(v)).decode()
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            raise ValueError("a naive timestamp: the layout stores UTC instants")
        delta = v - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        # pyarrow gives a map as a list of (key, value) tuples
        if v and all(isinstance(e, tuple) and len(e) == 2 for e in v):
            return {k: plain(x) for k, x in v}
        return [plain(x) for x in v]
    if isinstance(v, tuple):
        return [plain(x) for x in v]
    return v


MAPS = ("metadata", "annotations")


def row(r):
    out = plain(r)
    for k in MAPS:  # an empty map has no entries to tell it from an empty list
        if out.get(k) == []:
            out[k] = {}
    return out


def with_pyarrow(root):
    dataset = ds.dataset(root, format="parquet", partitioning="hive")
    table = dataset.to_table()
    types = {f.name: str(f.type) for f in table.schema}
    return [row(r) for r in table.to_pylist()], types


def with_duckdb(root):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rel = con.sql(f"SELECT * FROM read_parquet('{root}/**/*.parquet', hive_partitioning = true)")
    names = rel.columns
    types = {n: str(t) for n, t in zip(names, rel.types)}
    return [row(dict(zip(names, r))) for r in rel.fetchall()], types


if __name__ == "__main__":
    root = sys.argv[1]
    pa_rows, pa_types = with_pyarrow(root)
    dd_rows, dd_types = with_duckdb(root)
    json.dump({"pyarrow": pa_rows, "pyarrowTypes": pa_types, "duckdb": dd_rows, "duckdbTypes": dd_types}, sys.stdout)
