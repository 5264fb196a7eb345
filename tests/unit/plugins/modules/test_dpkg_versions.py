"""dpkg_versions: argv, installed/held/other states, rc 1 for names that match nothing."""

from __future__ import annotations

from ansible_collections.gpuforge.cluster.plugins.modules import dpkg_versions

from .test_fact_modules import _run

# dpkg-query -W -f '${Package}\t${Version}\t${Status}\n' on the GPU machine (Ubuntu 24.04), 2026-11-23.
DEVICE = (
    "libnccl2\t2.28.3-1+cuda13.0\thold ok installed\n"
    "libnccl-dev\t2.28.3-1+cuda13.0\thold ok installed\n"
    "cuda-nvcc-13-0\t13.0.88-1\tinstall ok installed\n"
    "cuda-cudart-11-2\t\tunknown ok not-installed\n"
    "nvidia-cuda-toolkit\t12.0.140~12.0.1-4build4\tdeinstall ok config-files\n"
)


def _never_run():
    raise AssertionError("ran")


def test_parse_states():
    packages, held, other = dpkg_versions.parse(DEVICE)
    assert packages == {
        "libnccl2": "2.28.3-1+cuda13.0",
        "libnccl-dev": "2.28.3-1+cuda13.0",
        "cuda-nvcc-13-0": "13.0.88-1",
    }
    assert held == ["libnccl-dev", "libnccl2"]
    assert other == {"nvidia-cuda-toolkit": "deinstall ok config-files"}


def test_runs_dpkg_query_with_patterns_and_accepts_rc_1():
    calls = []

    def run_command(self, argv, environ_update=None, **kw):
        calls.append((argv, environ_update))
        return 1, DEVICE, "dpkg-query: no packages found matching nvidia-open\n"

    result = _run(dpkg_versions, {"names": ["libnccl*", "nvidia-open"]}, run_command)
    assert calls[0][0] == ["/usr/bin/tool", "-W", "-f", dpkg_versions.FORMAT, "--", "libnccl*", "nvidia-open"]
    assert calls[0][1]["LC_ALL"] == "C"
    assert result["failed"] is False and result["changed"] is False
    assert result["held"] == ["libnccl-dev", "libnccl2"]


def test_other_failures_fail():
    result = _run(
        dpkg_versions,
        {"names": ["x"]},
        lambda self, argv, **kw: (2, "", "dpkg-query: error: database locked"),
    )
    assert result["failed"] and "database locked" in result["msg"]


def test_empty_names_run_nothing():
    result = _run(dpkg_versions, {"names": []}, lambda *a, **k: _never_run())
    assert result["packages"] == {} and result["failed"] is False
