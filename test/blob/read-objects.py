"""Independent readers for the blob sink's objects: boto3 lists and downloads them from the
S3 endpoint in AWS_ENDPOINT_URL, then pyarrow AND duckdb (Python packages, no inferlog code)
read every object. Prints one JSON document:

  {"objects": [{"key", "size", "schema": [[name, type, nullable]], "pyarrow": [rows], "duckdb": [rows]}]}

usage: read-objects.py BUCKET PREFIX
"""
import io
import json
import os
import sys
import tempfile

import boto3
import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from botocore.config import Config

bucket, prefix = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
out = []
pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
con = duckdb.connect()


def rows(sql):
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


with tempfile.TemporaryDirectory() as tmp:
    for i, key in enumerate(sorted(keys)):
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        ext = key.rsplit(".", 1)[-1]
        path = os.path.join(tmp, f"{i}.{ext}")
        with open(path, "wb") as f:
            f.write(data)
        entry = {"key": key, "size": len(data)}
        if ext in ("json", "csv"):
            entry["text"] = data.decode("utf-8", "replace")
        if ext == "parquet":
            table = pq.read_table(io.BytesIO(data))
            entry["schema"] = [[f.name, str(f.type), f.nullable] for f in table.schema]
            entry["pyarrow"] = table.to_pylist()
            entry["duckdb"] = rows(f"SELECT * FROM read_parquet('{path}')")
            entry["duckdb_types"] = [
                [r[0], r[1]] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
            ]
        elif ext == "csv":
            header = data.split(b"\n", 1)[0].decode().split(",")
            table = pcsv.read_csv(
                io.BytesIO(data),
                convert_options=pcsv.ConvertOptions(
                    column_types={c: pa.string() for c in header}, strings_can_be_null=False
                ),
            )
            entry["schema"] = [[f.name, str(f.type), f.nullable] for f in table.schema]
            entry["pyarrow"] = table.to_pylist()
            entry["duckdb"] = [
                {k: ("" if v is None else v) for k, v in r.items()}
                for r in rows(f"SELECT * FROM read_csv('{path}', all_varchar=true, header=true, quote='\"', escape='\"')")
            ]
        else:
            doc = json.loads(data)
            entry["json"] = doc if isinstance(doc, list) else [doc]
            entry["single"] = not isinstance(doc, list)
            entry["duckdb"] = [json.loads(r["j"]) for r in rows(f"SELECT to_json(t) AS j FROM read_json('{path}') t")]
        out.append(entry)
print(json.dumps({"objects": out}, default=str))
