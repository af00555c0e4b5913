"""A Flask app instrumented like the seed's backend-flask (aws-xray-sdk 2.x, XRayMiddleware,
centralized sampling through the daemon address) sends to `ariadne serve`; boto3's xray client
and the query API read the traces back.

usage: test_python_sdk.py /path/to/ariadne
"""
import json
import logging
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SEED_RULE, Server, check, skip, wait_for  # noqa: E402

try:
    import boto3
    import flask
    from aws_xray_sdk.core import xray_recorder
    from aws_xray_sdk.ext.flask.middleware import XRayMiddleware
except ImportError as e:  # pragma: no cover - depends on the machine
    skip("a Python client is missing (%s): install them for the python3 that runs ctest with "
         "`python3 -m pip install boto3 flask aws-xray-sdk` (or Debian's python3-boto3 python3-flask "
         "and pip's aws-xray-sdk)" % e)

ARIADNE = sys.argv[1]
logging.getLogger("aws_xray_sdk").setLevel(logging.ERROR)


def find_attr(span, key):
    for a in span["attributes"]:
        if a["key"] == key:
            return a["value"]
    return None


def main():
    server = Server(ARIADNE)
    try:
        xray = boto3.client("xray", endpoint_url=server.xray_url, region_name="us-east-1",
                            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
        xray.create_sampling_rule(**SEED_RULE)

        app = flask.Flask(__name__)
        app.config["PROPAGATE_EXCEPTIONS"] = False
        app.logger.disabled = True  # the /api/boom traceback is expected

        @app.route("/api/activities/home")
        def home():
            xray_recorder.current_segment().put_annotation("page", "home")
            with xray_recorder.in_subsegment("mock-data") as sub:
                sub.put_metadata("rows", [1, 2, 3], "cruddur")
            return {"ok": True}

        @app.route("/api/boom")
        def boom():
            return str(1 / 0)

        # As the seed: service name, dynamic naming (a Gitpod pattern, so localhost requests keep
        # the name backend-flask), centralized sampling via the daemon address.
        xray_recorder.configure(service="backend-flask", dynamic_naming="*4567-*.gitpod.io*",
                                daemon_address="127.0.0.1:%d" % server.xray_port, sampling=True,
                                context_missing="LOG_ERROR")
        XRayMiddleware(app, xray_recorder)
        client = app.test_client()

        epoch = int(time.time())
        ids = {name: "1-%08x-%024x" % (epoch, 0xF1A5C0 + i) for i, name in enumerate(["ok", "missing", "boom"])}
        paths = {"ok": "/api/activities/home", "missing": "/api/nope", "boom": "/api/boom"}
        statuses = {}
        for name, path in paths.items():
            response = client.get(path, headers={"X-Amzn-Trace-Id": "Root=%s;Sampled=1" % ids[name]})
            statuses[name] = response.status_code
        check(statuses == {"ok": 200, "missing": 404, "boom": 500}, "the Flask app answered 200, 404, 500")

        # The first undecided request starts the SDK's pollers; the rule poller fetches rules from
        # :PORT/GetSamplingRules (unsigned).
        client.get("/api/activities/home")
        cache = xray_recorder.sampler._cache
        wait_for("the SDK to load the Cruddur rule",
                 lambda: any(r.name == "Cruddur" for r in cache.rules), timeout=20)
        check(True, "the Python SDK loaded the centralized Cruddur rule from Ariadne")
        # Borrowing is 1 per second per rule: start a fresh second so this request gets it.
        time.sleep(1.05 - time.time() % 1.0)
        decided_id = "1-%08x-%024x" % (epoch, 0xDEC1DE)
        response = client.get("/api/activities/home", headers={"X-Amzn-Trace-Id": "Root=%s;Sampled=?" % decided_id})
        check("Sampled=1" in response.headers.get("X-Amzn-Trace-Id", ""),
              "an undecided request is sampled by the Cruddur rule (first request of the second borrows)")

        all_ids = list(ids.values()) + [decided_id]

        def fetch():
            out = xray.batch_get_traces(TraceIds=all_ids)
            return out if len(out["Traces"]) == len(all_ids) else None

        traces = {t["Id"]: t for t in wait_for("all four traces through BatchGetTraces", fetch)["Traces"]}

        def root_doc(trace_id):
            docs = [json.loads(s["Document"]) for s in traces[trace_id]["Segments"]]
            return next(d for d in docs if d["name"] == "backend-flask")

        ok_doc = root_doc(ids["ok"])
        check(ok_doc["http"]["response"]["status"] == 200 and not ok_doc.get("fault") and not ok_doc.get("error"),
              "the 200 request: status 200, no fault or error")
        check(ok_doc["annotations"]["page"] == "home" and
              ok_doc["subsegments"][0]["name"] == "mock-data" and
              ok_doc["subsegments"][0]["metadata"]["cruddur"]["rows"] == [1, 2, 3],
              "annotations, subsegments and metadata come back")
        missing_doc = root_doc(ids["missing"])
        check(missing_doc["http"]["response"]["status"] == 404 and missing_doc.get("error") is True
              and not missing_doc.get("fault"), "the 404 request: status 404, error flag")
        boom_doc = root_doc(ids["boom"])
        check(boom_doc["http"]["response"]["status"] == 500 and boom_doc.get("fault") is True,
              "the exception: status 500, fault flag")
        exceptions = boom_doc["cause"]["exceptions"]
        check(exceptions[0]["type"] == "ZeroDivisionError" and "division by zero" in exceptions[0]["message"],
              "the exception's type and message are recorded")
        decided_doc = root_doc(decided_id)
        check(decided_doc["aws"]["xray"]["sampling_rule_name"] == "Cruddur",
              "the rule-sampled trace names the Cruddur rule")

        # The same traces through Ariadne's own query API.
        for name, expected in (("ok", 200), ("missing", 404), ("boom", 500)):
            hex_id = ids[name][2:10] + ids[name][11:]
            status, body = server.get("/api/v1/traces/" + hex_id)
            spans = json.loads(body)["spans"]
            server_span = next(s for s in spans if s["kind"] == "server")
            check(status == 200 and find_attr(server_span, "http.response.status_code") == expected,
                  "GET /api/v1/traces/%s shows http status %d" % (hex_id, expected))
            if name == "boom":
                check(server_span["status"]["code"] == "error" and
                      any(e["name"] == "exception" for e in server_span["events"]),
                      "the exception is an error status with an exception event")

        # Filters on summaries.
        now = time.time()
        summaries = xray.get_trace_summaries(StartTime=now - 600, EndTime=now + 60,
                                             FilterExpression='service("backend-flask") AND http.status = 404')
        check([s["Id"] for s in summaries["TraceSummaries"]] == [ids["missing"]],
              "get_trace_summaries with http.status = 404 finds exactly the 404 trace")
        summaries = xray.get_trace_summaries(StartTime=now - 600, EndTime=now + 60, FilterExpression="fault")
        check([s["Id"] for s in summaries["TraceSummaries"]] == [ids["boom"]], "FilterExpression fault finds the 500")

        # The SDK's target poller reports statistics (every 10 s); they show up in the summaries.
        def stats():
            for s in xray.get_sampling_statistic_summaries()["SamplingStatisticSummaries"]:
                if s["RuleName"] == "Cruddur" and s["RequestCount"] >= 1:
                    return s
            return None

        summary = wait_for("the SDK's sampling statistics", stats, timeout=35, interval=1)
        check(summary["RequestCount"] >= 1 and summary["SampledCount"] + summary["BorrowCount"] >= 1,
              "the Python SDK's statistics for Cruddur are aggregated: %s" % summary)

        # ...and the reply gave the SDK the rule's whole reservoir as its quota, with a fresh TTL.
        def quota():
            rule = next(r for r in cache.rules if r.name == "Cruddur")
            reservoir = rule.reservoir
            return reservoir._quota == 5 and reservoir._TTL and reservoir._TTL > time.time()

        wait_for("the SDK to load its reservoir quota", quota, timeout=15)
        check(True, "the Python SDK holds reservoir quota 5 for Cruddur from GetSamplingTargets")
    finally:
        server.stop()
    print("PASS test_python_sdk")


if __name__ == "__main__":
    main()
