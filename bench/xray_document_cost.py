#!/usr/bin/env python3
"""What keeping X-Ray documents as sent costs on disk (issue 15, docs/xray-mapping.md).

Sends the same X-Ray traffic to an `ariadne serve` binary with PutTraceSegments — each trace a
segment shaped like the Python SDK's Flask segment (http, annotations, metadata, the SDK's aws and
service objects) with three embedded subsegments (a SQL query, a remote call, a local one), ids
and times varied per trace — stops it cleanly (the head is sealed into blocks) and prints the WAL
and block bytes per span from /metrics. Run it with a binary that keeps documents and one that
does not (e.g. the commit before) to see the difference.

usage: bench/xray_document_cost.py /path/to/ariadne [--traces 20000]
"""
import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration", "xray"))
from harness import Server  # noqa: E402


def trace_documents(n, base):
    rnd = random.Random(n)
    hexid = lambda: "%016x" % rnd.getrandbits(64)  # noqa: E731
    trace_id = "1-%08x-%024x" % (int(base), rnd.getrandbits(96))
    seg_id = hexid()
    t0 = base + n * 0.01
    sub = lambda name, start, end, **extra: dict({  # noqa: E731
        "id": hexid(), "name": name, "start_time": start, "end_time": end, "parent_id": seg_id,
        "in_progress": False, "trace_id": trace_id, "type": "subsegment"}, **extra)
    segment = {
        "id": seg_id, "name": "backend-flask", "start_time": t0, "in_progress": False, "trace_id": trace_id,
        "end_time": t0 + 0.05 + rnd.random() * 0.1,
        "http": {"request": {"url": "http://localhost:4567/api/activities/home?page=%d" % (n % 50),
                             "method": "GET", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
                             "client_ip": "10.0.%d.%d" % (n % 7, n % 200)},
                 "response": {"status": 200 if n % 20 else 500, "content_length": 1000 + n % 900}},
        "annotations": {"page": "home", "user_handle": "user%d" % (n % 300)},
        "metadata": {"default": {"rows": n % 40}},
        "aws": {"xray": {"sdk": "X-Ray for Python", "sdk_version": "2.15.0"}},
        "service": {"runtime": "CPython", "runtime_version": "3.11.7"},
        "subsegments": [
            sub("db-query", t0 + 0.001, t0 + 0.02, namespace="remote",
                sql={"database_type": "PostgreSQL", "url": "postgresql://db:5432/cruddur",
                     "sanitized_query": "SELECT * FROM activities WHERE user_uuid = %s LIMIT 20", "user": "cruddur"}),
            sub("api.momento.example", t0 + 0.021, t0 + 0.03, namespace="remote",
                http={"request": {"url": "https://api.momento.example/cache/get", "method": "GET"},
                      "response": {"status": 200}}),
            sub("mock-data", t0 + 0.031, t0 + 0.04, namespace="local", metadata={"default": {"count": n % 9}}),
        ],
    }
    return [json.dumps(segment)]


def metric(server, name):
    _, text = server.get("/metrics")
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ariadne")
    ap.add_argument("--traces", type=int, default=20000)
    args = ap.parse_args()
    data_dir = tempfile.mkdtemp(prefix="ariadne-xray-cost-")
    base = time.time() - 600
    server = Server(args.ariadne, data_dir=data_dir)
    try:
        batch, doc_bytes = [], 0
        for n in range(args.traces):
            docs = trace_documents(n, base)
            doc_bytes += sum(len(json.dumps(json.loads(d), separators=(",", ":"))) for d in docs)
            batch.extend(docs)
            if len(batch) >= 50 or n == args.traces - 1:
                status, _, body = server.xray_post("/TraceSegments", {"TraceSegmentDocuments": batch})
                assert status == 200 and not body.get("UnprocessedTraceSegments"), body
                batch = []
        wal = metric(server, "ariadne_store_wal_bytes_total")
        server.stop(cleanup=False)
        server = Server(args.ariadne, data_dir=data_dir)
        spans = metric(server, "ariadne_store_block_spans")
        blocks = metric(server, "ariadne_store_block_bytes")
        print(json.dumps({"traces": args.traces, "spans": int(spans),
                          "minified_document_bytes_per_span": round(doc_bytes / spans, 1),
                          "wal_bytes_per_span": round(wal / spans, 1),
                          "block_bytes_per_span": round(blocks / spans, 1)}))
    finally:
        server.stop(cleanup=False)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
