"""`ariadne serve --tls-cert/--tls-key` with real clients, a self-signed certificate made here by the
openssl CLI, and every listener on HTTPS:

- curl and Python (ssl module) read the API; plain http:// gets a 400 that says to use https;
- the aws CLI (--endpoint-url https://... --ca-bundle CERT) calls GetSamplingRules, CreateGroup and
  PutTraceSegments, SigV4-signed (the server runs with --xray-access-key);
- the OpenTelemetry JS exporters (protobuf and JSON) export over https trusting the certificate
  through NODE_EXTRA_CA_CERTS, and fail without it;
- the web UI in Chromium over https (ui_tls.mjs; skipped when Chromium is missing);
- `ariadne trace` and `ariadne doctor` with --ca-file;
- SIGHUP with new certificate files: a new connection sees the new certificate.

usage: test_tls_clients.py /path/to/ariadne
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "xray"))
from harness import Server, check, skip, wait_for  # noqa: E402

ARIADNE = sys.argv[1]
NODE_DIR = os.path.join(HERE, "..", "node")
AWS = shutil.which("aws") or ("/root/.pyenv/shims/aws" if os.path.exists("/root/.pyenv/shims/aws") else None)
WORK = tempfile.mkdtemp(prefix="ariadne-tls-test-")


def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, check=True).stdout


def make_certificate(name):
    cert, key = os.path.join(WORK, name + ".crt"), os.path.join(WORK, name + ".key")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert)
    return cert, key


def fingerprint_of_file(cert):
    der = openssl("x509", "-in", cert, "-outform", "der")
    return hashlib.sha256(der).hexdigest()


def spki_hash(cert):
    pub = openssl("x509", "-in", cert, "-pubkey", "-noout")
    der = openssl("pkey", "-pubin", "-outform", "der", stdin=pub)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def served_fingerprint(port, ca):
    """SHA-256 of the certificate a new TLS connection to `port` gets, verified against `ca`."""
    context = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def https_get(port, path, ca):
    context = ssl.create_default_context(cafile=ca)
    try:
        with urllib.request.urlopen("https://127.0.0.1:%d%s" % (port, path), timeout=10,
                                    context=context) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def plain_get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def main():
    cert, key = make_certificate("first")
    second_cert, second_key = make_certificate("second")
    # The server reads these paths; the reload step copies the second certificate over them.
    live_cert, live_key = os.path.join(WORK, "server.crt"), os.path.join(WORK, "server.key")
    shutil.copy(cert, live_cert)
    shutil.copy(key, live_key)
    server = Server(ARIADNE, extra_args=["--tls-cert", live_cert, "--tls-key", live_key,
                                         "--xray-access-key", "AKIDEXAMPLE:secret"])
    failed = False
    try:
        otlp, http, xray = server.ports["otlp-http"], server.ports["http"], server.ports["xray"]
        check("TLS certificate" in server.stderr_text() and fingerprint_of_file(cert)[:4].upper()
              in server.stderr_text().replace(":", ""),
              "the server prints the certificate's fingerprint at start")

        # --- curl and Python on the API ---
        curl = subprocess.run(["curl", "-sS", "--cacert", cert, "https://127.0.0.1:%d/healthz" % http],
                              capture_output=True, text=True, timeout=30)
        check(curl.returncode == 0 and '"ok"' in curl.stdout,
              "curl --cacert reads /healthz over https (%s%s)" % (curl.stdout, curl.stderr))
        curl = subprocess.run(["curl", "-sS", "https://127.0.0.1:%d/healthz" % http],
                              capture_output=True, text=True, timeout=30)
        check(curl.returncode != 0, "curl without the CA refuses the self-signed certificate")
        status, body = https_get(http, "/healthz", cert)
        check(status == 200, "Python's ssl module verifies the certificate and reads /healthz")
        for name, port in (("http", http), ("otlp-http", otlp), ("xray", xray)):
            status, body = plain_get(port, "/healthz")
            check(status == 400 and "https://" in body,
                  "plain http:// on the %s port gets 400 saying to use https: %r" % (name, body))

        # --- the aws CLI on the X-Ray port ---
        if AWS:
            env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
                       AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_MAX_ATTEMPTS="1")
            env.pop("AWS_PROFILE", None)

            def aws(*args, ca=cert):
                proc = subprocess.run([AWS, "--endpoint-url", "https://127.0.0.1:%d" % xray,
                                       "--ca-bundle", ca, "--output", "json", *args],
                                      env=env, capture_output=True, text=True, timeout=60, cwd=WORK)
                return proc.returncode, (json.loads(proc.stdout) if proc.stdout.strip() else None), proc.stderr

            rc, out, err = aws("xray", "get-sampling-rules")
            check(rc == 0 and out["SamplingRuleRecords"][0]["SamplingRule"]["RuleName"] == "Default",
                  "aws xray get-sampling-rules over https with --ca-bundle (%s)" % err)
            rc, out, err = aws("xray", "create-group", "--group-name", "TlsGroup",
                               "--filter-expression", 'service("tls-svc")')
            check(rc == 0 and out["Group"]["GroupName"] == "TlsGroup",
                  "aws xray create-group (SigV4-signed, body checked) over https (%s)" % err)
            now = int(__import__("time").time())
            trace_id = "1-%08x-%s" % (now, os.urandom(12).hex())
            doc = {"name": "tls-svc", "id": os.urandom(8).hex(), "trace_id": trace_id,
                   "start_time": now - 1, "end_time": now - 0.5}
            rc, out, err = aws("xray", "put-trace-segments", "--trace-segment-documents", json.dumps(doc))
            check(rc == 0 and out["UnprocessedTraceSegments"] == [],
                  "aws xray put-trace-segments over https (%s)" % err)
            api_id = trace_id[2:10] + trace_id[11:]
            wait_for("the X-Ray segment over https", lambda: https_get(http, "/api/v1/traces/" + api_id, cert)[0] == 200)
            check("tls-svc" in https_get(http, "/api/v1/traces/" + api_id, cert)[1],
                  "the segment sent by the aws CLI reads back over https")
            rc, out, err = aws("xray", "get-sampling-rules", ca=second_cert)
            check(rc != 0 and "SSL" in err.upper(), "the aws CLI refuses the server with another CA bundle")
        else:
            print("SKIPPED: aws CLI steps (the aws CLI is not installed)", flush=True)

        # --- the OpenTelemetry JS exporters ---
        node = shutil.which("node")
        exported = None
        if node and os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@opentelemetry")):
            base_env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
            base_env.update(OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:%d" % otlp,
                            OTEL_SERVICE_NAME="tls-node")

            def export(extra):
                proc = subprocess.run([node, "otel_tls_export.mjs"], cwd=NODE_DIR, env=dict(base_env, **extra),
                                      capture_output=True, text=True, timeout=120)
                if proc.returncode != 0:
                    raise AssertionError("otel_tls_export.mjs failed: " + proc.stderr)
                return json.loads(proc.stdout.strip().splitlines()[-1])

            untrusted = export({})
            check(untrusted["proto"]["error"] and untrusted["json"]["error"],
                  "without NODE_EXTRA_CA_CERTS the OTel exporters refuse the certificate")
            exported = export({"NODE_EXTRA_CA_CERTS": cert})
            for kind in ("proto", "json"):
                check(exported[kind]["error"] is None,
                      "the OTel %s exporter exports over https (%s)" % (kind, exported[kind]["error"]))
                tid = exported[kind]["traceId"]
                wait_for("the %s span" % kind, lambda: https_get(http, "/api/v1/traces/" + tid, cert)[0] == 200)
                check(("tls export " + kind) in https_get(http, "/api/v1/traces/" + tid, cert)[1],
                      "the span from the %s exporter reads back over https" % kind)
        else:
            print("SKIPPED: Node OTel steps (run scripts/install-test-deps)", flush=True)

        # --- the web UI in Chromium ---
        if node and exported:
            proc = subprocess.run([node, os.path.join(HERE, "ui_tls.mjs"), "--base", "https://127.0.0.1:%d" % http,
                                   "--trace", exported["proto"]["traceId"], "--span", "tls export proto",
                                   "--spki", spki_hash(cert)], capture_output=True, text=True, timeout=180)
            print(proc.stdout + proc.stderr, flush=True)
            if proc.returncode == 77:
                print("SKIPPED: the Chromium step", flush=True)
            else:
                check(proc.returncode == 0, "the web UI works in Chromium over https")

        # --- the CLI: trace and doctor ---
        if exported:
            tid = exported["json"]["traceId"]
            proc = subprocess.run([ARIADNE, "trace", tid, "--server", "https://127.0.0.1:%d" % http,
                                   "--ca-file", cert], capture_output=True, text=True, timeout=60)
            check(proc.returncode == 0 and "tls export json" in proc.stdout,
                  "ariadne trace --server https://... --ca-file reads the trace (%s)" % proc.stderr)
        proc = subprocess.run([ARIADNE, "trace", "0" * 31 + "1", "--server", "https://127.0.0.1:%d" % http],
                              capture_output=True, text=True, timeout=60)
        check(proc.returncode != 0 and "--ca-file" in proc.stderr,
              "ariadne trace without --ca-file says how to trust the certificate: %s" % proc.stderr.strip())
        doctor_env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AWS_", "HONEYCOMB"))}
        doctor_env.update(OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:%d" % otlp,
                          OTEL_EXPORTER_OTLP_CERTIFICATE=cert, OTEL_SERVICE_NAME="tls-doctor",
                          AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:%d" % xray)
        proc = subprocess.run([ARIADNE, "doctor", "--server", "https://127.0.0.1:%d" % http, "--ca-file", cert,
                               "--timeout", "10", "--json"], env=doctor_env, capture_output=True, text=True,
                              timeout=120)
        report = json.loads(proc.stdout)
        ids = {f["id"]: f["level"] for f in report["findings"]}
        check(ids.get("server.up") == "ok", "doctor reaches the query API over https: %s" % ids)
        check(report["otlp"]["read_back"], "doctor sends an OTLP span over https and reads it back: %s" % ids)
        check(ids.get("xray.daemon_tls") == "warn",
              "doctor warns that X-Ray SDKs cannot fetch sampling rules from an https X-Ray port")
        proc = subprocess.run([ARIADNE, "doctor", "--server", "http://127.0.0.1:%d" % http, "--timeout", "2",
                               "--json"], env=doctor_env, capture_output=True, text=True, timeout=120)
        ids = {f["id"]: f["level"] for f in json.loads(proc.stdout)["findings"]}
        check(ids.get("server.needs_https") == "fail", "doctor tells an http:// --server to use https://")

        # --- SIGHUP reload ---
        check(served_fingerprint(http, cert) == fingerprint_of_file(cert), "before the reload: the first certificate")
        shutil.copy(second_cert, live_cert)
        shutil.copy(second_key, live_key)
        server.proc.send_signal(signal.SIGHUP)
        wait_for("the reload log line", lambda: "TLS certificate reloaded" in server.stderr_text())
        for name, port in (("http", http), ("otlp-http", otlp), ("xray", xray)):
            check(served_fingerprint(port, second_cert) == fingerprint_of_file(second_cert),
                  "after SIGHUP a new connection to %s gets the second certificate" % name)
        check(server.proc.poll() is None, "the server still runs after SIGHUP")
        # A broken file on reload keeps the current certificate.
        with open(live_cert, "w") as f:
            f.write("garbage\n")
        server.proc.send_signal(signal.SIGHUP)
        wait_for("the failed reload log line", lambda: "TLS reload failed" in server.stderr_text())
        check(served_fingerprint(http, second_cert) == fingerprint_of_file(second_cert),
              "a failed reload keeps serving the second certificate")
    except Exception:  # noqa: BLE001
        failed = True
        import traceback
        traceback.print_exc()
        print("server stderr:\n" + server.stderr_text())
    finally:
        server.stop()
    if failed:
        shutil.rmtree(WORK, ignore_errors=True)
        sys.exit(1)
    check_flags()
    print("PASS", flush=True)


def check_flags():
    """Flag mistakes are refused at start; --tls-listeners keeps the X-Ray port plain for SDKs."""
    cert, key = make_certificate("flags")
    data = os.path.join(WORK, "flags-data")
    for args, needle in ((["--tls-cert", cert], "--tls-cert and --tls-key go together"),
                         (["--tls-cert", cert, "--tls-key", os.path.join(WORK, "missing.key")], "--tls-key"),
                         (["--tls-cert", cert, "--tls-key", key, "--tls-listeners", "otlp-http,grpc"],
                          "unknown listener 'grpc'")):
        proc = subprocess.run([ARIADNE, "serve", "--data-dir", data, "--otlp-http", "0", "--http", "0",
                               "--xray", "0", "--otlp-grpc", "0", "--zipkin", "0", *args], capture_output=True, text=True, timeout=30)
        check(proc.returncode != 0 and needle in proc.stderr,
              "serve %s is refused: %s" % (" ".join(a.replace(WORK, "") for a in args), proc.stderr.strip()))
    server = Server(ARIADNE, extra_args=["--tls-cert", cert, "--tls-key", key,
                                         "--tls-listeners", "otlp-http,http"])
    try:
        status, _, body = server.xray_post("/GetSamplingRules", {})
        check(status == 200 and body["SamplingRuleRecords"],
              "with --tls-listeners otlp-http,http the X-Ray port stays plain HTTP for the SDKs")
        check(https_get(server.ports["http"], "/healthz", cert)[0] == 200, "... and the API speaks https")
    finally:
        server.stop()
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    if not shutil.which("openssl"):
        skip("the openssl command is not installed (apt-get install openssl)")
    main()
