#!/usr/bin/env python3
"""Build a signed flat apt repository of STAND-IN packages with the real NVIDIA names and versions.

For the molecule scenario only: no GPU and no NVIDIA repository are reachable here, so these
packages (each says "stand-in" in its Description) carry the real package names, version strings
and dependencies, and a few marker files (no kernel module, no libraries, no nvidia-smi). apt,
the pins, the holds and the version matrix checks then run for real against them.

The repository is signed with a throw-away key generated here; the stand-in cuda-keyring package
installs that key as /usr/share/keyrings/cuda-archive-keyring.gpg and a signed-by sources entry,
exactly the files NVIDIA's cuda-keyring installs, so no [trusted=yes] is needed.

usage: build_standin_repo.py OUTDIR REPO_URL
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DRIVERS = ["570.172.08-1", "580.95.05-1"]
TOOLKITS = {"12-8": "12.8.1-1", "13-0": "13.0.2-1"}
KEYRING = "/usr/share/keyrings/cuda-archive-keyring.gpg"
NCCL = ["2.26.2-1+cuda12.8", "2.28.3-1+cuda12.9", "2.28.3-1+cuda13.0"]


def package(
    work: Path, out: Path, name: str, version: str, depends: str = "", files: dict | None = None
) -> None:
    root = work / f"{name}_{version}"
    (root / "DEBIAN").mkdir(parents=True)
    control = [
        f"Package: {name}",
        f"Version: {version}",
        "Architecture: all",
        "Maintainer: gpuforge.cluster tests <noreply@example.invalid>",
        "Section: misc",
        "Priority: optional",
        f"Description: stand-in for NVIDIA's {name} {version} (gpuforge molecule test)",
        " Not the real package: it has the real name, version and dependencies only, and installs",
        " marker files. Built by molecule/nvidia_stack_nccl/build_standin_repo.py.",
    ]
    if depends:
        control.insert(3, f"Depends: {depends}")
    (root / "DEBIAN" / "control").write_text("\n".join(control) + "\n")
    files = dict(files or {})
    files.setdefault(
        f"usr/share/doc/{name}/STAND-IN", f"{name} {version}: stand-in package for tests, not NVIDIA's\n"
    )
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    subprocess.run(
        [
            "dpkg-deb",
            "--root-owner-group",
            "-Zgzip",
            "--build",
            str(root),
            str(out / f"{name}_{version.replace(':', '%3a')}_all.deb"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    out, url = Path(sys.argv[1]), sys.argv[2].rstrip("/") + "/"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        work, gnupg = Path(tmp) / "pkgs", Path(tmp) / "gnupg"
        gnupg.mkdir(mode=0o700)
        gpg = [
            "gpg",
            "--homedir",
            str(gnupg),
            "--batch",
            "--quiet",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ]
        subprocess.run(
            [
                *gpg,
                "--quick-gen-key",
                "gpuforge stand-in CUDA repository (tests only)",
                "ed25519",
                "sign",
                "1d",
            ],
            check=True,
        )
        key = subprocess.run([*gpg, "--export"], check=True, capture_output=True).stdout
        package(
            work,
            out,
            "cuda-keyring",
            "1.1-1",
            files={
                "usr/share/keyrings/cuda-archive-keyring.gpg": key,
                "etc/apt/sources.list.d/cuda-debian12-x86_64.list": f"deb [signed-by={KEYRING}] {url} /\n",
            },
        )
        for ver in DRIVERS:
            package(work, out, "libcuda1", ver)
            package(work, out, "nvidia-persistenced", ver)
            package(
                work, out, "nvidia-open", ver, depends=f"libcuda1 (= {ver}), nvidia-persistenced (= {ver})"
            )
            package(
                work, out, "cuda-drivers", ver, depends=f"libcuda1 (= {ver}), nvidia-persistenced (= {ver})"
            )
        for mm, ver in TOOLKITS.items():
            dotted = mm.replace("-", ".")
            package(
                work,
                out,
                f"cuda-toolkit-{mm}",
                ver,
                files={
                    f"usr/local/cuda-{dotted}/version.json": json.dumps(
                        {"cuda": {"name": "CUDA SDK (stand-in)", "version": ver.split("-")[0]}}
                    )
                    + "\n"
                },
            )
        for ver in NCCL:
            package(work, out, "libnccl2", ver)
            package(work, out, "libnccl-dev", ver, depends=f"libnccl2 (= {ver})")
        # Debian/Ubuntu's own toolkit, which nvidia_stack refuses or removes.
        package(work, out, "nvidia-cuda-toolkit", "12.4.131~12.4.1-1")
        # Debian's own driver package (its archive's version), outside the repository index: verify installs
        # it with dpkg to prove that nvidia_stack refuses it, then purges it when asked.
        foreign = out.parent / "standin-foreign"
        foreign.mkdir(exist_ok=True)
        package(work, foreign, "nvidia-driver", "535.216.01-1~deb12u1")
        packages = subprocess.run(
            ["dpkg-scanpackages", "--multiversion", "."], cwd=out, check=True, capture_output=True, text=True
        ).stdout
        (out / "Packages").write_text(packages)
        (out / "Packages.gz").write_bytes(gzip.compress(packages.encode(), mtime=0))
        lines = [
            "Origin: gpuforge stand-in",
            "Label: gpuforge stand-in CUDA repository (tests only)",
            "Architectures: amd64 all",
            f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S UTC', time.gmtime())}",
            "SHA256:",
        ]
        for name in ("Packages", "Packages.gz"):
            data = (out / name).read_bytes()
            lines.append(f" {hashlib.sha256(data).hexdigest()} {len(data)} {name}")
        (out / "Release").write_text("\n".join(lines) + "\n")
        subprocess.run([*gpg, "--clearsign", "-o", str(out / "InRelease"), str(out / "Release")], check=True)
    print(f"{len(list(out.glob('*.deb')))} stand-in packages in {out}, served as {url}")


if __name__ == "__main__":
    os.umask(0o022)
    main()
