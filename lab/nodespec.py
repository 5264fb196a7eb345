#!/usr/bin/env python3
"""The lab's nodes: lab/node.yml (what every lab and molecule node is) plus lab/lab.sh's settings.

Per-node settings come from LAB_NODE_OPTS, space-separated ``node=opt,opt`` entries:

  user:NAME        the login user Ansible uses (created with passwordless sudo where the image lacks
                   it); default lab/node.yml's login_user
  password-only    at first the node takes the login user's password only (no key is authorized, as a
                   fresh workstation); site.yml's first run uses -k and leaves key login
  cap:CAP[+CAP]    more capabilities (NET_ADMIN for a node that configures its own links)
  privileged       a privileged container (Docker inside the node)

Every node also gets a STAND-IN SMBIOS UUID (uuid5 of the lab's prefix and the node name): podman
nodes share the host's /sys/class/dmi (or have none), so the lab writes it to /etc/gpuforge-lab/
product_uuid and to the inventory (lab_smbios_uuid) for what needs a per-node hardware identity.

``nodespec.py shell`` prints bash assignments that lab/lab.sh evaluates; bad input stops with one
message naming the entry, before any node is started.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SPEC = Path(__file__).resolve().parent / "node.yml"
USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
CAP_RE = re.compile(r"^[A-Z_]+$")
UUID_NS = uuid.UUID("6f1c0f4e-3d1a-4c55-9a55-67707566f267")  # gpuforge lab stand-in UUIDs


class SpecError(ValueError):
    pass


@dataclass
class Node:
    index: int
    name: str
    user: str
    password_only: bool = False
    capabilities: list = field(default_factory=list)
    privileged: bool = False
    uuid: str = ""


def load_spec(path: Path = SPEC) -> dict:
    return yaml.safe_load(path.read_text())


def parse_opts(text: str, count: int, default_user: str) -> dict[str, dict]:
    """LAB_NODE_OPTS -> {node name: {user, password_only, capabilities, privileged}}."""
    names = {f"node{i}" for i in range(count)}
    out: dict[str, dict] = {}
    for entry in text.split():
        node, sep, opts = entry.partition("=")
        if not sep or node not in names:
            raise SpecError(f"LAB_NODE_OPTS: '{entry}' must be node=opt,... for one of "
                            f"node0..node{count - 1}")
        if node in out:
            raise SpecError(f"LAB_NODE_OPTS: {node} is given twice")
        node_opts = {"user": default_user, "password_only": False, "capabilities": [], "privileged": False}
        for opt in filter(None, opts.split(",")):
            key, _sep, value = opt.partition(":")
            if key == "user" and USER_RE.match(value):
                node_opts["user"] = value
            elif key == "password-only" and not value:
                node_opts["password_only"] = True
            elif key == "cap" and value and all(CAP_RE.match(cap) for cap in value.split("+")):
                node_opts["capabilities"] += value.split("+")
            elif key == "privileged" and not value:
                node_opts["privileged"] = True
            else:
                raise SpecError(f"LAB_NODE_OPTS: {node}: unknown or malformed option '{opt}' "
                                "(user:NAME, password-only, cap:CAP[+CAP], privileged)")
        out[node] = node_opts
    return out


def lab_nodes(env: dict, spec: dict) -> list[Node]:
    count = int(env.get("LAB_NODES", "3"))
    prefix = env.get("LAB_PREFIX", "gpuforge-lab")
    opts = parse_opts(env.get("LAB_NODE_OPTS", ""), count, spec["login_user"])
    nodes = []
    for i in range(count):
        name = f"node{i}"
        o = opts.get(name, {"user": spec["login_user"]})
        nodes.append(Node(i, name, o["user"], o.get("password_only", False), o.get("capabilities", []),
                          o.get("privileged", False), str(uuid.uuid5(UUID_NS, f"{prefix}/{name}"))))
    return nodes


def podman_args(node: Node, spec: dict) -> list[str]:
    """podman run options that come from the spec and the node's settings (not names or networks)."""
    caps = list(dict.fromkeys(spec["capabilities"] + node.capabilities))
    args = [*spec["extra_opts"], f"--systemd={spec['systemd']}", "--cap-add", ",".join(caps)]
    if node.privileged:
        args.append("--privileged")
    return args


def shell(env: dict, spec: dict) -> str:
    nodes = lab_nodes(env, spec)
    q = shlex.quote
    lines = [f"LAB_IMAGE_COMMAND={q(spec['command'])}", f"LAB_DEFAULT_USER={q(spec['login_user'])}"]
    for n in nodes:
        lines += [
            f"NODE_USER[{n.index}]={q(n.user)}",
            f"NODE_PASSWORD_ONLY[{n.index}]={int(n.password_only)}",
            f"NODE_UUID[{n.index}]={q(n.uuid)}",
            f"NODE_ARGS_{n.index}=({' '.join(q(a) for a in podman_args(n, spec))})",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if argv[1:] != ["shell"]:
        print("usage: nodespec.py shell", file=sys.stderr)
        return 2
    try:
        sys.stdout.write(shell(dict(os.environ), load_spec()))
    except SpecError as err:
        print(err, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
