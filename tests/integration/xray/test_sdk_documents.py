"""Documents as sent (issue 15): the real X-Ray SDKs for Python (aws-xray-sdk 2.x) and Node
(aws-xray-sdk-core) send their documents to a UDP socket this test owns, which records them byte
for byte; they are then given to `ariadne serve` — the Python ones as daemon datagrams, the Node
ones with PutTraceSegments — and BatchGetTraces (the aws CLI once, boto3 otherwise) must return
every field of every document: parsed JSON equal, with independently streamed subsegments placed
under their parents (each id once) and the in-progress version replaced by the final one, before
and after a restart that seals the head into a block.

usage: test_sdk_documents.py /path/to/ariadne
"""
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, check, skip, wait_for  # noqa: E402

try:
    import boto3
    from aws_xray_sdk.core import xray_recorder
    from aws_xray_sdk.core.models import http
except ImportError as e:  # pragma: no cover - depends on the machine
    skip("a Python client is missing (%s): `python3 -m pip install boto3 aws-xray-sdk`" % e)

ARIADNE = sys.argv[1]
NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "node")
NODE = shutil.which("node")
AWS = shutil.which("aws")
if not NODE or not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "aws-xray-sdk-core")):
    skip("node or aws-xray-sdk-core is missing: run scripts/install-test-deps")
if not AWS:
    skip("the aws CLI is not installed: `apt-get install awscli` or `pip install awscli`")
logging.getLogger("aws_xray_sdk").setLevel(logging.CRITICAL)
AWS_ENV = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_MAX_ATTEMPTS="1")
AWS_ENV.pop("AWS_PROFILE", None)


class Recorder:
    """A UDP socket standing in for the daemon: keeps every datagram's document text."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(1.5)
        self.port = self.sock.getsockname()[1]

    def drain(self):
        out = []
        while True:
            try:
                data, _ = self.sock.recvfrom(70000)
            except socket.timeout:
                return out
            header, _, body = data.decode().partition("\n")
            assert json.loads(header) == {"format": "json", "version": 1}, header
            out.append(body)


def python_documents():
    """A Flask-like request handled with the Python SDK: ECS plugin, http, user, annotations,
    metadata, a remote SQL subsegment with nested work and an exception, and enough subsegments
    that the SDK streams finished ones on their own (streaming_threshold=2)."""
    rec = Recorder()
    xray_recorder.configure(service="py-docs", daemon_address="127.0.0.1:%d" % rec.port, sampling=False,
                            context_missing="LOG_ERROR", streaming_threshold=2, plugins=("ECSPlugin",))
    seg = xray_recorder.begin_segment("py-docs")
    seg.put_http_meta(http.URL, "http://localhost:4567/api/messages")
    seg.put_http_meta(http.METHOD, "POST")
    seg.put_http_meta(http.USER_AGENT, "pytest")
    seg.put_http_meta(http.CLIENT_IP, "10.1.2.3")
    seg.set_user("carol")
    seg.put_annotation("page", "messages")
    seg.put_annotation("count", 3)
    seg.put_annotation("ok", False)
    seg.put_metadata("payload", {"text": "h\u00e9llo \u2603", "tags": ["a", "b"], "n": 1.5, "none": None}, "cruddur")
    with xray_recorder.in_subsegment("db-query") as sub:
        sub.namespace = "remote"
        sub.set_sql({"database_type": "PostgreSQL", "url": "postgresql://db/cruddur",
                     "sanitized_query": "SELECT * FROM messages WHERE uuid = %s", "user": "cruddur",
                     "database_version": "15.4", "driver_version": "psycopg 3.1"})
        with xray_recorder.in_subsegment("decode"):
            pass
        with xray_recorder.in_subsegment("validate") as v:
            try:
                raise ValueError("bad row")
            except ValueError as e:
                v.add_exception(e, traceback.extract_stack())
    for i in range(3):
        with xray_recorder.in_subsegment("step-%d" % i) as st:
            st.put_metadata("i", i)
            st.put_annotation("step", i)
    seg.put_http_meta(http.STATUS, 201)
    seg.put_http_meta(http.CONTENT_LENGTH, 42)
    trace_id = seg.trace_id
    xray_recorder.end_segment()
    docs = rec.drain()
    rec.sock.close()
    return trace_id, docs


def node_documents():
    rec = Recorder()
    proc = subprocess.run([NODE, "xray_documents.cjs", str(rec.port)], cwd=NODE_DIR, capture_output=True,
                          text=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("node xray_documents.cjs failed: " + proc.stderr)
    trace_id = json.loads(proc.stdout.strip().splitlines()[0])["trace_id"]
    docs = rec.drain()
    rec.sock.close()
    return trace_id, docs


def expected_segments(texts):
    """What X-Ray returns for documents sent in this order: segment id -> document. A complete
    version replaces an in-progress one; an independent subsegment goes under its parent, after the
    embedded subsegments, in start-time order; one whose parent never came stands alone."""
    segments, independents = {}, {}
    for text in texts:
        doc = json.loads(text)
        for item in (doc if isinstance(doc, list) else [doc]):
            target = independents if item.get("type") == "subsegment" else segments
            old = target.get(item["id"])
            if old is None or not item.get("in_progress") or old.get("in_progress"):
                target[item["id"]] = item
    placed = set()

    def ids(node):
        yield node["id"]
        for child in node.get("subsegments", []):
            yield from ids(child)

    def attach(node):
        for child in node.get("subsegments", []):
            attach(child)
        extra = sorted((d for d in independents.values() if d.get("parent_id") == node["id"] and d["id"] not in placed),
                       key=lambda d: d["start_time"])
        for d in extra:
            placed.add(d["id"])
            node.setdefault("subsegments", []).append(d)
            attach(d)

    out = {}
    for seg_id, seg in segments.items():
        placed.update(ids(seg))
        attach(seg)
        out[seg_id] = seg
    for sub_id, sub in independents.items():
        if sub_id not in placed and sub.get("parent_id") not in independents:
            placed.update(ids(sub))
            attach(sub)
            out[sub_id] = sub
    return out


def compare(label, traces, expected, quiet=False):
    """traces: BatchGetTraces' Traces; expected: trace id -> {segment id -> document}."""
    got = {t["Id"]: t for t in traces}
    for trace_id, want in expected.items():
        if trace_id not in got:
            raise AssertionError("%s: trace %s is not returned" % (label, trace_id))
        docs = {}
        for s in got[trace_id]["Segments"]:
            assert s["Id"] not in docs, "%s: segment %s returned twice" % (label, s["Id"])
            doc = json.loads(s["Document"])
            if not doc.get("inferred"):
                docs[s["Id"]] = doc
        for seg_id, doc in want.items():
            if docs.get(seg_id) != doc:
                raise AssertionError("%s: segment %s differs\n got:  %s\n want: %s" % (
                    label, seg_id, json.dumps(docs.get(seg_id), sort_keys=True), json.dumps(doc, sort_keys=True)))
        if set(docs) != set(want):
            raise AssertionError("%s: trace %s: segments %s, want %s" % (label, trace_id, sorted(docs), sorted(want)))
        if not quiet:
            print("ok  %s: trace %s: every document field for field (%d segments)" % (label, trace_id, len(want)),
                  flush=True)


def main():
    py_trace, py_docs = python_documents()
    node_trace, node_docs = node_documents()
    check(len(py_docs) >= 4 and any('"type": "subsegment"' in d for d in py_docs),
          "the Python SDK sent %d documents, streamed subsegments among them" % len(py_docs))
    check(len(node_docs) >= 3 and any('"in_progress":true' in d for d in node_docs),
          "the Node SDK sent %d documents, an in-progress segment among them" % len(node_docs))
    expected = {py_trace: expected_segments(py_docs), node_trace: expected_segments(node_docs)}

    data_dir = tempfile.mkdtemp(prefix="ariadne-xray-docs-")
    server = Server(ARIADNE, data_dir=data_dir)
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for text in py_docs:
            sock.sendto(('{"format": "json", "version": 1}\n' + text).encode(), ("127.0.0.1", server.xray_port))
        sock.close()
        xray = boto3.client("xray", endpoint_url=server.xray_url, region_name="us-east-1",
                            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
        for text in node_docs:  # one call per document, in the order the SDK sent them
            answer = xray.put_trace_segments(TraceSegmentDocuments=[text])
            check(answer["UnprocessedTraceSegments"] == [], "PutTraceSegments took a Node document")

        def settled():  # the datagrams are stored asynchronously
            traces = xray.batch_get_traces(TraceIds=list(expected))["Traces"]
            try:
                compare("boto3, head", traces, expected, quiet=True)
            except AssertionError:
                return None
            return traces

        try:
            traces = wait_for("every document", settled, timeout=20)
        except AssertionError:
            traces = xray.batch_get_traces(TraceIds=list(expected))["Traces"]
        compare("boto3, head", traces, expected)

        proc = subprocess.run([AWS, "--endpoint-url", server.xray_url, "--output", "json", "xray", "batch-get-traces",
                               "--trace-ids", *expected], env=AWS_ENV, capture_output=True, text=True, timeout=60)
        check(proc.returncode == 0, "aws xray batch-get-traces answers (%s)" % proc.stderr.strip())
        compare("aws CLI", json.loads(proc.stdout)["Traces"], expected)

        server.stop(cleanup=False)  # a clean stop seals the head into a block
        server = Server(ARIADNE, data_dir=data_dir)
        xray = boto3.client("xray", endpoint_url=server.xray_url, region_name="us-east-1",
                            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
        compare("boto3, sealed block", xray.batch_get_traces(TraceIds=list(expected))["Traces"], expected)
        print("PASS")
    finally:
        server.stop(cleanup=False)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
