#!/usr/bin/env python3
"""Admin actions against the emulator for the Rust integration tests.

Usage: iam_admin.py PORT_FILE create-user NAME
  Creates IAM user NAME with one access key, using the launcher's bootstrap
  admin key (auth checks are on), and prints
  {"arn": ..., "access_key_id": ..., "secret_access_key": ...} on stdout.
"""

import json
import sys

import boto3


def main() -> int:
    port_file, action, *args = sys.argv[1:]
    with open(port_file) as f:
        info = json.load(f)
    iam = boto3.client(
        "iam",
        endpoint_url=f"http://127.0.0.1:{info['port']}",
        region_name="us-east-1",
        aws_access_key_id=info["admin_access_key_id"],
        aws_secret_access_key=info["admin_secret_access_key"],
    )
    if action == "create-user":
        (name,) = args
        user = iam.create_user(UserName=name)["User"]
        key = iam.create_access_key(UserName=name)["AccessKey"]
        print(
            json.dumps(
                {
                    "arn": user["Arn"],
                    "access_key_id": key["AccessKeyId"],
                    "secret_access_key": key["SecretAccessKey"],
                }
            )
        )
        return 0
    print(f"unknown action {action}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
