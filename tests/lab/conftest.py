"""End-to-end tests on a lab of its own (prefix gpuforge-test, subnet 10.79.0.0/24).

The lab is created fresh for the session, reached over SSH like real servers, and removed
afterwards. Playbooks run through ansible-runner (lab/labctl.py) so the tests read counts
and failures from the event stream.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))

PREFIX = "gpuforge-test"
NODES = int(os.environ.get("LAB_NODES", "3"))
LAB_ENV = {
    "LAB_PREFIX": PREFIX,
    "LAB_NETWORK": PREFIX,
    "LAB_SUBNET": "10.79.0",
    "LAB_NODES": str(NODES),
}


def lab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(REPO / "lab" / "lab.sh"), *args],
                          env={**os.environ, **LAB_ENV}, check=True, text=True)


@pytest.fixture(scope="session")
def inventory() -> Path:
    lab("down")
    lab("up")
    yield REPO / ".lab" / PREFIX / "inventory"
    if not os.environ.get("LAB_KEEP"):
        lab("down")


@pytest.fixture(scope="session")
def fact_cache(inventory: Path) -> Path:
    return inventory.parent / "facts"


def node_exec(node: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command inside a lab node (state inspection only; Ansible itself uses SSH)."""
    return subprocess.run(["podman", "exec", f"{PREFIX}-{node}", *argv],
                          capture_output=True, text=True, check=check)
