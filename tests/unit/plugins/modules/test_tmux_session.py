"""tmux_session against a real tmux server (skipped where tmux is not installed).

The server is a private one: TMUX_TMPDIR points at the test's own directory (and TMUX is unset), so the
user's tmux server is never touched; the test kills its server at the end. ``ssh`` in the workers' panes
is a FAKE on PATH (``fake-bin/ssh``) that prints ``fake ssh <args>`` and sleeps: nothing connects anywhere.
The module runs with the real AnsibleModule.run_command, through module_utils/runner.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
from ansible.module_utils import basic
from ansible_collections.gpuforge.cluster.plugins.modules import tmux_session

from .harness import run_module

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux is not installed (lab/host-prep.sh installs it)")

REAL_RUN_COMMAND = basic.AnsibleModule.run_command
NODES = [
    {"alias": "head", "address": "10.0.0.10", "head": True},
    {"alias": "worker1", "address": "10.0.0.11"},
    {"alias": "worker2", "address": "10.0.0.12"},
]
FAKE_SSH = """#!/bin/sh
# FAKE ssh for tests/unit/plugins/modules/test_tmux_session.py: prints its arguments, connects nowhere.
sleep 1
echo "fake ssh $*"
exec sleep 300
"""


def which(self, name, *a, **k):
    return shutil.which(name)


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A private tmux server's environment; yields a function that runs tmux against it."""
    (tmp_path / "fake-bin").mkdir()
    (tmp_path / "fake-bin" / "ssh").write_text(FAKE_SSH)
    (tmp_path / "fake-bin" / "ssh").chmod(0o755)
    (tmp_path / "tmux").mkdir(mode=0o700)
    monkeypatch.setenv("TMUX_TMPDIR", str(tmp_path / "tmux"))
    monkeypatch.delenv("TMUX", raising=False)  # inside tmux it would name the user's server
    monkeypatch.setenv("PATH", f"{tmp_path / 'fake-bin'}:{os.environ['PATH']}")
    monkeypatch.setenv("SHELL", "/bin/sh")
    env = dict(os.environ)

    def tmux(*args):
        return subprocess.run(["tmux", *args], env=env, capture_output=True, text=True, check=False)

    yield tmux
    tmux("kill-server")


def run(tmp_path, check_mode=False, **args):
    args = {"nodes": NODES, "log_dir": str(tmp_path / "logs"), **args}
    return run_module(tmux_session.main, args, REAL_RUN_COMMAND, which, check_mode=check_mode, diff=True)


def shape(panes):
    return [(p["window"], p["title"], p["command"]) for p in panes]


def expected_shape():
    w1 = "sh -c 'ssh worker1; exec \"${SHELL:-/bin/sh}\" -l'"
    return [
        ("head", "head 10.0.0.10", None),
        ("all-nodes", "head 10.0.0.10", None),
        ("all-nodes", "worker1 10.0.0.11", w1),
        ("all-nodes", "worker2 10.0.0.12", w1.replace("worker1", "worker2")),
    ]


def wait_for(path, text, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.is_file() and text in path.read_text(errors="replace"):
            return True
        time.sleep(0.1)
    return False


def test_create_keep_report_recreate_and_kill(server, tmp_path, monkeypatch):
    # check mode on a server that does not run: it would make the session, makes nothing
    result = run(tmp_path, check_mode=True)
    assert result["failed"] is False, result
    assert result["changed"] is True and result["differences"] == ["session multinode does not exist"]
    assert shape(result["panes"]) == expected_shape()
    assert server("has-session", "-t", "=multinode").returncode != 0

    result = run(tmp_path)
    assert result["failed"] is False, result
    assert result["changed"] is True
    assert shape(result["panes"]) == expected_shape()
    assert "all-nodes.2 worker2 10.0.0.12 | sh -c 'ssh worker2;" in result["diff"]["after"]
    assert result["diff"]["before"] == ""
    logs = tmp_path / "logs"
    assert oct(logs.stat().st_mode & 0o777) == "0o700"
    # pipe-pane logs each pane; the fake ssh got the worker's alias
    assert wait_for(logs / "all-nodes.1.log", "fake ssh worker1")
    assert wait_for(logs / "all-nodes.2.log", "fake ssh worker2")
    server("send-keys", "-t", "=multinode:=head", "echo marker-$((40+2))", "Enter")
    assert wait_for(logs / "head.0.log", "marker-42")

    result = run(tmp_path)
    assert result["failed"] is False and result["changed"] is False, result
    assert result["differences"] == []
    assert result["diff"]["before"] == result["diff"]["after"]

    # the user closed worker2's pane: reported, warned, left alone
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg: warnings.append(msg))
    server("kill-pane", "-t", "=multinode:=all-nodes.2")
    result = run(tmp_path)
    assert result["failed"] is False and result["changed"] is False, result
    assert result["differences"] == ["window all-nodes has 2 panes, expected 3"]
    assert len(warnings) == 1 and "recreate=true" in warnings[0]
    assert shape(result["panes"]) == expected_shape()[:3]
    assert len(server("list-panes", "-t", "=multinode:=all-nodes").stdout.splitlines()) == 2

    result = run(tmp_path, check_mode=True, recreate=True)
    assert result["changed"] is True and shape(result["panes"]) == expected_shape()
    assert len(server("list-panes", "-t", "=multinode:=all-nodes").stdout.splitlines()) == 2

    result = run(tmp_path, recreate=True)
    assert result["failed"] is False and result["changed"] is True, result
    assert result["differences"] == ["window all-nodes has 2 panes, expected 3"]
    assert shape(result["panes"]) == expected_shape()
    assert run(tmp_path)["changed"] is False

    result = run(tmp_path, state="absent")
    assert result["failed"] is False and result["changed"] is True and result["panes"] == []
    assert server("has-session", "-t", "=multinode").returncode != 0
    assert run(tmp_path, state="absent")["changed"] is False


def test_five_nodes_make_two_node_windows(server, tmp_path):
    nodes = NODES + [{"alias": f"worker{i}", "address": f"10.0.0.{10 + i}"} for i in (3, 4)]
    result = run(tmp_path, nodes=nodes, session="five")
    assert result["failed"] is False and result["changed"] is True, result
    windows = [p["window"] for p in result["panes"]]
    assert windows == ["head"] + ["nodes-1"] * 4 + ["nodes-2"]
    assert result["panes"][-1]["title"] == "worker4 10.0.0.14"
    # another session on the same server is not this one's business
    assert run(tmp_path, session="other", check_mode=True)["differences"] == ["session other does not exist"]


def test_bad_input_fails_before_tmux_runs(tmp_path):
    def no_tmux(self, *a, **k):
        raise AssertionError("tmux ran")

    result = run_module(tmux_session.main, {"nodes": NODES[1:]}, no_tmux, which)
    assert result["failed"] is True and "exactly one node must be the head" in result["msg"]
    result = run_module(tmux_session.main, {"nodes": NODES, "session": "a.b"}, no_tmux, which)
    assert result["failed"] is True and "without '.'" in result["msg"]
    result = run_module(tmux_session.main, {}, no_tmux, which)
    assert result["failed"] is True and "nodes" in result["msg"]
