"""nccl_tests: argv for local and mpirun runs, thresholds on real outputs, failures."""

from __future__ import annotations

from pathlib import Path

from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import C_LOCALE
from ansible_collections.gpuforge.cluster.plugins.modules import nccl_tests

from .test_fact_modules import _run

FIX = Path(__file__).parents[1] / "module_utils" / "parsers" / "fixtures" / "nccl_tests"
DEVICE = (FIX / "h100-580-nccl2283-ansible-all_reduce_1g_1GiB.txt").read_text()
EIGHT_RANKS = (FIX / "rccl-mi300x-one-row.txt").read_text()


def _never_run():
    raise AssertionError("ran")


def test_local_run_argv_env_and_single_rank_busbw_skipped(tmp_path):
    calls = []

    def run_command(self, argv, environ_update=None, **kw):
        calls.append((argv, environ_update))
        return 0, DEVICE, ""

    log = tmp_path / "run.log"
    result = _run(
        nccl_tests,
        {"binary": "/opt/b/all_reduce_perf", "max_bytes": "1G", "min_busbw_gbps": 100, "log": str(log)},
        run_command,
    )
    argv, env = calls[0]
    assert argv == [
        "/usr/bin/tool",
        "--kill-after=10",
        "600",
        "/usr/bin/tool",
        "-b",
        "8",
        "-e",
        "1G",
        "-f",
        "2",
        "-g",
        "1",
    ]
    assert env == {**C_LOCALE, "NCCL_DEBUG": "INFO"}  # through module_utils/runner.py
    assert result["failed"] is False
    assert result["size_max_bytes"] == 1073741824 and result["algbw_max_size_gbps"] == 1503.7
    assert result["busbw_max_size_gbps"] == 0.0
    busbw = next(c for c in result["checks"] if c["name"] == "busbw")
    assert busbw["ok"] is None and "one rank" in busbw["msg"]
    assert log.read_text() == DEVICE


def test_mpirun_argv_hostfile_and_x(tmp_path):
    calls = []
    hostfile = tmp_path / "hosts"

    def run_command(self, argv, environ_update=None, **kw):
        calls.append((argv, environ_update, hostfile.read_text()))
        return 0, DEVICE, ""

    _run(
        nccl_tests,
        {
            "binary": "all_reduce_perf_mpi",
            "hosts": ["n1", "n2"],
            "slots_per_host": 4,
            "hostfile": str(hostfile),
            "env": {"NCCL_IB_HCA": "=mlx5_0:1"},
            "mpirun_args": ["--bind-to", "none"],
        },
        run_command,
    )
    argv, env, text = calls[0]
    assert argv[3:] == [
        "/usr/bin/tool",
        "-np",
        "8",
        "--hostfile",
        str(hostfile),
        "-x",
        "NCCL_DEBUG",
        "-x",
        "NCCL_IB_HCA",
        "--bind-to",
        "none",
        "/usr/bin/tool",
        "-b",
        "8",
        "-e",
        "128M",
        "-f",
        "2",
        "-g",
        "1",
    ]
    assert env == {**C_LOCALE, "NCCL_IB_HCA": "=mlx5_0:1", "NCCL_DEBUG": "INFO"}
    assert text == "n1 slots=4\nn2 slots=4\n"


def test_thresholds_on_an_eight_rank_run():
    ok = _run(nccl_tests, {"output": EIGHT_RANKS, "min_busbw_gbps": 1.0})
    assert ok["failed"] is False and [c["ok"] for c in ok["checks"] if c["name"] == "busbw"] == [True]
    low = _run(nccl_tests, {"output": EIGHT_RANKS, "min_busbw_gbps": 10000.0})
    assert low["failed"] and "at least 10000.0" in low["msg"]
    report = _run(nccl_tests, {"output": EIGHT_RANKS, "min_busbw_gbps": 10000.0, "fail_on_check": False})
    assert report["failed"] is False and [c["ok"] for c in report["checks"] if c["name"] == "busbw"] == [
        False
    ]


def test_transport_checks():
    # The device log with one NCCL INFO channel line added as a two-node run prints it (synthetic).
    line = "vm:2772:2772 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[0] [send] via NET/Socket/0\n"
    text = DEVICE.replace("# Using devices\n", "# Using devices\n" + line)
    assert nccl_tests.parse_nccl_tests(text)["transports"] == ["NET/Socket/0"]
    assert _run(nccl_tests, {"output": text, "expect_transports": ["NET/Socket"]})["failed"] is False
    rdma = _run(
        nccl_tests, {"output": text, "expect_transports": ["NET/IB"], "forbid_transports": ["NET/Socket"]}
    )
    assert rdma["failed"] and "expected NET/IB" in rdma["msg"] and "must not use NET/Socket" in rdma["msg"]
    none = _run(nccl_tests, {"output": DEVICE, "expect_transports": ["NET/IB"]})
    assert none["failed"] and "no inter-rank transport" in none["msg"]


def test_wrong_values_fail():
    text = DEVICE.replace(
        "    float     sum      -1   714.07  1503.7    0.00       0",
        "    float     sum      -1   714.07  1503.7    0.00       3",
    )
    assert text != DEVICE
    result = _run(nccl_tests, {"output": text})
    assert result["failed"] and "#wrong total 3" in result["msg"]


def test_failed_run_and_unparsable_output():
    failed = _run(nccl_tests, {}, lambda self, argv, **kw: (124, "", ""))
    assert failed["failed"] and "timed out" in failed["msg"]
    garbage = _run(nccl_tests, {"output": "hello\n"})
    assert garbage["failed"] and "cannot parse" in garbage["msg"]


def test_check_mode_does_not_run():
    result = _run(
        nccl_tests,
        {"_ansible_check_mode": True},
        lambda *a, **k: _never_run(),
    )
    assert result["skipped"] is True


CRASH = (FIX / "crash-test-nccl-failure-mid-table.txt").read_text()


def test_crashed_run_fails_naming_the_failure_line():
    given = _run(nccl_tests, {"output": CRASH})
    assert given["failed"]
    assert given["msg"].startswith("cannot parse the nccl-tests output: the nccl-tests run failed")
    assert "line 7" in given["msg"] and "Test NCCL failure common.cu:1204" in given["msg"]
    assert given["checks"] == []
    ran = _run(nccl_tests, {"binary": "all_reduce_perf"}, lambda self, argv, **kw: (1, CRASH, ""))
    assert ran["failed"] and ran["msg"].startswith("tool failed (rc=1): the nccl-tests run failed")
    assert "Test NCCL failure" in ran["msg"] and ran["rc"] == 1 and ran["checks"] == []
