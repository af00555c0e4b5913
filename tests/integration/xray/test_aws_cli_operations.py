"""The aws CLI against the X-Ray operations added in issue 15: Insights (empty), encryption config,
trace segment destination, resource tags (and Tags on create-group / create-sampling-rule, kept
across a restart), get-trace-summaries' --time-range-type and --sampling-strategy, the CLI's own
paging over position tokens, and get-time-series-service-statistics.

usage: test_aws_cli_operations.py /path/to/ariadne
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, check, skip  # noqa: E402

ARIADNE = sys.argv[1]
AWS = shutil.which("aws") or ("/root/.pyenv/shims/aws" if os.path.exists("/root/.pyenv/shims/aws") else None)
if not AWS:
    skip("the aws CLI is not installed: install it with `apt-get install awscli` (v2) or "
         "`pip install awscli` (v1), then re-run ctest")

ENV = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
           AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_MAX_ATTEMPTS="1")
ENV.pop("AWS_PROFILE", None)


def aws(server, *args):
    proc = subprocess.run([AWS, "--endpoint-url", server.xray_url, "--output", "json", "xray", *args],
                          env=ENV, capture_output=True, text=True, timeout=120)
    out = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, out, proc.stderr


def ok(server, *args):
    rc, out, err = aws(server, *args)
    if rc != 0:
        raise AssertionError("aws xray %s failed (%d): %s" % (" ".join(args), rc, err))
    return out if out is not None else {}


def put(server, docs):
    for i in range(0, len(docs), 50):
        status, _, body = server.xray_post("/TraceSegments", {"TraceSegmentDocuments": docs[i:i + 50]})
        assert status == 200 and body["UnprocessedTraceSegments"] == [], body


def segment(trace_id, seg_id, name, start, fault=False):
    doc = {"name": name, "id": seg_id, "trace_id": trace_id, "start_time": start, "end_time": start + 0.2,
           "http": {"request": {"method": "GET", "url": "http://x/"}, "response": {"status": 500 if fault else 200}}}
    if fault:
        doc["fault"] = True
    return json.dumps(doc)


def main():
    data_dir = tempfile.mkdtemp(prefix="ariadne-xray-ops-")
    server = Server(ARIADNE, data_dir=data_dir)
    try:
        # --- Insights: none computed, empty answers instead of UnknownOperation ---
        now = time.time()
        start, end = str(int(now - 600)), str(int(now + 60))
        out = ok(server, "get-insight-summaries", "--start-time", start, "--end-time", end)
        check(out["InsightSummaries"] == [], "get-insight-summaries answers an empty list")
        out = ok(server, "get-insight", "--insight-id", "abc")
        check("Insight" not in out, "get-insight answers without an insight")
        out = ok(server, "get-insight-events", "--insight-id", "abc")
        check(out["InsightEvents"] == [], "get-insight-events answers an empty list")

        # --- encryption config and trace segment destination ---
        out = ok(server, "get-encryption-config")
        check(out["EncryptionConfig"]["Type"] == "NONE" and out["EncryptionConfig"]["Status"] == "ACTIVE",
              "get-encryption-config starts at NONE/ACTIVE")
        out = ok(server, "put-encryption-config", "--type", "KMS", "--key-id", "alias/ariadne")
        check(out["EncryptionConfig"] == {"Status": "ACTIVE", "Type": "KMS", "KeyId": "alias/ariadne"},
              "put-encryption-config sets KMS with the key id")
        rc, _, err = aws(server, "put-encryption-config", "--type", "KMS")
        check(rc != 0 and "InvalidRequestException" in err and "KeyId" in err, "KMS without a KeyId is refused")
        out = ok(server, "get-trace-segment-destination")
        check(out["Destination"] == "XRay", "the destination starts as XRay")
        out = ok(server, "update-trace-segment-destination", "--destination", "CloudWatchLogs")
        check(out["Destination"] == "CloudWatchLogs" and out["Status"] == "ACTIVE",
              "update-trace-segment-destination records CloudWatchLogs")

        # --- tags ---
        group = ok(server, "create-group", "--group-name", "web", "--filter-expression", 'service("web")',
                   "--tags", "Key=team,Value=frontend", "Key=tier,Value=1")["Group"]
        tags = ok(server, "list-tags-for-resource", "--resource-arn", group["GroupARN"])["Tags"]
        check(tags == [{"Key": "team", "Value": "frontend"}, {"Key": "tier", "Value": "1"}],
              "create-group --tags tags the group: %s" % tags)
        ok(server, "tag-resource", "--resource-arn", group["GroupARN"], "--tags", "Key=env,Value=prod")
        ok(server, "untag-resource", "--resource-arn", group["GroupARN"], "--tag-keys", "team")
        tags = ok(server, "list-tags-for-resource", "--resource-arn", group["GroupARN"])["Tags"]
        check(tags == [{"Key": "env", "Value": "prod"}, {"Key": "tier", "Value": "1"}],
              "tag-resource adds and untag-resource removes: %s" % tags)
        rule = {"RuleName": "tagged", "ResourceARN": "*", "Priority": 100, "FixedRate": 0.1, "ReservoirSize": 1,
                "ServiceName": "*", "ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": "*", "Version": 1}
        record = ok(server, "create-sampling-rule", "--sampling-rule", json.dumps(rule),
                    "--tags", "Key=owner,Value=sre")["SamplingRuleRecord"]
        rule_arn = record["SamplingRule"]["RuleARN"]
        tags = ok(server, "list-tags-for-resource", "--resource-arn", rule_arn)["Tags"]
        check(tags == [{"Key": "owner", "Value": "sre"}], "create-sampling-rule --tags tags the rule")
        rc, _, err = aws(server, "list-tags-for-resource", "--resource-arn",
                         "arn:aws:xray:us-east-1:000000000000:group/nope/x")
        check(rc != 0 and "ResourceNotFoundException" in err, "tags of an unknown ARN → ResourceNotFoundException")
        rc, _, err = aws(server, "tag-resource", "--resource-arn", rule_arn, "--tags", "Key=aws:x,Value=1")
        check(rc != 0 and "InvalidRequestException" in err and "aws:" in err, "the aws: prefix is reserved")

        server.stop(cleanup=False)
        server = Server(ARIADNE, data_dir=data_dir)
        tags = ok(server, "list-tags-for-resource", "--resource-arn", group["GroupARN"])["Tags"]
        check(tags == [{"Key": "env", "Value": "prod"}, {"Key": "tier", "Value": "1"}], "tags survive a restart")
        check(ok(server, "get-encryption-config")["EncryptionConfig"]["Type"] == "KMS",
              "the encryption setting survives a restart")
        check(ok(server, "get-trace-segment-destination")["Destination"] == "CloudWatchLogs",
              "the destination survives a restart")
        ok(server, "delete-sampling-rule", "--rule-name", "tagged")
        rc, _, err = aws(server, "list-tags-for-resource", "--resource-arn", rule_arn)
        check(rc != 0 and "ResourceNotFoundException" in err, "a deleted rule's tags go with it")

        # --- 250 traces: the CLI pages through them (position tokens) ---
        now = time.time()
        docs = []
        for i in range(250):
            trace_id = "1-%08x-%024x" % (int(now), 0xC0000 + i)
            docs.append(segment(trace_id, "%016x" % (0xC000000 + i), "backend-flask", now - 30 + i * 0.01,
                                fault=(i % 5 == 0)))
        # One trace whose id says it began 1000 s ago while its segment arrived now.
        old_id = "1-%08x-%024x" % (int(now - 1000), 0xD0D0)
        docs.append(segment(old_id, "00000000000d0d01", "backend-flask", now - 20))
        put(server, docs)
        start, end = str(int(now - 120)), str(int(now + 60))
        out = ok(server, "get-trace-summaries", "--start-time", start, "--end-time", end)
        ids = [s["Id"] for s in out["TraceSummaries"]]
        check(len(ids) == 251 and len(set(ids)) == 251,
              "the CLI pages get-trace-summaries to all 251 traces, none twice (%d, %d unique)" % (len(ids), len(set(ids))))
        by_id = ok(server, "get-trace-summaries", "--time-range-type", "TraceId",
                   "--start-time", str(int(now - 1010)), "--end-time", str(int(now - 990)))
        check([s["Id"] for s in by_id["TraceSummaries"]] == [old_id],
              "--time-range-type TraceId finds the trace by the time in its id")
        by_event = ok(server, "get-trace-summaries", "--time-range-type", "Event",
                      "--start-time", str(int(now - 1010)), "--end-time", str(int(now - 990)))
        check(by_event["TraceSummaries"] == [], "--time-range-type Event does not (its segment is recent)")
        half = ok(server, "get-trace-summaries", "--start-time", start, "--end-time", end, "--sampling",
                  "--sampling-strategy", "Name=FixedRate,Value=0.5")
        sampled = [s["Id"] for s in half["TraceSummaries"]]
        again = [s["Id"] for s in ok(server, "get-trace-summaries", "--start-time", start, "--end-time", end,
                                     "--sampling", "--sampling-strategy", "Name=FixedRate,Value=0.5")["TraceSummaries"]]
        check(60 < len(sampled) < 190 and sampled == again,
              "--sampling-strategy FixedRate 0.5 keeps about half, the same ones each time (%d)" % len(sampled))
        rc, _, err = aws(server, "get-trace-summaries", "--start-time", start, "--end-time", end,
                         "--sampling-strategy", "Name=FixedRate,Value=2")
        check(rc != 0 and "InvalidRequestException" in err, "a FixedRate above 1 is refused")

        # --- time series for the console's service-map charts ---
        series = ok(server, "get-time-series-service-statistics", "--start-time", start, "--end-time", end,
                    "--entity-selector-expression", 'service("backend-flask")', "--period", "60")
        points = series["TimeSeriesServiceStatistics"]
        total = sum(p["ServiceSummaryStatistics"]["TotalCount"] for p in points)
        faults = sum(p["ServiceSummaryStatistics"]["FaultStatistics"]["TotalCount"] for p in points)
        check(total == 251 and faults == 50,
              "get-time-series-service-statistics counts 251 requests and 50 faults (%d, %d)" % (total, faults))
        def on_minute(t):  # epoch seconds, or ISO-8601 (…T10:17:00+00:00) depending on the CLI
            return int(t) % 60 == 0 if isinstance(t, (int, float)) else str(t)[17:19] == "00"
        check(points and all(on_minute(p["Timestamp"]) for p in points),
              "points sit on period boundaries: %s" % [p["Timestamp"] for p in points])
        rc, _, err = aws(server, "get-time-series-service-statistics", "--start-time", start, "--end-time", end,
                         "--period", "90")
        check(rc != 0 and "Period" in err, "a Period that is not a multiple of 60 is refused")
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
