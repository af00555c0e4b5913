"""Starts the real `ariadne serve` on free ports for the X-Ray client tests and stops it again.

Used by test_aws_cli.py, test_python_sdk.py and test_node_sdk.py. Exit code 77 means "a client
this test needs is missing" (ctest reports the test as skipped and the message says what to
install).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77


def skip(message):
    print("SKIPPED: " + message, flush=True)
    sys.exit(SKIP)


class Server:
    def __init__(self, binary, data_dir=None, extra_args=()):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="ariadne-xray-test-")
        self.stderr_path = os.path.join(self.data_dir, "..", os.path.basename(self.data_dir) + ".stderr")
        self.stderr = open(self.stderr_path, "w")
        args = [binary, "serve", "--data-dir", os.path.join(self.data_dir, "data"),
                "--otlp-http", "0", "--http", "0", "--xray", "0", "--otlp-grpc", "0", "--zipkin", "0",
                *extra_args]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.ports = {}
        deadline = time.time() + 20
        while "http" not in self.ports:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("ariadne serve exited early:\n" + open(self.stderr_path).read())
            parts = line.split()
            if len(parts) == 3 and parts[0] == "listening":
                self.ports[parts[1]] = int(parts[2].rsplit(":", 1)[1])
            if time.time() > deadline:
                raise RuntimeError("ariadne serve did not print its ports")
        self.xray_port = self.ports["xray"]
        self.http_port = self.ports["http"]
        self.xray_url = "http://127.0.0.1:%d" % self.xray_port

    def stderr_text(self):
        self.stderr.flush()
        return open(self.stderr_path).read()

    def stop(self, cleanup=True):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.stderr.close()
        if cleanup and self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            try:
                os.remove(self.stderr_path)
            except OSError:
                pass

    def get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.http_port, path), timeout=10) as r:
            return r.status, r.read().decode()

    def xray_post(self, path, body, headers=None):
        request = urllib.request.Request(self.xray_url + path, data=json.dumps(body).encode(),
                                         method="POST", headers=headers or {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, dict(r.headers), json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), json.loads(e.read() or b"{}")


def wait_for(what, fn, timeout=15.0, interval=0.2):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for " + what + " (last value: %r)" % (last,))


def check(condition, message):
    if not condition:
        raise AssertionError(message)
    print("ok  " + message, flush=True)


SEED_RULE = {"SamplingRule": {"RuleName": "Cruddur", "ResourceARN": "*", "Priority": 9000,
                              "FixedRate": 0.1, "ReservoirSize": 5, "ServiceName": "backend-flask",
                              "ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": "*",
                              "Version": 1}}
