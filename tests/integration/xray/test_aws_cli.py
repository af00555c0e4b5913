"""The machine's `aws` CLI against `ariadne serve`'s X-Ray port: the seed's commands and the rest
of the operations a user runs, asserting on the CLI's parsed JSON output.

usage: test_aws_cli.py /path/to/ariadne
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SEED_RULE, Server, check, skip, wait_for  # noqa: E402

ARIADNE = sys.argv[1]
AWS = shutil.which("aws") or ("/root/.pyenv/shims/aws" if os.path.exists("/root/.pyenv/shims/aws") else None)
if not AWS:
    skip("the aws CLI is not installed: install it with `apt-get install awscli` (v2) or "
         "`pip install awscli` (v1), then re-run ctest")

ENV = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
           AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_MAX_ATTEMPTS="1")
ENV.pop("AWS_PROFILE", None)
WORK = tempfile.mkdtemp(prefix="ariadne-aws-cli-")


def aws(server, *args, env=ENV, shell_line=None):
    """Runs the aws CLI; returns (exit code, parsed stdout or None, stderr)."""
    if shell_line is not None:
        cmd = "%s --endpoint-url %s --output json %s" % (AWS, server.xray_url, shell_line)
        proc = subprocess.run(["bash", "-c", cmd], env=env, capture_output=True, text=True, cwd=WORK)
    else:
        proc = subprocess.run([AWS, "--endpoint-url", server.xray_url, "--output", "json", *args],
                              env=env, capture_output=True, text=True, cwd=WORK, timeout=60)
    out = None
    if proc.stdout.strip():
        out = json.loads(proc.stdout)
    return proc.returncode, out, proc.stderr


def ok(server, *args, **kw):
    rc, out, err = aws(server, *args, **kw)
    if rc != 0:
        raise AssertionError("aws %s failed (%d): %s" % (" ".join(args) or kw.get("shell_line"), rc, err))
    return out


def segment_doc(trace_id, seg_id, name, start, status, fault=False, error=False, extra=None):
    doc = {"name": name, "id": seg_id, "trace_id": trace_id, "start_time": start,
           "end_time": start + 0.25, "http": {"request": {"method": "GET", "url": "http://localhost:4567/api/activities/home"},
                                               "response": {"status": status}}}
    if fault:
        doc["fault"] = True
    if error:
        doc["error"] = True
    doc.update(extra or {})
    return json.dumps(doc)


def main():
    server = Server(ARIADNE)
    data_dir = server.data_dir
    try:
        check("signatures are NOT checked" in server.stderr_text(),
              "the server says at start that X-Ray signatures are not checked")

        # --- the seed's two commands, exactly as the seed runs them in bash ---
        group = ok(server, shell_line='xray create-group --group-name Cruddur '
                                      '--filter-expression "service(\\"$backend-flask\\")"')
        check(group["Group"]["GroupName"] == "Cruddur", "create-group returns the Cruddur group")
        check(group["Group"]["FilterExpression"] == 'service("-flask")',
              "bash expanded $backend, so the stored filter is service(\"-flask\") (valid syntax)")
        check(group["Group"]["GroupARN"].startswith("arn:aws:xray:us-east-1:") and "/Cruddur/" in group["Group"]["GroupARN"],
              "the group has an X-Ray style ARN")
        check('filter names service "-flask"' in server.stderr_text(),
              "the server logs that the group's service never sent data")
        status, body = server.get("/api/v1/xray/groups")
        cruddur = next(g for g in json.loads(body)["groups"] if g["GroupName"] == "Cruddur")
        check(cruddur["MatchesNoKnownService"] and cruddur["UnknownServices"] == ["-flask"],
              "the query API shows that the Cruddur group names a service that never sent data")
        with open(os.path.join(WORK, "xray.json"), "w") as f:
            json.dump(SEED_RULE, f)
        record = ok(server, "xray", "create-sampling-rule", "--cli-input-json", "file://xray.json")
        rule = record["SamplingRuleRecord"]["SamplingRule"]
        check(rule["RuleName"] == "Cruddur" and rule["Priority"] == 9000 and rule["FixedRate"] == 0.1
              and rule["ReservoirSize"] == 5 and rule["ServiceName"] == "backend-flask",
              "create-sampling-rule echoes the seed's rule")
        check(rule["RuleARN"].endswith(":sampling-rule/Cruddur") and rule["Attributes"] == {},
              "the rule has a RuleARN and empty Attributes")
        check(isinstance(record["SamplingRuleRecord"]["CreatedAt"], (int, float)) or
              isinstance(record["SamplingRuleRecord"]["CreatedAt"], str), "CreatedAt is present")

        # --- listing ---
        groups = ok(server, "xray", "get-groups")
        names = [g["GroupName"] for g in groups["Groups"]]
        check(names == ["Default", "Cruddur"], "get-groups lists Default and Cruddur: %s" % names)
        rules = ok(server, "xray", "get-sampling-rules")
        rule_names = [r["SamplingRule"]["RuleName"] for r in rules["SamplingRuleRecords"]]
        check(rule_names == ["Cruddur", "Default"], "get-sampling-rules orders by priority: %s" % rule_names)
        default = rules["SamplingRuleRecords"][1]["SamplingRule"]
        check(default["ReservoirSize"] == 1 and default["FixedRate"] == 0.05 and default["Priority"] == 10000,
              "the Default rule is reservoir 1, rate 0.05, priority 10000")

        # --- validation errors come back as InvalidRequestException naming the field ---
        bad = dict(SEED_RULE["SamplingRule"], RuleName="TooHigh", Priority=10000)
        rc, _, err = aws(server, "xray", "create-sampling-rule", "--sampling-rule", json.dumps(bad))
        check(rc != 0 and "An error occurred (InvalidRequestException)" in err and "Priority" in err,
              "priority 10000 → InvalidRequestException naming Priority: " + err.strip())
        bad = dict(SEED_RULE["SamplingRule"], RuleName="BadRate", FixedRate=1.5)
        rc, _, err = aws(server, "xray", "create-sampling-rule", "--sampling-rule", json.dumps(bad))
        check(rc != 0 and "FixedRate" in err and "InvalidRequestException" in err, "FixedRate 1.5 is rejected")
        bad = dict(SEED_RULE["SamplingRule"], RuleName="x" * 33)
        rc, _, err = aws(server, "xray", "create-sampling-rule", "--sampling-rule", json.dumps(bad))
        check(rc != 0 and "RuleName" in err, "a 33-character rule name is rejected")
        rc, _, err = aws(server, "xray", "create-sampling-rule", "--cli-input-json", "file://xray.json")
        check(rc != 0 and "already exists" in err, "a duplicate rule name is rejected")
        rc, _, err = aws(server, "xray", "create-group", "--group-name", "Cruddur")
        check(rc != 0 and "InvalidRequestException" in err and "already exists" in err,
              "a duplicate group name is rejected")
        rc, _, err = aws(server, "xray", "create-group", "--group-name", "bad",
                         "--filter-expression", "responsetime >")
        check(rc != 0 and "InvalidRequestException" in err and "column 15" in err,
              "a bad filter is rejected with its column: " + err.strip())
        rc, _, err = aws(server, "xray", "delete-sampling-rule", "--rule-name", "Default")
        check(rc != 0 and "InvalidRequestException" in err, "the Default rule cannot be deleted")

        # --- updates ---
        updated = ok(server, "xray", "update-group", "--group-name", "Cruddur",
                     "--filter-expression", 'service("backend-flask")')
        check(updated["Group"]["FilterExpression"] == 'service("backend-flask")', "update-group changes the filter")
        got = ok(server, "xray", "get-group", "--group-name", "Cruddur")
        check(got["Group"]["FilterExpression"] == 'service("backend-flask")', "get-group shows the new filter")
        updated = ok(server, "xray", "update-sampling-rule", "--sampling-rule-update",
                     '{"RuleName":"Cruddur","FixedRate":0.2}')
        check(updated["SamplingRuleRecord"]["SamplingRule"]["FixedRate"] == 0.2 and
              updated["SamplingRuleRecord"]["SamplingRule"]["ReservoirSize"] == 5,
              "update-sampling-rule changes FixedRate only")
        updated = ok(server, "xray", "update-sampling-rule", "--sampling-rule-update",
                     '{"RuleName":"Default","ReservoirSize":2}')
        check(updated["SamplingRuleRecord"]["SamplingRule"]["ReservoirSize"] == 2, "the Default rule can be updated")

        # --- put-trace-segments, then read back ---
        now = time.time()
        trace_id = "1-%08x-%024x" % (int(now), 0xA11CE)
        docs = [
            segment_doc(trace_id, "a000000000000001", "backend-flask", now - 5, 500, fault=True, extra={
                "annotations": {"userid": "andrewbrown", "count": 3},
                "cause": {"exceptions": [{"id": "e000000000000001", "type": "ZeroDivisionError",
                                          "message": "division by zero"}]},
                "subsegments": [{"name": "postgres", "id": "a000000000000002", "namespace": "remote",
                                 "start_time": now - 4.9, "end_time": now - 4.8,
                                 "sql": {"sanitized_query": "SELECT 1", "database_type": "PostgreSQL"}}]}),
            "{this is not json",
        ]
        put = ok(server, "xray", "put-trace-segments", "--trace-segment-documents", *docs)
        unprocessed = put["UnprocessedTraceSegments"]
        check(len(unprocessed) == 1 and unprocessed[0]["ErrorCode"] == "InvalidJson",
              "put-trace-segments reports the bad document in UnprocessedTraceSegments")
        start, end = str(int(now - 600)), str(int(now + 60))
        summaries = ok(server, "xray", "get-trace-summaries", "--start-time", start, "--end-time", end,
                       "--filter-expression", 'service("backend-flask") { fault }')
        ids = [s["Id"] for s in summaries["TraceSummaries"]]
        check(trace_id in ids, "get-trace-summaries with a service fault filter finds the trace")
        summary = next(s for s in summaries["TraceSummaries"] if s["Id"] == trace_id)
        check(summary["HasFault"] and summary["Http"]["HttpStatus"] == 500 and
              summary["Annotations"]["userid"][0]["AnnotationValue"]["StringValue"] == "andrewbrown",
              "the summary carries fault, http status and annotations")
        status, body = server.get("/api/v1/xray/trace-summaries?filter=" +
                                  urllib.parse.quote('service("backend-flask") { fault }'))
        check(status == 200 and trace_id in [t["Id"] for t in json.loads(body)["TraceSummaries"]],
              "the query port's /api/v1/xray/trace-summaries applies the same filter")
        status, body = server.get("/api/v1/xray/groups")
        cruddur = next(g for g in json.loads(body)["groups"] if g["GroupName"] == "Cruddur")
        check(not cruddur["MatchesNoKnownService"], "after the fix and data, the group matches a known service")
        none = ok(server, "xray", "get-trace-summaries", "--start-time", start, "--end-time", end,
                  "--filter-expression", 'annotation.userid = "someoneelse"')
        check(none["TraceSummaries"] == [], "a non-matching annotation filter returns nothing")
        rc, _, err = aws(server, "xray", "get-trace-summaries", "--start-time", start, "--end-time", end,
                         "--filter-expression", "http.status >>")
        check(rc != 0 and "InvalidRequestException" in err and "column" in err,
              "a malformed filter expression → InvalidRequestException with a column")
        traces = ok(server, "xray", "batch-get-traces", "--trace-ids", trace_id, "1-00000000-000000000000000000000bad")
        check(len(traces["Traces"]) == 1 and traces["UnprocessedTraceIds"] == ["1-00000000-000000000000000000000bad"],
              "batch-get-traces returns the trace and lists the unknown id as unprocessed")
        segments = {json.loads(s["Document"])["name"]: json.loads(s["Document"]) for s in traces["Traces"][0]["Segments"]}
        root = segments["backend-flask"]
        check(root["fault"] is True and root["http"]["response"]["status"] == 500 and
              root["cause"]["exceptions"][0]["type"] == "ZeroDivisionError",
              "the segment document round-trips fault, http status and the exception")
        check(root["subsegments"][0]["sql"]["sanitized_query"] == "SELECT 1", "subsegments are nested with their sql")
        check("postgres" in segments and segments["postgres"].get("inferred") is True,
              "the remote subsegment yields an inferred segment")
        graph = ok(server, "xray", "get-service-graph", "--start-time", start, "--end-time", end)
        services = {s["Name"]: s for s in graph["Services"]}
        check("backend-flask" in services and services["backend-flask"]["SummaryStatistics"]["FaultStatistics"]["TotalCount"] >= 1,
              "get-service-graph shows backend-flask with its fault")
        check(any(services[e_name]["Name"] == "postgres" for e_name in services) and
              services["backend-flask"]["Edges"], "the graph has the backend-flask → postgres edge")
        grouped = ok(server, "xray", "get-service-graph", "--start-time", start, "--end-time", end,
                     "--group-name", "Cruddur")
        check(any(s["Name"] == "backend-flask" for s in grouped["Services"]), "the Cruddur group's graph includes backend-flask")
        trace_graph = ok(server, "xray", "get-trace-graph", "--trace-ids", trace_id)
        check(len(trace_graph["Services"]) == 2, "get-trace-graph returns the trace's two nodes")

        # The same trace through the OTLP-side query API, by its 32-hex id.
        status, body = server.get("/api/v1/traces/" + trace_id[2:10] + trace_id[11:])
        check(status == 200 and "backend-flask" in body, "the query API serves the trace by its 128-bit id")

        # --- UDP daemon protocol on the same port ---
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp_trace = "1-%08x-%024x" % (int(now), 0xBEEF)
        doc = json.dumps({"name": "udp-svc", "id": "b000000000000001", "trace_id": udp_trace,
                          "start_time": now - 1, "end_time": now - 0.5})
        udp.sendto(('{"format": "json", "version": 1}\n' + doc).encode(), ("127.0.0.1", server.xray_port))
        udp.sendto(b'{"format":"xml","version":1}\n{}', ("127.0.0.1", server.xray_port))
        udp.sendto(b'no header at all', ("127.0.0.1", server.xray_port))
        found = wait_for("the UDP segment", lambda: ok(server, "xray", "batch-get-traces", "--trace-ids", udp_trace)["Traces"])
        check(json.loads(found[0]["Segments"][0]["Document"])["name"] == "udp-svc",
              "a datagram sent to the xray port is stored and readable through batch-get-traces")
        metrics = wait_for("the drop counters", lambda: (lambda b: b if 'reason="bad_header"} 1' in b and 'reason="missing_header"} 1' in b else None)(server.get("/metrics")[1]))
        check(True, "malformed datagrams are counted per reason on /metrics")

        # --- unsigned sampler calls as the SDKs make them ---
        status, _, body = server.xray_post("/GetSamplingRules", {})
        check(status == 200 and len(body["SamplingRuleRecords"]) == 2, "unsigned POST /GetSamplingRules works")
        status, headers, body = server.xray_post("/NoSuchOperation", {})
        check(status == 404 and headers.get("x-amzn-ErrorType") == "UnknownOperationException",
              "unknown paths get 404 UnknownOperationException")
        status, headers, body = server.xray_post("/CreateGroup", {})
        check(status == 400 and headers.get("x-amzn-ErrorType") == "InvalidRequestException" and
              body["__type"] == "InvalidRequestException" and "GroupName" in body["message"],
              "a missing required field → 400 with x-amzn-ErrorType and __type")

        # --- restart: groups and rules survive ---
        server.stop(cleanup=False)
        server = Server(ARIADNE, data_dir=data_dir)
        rules = ok(server, "xray", "get-sampling-rules")
        by_name = {r["SamplingRule"]["RuleName"]: r["SamplingRule"] for r in rules["SamplingRuleRecords"]}
        check(by_name["Cruddur"]["FixedRate"] == 0.2 and by_name["Default"]["ReservoirSize"] == 2,
              "sampling rules (and the Default rule's update) survive a restart")
        got = ok(server, "xray", "get-group", "--group-name", "Cruddur")
        check(got["Group"]["FilterExpression"] == 'service("backend-flask")', "groups survive a restart")
        traces = ok(server, "xray", "batch-get-traces", "--trace-ids", trace_id)
        check(len(traces["Traces"]) == 1, "stored segments survive a restart")

        # --- deletes ---
        deleted = ok(server, "xray", "delete-sampling-rule", "--rule-name", "Cruddur")
        check(deleted["SamplingRuleRecord"]["SamplingRule"]["RuleName"] == "Cruddur", "delete-sampling-rule returns the rule")
        ok(server, "xray", "delete-group", "--group-name", "Cruddur")
        names = [g["GroupName"] for g in ok(server, "xray", "get-groups")["Groups"]]
        check(names == ["Default"], "after delete-group only Default remains")
        rc, _, err = aws(server, "xray", "get-group", "--group-name", "Cruddur")
        check(rc != 0 and "InvalidRequestException" in err, "a deleted group is gone")
    finally:
        server.stop()

    # --- SigV4 verification when a key is configured ---
    server = Server(ARIADNE, extra_args=["--xray-access-key", "AKIDTEST:s3cret"])
    try:
        check("must be SigV4-signed" in server.stderr_text(), "the server says signatures are required")
        good = dict(ENV, AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="s3cret")
        out = ok(server, "xray", "get-groups", env=good)
        check(out["Groups"][0]["GroupName"] == "Default", "a correctly signed request is accepted")
        wrong = dict(ENV, AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="wrong")
        rc, _, err = aws(server, "xray", "get-groups", env=wrong)
        check(rc != 0 and "An error occurred (InvalidSignatureException)" in err, "a wrong secret → InvalidSignatureException")
        other = dict(ENV, AWS_ACCESS_KEY_ID="AKIDOTHER", AWS_SECRET_ACCESS_KEY="s3cret")
        rc, _, err = aws(server, "xray", "get-groups", env=other)
        check(rc != 0 and "UnrecognizedClientException" in err, "an unknown key → UnrecognizedClientException")
        status, _, _ = server.xray_post("/Groups", {})
        check(status == 403, "an unsigned control-plane request is refused with 403")
        status, _, body = server.xray_post("/GetSamplingRules", {})
        check(status == 200, "the SDK's unsigned /GetSamplingRules is still accepted")
    finally:
        server.stop()
    shutil.rmtree(WORK, ignore_errors=True)
    print("PASS test_aws_cli")


if __name__ == "__main__":
    main()
