"""ray_start: the ray start command (node address, pinned ports), the running process, the node check."""

from __future__ import annotations

import base64

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter.ray import ray_ports, ray_runs_argv, ray_start_argv
from ansible_collections.gpuforge.cluster.plugins.module_utils.ray_start import (
    RayStartError,
    nodes_problems,
    ports,
    runs_argv,
    start_argv,
)

RAY = "/opt/gpuforge/ray-2.60.0/bin/ray"


def test_head_registers_its_cluster_address_and_pins_every_port():
    argv = start_argv(RAY, True, "10.81.0.10", "10.81.0.10")
    assert argv[:5] == [RAY, "start", "--block", "--disable-usage-stats", "--node-ip-address=10.81.0.10"]
    assert "--head" in argv and "--port=6379" in argv and "--include-dashboard=false" in argv
    # Core Ray has no client server (ray start refuses the option without ray[client]).
    assert not any(a.startswith("--ray-client-server-port") for a in argv)
    assert "--ray-client-server-port=10001" in start_argv(RAY, True, "10.81.0.10", "10.81.0.10", client=True)
    for flag in ("--node-manager-port=6380", "--object-manager-port=6381", "--runtime-env-agent-port=6382",
                 "--dashboard-agent-grpc-port=6383", "--dashboard-agent-listen-port=6384",
                 "--metrics-export-port=6385", "--min-worker-port=10002", "--max-worker-port=10999"):
        assert flag in argv
    assert not any(a.startswith("--address") for a in argv)


def test_worker_joins_the_head_at_its_cluster_address():
    argv = start_argv(RAY, False, "10.81.0.12", "10.81.0.10", {"gcs": 7000}, num_gpus=2,
                      object_store_bytes=100 * 2**20)
    assert "--node-ip-address=10.81.0.12" in argv and "--address=10.81.0.10:7000" in argv
    assert "--head" not in argv and not any(a.startswith("--ray-client-server-port") for a in argv)
    assert argv[-2:] == ["--num-gpus=2", "--object-store-memory=104857600"]
    assert "--address=[fd00::1]:6379" in start_argv(RAY, False, "fd00::2", "fd00::1")


@pytest.mark.parametrize("overrides, message", [
    ({"gcs": 80}, "1024..65535"),
    ({"gsc": 7000}, "unknown Ray port 'gsc'"),
    ({"node_manager": 6379}, "both 6379"),
    ({"worker_min": 12000, "worker_max": 11000}, "worker_min < worker_max"),
    ({"metrics_export": 10500}, "lies in the worker range"),
    ({"gcs": True}, "must be a number"),
])
def test_bad_ports_are_refused(overrides, message):
    with pytest.raises(RayStartError, match=message):
        ports(overrides)


@pytest.mark.parametrize("kwargs, message", [
    ({"node_ip": "rental0"}, "the node's address must be an IP address"),
    ({"extra": ["--node-ip-address=1.2.3.4"]}, "overrides one the role sets"),
    ({"extra": ["--min-worker-port=3000"]}, "overrides one the role sets"),
    ({"extra": ["--num-cpus 4"]}, "one --flag"),
    ({"num_gpus": -1}, "whole number"),
    ({"object_store_bytes": 1000}, "at least 78643200"),
])
def test_bad_start_inputs_are_refused(kwargs, message):
    args = {"node_ip": "10.0.0.2", "extra": (), "num_gpus": None, "object_store_bytes": None, **kwargs}
    with pytest.raises(RayStartError, match=message):
        start_argv(RAY, False, args["node_ip"], "10.0.0.1", None, args["num_gpus"],
                   args["object_store_bytes"], args["extra"])


def _cmdline(words):
    raw = b"\0".join(w.encode() for w in words) + b"\0"
    return base64.b64encode(raw).decode()


def test_the_running_process_is_compared_with_the_unit():
    argv = start_argv(RAY, False, "10.81.0.12", "10.81.0.10")
    running = ["/opt/gpuforge/ray-2.60.0/bin/python3", RAY, *argv[1:]]
    assert runs_argv(_cmdline(running), argv)
    # The same process without --node-ip-address (a hand-made override): not what the unit says.
    assert not runs_argv(_cmdline([w for w in running if not w.startswith("--node-ip")]), argv)
    assert not runs_argv(_cmdline(["/usr/bin/python3", "/usr/local/bin/ray", *argv[1:]]), argv)
    assert not runs_argv("", argv) and not runs_argv("not base64!", argv)
    assert ray_runs_argv(_cmdline(running), argv)


EXPECTED = {"10.81.0.10": {"host": "rental0", "gpus": 1}, "10.81.0.11": {"host": "rental1", "gpus": 0}}


def test_all_nodes_at_their_cluster_addresses_pass():
    nodes = [{"NodeManagerAddress": "10.81.0.10", "Alive": True, "Resources": {"GPU": 1.0, "CPU": 2.0}},
             {"NodeManagerAddress": "10.81.0.11", "Alive": True, "Resources": {"CPU": 2.0}},
             {"NodeManagerAddress": "10.79.0.11", "Alive": False, "Resources": {}}]
    assert nodes_problems(nodes, EXPECTED) == []


def test_a_node_on_its_public_address_is_named():
    nodes = [{"NodeManagerAddress": "10.79.0.10", "Alive": True, "Resources": {"GPU": 1.0}},
             {"NodeManagerAddress": "10.81.0.11", "Alive": True, "Resources": {}}]
    problems = nodes_problems(nodes, EXPECTED)
    assert any("registered 10.79.0.10" in p and "--node-ip-address" in p for p in problems)
    assert any(p.startswith("rental0 (10.81.0.10) is not in the Ray cluster") for p in problems)


def test_gpu_count_and_duplicates_are_checked():
    nodes = [{"NodeManagerAddress": "10.81.0.10", "Alive": True, "Resources": {}},
             {"NodeManagerAddress": "10.81.0.11", "Alive": True, "Resources": {}},
             {"NodeManagerAddress": "10.81.0.11", "Alive": True, "Resources": {}}]
    assert nodes_problems(nodes, EXPECTED) == [
        "rental1 (10.81.0.11) is registered 2 times", "rental0 (10.81.0.10): Ray sees 0 GPUs, the node has 1"]


def test_filters_wrap_the_errors():
    assert ray_ports({})["gcs"] == 6379
    with pytest.raises(AnsibleFilterError, match="ray_ports: unknown"):
        ray_ports({"x": 1})
    with pytest.raises(AnsibleFilterError, match=r"ray_start_argv: .*absolute"):
        ray_start_argv("ray", False, "10.0.0.2", "10.0.0.1")
