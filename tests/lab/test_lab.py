"""The lab end to end: bad input stops before any change, site.yml converges, a re-run
and a check-mode run change nothing, validate.yml passes, and the outcome holds on the
nodes (names, BatchMode SSH, password logins off)."""

from __future__ import annotations

import subprocess

import labctl
import pytest
from conftest import NODES, PREFIX, node_exec

NODE_NAMES = [f"node{i}" for i in range(NODES)]
FIRST_STATE: dict = {}


def node_state(node: str) -> dict:
    return {
        "hosts": node_exec(node, "cat", "/etc/hosts").stdout,
        "cluster_user": node_exec(node, "getent", "passwd", "cluster", check=False).returncode,
        "chrony": node_exec(node, "test", "-e", "/etc/chrony/chrony.conf", check=False).returncode,
    }


def failure_text(run: labctl.PlaybookRun) -> str:
    return "\n".join(str(failure[2]) for failure in run.failures)


def test_fresh_nodes_resolve_their_name_to_loopback(inventory):
    # The problem the collection fixes, present before it runs.
    for node in NODE_NAMES:
        FIRST_STATE[node] = node_state(node)
        assert node_exec(node, "getent", "hosts", node).stdout.split()[0] == "127.0.1.1"
        assert FIRST_STATE[node]["cluster_user"] == 2  # no such user yet


@pytest.mark.parametrize(("extravars", "names"), [
    ({"ssh_trust_user": ["cluster", "admin"]}, "ssh_trust_user"),
    ({"cluster_ip": "10.79.0.300"}, "cluster_ip"),
])
def test_bad_input_fails_before_any_change(inventory, fact_cache, extravars, names):
    run = labctl.run_playbook("site.yml", inventory, extravars=extravars, fact_cache=fact_cache)
    assert run.rc != 0
    assert names in failure_text(run), failure_text(run)
    assert run.changed == 0
    for node in NODE_NAMES:
        assert node_state(node) == FIRST_STATE[node], f"{node} changed after bad input"


def test_site_converges(inventory, fact_cache):
    run = labctl.run_playbook("site.yml", inventory, fact_cache=fact_cache)
    assert run.rc == 0, failure_text(run)
    assert run.changed > 0
    print(f"\ncold converge: {run.wall_s:.1f}s, changed={run.changed}")


def test_rerun_changes_nothing(inventory, fact_cache):
    run = labctl.run_playbook("site.yml", inventory, fact_cache=fact_cache)
    assert run.rc == 0, failure_text(run)
    changed = sorted({(task[1], task[2]) for task in run.tasks if task[3] == "changed"})
    assert run.changed == 0, changed
    print(f"\nre-run: {run.wall_s:.1f}s, changed=0")


def test_check_mode_changes_nothing(inventory, fact_cache):
    run = labctl.run_playbook("site.yml", inventory, check=True, fact_cache=fact_cache)
    assert run.rc == 0, failure_text(run)
    assert run.changed == 0


def test_validate_passes(inventory, fact_cache):
    run = labctl.run_playbook("validate.yml", inventory, fact_cache=fact_cache)
    assert run.rc == 0, failure_text(run)
    assert run.changed == 0
    assert "SSH to every node by every name with BatchMode, as each trusted user" in run.verified


@pytest.mark.parametrize("node", NODE_NAMES)
def test_hostname_resolves_to_cluster_address(inventory, node):
    index = NODE_NAMES.index(node)
    out = node_exec(node, "sh", "-c", "getent hosts $(hostname)").stdout.split()
    assert out[0] == f"10.79.0.{10 + index}"
    assert out[1] == f"{node}.lab.gpuforge.test"


def test_cluster_user_batchmode_ssh_node1_to_node2(inventory):
    if NODES < 3:
        pytest.skip("needs 3 nodes")
    out = node_exec("node1", "runuser", "-u", "cluster", "--",
                    "ssh", "-o", "BatchMode=yes", "node2", "hostname")
    assert out.stdout.strip() == "node2"
    assert "Warning: Permanently added" not in out.stderr  # the host key was already known


def test_server_no_longer_offers_passwords(inventory):
    key_dir = inventory.parent / "ssh"
    res = subprocess.run(
        ["ssh", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={key_dir}/known_hosts",
         "-o", "PreferredAuthentications=password,keyboard-interactive",
         "-o", "ControlMaster=no", "-o", "ControlPath=none",
         "labadmin@10.79.0.11", "true"], capture_output=True, text=True, check=False)
    assert res.returncode == 255
    assert "Permission denied (publickey)." in res.stderr, res.stderr


def test_controller_key_login_still_works(inventory):
    key_dir = inventory.parent / "ssh"
    res = subprocess.run(
        ["ssh", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={key_dir}/known_hosts",
         "-i", str(key_dir / "id_ed25519"), "-o", "ControlMaster=no", "-o", "ControlPath=none",
         "labadmin@10.79.0.10", "hostname"], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "node0"


def test_lab_names_its_containers(inventory):
    argv = ["podman", "ps", "--filter", f"label=gpuforge-lab={PREFIX}", "--format", "{{.Names}}"]
    names = subprocess.run(argv, capture_output=True, text=True, check=False).stdout.split()
    assert sorted(names) == [f"{PREFIX}-{n}" for n in NODE_NAMES]
