"""The web UI's X-Ray data with SigV4 required on the X-Ray port (`--xray-access-key`): the UI's
calls (POST /api/v1/xray/<Operation> and the GET /api/v1/xray/ views on the query port) reach the
X-Ray API in process and are answered, while the X-Ray port itself still refuses unsigned calls.

usage: test_ui_sigv4.py /path/to/ariadne
"""
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, check, wait_for  # noqa: E402

ARIADNE = sys.argv[1]


def ui_post(server, operation, body):
    """What ui/src/api.ts sends: POST /api/v1/xray/<operation> on the query port, same origin."""
    url = "http://127.0.0.1:%d/api/v1/xray/%s" % (server.http_port, operation)
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Origin": "http://127.0.0.1:%d" % server.http_port,
                                              "Sec-Fetch-Site": "same-origin"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def main():
    server = Server(ARIADNE, extra_args=["--xray-access-key", "AKIDUI:uis3cret"])
    try:
        check("must be SigV4-signed" in server.stderr_text(), "the server requires SigV4 on the X-Ray port")
        now = time.time()
        trace_id = "1-%08x-%024x" % (int(now), 0x5167)
        doc = {"name": "backend-flask", "id": "b000000000000001", "trace_id": trace_id,
               "start_time": now - 2, "end_time": now - 1.5, "fault": True,
               "http": {"request": {"method": "GET", "url": "http://x/api"}, "response": {"status": 502}},
               "subsegments": [{"name": "postgres", "id": "b000000000000002", "namespace": "remote",
                                "start_time": now - 1.9, "end_time": now - 1.8}]}
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.sendto(b'{"format": "json", "version": 1}\n' + json.dumps(doc).encode(),
                   ("127.0.0.1", server.xray_port))
        udp.close()

        status, _, body = server.xray_post("/TraceSummaries", {"StartTime": now - 60, "EndTime": now + 60})
        check(status == 403 and body.get("__type") == "MissingAuthenticationTokenException",
              "the X-Ray port refuses an unsigned read: %d %s" % (status, body))

        window = {"StartTime": now - 60, "EndTime": now + 60}

        def summaries():
            status, body = ui_post(server, "TraceSummaries", dict(window, FilterExpression="fault"))
            return body if status == 200 and body["TraceSummaries"] else None
        found = wait_for("the trace in the UI's trace summaries", summaries)
        check(found["TraceSummaries"][0]["Id"] == trace_id and found["TraceSummaries"][0]["HasFault"],
              "the UI's TraceSummaries call answers with the fault trace")
        status, body = ui_post(server, "Traces", {"TraceIds": [trace_id]})
        check(status == 200 and len(body["Traces"]) == 1 and body["UnprocessedTraceIds"] == [],
              "the UI's BatchGetTraces call returns the trace")
        status, body = ui_post(server, "ServiceGraph", window)
        names = sorted(s["Name"] for s in body.get("Services", []))
        check(status == 200 and names == ["backend-flask", "postgres"],
              "the UI's GetServiceGraph call returns both nodes: %s" % names)
        status, body = ui_post(server, "CreateGroup", {"GroupName": "ui", "FilterExpression": 'service("backend-flask")'})
        check(status == 200 and body["Group"]["GroupName"] == "ui", "the UI can create a group")
        status, body = ui_post(server, "Groups", {})
        check(status == 200 and [g["GroupName"] for g in body["Groups"]] == ["Default", "ui"],
              "the UI lists the groups")
        status, body = ui_post(server, "GetSamplingRules", {})
        check(status == 200 and body["SamplingRuleRecords"][0]["SamplingRule"]["RuleName"] == "Default",
              "the UI lists the sampling rules")
        status, body = ui_post(server, "UpdateSamplingRule", {"SamplingRuleUpdate": {"RuleName": "Default", "FixedRate": 0.2}})
        check(status == 200 and body["SamplingRuleRecord"]["SamplingRule"]["FixedRate"] == 0.2,
              "the UI can change a sampling rule")
        status, body = server.get("/api/v1/xray/groups")
        groups = {g["GroupName"]: g for g in json.loads(body)["groups"]}
        check(status == 200 and not groups["ui"]["MatchesNoKnownService"], "the groups view answers")
        status, body = server.get("/api/v1/xray/trace-summaries?filter=fault")
        check(status == 200 and [t["Id"] for t in json.loads(body)["TraceSummaries"]] == [trace_id],
              "the trace-summaries view answers")
        status, body = server.get("/api/v1/xray/sampling")
        check(status == 200 and json.loads(body)["rules"][0]["SamplingRule"]["RuleName"] == "Default", "the sampling view answers")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
