"""SigV4 must cover the body (issue 12): a CreateGroup signed by botocore (the aws CLI's and boto3's
signer) is accepted; the same signed headers replayed with another body and x-amz-content-sha256
set to the original body's hash get 403; UNSIGNED-PAYLOAD gets a 403 that says why.

usage: test_sigv4_body.py /path/to/ariadne
"""
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, check, skip  # noqa: E402

try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    skip("botocore is not installed: pip install botocore (it comes with the aws CLI v1 and boto3)")

ARIADNE = sys.argv[1]
CREDENTIALS = Credentials("AKIDEXAMPLE", "secret")


def signed(url, body, extra_headers=None):
    request = AWSRequest(method="POST", url=url, data=body,
                         headers={"Content-Type": "application/json", **(extra_headers or {})})
    SigV4Auth(CREDENTIALS, "xray", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def post(url, headers, body):
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def main():
    server = Server(ARIADNE, extra_args=["--xray-access-key", "AKIDEXAMPLE:secret"])
    try:
        url = server.xray_url + "/CreateGroup"
        original = json.dumps({"GroupName": "Good", "FilterExpression": 'service("a")'}).encode()
        headers = signed(url, original)
        status, body = post(url, headers, original)
        check(status == 200 and body["Group"]["GroupName"] == "Good",
              "a botocore-signed CreateGroup is accepted: %s" % body)

        # The captured request replayed with another body; the declared hash is the original's.
        replay_headers = dict(headers, **{"x-amz-content-sha256": hashlib.sha256(original).hexdigest()})
        forged = json.dumps({"GroupName": "Evil", "FilterExpression": 'service("a")'}).encode()
        status, body = post(url, replay_headers, forged)
        check(status == 403, "the replay with another body gets 403 (got %d: %s)" % (status, body))
        check("x-amz-content-sha256" in body.get("Message", body.get("message", "")),
              "the 403 says the body does not match x-amz-content-sha256: %s" % body)
        status, _, groups = server.xray_post("/Groups", {}, headers=signed(server.xray_url + "/Groups", b"{}"))
        names = [g["GroupName"] for g in groups.get("Groups", [])]
        check("Evil" not in names, "no group was created from the forged body: %s" % names)

        # A correct declared hash, signed, is fine.
        body_bytes = json.dumps({"GroupName": "Declared", "FilterExpression": 'service("a")'}).encode()
        headers = signed(url, body_bytes, {"X-Amz-Content-SHA256": hashlib.sha256(body_bytes).hexdigest()})
        status, body = post(url, headers, body_bytes)
        check(status == 200, "a signed request with the right x-amz-content-sha256 is accepted: %s" % body)

        # UNSIGNED-PAYLOAD is for S3 only.
        body_bytes = json.dumps({"GroupName": "Unsigned", "FilterExpression": 'service("a")'}).encode()
        headers = signed(url, body_bytes, {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
        status, body = post(url, headers, body_bytes)
        check(status == 403 and "UNSIGNED-PAYLOAD" in json.dumps(body),
              "UNSIGNED-PAYLOAD gets 403 with a message naming it: %s" % body)
    finally:
        server.stop()
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
