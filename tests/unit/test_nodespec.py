"""lab/nodespec.py: the lab's nodes from lab/node.yml and LAB_NODE_OPTS; molecule's nodes say the same."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))
import nodespec  # noqa: E402  (lab/ is not a package)

SPEC = nodespec.load_spec()


# The base config and every scenario that names nodes of its own (fewer: CI time).
PLATFORM_CONFIGS = [
    ".config/molecule/config.yml",
    *sorted(
        str(p.relative_to(REPO))
        for p in REPO.glob("molecule/*/molecule.yml")
        if "platforms" in yaml.safe_load(p.read_text())
    ),
]


@pytest.mark.parametrize("config", PLATFORM_CONFIGS)
def test_molecule_platforms_are_lab_nodes(config):
    """Molecule's nodes are written by hand; they must not drift from lab/node.yml."""
    platforms = yaml.safe_load((REPO / config).read_text())["platforms"]
    assert len(platforms) == 3 if config.startswith(".config") else len(platforms) >= 2
    assert platforms[0]["groups"] == ["head"]
    for platform in platforms:
        assert platform["image"] == SPEC["image"]
        assert platform["command"] == SPEC["command"]
        assert platform["systemd"] == SPEC["systemd"]
        assert platform["capabilities"] == SPEC["capabilities"]
        assert platform["extra_opts"] == SPEC["extra_opts"]


def test_default_nodes():
    nodes = nodespec.lab_nodes({"LAB_NODES": "3"}, SPEC)
    assert [(n.name, n.user, n.password_only) for n in nodes] == [
        ("node0", "labadmin", False),
        ("node1", "labadmin", False),
        ("node2", "labadmin", False),
    ]
    assert nodespec.podman_args(nodes[0], SPEC) == [
        "--no-hosts",
        "--systemd=always",
        "--cap-add",
        "AUDIT_WRITE,NET_RAW,SYS_PTRACE,SYS_ADMIN,MKNOD,NET_ADMIN",
    ]
    # A stand-in SMBIOS UUID per node, stable for a lab, different between labs.
    assert len({n.uuid for n in nodes}) == 3
    assert nodes[0].uuid == nodespec.lab_nodes({"LAB_NODES": "1"}, SPEC)[0].uuid
    assert nodes[0].uuid != nodespec.lab_nodes({"LAB_NODES": "1", "LAB_PREFIX": "other"}, SPEC)[0].uuid


def test_per_node_options():
    env = {
        "LAB_NODES": "4",
        "LAB_NODE_OPTS": "node0=password-only node1=user:ubuntu,cap:NET_ADMIN+NET_RAW "
        "node3=user:user,privileged",
    }
    nodes = nodespec.lab_nodes(env, SPEC)
    assert [(n.user, n.password_only, n.privileged) for n in nodes] == [
        ("labadmin", True, False),
        ("ubuntu", False, False),
        ("labadmin", False, False),
        ("user", False, True),
    ]
    caps = nodespec.podman_args(nodes[1], SPEC)[-1]
    assert caps == "AUDIT_WRITE,NET_RAW,SYS_PTRACE,SYS_ADMIN,MKNOD,NET_ADMIN"
    assert nodespec.podman_args(nodes[3], SPEC)[-1] == "--privileged"


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        ("node3=user:ubuntu", "'node3=user:ubuntu' must be node=opt,... for one of node0..node2"),
        ("node1", "'node1' must be node=opt"),
        ("node1=user:Ubuntu", "node1: unknown or malformed option 'user:Ubuntu'"),
        ("node1=cap:net_admin", "node1: unknown or malformed option 'cap:net_admin'"),
        ("node1=sudo", "node1: unknown or malformed option 'sudo'"),
        ("node1=user:a node1=user:b", "node1 is given twice"),
    ],
)
def test_bad_options_name_the_entry(opts, message):
    with pytest.raises(nodespec.SpecError, match=message.replace("(", r"\(")):
        nodespec.lab_nodes({"LAB_NODES": "3", "LAB_NODE_OPTS": opts}, SPEC)


def test_shell_output_is_what_lab_sh_evaluates():
    env = {"LAB_NODES": "2", "LAB_NODE_OPTS": "node1=user:ubuntu,password-only", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, str(REPO / "lab" / "nodespec.py"), "shell"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    script = (
        out + 'args_ref="NODE_ARGS_1[@]"; a=("${!args_ref}"); '
        'echo "${NODE_USER[1]} ${NODE_PASSWORD_ONLY[1]} ${#a[@]} ${a[3]}"'
    )
    res = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "ubuntu 1 4 AUDIT_WRITE,NET_RAW,SYS_PTRACE,SYS_ADMIN,MKNOD,NET_ADMIN"
    bad = subprocess.run(
        [sys.executable, str(REPO / "lab" / "nodespec.py"), "shell"],
        env={**env, "LAB_NODE_OPTS": "node7=user:x"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "node7=user:x" in bad.stderr and bad.stdout == ""
