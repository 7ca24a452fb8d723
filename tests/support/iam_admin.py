#!/usr/bin/env python3
"""Admin actions against the emulator for the Rust integration tests, made
with boto3 and the launcher's bootstrap admin key (auth checks are on).

Usage: iam_admin.py PORT_FILE ACTION [ARGS]
  create-user NAME            IAM user + access key; may call sts:AssumeRole,
                              sts:TagSession and sts:GetFederationToken.
                              Prints {"arn", "access_key_id", "secret_access_key"}.
  create-role NAME [EXT_ID]   A role any principal of account 123456789012 may
                              assume (and tag: sts:TagSession), requiring
                              ExternalId EXT_ID if given; the role itself may
                              assume roles (a hop of a role chain).
                              Prints {"arn"}.
  set-trust NAME [EXT_ID]     Replaces role NAME's trust policy with the one
                              create-role writes (no condition without EXT_ID).
                              Prints {"arn"}.
  create-role-with-policy NAME POLICY_JSON
                              A role whose trust policy is POLICY_JSON as
                              given (e.g. `keyfob trust-policy` output).
                              Prints {"arn"}.
  mfa USER                    A virtual MFA device enabled for USER.
                              Prints {"serial", "seed"}.
  totp SEED [OFFSET_STEPS]    The TOTP code (RFC 6238, SHA-1, 30 s) now, or
                              OFFSET_STEPS steps away. Prints the code.
  create-key USER             A further access key for USER. Prints it.
  caller KEY_ID SECRET        GetCallerIdentity signed with that key: prints
                              {"arn"} or {"error", "status"}.
  deactivate-key USER KEY_ID  Marks the access key Inactive.
"""
import base64
import hashlib
import hmac
import json
import struct
import sys
import time

import boto3

ACCOUNT = "123456789012"


def totp(seed: str, offset_steps: int = 0) -> str:
    counter = int(time.time() // 30) + offset_steps
    key = base64.b32decode(seed + "=" * (-len(seed) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def main() -> int:
    port_file, action, *args = sys.argv[1:]
    if action == "totp":
        print(totp(args[0], int(args[1]) if len(args) > 1 else 0))
        return 0
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
        # AssumeRole, GetAccessKeyInfo (whois), and the IAM guide's
        # ManageOwnAccessKeys actions. The
        # guide scopes them to arn:aws:iam::*:user/${aws:username}; moto
        # matches IAM actions against Resource "*" only, so "*" it is.
        iam.put_user_policy(
            UserName=name,
            PolicyName="assume-roles-and-manage-own-keys",
            PolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "sts:AssumeRole", "sts:TagSession", "sts:GetAccessKeyInfo",
                            "sts:GetFederationToken",
                        ],
                        "Resource": "*",
                    },
                    {
                        "Sid": "ManageOwnAccessKeys",
                        "Effect": "Allow",
                        "Action": [
                            "iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:GetAccessKeyLastUsed",
                            "iam:GetUser", "iam:ListAccessKeys", "iam:UpdateAccessKey", "iam:TagUser",
                        ],
                        "Resource": "*",
                    },
                ],
            }),
        )
        key = iam.create_access_key(UserName=name)["AccessKey"]
        print(json.dumps({
            "arn": user["Arn"],
            "access_key_id": key["AccessKeyId"],
            "secret_access_key": key["SecretAccessKey"],
        }))
    elif action in ("create-role", "set-trust"):
        name, *ext = args
        statement = {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
        if ext:
            statement["Condition"] = {"StringEquals": {"sts:ExternalId": ext[0]}}
        document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        if action == "create-role":
            role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=document)["Role"]
            # Its sessions may assume further roles: a hop of a chain.
            iam.put_role_policy(
                RoleName=name,
                PolicyName="chain",
                PolicyDocument=json.dumps({
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": "*"}
                    ],
                }),
            )
        else:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=document)
            role = iam.get_role(RoleName=name)["Role"]
        print(json.dumps({"arn": role["Arn"]}))
    elif action == "create-role-with-policy":
        name, document = args
        json.loads(document)  # fail here, clearly, on a document that is not JSON
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=document)["Role"]
        print(json.dumps({"arn": role["Arn"]}))
    elif action == "mfa":
        (user,) = args
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{user}-phone")["VirtualMFADevice"]
        seed = device["Base32StringSeed"]
        seed = seed.decode() if isinstance(seed, bytes) else seed
        iam.enable_mfa_device(
            UserName=user,
            SerialNumber=device["SerialNumber"],
            AuthenticationCode1="123456",
            AuthenticationCode2="654321",
        )
        print(json.dumps({"serial": device["SerialNumber"], "seed": seed}))
    elif action == "create-key":
        (user,) = args
        key = iam.create_access_key(UserName=user)["AccessKey"]
        print(json.dumps({"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}))
    elif action == "caller":
        key_id, secret = args
        sts = boto3.client(
            "sts",
            endpoint_url=f"http://127.0.0.1:{info['port']}",
            region_name="us-east-1",
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
        )
        try:
            print(json.dumps({"arn": sts.get_caller_identity()["Arn"]}))
        except Exception as e:  # noqa: BLE001 - the test asserts on the refusal
            print(json.dumps({"error": type(e).__name__, "status": getattr(e, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")}))
    elif action == "deactivate-key":
        user, key_id = args
        iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive")
        print("{}")
    else:
        print(f"unknown action {action}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
