"""`ariadne doctor` end to end: the real `ariadne serve` on free ports, and `ariadne doctor` run as a
subprocess with a good environment and with each of the classic mistakes, asserting the exit code
and the finding (id in --json, text in the human report) for each.

usage: test_doctor.py --ariadne /path/to/build/bin/ariadne
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("--ariadne", required=True)
ARIADNE = parser.parse_args().ariadne
WORK = tempfile.mkdtemp(prefix="ariadne-doctor-")
FAILURES = []

# Every variable doctor reads; each run starts from none of them.
DOCTOR_VARS = [
    "ARIADNE_KEY",
    "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES", "HONEYCOMB_SERVICE_NAME", "HONEYCOMB_API_KEY",
    "AWS_XRAY_DAEMON_ADDRESS", "AWS_XRAY_URL", "AWS_XRAY_TRACING_NAME",
    "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
    "OTEL_EXPORTER_OTLP_CERTIFICATE", "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
]


class Server:
    """`ariadne serve` on free ports, with its own data directory."""

    def __init__(self, name, keys_env=None, extra_args=()):
        self.data_dir = os.path.join(WORK, name)
        os.makedirs(self.data_dir)
        self.key = None
        if keys_env:
            out = subprocess.run([ARIADNE, "keys", "create", "--env", keys_env, "--data-dir",
                                  self.data_dir], check=True, capture_output=True, text=True)
            self.key = out.stdout.split()[0]
            assert self.key.startswith("aik_"), out.stdout
            # Once keys exist, reading spans back needs a read key.
            out = subprocess.run([ARIADNE, "keys", "create", "--role", "read", "--data-dir",
                                  self.data_dir], check=True, capture_output=True, text=True)
            self.read_key = out.stdout.split()[0]
        self.log = open(os.path.join(self.data_dir, "serve.log"), "w+")
        self.proc = subprocess.Popen(
            [ARIADNE, "serve", "--data-dir", self.data_dir, "--otlp-http", "0", "--http", "0",
             "--xray", "0", "--otlp-grpc", "0", "--zipkin", "0", *extra_args], stdout=self.log,
            stderr=subprocess.STDOUT)
        self.ports = {}
        deadline = time.time() + 20
        while time.time() < deadline and len(self.ports) < 5:
            if self.proc.poll() is not None:
                break
            self.log.seek(0)
            for m in re.finditer(r"listening (\S+) (?:https://)?127\.0\.0\.1:(\d+)", self.log.read()):
                self.ports[m.group(1)] = int(m.group(2))
            time.sleep(0.05)
        if len(self.ports) < 5:
            self.log.seek(0)
            raise RuntimeError("ariadne serve did not start:\n" + self.log.read())
        self.otlp = "http://127.0.0.1:%d" % self.ports["otlp-http"]
        self.http = "http://127.0.0.1:%d" % self.ports["http"]
        self.xray = "127.0.0.1:%d" % self.ports["xray"]
        self.grpc = "http://127.0.0.1:%d" % self.ports["otlp-grpc"]
        self.zipkin = "http://127.0.0.1:%d/api/v2/spans" % self.ports["zipkin"]

    def xray_api(self, path, body):
        req = urllib.request.Request("http://" + self.xray + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"{}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def free_port():
    """A port nothing listens on (bound and released: TCP and UDP)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def doctor(env, server, *extra, json_mode=True, timeout="5"):
    full = {k: v for k, v in os.environ.items() if k not in DOCTOR_VARS}
    full.update(env)
    args = [ARIADNE, "doctor", "--server", server, "--timeout", timeout, *extra]
    if json_mode:
        args.append("--json")
    proc = subprocess.run(args, env=full, capture_output=True, text=True, timeout=60)
    report = json.loads(proc.stdout) if json_mode else proc.stdout
    return proc.returncode, report, proc.stderr


def findings(report, level=None):
    return {f["id"]: f for f in report["findings"] if level is None or f["level"] == level}


def case(name):
    def wrap(fn):
        def run(*args):
            try:
                fn(*args)
                print("PASS", name)
            except Exception as e:  # noqa: BLE001 - report every case, then fail
                import traceback
                traceback.print_exc()
                print("FAIL", name, "-", e)
                FAILURES.append(name)
        return run
    return wrap


def expect(cond, msg, report=None):
    if not cond:
        raise AssertionError(msg + ("\n" + json.dumps(report, indent=1) if report is not None
                                    and not isinstance(report, str) else "\n" + (report or "")))


def good_env(srv, **over):
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": srv.otlp,
           "OTEL_SERVICE_NAME": "backend-flask",
           "AWS_XRAY_DAEMON_ADDRESS": srv.xray}
    env.update(over)
    return env


@case("good environment: both paths read back, exit 0")
def test_good(srv):
    rc, rep, err = doctor(good_env(srv), srv.http)
    expect(rc == 0, "exit %d, stderr %s" % (rc, err), rep)
    expect(rep["ok"] and rep["problems"] == 0, "not ok", rep)
    expect(rep["otlp"]["read_back"] and rep["xray"]["read_back"], "not read back", rep)
    ok = findings(rep, "ok")
    for fid in ("server.up", "otlp.sent", "otlp.read_back", "xray.daemon", "xray.read_back"):
        expect(fid in ok, "missing ok finding " + fid, rep)
    expect("'backend-flask'" in ok["otlp.read_back"]["title"], "service not in read back", rep)
    # The span really is there, under the trace id doctor reports.
    with urllib.request.urlopen(srv.http + "/api/v1/traces/" + rep["otlp"]["trace_id"]) as r:
        spans = json.loads(r.read())["spans"]
    expect(any(s["service_name"] == "backend-flask" for s in spans), "trace not readable", rep)

    # The human report says the same.
    rc, text, _ = doctor(good_env(srv, OTEL_EXPORTER_OTLP_PROTOCOL="http/json"), srv.http,
                         json_mode=False)
    expect(rc == 0, "text mode exit %d" % rc, text)
    expect("Verdict: everything works" in text and "through OTLP and X-Ray" in text,
           "no verdict", text)
    expect("\u2713 OTLP: test span read back" in text, "no OTLP check mark", text)
    expect("http/json" in text, "JSON protocol not used", text)


@case("OTLP endpoint with /v1/traces appended")
def test_double_path(srv):
    rc, rep, _ = doctor(good_env(srv, OTEL_EXPORTER_OTLP_ENDPOINT=srv.otlp + "/v1/traces"),
                        srv.http)
    expect(rc == 1, "exit %d" % rc, rep)
    fail = findings(rep, "fail")
    expect("otlp.endpoint.double_path" in fail, "no double_path finding", rep)
    expect(fail["otlp.endpoint.double_path"]["fix"].startswith(
        "export OTEL_EXPORTER_OTLP_ENDPOINT=%s (without /v1/traces)" % srv.otlp), "fix", rep)
    expect("/v1/traces/v1/traces" in fail["otlp.endpoint.double_path"]["detail"], "detail", rep)
    expect("otlp.not_found" in fail, "the send did not show the 404", rep)
    expect(rep["xray"]["read_back"], "X-Ray path should still work", rep)
    rc, text, _ = doctor(good_env(srv, OTEL_EXPORTER_OTLP_ENDPOINT=srv.otlp + "/v1/traces/"),
                         srv.http, json_mode=False)
    expect(rc == 1, "text exit %d" % rc, text)
    expect("\u2717 OTEL_EXPORTER_OTLP_ENDPOINT already ends in /v1/traces" in text, "text", text)
    expect("fix: export OTEL_EXPORTER_OTLP_ENDPOINT=%s (without /v1/traces)" % srv.otlp in text,
           "text fix", text)


@case("OTLP endpoint on the wrong port")
def test_wrong_port(srv):
    # The query API's port instead of the OTLP one.
    rc, rep, _ = doctor(good_env(srv, OTEL_EXPORTER_OTLP_ENDPOINT=srv.http), srv.http)
    expect(rc == 1, "exit %d" % rc, rep)
    fail = findings(rep, "fail")
    expect("otlp.not_otlp" in fail, "no not_otlp finding", rep)
    expect("query API" in fail["otlp.not_otlp"]["detail"], "not named the query API", rep)
    # Nothing listening there.
    dead = "http://127.0.0.1:%d" % free_port()
    rc, rep, _ = doctor(good_env(srv, OTEL_EXPORTER_OTLP_ENDPOINT=dead), srv.http)
    expect(rc == 1, "exit %d" % rc, rep)
    expect("otlp.unreachable" in findings(rep, "fail"), "no unreachable finding", rep)
    # The gRPC port with the HTTP protocol.
    rc, rep, _ = doctor(good_env(srv, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4317"),
                        srv.http)
    expect(rc == 1, "exit %d" % rc, rep)
    fail = findings(rep, "fail")
    expect("otlp.endpoint.grpc_port" in fail, "no grpc_port finding", rep)
    expect(fail["otlp.endpoint.grpc_port"]["fix"] ==
           "export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318", "fix", rep)


@case("daemon address nobody listens on")
def test_dead_daemon(srv):
    addr = "127.0.0.1:%d" % free_port()
    rc, rep, _ = doctor(good_env(srv, AWS_XRAY_DAEMON_ADDRESS=addr), srv.http)
    expect(rc == 1, "exit %d" % rc, rep)
    fail = findings(rep, "fail")
    expect("xray.daemon_unreachable" in fail, "no daemon_unreachable finding", rep)
    expect(addr in fail["xray.daemon_unreachable"]["title"], "address not named", rep)
    expect(rep["otlp"]["read_back"] and not rep["xray"]["read_back"], "read back flags", rep)
    # The split form points at the live server: works.
    port = srv.ports["xray"]
    rc, rep, _ = doctor(good_env(srv, AWS_XRAY_DAEMON_ADDRESS="tcp:127.0.0.1:%d udp:127.0.0.1:%d"
                                 % (port, port)), srv.http)
    expect(rc == 0 and rep["xray"]["read_back"], "split form", rep)
    # A malformed one.
    rc, rep, _ = doctor(good_env(srv, AWS_XRAY_DAEMON_ADDRESS="udp:127.0.0.1"), srv.http)
    expect(rc == 1 and "xray.address.invalid" in findings(rep, "fail"), "malformed", rep)


@case("server not running")
def test_server_down(srv):
    rc, rep, _ = doctor(good_env(srv), "http://127.0.0.1:%d" % free_port())
    expect(rc == 1, "exit %d" % rc, rep)
    expect("server.down" in findings(rep, "fail"), "no server.down finding", rep)


@case("empty key accepted by a server without keys: warning only")
def test_empty_key_no_keys(srv):
    rc, rep, _ = doctor(good_env(srv, OTEL_EXPORTER_OTLP_HEADERS="x-honeycomb-team="), srv.http)
    expect(rc == 0, "exit %d" % rc, rep)
    expect("key.empty" in findings(rep, "warn"), "no key.empty warning", rep)


@case("X-Ray group names another service (the seed's $backend-flask)")
def test_group(srv):
    srv.xray_api("/CreateGroup", {"GroupName": "Cruddur",
                                  "FilterExpression": 'service("$backend-flask")'})
    rc, rep, _ = doctor(good_env(srv), srv.http)
    expect(rc == 1, "exit %d" % rc, rep)
    fail = findings(rep, "fail")
    expect("xray.group_service" in fail, "no group_service finding", rep)
    f = fail["xray.group_service"]
    expect("'Cruddur'" in f["title"] and '"$backend-flask"' in f["title"] and
           "'backend-flask'" in f["title"], "title", rep)
    expect("--group-name Cruddur --filter-expression 'service(\"backend-flask\")'" in f["fix"],
           "fix", rep)
    # Both test spans still arrived: only the group is wrong.
    expect(rep["otlp"]["read_back"] and rep["xray"]["read_back"], "paths", rep)
    # Fixed as doctor says: all good again.
    srv.xray_api("/UpdateGroup", {"GroupName": "Cruddur",
                                  "FilterExpression": 'service("backend-flask")'})
    rc, rep, _ = doctor(good_env(srv), srv.http)
    expect(rc == 0 and "xray.group" in findings(rep, "ok"), "after the fix", rep)


@case("keys: empty key value, unknown key, good key")
def test_keys(keyed):
    # `x-honeycomb-team=${HONEYCOMB_API_KEY}` with HONEYCOMB_API_KEY unset.
    rc, rep, _ = doctor(good_env(keyed, OTEL_EXPORTER_OTLP_HEADERS="x-honeycomb-team="),
                        keyed.http)
    expect(rc == 1, "exit %d" % rc, rep)
    fail = findings(rep, "fail")
    expect("key.empty" in fail, "no key.empty finding", rep)
    expect("HONEYCOMB_API_KEY is not set" in fail["key.empty"]["title"], "title", rep)
    expect("export HONEYCOMB_API_KEY=" in fail["key.empty"]["fix"], "fix", rep)
    rc, text, _ = doctor(good_env(keyed, OTEL_EXPORTER_OTLP_HEADERS="x-honeycomb-team="),
                         keyed.http, json_mode=False)
    expect(rc == 1 and "\u2717 OTLP: 401 \u2014 x-honeycomb-team is empty" in text, "text", text)
    # A key the server does not know.
    rc, rep, _ = doctor(good_env(keyed, OTEL_EXPORTER_OTLP_HEADERS="x-honeycomb-team=nope1234"),
                        keyed.http)
    expect(rc == 1 and "key.unknown" in findings(rep, "fail"), "unknown key", rep)
    # No header at all.
    rc, rep, _ = doctor(good_env(keyed), keyed.http)
    expect(rc == 1 and "key.missing" in findings(rep, "fail"), "missing key", rep)
    # 'Name: value' instead of key=value.
    rc, rep, _ = doctor(good_env(keyed, OTEL_EXPORTER_OTLP_HEADERS="x-honeycomb-team: " +
                                 keyed.key), keyed.http)
    expect(rc == 1 and "headers.colon" in findings(rep, "fail"), "colon", rep)
    # The right ingest key but no read key: the spans land, reading them back is refused.
    rc, rep, _ = doctor(good_env(keyed, HONEYCOMB_API_KEY=keyed.key,
                                 OTEL_EXPORTER_OTLP_HEADERS="x-honeycomb-team=" + keyed.key),
                        keyed.http)
    fail = findings(rep, "fail")
    expect(rc == 1 and "otlp.read_key" in fail, "no read key finding", rep)
    expect("--key" in fail["otlp.read_key"]["fix"] and "ARIADNE_KEY" in fail["otlp.read_key"]["fix"],
           "read key fix", rep)
    # The right key, the way the seed writes it, and a read key: lands in the key's environment.
    rc, rep, _ = doctor(good_env(keyed, HONEYCOMB_API_KEY=keyed.key, ARIADNE_KEY=keyed.read_key,
                                 OTEL_EXPORTER_OTLP_HEADERS="x-honeycomb-team=" + keyed.key),
                        keyed.http)
    expect(rc == 0, "exit %d" % rc, rep)
    expect("environment 'prod'" in findings(rep, "ok")["otlp.read_back"]["title"], "env", rep)
    expect(keyed.key not in json.dumps(rep), "the key is printed in full", rep)
    expect(keyed.read_key not in json.dumps(rep), "the read key is printed in full", rep)
    # --key works like ARIADNE_KEY.
    rc, rep, _ = doctor(good_env(keyed, OTEL_EXPORTER_OTLP_HEADERS="x-honeycomb-team=" + keyed.key),
                        keyed.http, "--key", keyed.read_key)
    expect(rc == 0, "--key: exit %d" % rc, rep)


def read_trace(srv, trace_id, key=None):
    req = urllib.request.Request(srv.http + "/api/v1/traces/" + trace_id)
    if key:
        req.add_header("Authorization", "Bearer " + key)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())["spans"]


@case("OTLP/gRPC on the gRPC port: a working setup, read back")
def test_grpc(srv):
    rc, rep, err = doctor(good_env(srv, OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
                                   OTEL_EXPORTER_OTLP_ENDPOINT=srv.grpc), srv.http)
    expect(rc == 0, "exit %d, stderr %s" % (rc, err), rep)
    expect(rep["otlp"]["protocol"] == "grpc" and rep["otlp"]["read_back"], "not read back", rep)
    ok = findings(rep, "ok")
    expect("otlp.endpoint" in ok and "TraceService/Export on 127.0.0.1:%d" % srv.ports["otlp-grpc"]
           in ok["otlp.endpoint"]["title"], "endpoint finding", rep)
    expect("grpc" in ok["otlp.sent"]["title"], "sent over grpc", rep)
    spans = read_trace(srv, rep["otlp"]["trace_id"])
    expect([s["name"] for s in spans] == ["ariadne doctor (OTLP)"] and
           spans[0]["service_name"] == "backend-flask", "the gRPC span is not in the store", rep)
    # The traces-only variables win, and the human report names the path.
    rc, text, _ = doctor(good_env(srv, OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
                                  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpc",
                                  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=srv.grpc), srv.http,
                         json_mode=False)
    expect(rc == 0 and "through OTLP/gRPC and X-Ray" in text, "traces protocol", text)
    # The gRPC protocol against the OTLP/HTTP port: something listens, but not gRPC.
    rc, rep, _ = doctor(good_env(srv, OTEL_EXPORTER_OTLP_PROTOCOL="grpc"), srv.http)
    fail = findings(rep, "fail")
    expect(rc == 1 and "otlp.not_grpc" in fail, "grpc to the HTTP port", rep)
    expect("listening otlp-grpc" in fail["otlp.not_grpc"]["fix"], "fix", rep)
    # Nothing listening.
    rc, rep, _ = doctor(good_env(srv, OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
                                 OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:%d" % free_port()),
                        srv.http)
    expect(rc == 1 and "otlp.unreachable" in findings(rep, "fail"), "grpc unreachable", rep)
    # The OTLP/HTTP port number with the gRPC protocol.
    rc, rep, _ = doctor(good_env(srv, OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
                                 OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318"), srv.http)
    fail = findings(rep, "fail")
    expect(rc == 1 and "otlp.endpoint.http_port" in fail, "grpc on 4318", rep)
    expect(fail["otlp.endpoint.http_port"]["fix"].startswith(
        "export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317"), "fix", rep)
    # A 404 from the OTLP/HTTP port no longer claims /v1/traces is the only way in.
    rc, rep, _ = doctor(good_env(srv, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=srv.otlp + "/v2/traces"),
                        srv.http)
    fail = findings(rep, "fail")
    expect("otlp.not_found" in fail and "only" not in fail["otlp.not_found"]["detail"] and
           "4317" in fail["otlp.not_found"]["detail"], "404 detail", rep)


@case("Zipkin endpoint: a working setup, read back; a wrong path")
def test_zipkin(srv):
    env = {"OTEL_SERVICE_NAME": "zipkin-app", "OTEL_TRACES_EXPORTER": "zipkin",
           "OTEL_EXPORTER_ZIPKIN_ENDPOINT": srv.zipkin}
    rc, rep, err = doctor(env, srv.http)
    expect(rc == 0, "exit %d, stderr %s" % (rc, err), rep)
    expect(rep["zipkin"]["read_back"] and not rep["otlp"]["configured"], "zipkin read back", rep)
    spans = read_trace(srv, rep["zipkin"]["trace_id"])
    expect(len(spans) == 1 and spans[0]["service_name"] == "zipkin-app" and
           spans[0]["name"] == "ariadne doctor (Zipkin)", "zipkin span in the store", rep)
    env["OTEL_EXPORTER_ZIPKIN_ENDPOINT"] = srv.zipkin.replace("/api/v2/spans", "")
    rc, rep, _ = doctor(env, srv.http)
    fail = findings(rep, "fail")
    expect(rc == 1 and "zipkin.endpoint.path" in fail, "zipkin path", rep)
    expect(fail["zipkin.endpoint.path"]["fix"] ==
           "export OTEL_EXPORTER_ZIPKIN_ENDPOINT=" + srv.zipkin, "zipkin fix", rep)
    # The OTLP/HTTP port as a Zipkin endpoint: refused with the Zipkin port as the fix.
    env["OTEL_EXPORTER_ZIPKIN_ENDPOINT"] = srv.otlp + "/api/v2/spans"
    rc, rep, _ = doctor(env, srv.http)
    expect(rc == 1 and "zipkin.not_zipkin" in findings(rep, "fail"), "not zipkin", rep)


@case("OTLP/gRPC with keys: missing, unknown, good")
def test_grpc_keys(keyed):
    env = good_env(keyed, OTEL_EXPORTER_OTLP_PROTOCOL="grpc", OTEL_EXPORTER_OTLP_ENDPOINT=keyed.grpc)
    rc, rep, _ = doctor(env, keyed.http)
    fail = findings(rep, "fail")
    expect(rc == 1 and "key.missing" in fail and "UNAUTHENTICATED" in fail["key.missing"]["title"],
           "missing key over grpc", rep)
    rc, rep, _ = doctor(dict(env, OTEL_EXPORTER_OTLP_HEADERS="x-honeycomb-team=nope1234"),
                        keyed.http)
    expect(rc == 1 and "key.unknown" in findings(rep, "fail"), "unknown key over grpc", rep)
    # The key in metadata, as `authorization: Bearer KEY`, and a read key: lands in 'prod'.
    rc, rep, _ = doctor(dict(env, OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer " + keyed.key,
                             ARIADNE_KEY=keyed.read_key), keyed.http)
    expect(rc == 0, "exit %d" % rc, rep)
    expect("environment 'prod'" in findings(rep, "ok")["otlp.read_back"]["title"], "env", rep)


@case("OTLP/gRPC over TLS: verified with the CA file, refused without it")
def test_grpc_tls(tls):
    env = good_env(tls, OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
                   OTEL_EXPORTER_OTLP_ENDPOINT=tls.grpc.replace("http://", "https://"),
                   OTEL_EXPORTER_OTLP_CERTIFICATE=tls.cert)
    del env["AWS_XRAY_DAEMON_ADDRESS"]
    server = tls.http.replace("http://", "https://")
    rc, rep, err = doctor(env, server, "--ca-file", tls.cert)
    expect(rc == 0, "exit %d, stderr %s" % (rc, err), rep)
    expect(rep["otlp"]["read_back"] and "over TLS" in findings(rep, "ok")["otlp.sent"]["title"],
           "grpc over TLS", rep)
    # Plaintext gRPC to the TLS port: the handshake finding.
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = tls.grpc
    rc, rep, _ = doctor(env, server, "--ca-file", tls.cert)
    expect(rc == 1 and "otlp.not_grpc" in findings(rep, "fail"), "plaintext to TLS", rep)
    # TLS without trusting the self-signed certificate.
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = tls.grpc.replace("http://", "https://")
    del env["OTEL_EXPORTER_OTLP_CERTIFICATE"]
    rc, rep, _ = doctor(env, server)  # no --ca-file either: nothing trusts the certificate
    fail = findings(rep, "fail")
    expect(rc == 1 and "otlp.not_grpc" in fail and "certificate" in fail["otlp.not_grpc"]["detail"],
           "untrusted certificate", rep)
    # --insecure skips verification for gRPC as for HTTP.
    rc, rep, _ = doctor(env, server, "--insecure")
    expect(rc == 0 and rep["otlp"]["read_back"], "--insecure over gRPC", rep)


def make_certificate():
    cert, key = os.path.join(WORK, "cert.pem"), os.path.join(WORK, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key,
                    "-out", cert], check=True, capture_output=True)
    return cert, key


def main():
    srv = Server("plain")
    keyed = Server("keyed", keys_env="prod")
    tls = None
    if shutil.which("openssl"):
        cert, key = make_certificate()
        tls = Server("tls", extra_args=["--tls-cert", cert, "--tls-key", key])
        tls.cert = cert
    try:
        test_good(srv)
        test_grpc(srv)
        test_zipkin(srv)
        test_double_path(srv)
        test_wrong_port(srv)
        test_dead_daemon(srv)
        test_server_down(srv)
        test_empty_key_no_keys(srv)
        test_group(srv)  # last on `srv`: it adds a group
        test_keys(keyed)
        test_grpc_keys(keyed)
        if tls:
            test_grpc_tls(tls)
        else:
            print("SKIP OTLP/gRPC over TLS (no openssl)")
    finally:
        srv.stop()
        keyed.stop()
        if tls:
            tls.stop()
    if FAILURES:
        print("%d case(s) failed: %s (data in %s)" % (len(FAILURES), ", ".join(FAILURES), WORK))
        sys.exit(1)
    shutil.rmtree(WORK, ignore_errors=True)
    print("all doctor cases passed")


if __name__ == "__main__":
    main()
