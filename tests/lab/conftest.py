"""End-to-end tests on a lab of its own (prefix gpuforge-test, subnets 10.79.0.0/24 and 10.81.0.0/24, BMC
network 10.83.0.0/24; LAB_TEST_PREFIX, LAB_TEST_SUBNET, LAB_TEST_SUBNET2 and LAB_TEST_SUBNET_BMC give a second
lab its own, to run beside the first).

The lab is created fresh for the session, reached over SSH like real servers, and removed
afterwards. Playbooks run through ansible-runner (lab/labctl.py) so the tests read counts
and failures from the event stream.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))

PREFIX = os.environ.get("LAB_TEST_PREFIX", "gpuforge-test")
SUBNET = os.environ.get("LAB_TEST_SUBNET", "10.79.0")
SUBNET2 = os.environ.get("LAB_TEST_SUBNET2", "10.81.0")
SUBNET_BMC = os.environ.get("LAB_TEST_SUBNET_BMC", "10.83.0")
NODES = int(os.environ.get("LAB_NODES", "3"))
# The mixed layout: node0 (head) has no GPU, node1 and node2 a FAKE nvidia-smi replaying real captures
# (1x H100 and 2x H200, driver 580); every node also sits on a second network (10.81.0.0/24) with
# jumbo frames (MTU 9000), as R1's RDMA network.
FAKE_GPUS = {"node1": "h100-580-q-x", "node2": "h200x2-580-q-x"}
GPU_NODES = {node: capture for node, capture in FAKE_GPUS.items() if int(node[4:]) < NODES}
# Login users as on R2 workstations and R4 rentals: node0 and node2 log in as ubuntu, node1 as user; node0 at
# first takes only its password (site.yml's first run uses -k and leaves key login). Privileged nodes: Docker
# runs inside them (the rental tests, container_runtime).
LOGIN_USERS = {"node0": "ubuntu", "node1": "user", "node2": "ubuntu"}
PASSWORD_NODE = "node0"
NODE_OPTS = {"node0": "password-only,user:ubuntu,privileged", "node1": "user:user,privileged",
             "node2": "user:ubuntu,privileged"}
LAB_ENV = {
    "LAB_PREFIX": PREFIX,
    "LAB_NETWORK": PREFIX,
    "LAB_SUBNET": SUBNET,
    "LAB_NODES": str(NODES),
    "LAB_NET2": f"{PREFIX}-b:{SUBNET2}:9000",
    "LAB_BMC_NET": f"{PREFIX}-bmc:{SUBNET_BMC}",
    "LAB_NODE_OPTS": " ".join(f"{node}={opts}" for node, opts in NODE_OPTS.items() if int(node[4:]) < NODES),
    "LAB_FAKE_GPUS": " ".join(f"{node}={capture}" for node, capture in GPU_NODES.items()),
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
def password(inventory: Path) -> str:
    """The first-contact password of the password-only node (lab/lab.sh keeps it 0600 in its state)."""
    return (inventory.parent / "ssh" / "password").read_text().splitlines()[0]


@pytest.fixture(scope="session")
def fact_cache(inventory: Path) -> Path:
    return inventory.parent / "facts"


def node_exec(node: str, *argv: str, check: bool = True,
              stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run a command inside a lab node (state inspection only; Ansible itself uses SSH); ``stdin``: its
    input."""
    interactive = ["-i"] if stdin is not None else []
    return subprocess.run(["podman", "exec", *interactive, f"{PREFIX}-{node}", *argv],
                          input=stdin, capture_output=True, text=True, check=check)


# tests/run.sh runs the other stages (lint, unit, sanity, molecule) beside the lab (controller side at
# nice 19). A test whose outcome hangs on timeouts of a few seconds (Slurm's power saving, SSH to a blackholed
# address, Ray's registration) is marked `quiet`: before it, the lab waits for those stages to end
# (GPUFORGE_QUIET_AFTER: a file that exists once they have; GPUFORGE_QUIET_PID: their process, in case it died
# without writing it).
def pytest_configure(config):
    config.addinivalue_line("markers", "quiet: needs the machine to itself (a timing-sensitive test)")


def others_running() -> bool:
    done, pid = os.environ.get("GPUFORGE_QUIET_AFTER"), os.environ.get("GPUFORGE_QUIET_PID")
    if not done or not (pid or "").isdigit() or int(pid) <= 0 or Path(done).exists():
        return False  # (pid 0 would name this process group, always alive)
    try:
        os.kill(int(pid), 0)
    except OSError:
        return False
    return True


def pytest_runtest_setup(item):
    if item.get_closest_marker("quiet") and others_running():
        started = time.monotonic()
        while others_running():
            time.sleep(2)
        print(f"\n[lab] waited {time.monotonic() - started:.0f} s for the other stages to end before "
              f"{item.name} (timing-sensitive)", flush=True)


# The model file the Range server serves (tests/lab/test_model_cache.py, test_rental.py): 8 MiB and 3 bytes,
# so that "half" is not a round number.
MODEL_FILE_SIZE = 8 * 1024 * 1024 + 3


@pytest.fixture(name="server", scope="module")
def server_fixture(tmp_path_factory):
    """An HTTP server on the controller that honours and logs Range requests and breaks off or corrupts on
    demand (tests/lab/range_server.py; the mode is the first path element), serving one file of
    MODEL_FILE_SIZE random bytes."""
    root = tmp_path_factory.mktemp("www")
    data = os.urandom(MODEL_FILE_SIZE)
    (root / "shard-1.bin").write_bytes(data)
    log = root.parent / "requests.log"
    log.touch()
    with socket.socket() as probe:
        probe.bind(("", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "lab" / "range_server.py"), str(root),
                             str(log), str(port)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "the range server did not start"
            time.sleep(0.2)
    yield {"base": f"http://{SUBNET}.1:{port}", "sha256": hashlib.sha256(data).hexdigest(), "log": log}
    proc.terminate()
    proc.wait(timeout=10)
