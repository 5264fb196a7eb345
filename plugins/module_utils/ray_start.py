# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ray's start command for a head or a worker, and the judgement of the nodes Ray reports.

Pure functions, no I/O. ``start_argv`` pins every port Ray opens (a firewall can admit them as data) and
the address each node registers (``--node-ip-address``): without it Ray takes the address of the interface
the default route leaves by, the public one on a rented, multi-homed host. ``nodes_problems`` compares
``ray.nodes()`` with the nodes and GPUs the cluster has.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress

# Ray's ports, each pinned (defaults chosen away from common services; the GCS keeps Ray's own 6379).
DEFAULT_PORTS = {
    "gcs": 6379,
    "node_manager": 6380,
    "object_manager": 6381,
    "runtime_env_agent": 6382,
    "dashboard_agent_grpc": 6383,
    "dashboard_agent_listen": 6384,
    "metrics_export": 6385,
    "ray_client_server": 10001,
    "worker_min": 10002,
    "worker_max": 10999,
}
PORT_FLAGS = (
    ("node_manager", "--node-manager-port"),
    ("object_manager", "--object-manager-port"),
    ("runtime_env_agent", "--runtime-env-agent-port"),
    ("dashboard_agent_grpc", "--dashboard-agent-grpc-port"),
    ("dashboard_agent_listen", "--dashboard-agent-listen-port"),
    ("metrics_export", "--metrics-export-port"),
    ("worker_min", "--min-worker-port"),
    ("worker_max", "--max-worker-port"),
)


class RayStartError(ValueError):
    """Input a start command cannot be made from (names the value)."""


def _address(value, what):
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise RayStartError("%s must be an IP address, got %r" % (what, value)) from None


def ports(overrides=None) -> dict:
    """DEFAULT_PORTS with the admin's overrides, checked: 1..65535, distinct, worker_min < worker_max."""
    merged = dict(DEFAULT_PORTS)
    for key, value in (overrides or {}).items():
        if key not in DEFAULT_PORTS:
            raise RayStartError("unknown Ray port %r (known: %s)" % (key, ", ".join(sorted(DEFAULT_PORTS))))
        merged[key] = value
    for key, value in merged.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1024 <= value <= 65535:
            raise RayStartError("Ray port %s must be a number 1024..65535, got %r" % (key, value))
    if merged["worker_min"] >= merged["worker_max"]:
        raise RayStartError("Ray's worker ports need worker_min < worker_max, got %d-%d"
                            % (merged["worker_min"], merged["worker_max"]))
    single = [k for k in merged if k not in ("worker_min", "worker_max")]
    for key in single:
        if merged["worker_min"] <= merged[key] <= merged["worker_max"]:
            raise RayStartError("Ray port %s (%d) lies in the worker range %d-%d"
                                % (key, merged[key], merged["worker_min"], merged["worker_max"]))
        same = [k for k in single if k != key and merged[k] == merged[key]]
        if same:
            raise RayStartError("Ray ports %s and %s are both %d" % (key, same[0], merged[key]))
    return merged


def start_argv(ray_bin: str, head: bool, node_ip: str, head_ip: str, port_overrides=None, num_gpus=None,
               object_store_bytes=None, extra=(), client: bool = False) -> list:
    """``ray start --block`` for a systemd unit: head or worker, the node's own address, every port pinned.

    ``client``: Ray is installed with its client (the extras client or default): the head's Ray Client server
    port is pinned too (core Ray refuses the option and starts no client server)."""
    if not str(ray_bin).startswith("/"):
        raise RayStartError("the ray program must be an absolute path, got %r" % ray_bin)
    node_ip = _address(node_ip, "the node's address")
    head_ip = _address(head_ip, "the head's address")
    pinned = ports(port_overrides)
    argv = [ray_bin, "start", "--block", "--disable-usage-stats", "--node-ip-address=%s" % node_ip]
    if head:
        argv += ["--head", "--port=%d" % pinned["gcs"]]
        if client:
            argv.append("--ray-client-server-port=%d" % pinned["ray_client_server"])
        argv.append("--include-dashboard=false")
    else:
        host = "[%s]" % head_ip if ":" in head_ip else head_ip
        argv += ["--address=%s:%d" % (host, pinned["gcs"])]
    argv += ["%s=%d" % (flag, pinned[key]) for key, flag in PORT_FLAGS]
    if num_gpus is not None:
        if isinstance(num_gpus, bool) or not isinstance(num_gpus, int) or num_gpus < 0:
            raise RayStartError("num_gpus must be a whole number >= 0, got %r" % num_gpus)
        argv.append("--num-gpus=%d" % num_gpus)
    if object_store_bytes is not None:
        if isinstance(object_store_bytes, bool) or not isinstance(object_store_bytes, int) \
                or object_store_bytes < 78643200:
            raise RayStartError("the object store needs at least 78643200 bytes (75 MiB), got %r" % object_store_bytes)
        argv.append("--object-store-memory=%d" % object_store_bytes)
    for item in extra or ():
        text = str(item)
        name = text.split("=", 1)[0]
        if not text.startswith("--") or " " in text:
            raise RayStartError("extra ray start option %r must be one --flag[=value] word" % text)
        if name in ("--node-ip-address", "--address", "--head", "--port", "--block", "--ray-client-server-port") or \
                name in dict((f, k) for k, f in PORT_FLAGS):
            raise RayStartError("extra ray start option %r overrides one the role sets" % text)
        argv.append(text)
    return argv


def runs_argv(cmdline_b64: str, argv: list) -> bool:
    """Whether /proc/PID/cmdline (base64, as slurp returns it) runs ``argv``: the venv's python with the ray
    program and the same arguments. An empty or unreadable cmdline (not running) is False."""
    try:
        raw = base64.b64decode(cmdline_b64 or "", validate=True)
    except (ValueError, binascii.Error):
        return False
    words = [w.decode("utf-8", "replace") for w in raw.split(b"\0") if w]
    if not words or not argv:
        return False
    tail = [str(a) for a in argv[1:]]
    return words[-len(tail):] == tail and any(w == str(argv[0]) for w in words[:-len(tail) or None])


def nodes_problems(nodes: list, expected: dict) -> list:
    """``ray.nodes()`` (alive or not) against {address: {"host": name, "gpus": n or None}}: every expected
    address alive once, no node at another address (the public one, a docker bridge), GPUs as the facts say."""
    problems = []
    alive = [n for n in nodes or [] if n.get("Alive")]
    seen = {}
    for node in alive:
        addr = str(node.get("NodeManagerAddress"))
        seen.setdefault(addr, []).append(node)
    for addr, found in sorted(seen.items()):
        if addr not in expected:
            problems.append("a Ray node registered %s, which is no node's cluster address (%s): a node without "
                            "--node-ip-address, or reached over another network" % (addr, ", ".join(sorted(expected))))
        elif len(found) > 1:
            problems.append("%s (%s) is registered %d times" % (expected[addr]["host"], addr, len(found)))
    for addr, want in sorted(expected.items()):
        if addr not in seen:
            problems.append("%s (%s) is not in the Ray cluster" % (want["host"], addr))
            continue
        gpus = seen[addr][0].get("Resources", {}).get("GPU", 0)
        if want.get("gpus") is not None and int(gpus) != int(want["gpus"]):
            problems.append("%s (%s): Ray sees %s GPUs, the node has %d" % (want["host"], addr, int(gpus), want["gpus"]))
    return problems


def firewall_ports(pinned: dict, head: bool, client: bool = False) -> list:
    """The ports a Ray node listens on, as a declaration for the cluster firewall (gpuforge.cluster.cluster_ports):
    the GCS (and the client server when it runs) on the head, every node's own ports and the worker range."""
    out = []
    if head:
        out.append({"name": "ray gcs", "port": pinned["gcs"]})
        if client:
            out.append({"name": "ray client server", "port": pinned["ray_client_server"]})
    for key, _flag in PORT_FLAGS:
        if not key.startswith("worker_"):
            out.append({"name": "ray " + key.replace("_", " "), "port": pinned[key]})
    out.append({"name": "ray workers", "port": "%d-%d" % (pinned["worker_min"], pinned["worker_max"])})
    return out
