"""perftest_run: argv of each side from the live HCA choice, the port chosen, and perftest's failures named.

Failure texts are real captures (fixtures/perftest_errors, each with its .source) where one was found; the
others are perftest's own strings as its source prints them (linux-rdma/perftest at 00b55b6, file:line in
plugins/module_utils/perftest_run.py), with the values filled in.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils import rdma_ports as rp
from ansible_collections.gpuforge.cluster.plugins.module_utils.perftest_run import (
    TESTS,
    classify_failure,
    perftest_argv,
)

ERRORS = Path(__file__).parent / "fixtures" / "perftest_errors"

# R1: mlx4_0 port 1 Down, port 2 Active with 10.0.0.1 at RoCE v2 GID index 3 (as test_rdma_ports' R1).
IBSTAT_R1 = {"mlx4_0": {"ports": {1: {"state": "Down", "link_layer": "Ethernet", "rate": 40},
                                  2: {"state": "Active", "link_layer": "Ethernet", "rate": 40}}}}
GIDS_R1 = {"devices": {"mlx4_0": {2: {"gids": [
    {"index": 0, "gid": "fe80:0000:0000:0000:268a:07ff:feaa:bbc1", "type": "IB/RoCE v1", "ipv4": None},
    {"index": 1, "gid": "fe80:0000:0000:0000:268a:07ff:feaa:bbc1", "type": "RoCE v2", "ipv4": None},
    {"index": 2, "gid": "0000:0000:0000:0000:0000:ffff:0a00:0001", "type": "IB/RoCE v1", "ipv4": "10.0.0.1"},
    {"index": 3, "gid": "0000:0000:0000:0000:0000:ffff:0a00:0001", "type": "RoCE v2", "ipv4": "10.0.0.1",
     "ndev": "ens6d1"},
]}}}}
CHOICE_R1 = rp.hca_choice(IBSTAT_R1, GIDS_R1)
PORT_R1 = {"interface": "ens6d1", "kind": "roce", "address": "10.0.0.1", "rdma_devices": ["mlx4_0"]}


def endpoint(choice, port):
    ep = rp.rdma_endpoint(choice, port)
    return ep["device"], ep["ib_port"], ep["gid_index"]


def test_r1_client_argv_from_the_hca_choice():
    assert CHOICE_R1["hca"] == "mlx4_0:2" and CHOICE_R1["gid_index"] == 3
    device, port, gid = endpoint(CHOICE_R1, PORT_R1)
    assert (device, port, gid) == ("mlx4_0", 2, 3)
    argv = perftest_argv("ib_write_bw", device, port, gid, server="10.0.0.2", duration=5)
    assert argv == ["ib_write_bw", "--ib-dev", "mlx4_0", "--ib-port", "2", "--gid-index", "3",
                    "--report_gbits", "-F", "-D", "5", "10.0.0.2"]
    assert " ".join(argv).count("--ib-dev mlx4_0 --ib-port 2 --gid-index 3") == 1 and argv[-1] == "10.0.0.2"


def test_server_side_has_no_address_and_the_same_symmetric_options():
    same = {"duration": 5, "size": 65536, "port": 18600}
    server = perftest_argv("ib_write_bw", "mlx4_0", 2, 3, **same)
    client = perftest_argv("ib_write_bw", "mlx4_0", 2, 3, server="10.0.0.2", **same)
    assert server == ["ib_write_bw", "--ib-dev", "mlx4_0", "--ib-port", "2", "--gid-index", "3",
                      "--report_gbits", "-F", "-D", "5", "--size", "65536", "--port", "18600"]
    assert client == [*server, "10.0.0.2"]


def test_infiniband_choice_has_no_gid_index():
    ibstat = {"mlx5_0": {"ports": {1: {"state": "Active", "link_layer": "InfiniBand", "rate": 200}}}}
    choice = rp.hca_choice(ibstat, {"devices": {}})
    ib = {"interface": "ibp65s0", "kind": "ipoib", "address": "10.2.0.1", "rdma_devices": ["mlx5_0"]}
    device, port, gid = endpoint(choice, ib)
    assert (device, port, gid) == ("mlx5_0", 1, None)
    argv = perftest_argv("ib_send_bw", device, port, gid, server="node2")
    assert "--gid-index" not in argv and "-x" not in argv
    assert argv == ["ib_send_bw", "--ib-dev", "mlx5_0", "--ib-port", "1", "--report_gbits", "-F", "node2"]


def test_latency_tests_take_no_report_gbits_and_no_duration():
    assert perftest_argv("ib_read_lat", "mlx4_0", 2, 3, server="10.0.0.2", extra=["-n", "5000"]) == [
        "ib_read_lat", "--ib-dev", "mlx4_0", "--ib-port", "2", "--gid-index", "3", "-F", "-n", "5000",
        "10.0.0.2"]
    with pytest.raises(ValueError, match="duration is for bandwidth tests"):
        perftest_argv("ib_send_lat", "mlx4_0", 2, 3, duration=5)
    assert "--report_gbits" not in perftest_argv("ib_write_bw", "mlx4_0", 2, report_gbits=False)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"test": "ib_atomic_bw"}, "is not one of"),
    ({"device": ""}, "device"),
    ({"ib_port": 0}, "ib_port must be from 1 up, not 0"),
    ({"ib_port": True}, "ib_port must be an integer"),
    ({"gid_index": -1}, "gid_index must be from 0 to 64"),
    ({"gid_index": 65}, "gid_index must be from 0 to 64"),
    ({"duration": 0}, "duration must be from 1 up"),
    ({"size": 0}, "size"),
    ({"port": 70000}, "port must be from 1 to 65535"),
    ({"server": " "}, "server must be an address"),
])
def test_bad_values_are_refused(kwargs, message):
    args = {"test": "ib_write_bw", "device": "mlx4_0", "ib_port": 2, "gid_index": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        perftest_argv(**args)


def test_the_six_tests():
    assert TESTS == ("ib_write_bw", "ib_write_lat", "ib_read_bw", "ib_read_lat", "ib_send_bw", "ib_send_lat")


def test_the_endpoint_says_why_a_port_cannot_be_measured():
    assert rp.rdma_endpoint(CHOICE_R1, {**PORT_R1, "rdma_devices": ["mlx5_9"]}) == {
        "reason": "no RDMA device behind ens6d1"}
    down = rp.hca_choice({"mlx4_0": {"ports": {1: {"state": "Down", "link_layer": "Ethernet"},
                                               2: {"state": "Polling", "link_layer": "Ethernet"}}}}, GIDS_R1)
    assert rp.rdma_endpoint(down, PORT_R1) == {
        "reason": "no usable HCA port for ens6d1 (mlx4_0:1 port 1 is Down; mlx4_0:2 port 2 is Polling)"}
    no_gid = rp.hca_choice(IBSTAT_R1, {"devices": {}})
    assert "RoCE port with no RoCE v2 IPv4 GID" in rp.rdma_endpoint(no_gid, PORT_R1)["reason"]


@pytest.mark.parametrize(("name", "reason", "quoted"), [
    ("perftest-228-couldnt-connect.txt", "connect", "Couldn't connect to 192.168.125.211:18515"),
    ("perftest-43-port-down.txt", "port_down", "Port number 1 state is Down"),
    ("k8s-rdma-shared-dev-plugin-169-no-devices.txt", "no_device", "Did not detect devices"),
    ("k8s-rdma-shared-dev-plugin-72-zero-gid-rtr.txt", "gid", "GID: " + ":".join(["00"] * 16)),
])
def test_real_failure_captures(name, reason, quoted):
    got, message = classify_failure((ERRORS / name).read_text(), 1)
    assert got == reason and repr(quoted) in message


def test_gid_message_says_what_to_check():
    text = (ERRORS / "k8s-rdma-shared-dev-plugin-72-zero-gid-rtr.txt").read_text()
    _reason, message = classify_failure(text, 1)
    assert "check the GID index (-x)" in message
    assert "both sides must use the RoCE v2 IPv4 entry of their own address" in message


# perftest's strings as its source prints them (leading space, values filled in).
@pytest.mark.parametrize(("text", "reason"), [
    ("IB device mlx5_9 not found\n Unable to find the Infiniband/RoCE device\n", "no_device"),
    ("No IB devices found\n", "no_device"),
    (" Couldn't get context for the device\n", "no_device"),
    (" Unable to query port 3 attributes\n Couldn't set the link layer\n"
     " Couldn't get context for the device\n", "port_down"),
    (" Gid index should be between 0 and 64\n Parser function exited with Error\n", "gid"),
    ("\n Found Incompatibility issue with GID types.\n Please Try to use a different IP version.\n\n", "gid"),
    (" Unable to set up socket connection\n", "gid"),
    ("Failed to modify QP 1234 to RTR\n Unable to Connect the HCA's through the link\n", "qp_rtr"),
    (" Completion with error at client\n Failed status-transport retry counter exceeded (12): wr_id 0 "
     "syndrom 0x81\n scnt=128, ccnt=0\n", "qp_rtr"),
    ("Couldn't connect to 10.0.0.2:18515\nUnable to open file descriptor for socket connection\n"
     " Unable to init the socket connection\n", "connect"),
    ("Couldn't listen to port 18515\nUnable to open file descriptor for socket connection\n", "connect"),
    ("ethernet_read_keys: Couldn't read remote address\n Unable to read from socket/rdma_cm\n"
     " Failed to exchange data between server and clients\n", "connect"),
])
def test_failure_classes_from_perftest_strings(text, reason):
    assert classify_failure(text, 1)[0] == reason


def test_connect_message_names_the_exchange_port_and_firewall():
    reason, message = classify_failure("Couldn't connect to 10.0.0.2:18515\n", 1)
    assert reason == "connect"
    assert "start the server first" in message and "18515" in message and "firewall" in message


def test_timeout_and_unknown():
    waiting = ("\n************************************\n* Waiting for client to connect... *\n"
               "************************************\n")
    assert classify_failure(waiting, 124) == (
        "timeout", "killed by the hard timeout (rc 124): no client connected to the server")
    reason, message = classify_failure(waiting + " local address: LID 0000 QPN 0x003b\n", 137)
    assert reason == "timeout" and "transfer hung" in message
    assert classify_failure("something else\nlast words\n", 3) == (
        "unknown", "perftest failed (rc 3): last words")
    assert classify_failure("", 1) == ("unknown", "perftest failed (rc 1): no output")
