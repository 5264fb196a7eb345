"""gpuforge.cluster.node_logs driven by ansible-playbook itself, with the repository's ansible.cfg.

The hosts are fake nodes on this machine (``ansible_connection: local``), plus one that cannot be reached
(ssh to a closed port of 127.0.0.1). A collection's callback is loaded only when callbacks_enabled lists
it, so the runs set ANSIBLE_CALLBACKS_ENABLED; the play variable ``gpuforge_node_logs`` turns it on.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[4]
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
SECRET = "s3cr3t-Pa55-do-not-log"
CLEARED = ("ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_CALLBACK_WHITELIST", "ANSIBLE_COLLECTIONS_PATH",
           "ANSIBLE_INVENTORY", "ANSIBLE_STDOUT_CALLBACK")
HEADER = re.compile(r"^==== (\S+): failed - last 100 lines of (\S+) ====$")


def local(**extra):
    return {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, **extra}


def playbook(tmp_path: Path, plays: list, hosts: dict,
             callbacks: str = "gpuforge.cluster.node_logs") -> subprocess.CompletedProcess:
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    (tmp_path / "play.yml").write_text(yaml.safe_dump(plays, sort_keys=False))
    environ = {key: value for key, value in os.environ.items() if key not in CLEARED}
    environ.update({
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_CALLBACKS_ENABLED": callbacks,
        "ANSIBLE_CACHE_PLUGIN": "memory",  # no facts written into the checkout's .cache
        "ANSIBLE_SSH_RETRIES": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    })
    return subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", "hosts.yml", "play.yml"], cwd=tmp_path, env=environ,
                          capture_output=True, text=True, timeout=300, check=False)


def tails(stderr: str) -> dict[str, tuple[str, list[str]]]:
    """Host -> (log path, the lines printed under its header)."""
    found, current = {}, None
    for line in stderr.splitlines():
        match = HEADER.match(line)
        if match:
            current = found[match.group(1)] = (match.group(2), [])
        elif line.startswith("node logs "):
            current = None
        elif current is not None:
            current[1].append(line)
    return found


TASKS = [
    {"name": "Say hello", "ansible.builtin.command": "echo hello from {{ inventory_hostname }}"},
    {"name": "Handle the secret", "ansible.builtin.command": f"echo {SECRET}", "no_log": True},
    {"name": "Secret items", "ansible.builtin.debug": {"msg": "{{ item }}"}, "loop": [SECRET],
     "no_log": True},
    {"name": "Run on beta for everyone", "delegate_to": "beta",
     "ansible.builtin.command": "echo delegated for {{ inventory_hostname }}"},
    {"name": "Count on beta", "ansible.builtin.debug": {"msg": "line {{ item }}"},
     "loop": "{{ range(60) | list }}", "when": "inventory_hostname == 'beta'"},
    {"name": "Fail on beta", "ansible.builtin.command": "sh -c 'echo to stdout; echo to stderr >&2; exit 3'",
     "when": "inventory_hostname == 'beta'"},
]


def test_one_log_per_host_and_the_failed_hosts_tail(tmp_path):
    plays = [{"name": "Logged play", "hosts": "all", "gather_facts": False,
              "vars": {"gpuforge_node_logs": "logs"}, "tasks": TASKS}]
    run = playbook(tmp_path, plays, {"alpha": local(), "beta": local()})
    assert run.returncode == 2, run.stdout + run.stderr  # beta failed
    logs = tmp_path / "logs"  # relative to the current directory
    assert oct(logs.stat().st_mode & 0o777) == "0o700"
    assert sorted(p.name for p in logs.iterdir()) == ["alpha.log", "beta.log"]
    alpha, beta = ((logs / name).read_text() for name in ("alpha.log", "beta.log"))
    for path in logs.iterdir():
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    for text in (alpha, beta):
        for task in TASKS:
            assert f"task {task['name']!r}" in text
        assert "play 'Logged play'" in text
        assert SECRET not in text
        assert text.count("(output hidden: no_log)") == 3  # the task, its item and the loop's result
        assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d  play ", text, re.MULTILINE)
    assert "  changed\n    stdout:\n        hello from alpha\n" in alpha
    # the delegated result is the log of the host it ran FOR
    assert "delegated to beta\n    stdout:\n        delegated for alpha\n" in alpha
    assert "delegated for alpha" not in beta
    assert "task 'Fail on beta'  skipped" in alpha
    assert "task 'Count on beta'  item ok\n    item: 59\n    msg:\n        line 59\n" in beta
    # The command module's message differs between ansible-core releases ("non-zero return code", "The command
    # exited with a non-zero return code."): only its place is checked.
    assert re.search(r"task 'Fail on beta'  failed\n    msg:\n        [^\n]*non-zero return code\.?\n"
                     r"    stdout:\n        to stdout\n    stderr:\n        to stderr\n", beta), beta
    assert SECRET not in run.stdout + run.stderr

    shown = tails(run.stderr)
    assert list(shown) == ["beta"], run.stderr
    path, lines = shown["beta"]
    assert path == str(logs / "beta.log")
    assert lines == beta.splitlines()[-100:] and len(beta.splitlines()) > 100
    assert lines[-1] == "        to stderr"
    assert f"node logs (one file per host, HOST.log): {logs}" in run.stderr

    # a second run appends
    again = playbook(tmp_path, plays, {"alpha": local(), "beta": local()})
    assert again.returncode == 2
    assert (logs / "alpha.log").read_text().startswith(alpha)
    assert (logs / "alpha.log").read_text().count("task 'Say hello'") == 2


def test_a_play_without_the_variable_logs_nothing(tmp_path):
    plays = [{"name": "Plain play", "hosts": "all", "gather_facts": False, "tasks": TASKS}]
    run = playbook(tmp_path, plays, {"alpha": local(), "beta": local()})
    assert run.returncode == 2, run.stdout + run.stderr
    assert "====" not in run.stderr and "node logs" not in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hosts.yml", "play.yml"]


@pytest.mark.skipif(shutil.which("ssh") is None, reason="needs an ssh client")
def test_unreachable_host_and_a_templated_directory(tmp_path):
    plays = [
        {"name": "Not logged", "hosts": "all", "gather_facts": False,
         "tasks": [{"name": "Before logging", "ansible.builtin.debug": {"msg": "x"}}]},
        {"name": "Logged", "hosts": "all", "gather_facts": False,
         "vars": {"gpuforge_node_logs": "{{ playbook_dir }}/run-logs"},
         "tasks": [{"name": "Ping", "ansible.builtin.ping": {}}]},
    ]
    closed_port = {"ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_user": "nobody",
                   "ansible_python_interpreter": sys.executable}
    hosts = {"alpha": local(), "gamma": closed_port}
    run = playbook(tmp_path, plays, hosts)
    assert run.returncode == 4, run.stdout + run.stderr  # gamma unreachable
    logs = tmp_path / "run-logs"
    assert sorted(p.name for p in logs.iterdir()) == ["alpha.log", "gamma.log"]
    gamma = (logs / "gamma.log").read_text()
    assert "task 'Ping'  unreachable\n    msg:\n" in gamma
    assert "Before logging" not in gamma + (logs / "alpha.log").read_text()
    shown = tails(run.stderr)
    assert list(shown) == ["gamma"] and shown["gamma"][1] == gamma.splitlines()
