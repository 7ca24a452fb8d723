#!/usr/bin/env python3
"""Installs the current AWS CLI v2 for the tests, from PyPI.

    python3 tests/support/install_awscli.py PACKAGE==VERSION DIR

AWS publishes the CLI v2 as a self-contained build (PyInstaller: its own
Python, its own botocore models), not as a wheel. The CDK's asset package
`aws-cdk-asset-awscli-v2` carries that build as a Lambda layer: the wheel
holds a .jsii.tgz, which holds lib/layer.zip, which holds
awscli/v2/<version>/dist/ (the `aws` executable beside its libraries). This
unpacks that dist/ folder into DIR (DIR/dist/aws), through a folder beside
it and a rename, so a broken download never leaves half a CLI. DIR/.package
names what was installed: scripts/deps skips the work when it matches.
Called by scripts/deps (its test part); needs pip (the test venv's).
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile


def layer_zip(wheel: str) -> bytes:
    with zipfile.ZipFile(wheel) as whl:
        names = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
        if len(names) != 1:
            raise SystemExit(f"install_awscli: expected one .jsii.tgz in {wheel}, found {names}")
        with whl.open(names[0]) as tgz, tarfile.open(fileobj=tgz, mode="r|gz") as tar:
            for member in tar:
                if member.name == "package/lib/layer.zip":
                    extracted = tar.extractfile(member)
                    assert extracted is not None  # a regular file by name
                    return extracted.read()
    raise SystemExit(f"install_awscli: no package/lib/layer.zip in {wheel}")


def unpack_dist(layer: bytes, into: str) -> str:
    """Extracts awscli/v2/<version>/dist/ into `into`; returns the version."""
    with zipfile.ZipFile(io.BytesIO(layer)) as z:
        versions = set()
        for info in z.infolist():
            parts = info.filename.split("/")
            if len(parts) < 5 or parts[:2] != ["awscli", "v2"] or parts[3] != "dist" or parts[2] == "current":
                continue
            versions.add(parts[2])
            rel = "/".join(parts[4:])
            if not rel or ".." in parts:
                continue
            target = os.path.join(into, rel)
            mode = info.external_attr >> 16
            if info.is_dir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if stat.S_ISLNK(mode):
                if os.path.lexists(target):
                    os.remove(target)
                os.symlink(z.read(info).decode(), target)
                continue
            with z.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.chmod(target, (mode & 0o777) or 0o644)
    if len(versions) != 1:
        raise SystemExit(f"install_awscli: expected one CLI version in the layer, found {sorted(versions)}")
    return versions.pop()


def main() -> int:
    package, folder = sys.argv[1], os.path.abspath(sys.argv[2])
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=parent, prefix=".awscli-download-") as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
             "-d", tmp, package],
            check=True,
        )
        wheels = [f for f in os.listdir(tmp) if f.endswith(".whl")]
        if len(wheels) != 1:
            raise SystemExit(f"install_awscli: pip gave {wheels} for {package}")
        staged = os.path.join(tmp, "staged")
        version = unpack_dist(layer_zip(os.path.join(tmp, wheels[0])), os.path.join(staged, "dist"))
        out = subprocess.run([os.path.join(staged, "dist", "aws"), "--version"], capture_output=True, text=True)
        if out.returncode != 0 or f"aws-cli/{version} " not in out.stdout:
            raise SystemExit(f"install_awscli: the unpacked CLI does not run: {out.stdout}{out.stderr}")
        with open(os.path.join(staged, ".package"), "w") as f:
            f.write(package + "\n")
        old = os.path.join(tmp, "old")
        if os.path.exists(folder):
            os.rename(folder, old)
        os.rename(staged, folder)
    print(f"install_awscli: {out.stdout.split()[0]} in {os.path.relpath(folder)}/dist/aws")
    return 0


if __name__ == "__main__":
    sys.exit(main())
