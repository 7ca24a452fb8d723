#!/usr/bin/env python3
"""Clients of keyfob's container credentials endpoint for tests/container.rs.

They read AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN
from the environment, as every AWS SDK does, and print one line of JSON.

Usage: container_client.py ACTION [ARGS]
  probe               Raw HTTP against the endpoint: the status without a token,
                      with a wrong one, for POST and for another path (both with
                      the token), for a 10 KB header, for a GET with a body, and the
                      JSON keys of a good answer.
                      Prints {"missing", "wrong", "post", "path", "big", "body", "ok", "keys", "expiration"}.
  parallel N          N threads fetch the credentials at once (raw HTTP).
                      Prints {"ok": count, "errors": [...], "keys": [distinct AccessKeyIds]}.
  boto3               boto3's default chain (the container provider), then
                      sts:GetCallerIdentity. Prints {"Arn", "AccessKeyId"}.
  loop SECONDS        One boto3 STS client calling GetCallerIdentity every 0.5 s for
                      SECONDS, refreshing from the endpoint as botocore does.
                      Prints {"calls", "failures": [...], "keys": [AccessKeyIds in order of first use], "arns": [...]}.
"""
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

URI = os.environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
TOKEN = os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN", "")


def status(url: str, headers: dict, method: str = "GET") -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def body_status(auth: dict) -> int:
    """A GET that carries a body (urllib sends one only with POST)."""
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(URI)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request("GET", u.path, body=b"hello", headers=auth)
    code = conn.getresponse().status
    conn.close()
    return code


def probe() -> dict:
    auth = {"Authorization": TOKEN}
    code, body = status(URI, auth)
    good = json.loads(body) if code == 200 else {}
    return {
        "missing": status(URI, {})[0],
        "wrong": status(URI, {"Authorization": TOKEN[:-1] + ("0" if TOKEN[-1:] != "0" else "1")})[0],
        "post": status(URI, auth, "POST")[0],
        "path": status(URI.rsplit("/", 1)[0] + "/other", auth)[0],
        "big": status(URI, {**auth, "X-Padding": "x" * 10000})[0],
        "body": body_status(auth),
        "ok": code,
        "keys": sorted(good),
        "expiration": good.get("Expiration"),
    }


def parallel(n: int) -> dict:
    results: list = [None] * n
    start = threading.Barrier(n)

    def fetch(i: int) -> None:
        start.wait()
        try:
            code, body = status(URI, {"Authorization": TOKEN})
            doc = json.loads(body)
            ok = code == 200 and all(doc.get(k) for k in ("AccessKeyId", "SecretAccessKey", "Token", "Expiration"))
            results[i] = doc["AccessKeyId"] if ok else f"status {code}: {body[:200]!r}"
        except Exception as e:  # noqa: BLE001 - reported to the test
            results[i] = f"error: {e}"

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    keys = [r for r in results if r and r.startswith("ASIA")]
    return {"ok": len(keys), "errors": [r for r in results if r not in keys], "keys": sorted(set(keys))}


def boto3_caller() -> dict:
    import boto3

    session = boto3.Session()
    ident = session.client("sts").get_caller_identity()
    return {"Arn": ident["Arn"], "AccessKeyId": session.get_credentials().get_frozen_credentials().access_key}


def loop(seconds: float) -> dict:
    import boto3

    session = boto3.Session()
    sts = session.client("sts")
    creds = session.get_credentials()
    calls, failures, keys, arns = 0, [], [], set()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        calls += 1
        try:
            arns.add(sts.get_caller_identity()["Arn"])
            key = creds.get_frozen_credentials().access_key
            if key not in keys:
                keys.append(key)
        except Exception as e:  # noqa: BLE001 - reported to the test
            failures.append(str(e))
        time.sleep(0.5)
    return {"calls": calls, "failures": failures, "keys": keys, "arns": sorted(arns)}


def main() -> None:
    action = sys.argv[1]
    if action == "probe":
        out = probe()
    elif action == "parallel":
        out = parallel(int(sys.argv[2]))
    elif action == "boto3":
        out = boto3_caller()
    elif action == "loop":
        out = loop(float(sys.argv[2]))
    else:
        sys.exit(f"unknown action {action}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
