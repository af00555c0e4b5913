"""Streamed subsegments and self-calls in the service graph, through the machine's `aws` CLI and
the query API against `ariadne serve`: subsegments sent alone (as the SDKs stream them, before
their segment) sit under their segment's service in `get-service-graph`, `get-trace-graph` and
/api/v1/service-graph, never as a nameless node, and a call back into the same service is a
self-edge in each (docs/xray-mapping.md, "The service graph"); get-time-series-service-statistics
counts the entry segment (from the trace summary) and each service's segments.

usage: test_service_graph_streamed.py /path/to/ariadne
"""
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, check, wait_for  # noqa: E402
from test_aws_cli import ok  # noqa: E402  (skips with exit 77 when the aws CLI is missing)


def main():
    server = Server(sys.argv[1])
    try:
        now = time.time()
        trace_id = "1-%08x-%024x" % (int(now), 0x5EC7)
        segment, answer, nested, back, ledger = ("a000000000000001", "a000000000000002",
                                                 "a000000000000003", "a000000000000005",
                                                 "a000000000000004")

        def sub(sub_id, parent, **fields):
            doc = {"type": "subsegment", "trace_id": trace_id, "id": sub_id, "parent_id": parent,
                   "start_time": now - 0.9, "end_time": now - 0.8}
            doc.update(fields)
            return json.dumps(doc)

        # The subsegments first, each its own document, as the SDKs stream them.
        put = ok(server, "xray", "put-trace-segments", "--trace-segment-documents",
                 sub(answer, segment, name="inventory.internal", namespace="remote"),
                 sub(nested, segment, name="work"),
                 sub(ledger, nested, name="ledger@aurora", namespace="remote",
                     sql={"database_type": "MySQL"}),
                 sub(back, nested, name="shop.internal", namespace="remote"))
        check(put["UnprocessedTraceSegments"] == [], "the streamed subsegments are accepted")
        seg = lambda seg_id, name, parent=None, **extra: json.dumps(dict(
            {"name": name, "id": seg_id, "trace_id": trace_id, "start_time": now - 0.95,
             "end_time": now - 0.7}, **({"parent_id": parent} if parent else {}), **extra))
        ok(server, "xray", "put-trace-segments", "--trace-segment-documents",
           seg("a000000000000006", "inventory", answer, fault=True),
           seg("a000000000000007", "shop", back, origin="AWS::EC2::Instance"),
           seg(segment, "shop", origin="AWS::EC2::Instance"))

        start, end = str(int(now) - 120), str(int(now) + 120)
        graph = wait_for("the service graph", lambda: (lambda g: g if len(g["Services"]) >= 3 else None)(
            ok(server, "xray", "get-service-graph", "--start-time", start, "--end-time", end)))
        by_ref = {s["ReferenceId"]: s for s in graph["Services"]}
        names = sorted(s["Name"] for s in graph["Services"])
        check(names == ["inventory", "ledger@aurora", "shop"],
              "get-service-graph names shop, inventory and the database, no nameless node: %s" % names)
        shop = next(s for s in graph["Services"] if s["Name"] == "shop")
        targets = sorted(by_ref[e["ReferenceId"]]["Name"] for e in shop["Edges"])
        check(targets == ["inventory", "ledger@aurora", "shop"],
              "shop's edges go to inventory, the database and back to shop: %s" % targets)
        self_edge = next(e for e in shop["Edges"] if by_ref[e["ReferenceId"]]["Name"] == "shop")
        check(self_edge["SummaryStatistics"]["TotalCount"] == 1, "the self-edge counts the one call")
        check(shop["Root"] is True and shop["SummaryStatistics"]["TotalCount"] == 2,
              "shop is the root, entered twice")
        trace_graph = ok(server, "xray", "get-trace-graph", "--trace-ids", trace_id)
        check(sorted(s["Name"] for s in trace_graph["Services"]) == names,
              "get-trace-graph places the streamed subsegments under shop too")

        def series(*selector):
            out = ok(server, "xray", "get-time-series-service-statistics", "--start-time", start,
                     "--end-time", end, "--period", "60", *selector)
            points = [p["ServiceSummaryStatistics"] for p in out["TimeSeriesServiceStatistics"]]
            return (sum(p["TotalCount"] for p in points),
                    sum(p["FaultStatistics"]["TotalCount"] for p in points))
        check(series() == (1, 0), "the time series of entry segments counts the one request into shop")
        check(series("--entity-selector-expression", 'service("shop")') == (2, 0),
              "shop's time series counts both of its segments")
        check(series("--entity-selector-expression", 'service("inventory")') == (1, 1),
              "inventory's time series counts its faulting segment")

        query = "/api/v1/service-graph?start=%d&end=%d" % (int(now) - 120, int(now) + 120)
        status, body = server.get(query)
        engine = json.loads(body)
        check(status == 200 and sorted(n["name"] for n in engine["nodes"]) == names,
              "/api/v1/service-graph names the same nodes: %s" % body)
        edges = {(e["source"], e["target"]): e for e in engine["edges"]}
        check(sorted(edges) == [("shop", "inventory"), ("shop", "ledger@aurora"), ("shop", "shop")],
              "/api/v1/service-graph draws the same edges: %s" % sorted(edges))
        check(edges[("shop", "inventory")]["error_count"] == 1, "the faulting callee is an error")
        status, body = server.get(query + "&xray_filter=" + urllib.parse.quote('service("shop")'))
        filtered = json.loads(body)
        check(status == 200 and sorted((e["source"], e["target"]) for e in filtered["edges"]) == sorted(edges),
              "the group-filtered engine graph draws them too")
    finally:
        server.stop()
    print("PASS")


if __name__ == "__main__":
    main()
