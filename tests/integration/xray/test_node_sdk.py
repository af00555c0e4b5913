"""aws-xray-sdk-core (npm) against `ariadne serve`: segments with subsegments, annotations and
metadata over UDP, and centralized sampling with the seed's rule — a client serving 100 requests
in one second samples about 5 (the reservoir quota Ariadne hands out) + 10 % of the rest.

usage: test_node_sdk.py /path/to/ariadne
"""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SEED_RULE, Server, check, skip, wait_for  # noqa: E402

ARIADNE = sys.argv[1]
NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "node")
NODE = shutil.which("node")
if not NODE:
    skip("node is not installed: install Node.js 20+ (e.g. `apt-get install nodejs npm`)")
if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "aws-xray-sdk-core")):
    skip("aws-xray-sdk-core is not installed: run `npm ci` in tests/integration/node")


def node(*args, timeout=120):
    proc = subprocess.run([NODE, "xray_client.cjs", *args], cwd=NODE_DIR, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError("node xray_client.cjs %s failed: %s" % (" ".join(args), proc.stderr))
    return json.loads(proc.stdout.strip().splitlines()[0])


def main():
    server = Server(ARIADNE)
    try:
        status, _, _ = server.xray_post("/CreateSamplingRule", SEED_RULE)
        check(status == 200, "the seed's sampling rule is created")

        # --- segments with subsegments, annotations and metadata ---
        sent = node("segments", str(server.xray_port))
        trace_id = sent["trace_id"]

        def fetch():
            _, _, body = server.xray_post("/Traces", {"TraceIds": [trace_id]})
            return body["Traces"] if body.get("Traces") else None

        trace = wait_for("the Node segment", fetch)[0]
        doc = next(json.loads(s["Document"]) for s in trace["Segments"] if json.loads(s["Document"])["name"] == "node-orders")
        check(doc["id"] == sent["segment_id"] and doc["annotations"] == {"customer": "c-42", "total": 99.5},
              "the Node segment arrives with its annotations")
        check(doc["metadata"]["shop"]["order"] == {"items": 3, "express": True}, "segment metadata keeps its namespace")
        pricing = doc["subsegments"][0]
        check(pricing["name"] == "compute-price" and pricing["annotations"]["vip"] is True and
              pricing["metadata"]["default"]["rules"] == ["bulk", "loyalty"],
              "the subsegment keeps its annotation and default-namespace metadata")
        check(pricing["subsegments"][0]["name"] == "tax-service" and pricing["subsegments"][0]["namespace"] == "remote",
              "the nested remote subsegment is nested under its parent")
        now = time.time()
        _, _, summaries = server.xray_post("/TraceSummaries", {"StartTime": now - 600, "EndTime": now + 60,
                                                               "FilterExpression": 'annotation.customer = "c-42" AND annotation.total > 99'})
        check([s["Id"] for s in summaries["TraceSummaries"]] == [trace_id], "annotation filters find the Node trace")

        # --- centralized sampling: 100 requests in one second ---
        result = node("sampling", str(server.xray_port), timeout=150)
        print("node sampler:", result, flush=True)
        check(result["quota_loaded"] and result["quota"] == 5 and result["rate"] == 0.1,
              "the Node SDK took reservoir quota 5 and rate 0.1 from GetSamplingTargets")
        check(result["burst_total"] == 100 and result["same_second"],
              "100 requests were served within one second (%d ms, try %d)" % (result["elapsed_ms"], result["attempts"]))
        sampled = result["burst_sampled"]
        # Expected 5 + 0.1 * 95 = 14.5 (sd ≈ 2.9); without the quota it would be 1 + 9.9.
        check(7 <= sampled <= 26, "about 5 + 10%% of the rest were sampled: %d of 100" % sampled)

        def stored():
            now = time.time()
            _, _, body = server.xray_post("/TraceSummaries", {"StartTime": now - 120, "EndTime": now + 60,
                                                              "FilterExpression": 'http.url CONTAINS "%s"' % result["burst_prefix"]})
            n = len(body["TraceSummaries"])
            return n if n == sampled else None

        wait_for("every sampled burst request to be stored", stored)
        check(True, "Ariadne stored exactly the %d sampled burst requests" % sampled)

        # The report after the burst: every request counted, nothing borrowed (the quota was fresh).
        _, _, stats = server.xray_post("/SamplingStatisticSummaries", {})
        cruddur = [s for s in stats["SamplingStatisticSummaries"] if s["RuleName"] == "Cruddur"]
        check(cruddur and cruddur[0]["RequestCount"] >= 100 and cruddur[0]["BorrowCount"] == 0 and
              cruddur[0]["SampledCount"] >= sampled,
              "the client's statistics for the burst reached GetSamplingStatisticSummaries: %s" % cruddur)
        status, body = server.get("/api/v1/xray/sampling")
        rule = next(r for r in json.loads(body)["rules"] if r["SamplingRule"]["RuleName"] == "Cruddur")
        check(rule["ActiveClients"] == 1 and sum(w["RequestCount"] for w in rule["Statistics"]) >= 100,
              "the query port's /api/v1/xray/sampling shows the client and its statistics")
    finally:
        server.stop()
    print("PASS test_node_sdk")


if __name__ == "__main__":
    main()
