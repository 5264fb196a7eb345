"""container_options: the docker run options NCCL needs and the env file with the host's NCCL settings."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter.container import (
    container_env_lines,
    container_run_options,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.container_options import (
    ContainerOptionsError,
    env_file_lines,
    run_options,
)


def test_rdma_node_gets_the_devices_the_capability_and_unlimited_memlock():
    assert run_options(True, False, "/etc/gpuforge/container-nccl.env") == [
        "--network=host", "--ipc=host", "--device=/dev/infiniband", "--cap-add=IPC_LOCK",
        "--ulimit=memlock=-1:-1", "--env-file=/etc/gpuforge/container-nccl.env"]


def test_node_without_rdma_keeps_host_network_and_ipc_only():
    opts = run_options(False, False, "/etc/x.env")
    assert opts == ["--network=host", "--ipc=host", "--env-file=/etc/x.env"]
    assert not any("infiniband" in o or "IPC_LOCK" in o or "memlock" in o for o in opts)


def test_gpus_and_extra_options_follow():
    assert run_options(False, True, None, extra=["--shm-size=8g", "--ulimit=stack=67108864"]) == [
        "--network=host", "--ipc=host", "--gpus=all", "--shm-size=8g", "--ulimit=stack=67108864"]


@pytest.mark.parametrize("extra", ["--network=bridge", "--net=none", "--ipc=private",
                                   "--ulimit=memlock=65536", "--ulimit memlock=1024"])
def test_an_option_that_undoes_what_nccl_needs_is_refused(extra):
    with pytest.raises(ContainerOptionsError, match="undoes one that NCCL needs"):
        run_options(True, False, None, extra=[extra])


def test_not_an_option_and_relative_env_file_are_refused():
    with pytest.raises(ContainerOptionsError, match="is not an option"):
        run_options(False, False, None, extra=["ubuntu:24.04"])
    with pytest.raises(ContainerOptionsError, match="absolute path"):
        run_options(False, False, "nccl.env")


def test_env_lines_sorted_booleans_as_numbers():
    settings = {"NCCL_SOCKET_IFNAME": "eth0", "NCCL_IB_DISABLE": True, "NCCL_IB_HCA": "=mlx5_0:1"}
    assert env_file_lines(settings) == [
        "NCCL_IB_DISABLE=1", "NCCL_IB_HCA==mlx5_0:1", "NCCL_SOCKET_IFNAME=eth0"]


@pytest.mark.parametrize("settings, message", [({"NCCL X": "1"}, "not an environment variable name"),
                                               ({"NCCL_DEBUG": "INFO\nNCCL_X=1"}, "line break")])
def test_env_lines_refuse_what_an_env_file_cannot_hold(settings, message):
    with pytest.raises(ContainerOptionsError, match=message):
        env_file_lines(settings)


def test_filters_wrap_the_errors():
    assert container_run_options(True, env_file="/e")[-1] == "--env-file=/e"
    with pytest.raises(AnsibleFilterError, match=r"container_run_options: .*undoes"):
        container_run_options(False, extra=["--network=bridge"])
    with pytest.raises(AnsibleFilterError, match="expects a dict"):
        container_env_lines(["NCCL_DEBUG=INFO"])
