"""slurm_gres_check: judges real ``slurmd -G`` outputs (fixtures/slurmd_gres, recorded with the lab
image's slurmd 22.05.8; provenance in their .source files) and runs slurmd at argv level."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.modules import slurm_gres_check

from .harness import run_module

FIXTURES = Path(__file__).parents[1] / "module_utils" / "parsers" / "fixtures" / "slurmd_gres"


def out(name):
    return (FIXTURES / f"{name}.txt").read_text()


def gpus(gres_type, minors):
    return [f"{gres_type}:/dev/nvidia{m}" for m in minors]


def _run(args, run_command=None):
    return run_module(slurm_gres_check.main, args, run_command,
                      lambda self, name, *a, **k: "/usr/sbin/" + name, check_mode=True)


@pytest.mark.parametrize(("fixture", "expected"), [
    ("eight-v100s", gpus("v100s", range(8))),
    ("one-h100", gpus("h100", [0])),
    ("two-a5000-minor-order", gpus("rtxa5000", [0, 1])),
    ("two-types", gpus("h100", [0]) + gpus("l4", [1])),
    ("no-gpus", []),
    ("other-node-only", []),
    # start-up errors unrelated to GRES (no spool dir yet, CPUs=1 declared on a 2-CPU node) do not block
    ("config-below-hardware", gpus("h100", [0])),
    ("config-above-hardware", gpus("h100", [0])),
])
def test_accepted(fixture, expected):
    result = _run({"node": "gx", "expected": expected, "output": out(fixture)})
    assert result["failed"] is False, result["msg"]
    assert sorted(result["summary"]) == sorted(expected)


@pytest.mark.parametrize(("fixture", "expected", "says"), [
    # slurmd exits 0 here; only the comparison catches it (slurmctld would drain the node later)
    ("fewer-than-slurm-conf", gpus("v100s", range(8)),
     "missing: v100s:/dev/nvidia4, v100s:/dev/nvidia5, v100s:/dev/nvidia6, v100s:/dev/nvidia7"),
    ("warning-more-than-slurm-conf", gpus("v100s", range(8)), "has 1 more configured than expected"),
    ("fatal-not-char-device", gpus("h100", [0]), "is not a valid character or block device"),
    ("fatal-missing-device", gpus("h100", [9]), "can't stat gres.conf file /dev/nvidia9"),
    ("fatal-parse-error", gpus("h100", [0]), "unrecognized key: Typo"),
    ("one-h100", gpus("h100", [1]), "missing: h100:/dev/nvidia1; not expected: h100:/dev/nvidia0"),
    ("one-h100", gpus("a100", [0]), "missing: a100:/dev/nvidia0; not expected: h100:/dev/nvidia0"),
    ("other-node-only", gpus("h100", [0]), "missing: h100:/dev/nvidia0"),
    ("eight-v100s", [], "not expected: v100s:/dev/nvidia0"),
])
def test_refused(fixture, expected, says):
    result = _run({"node": "gx", "expected": expected, "output": out(fixture)})
    assert result["failed"] is True
    assert says in result["msg"], result["msg"]
    assert result["msg"].startswith("slurmd -G for node gx (given output) does not give the GPUs")


def test_one_line_for_a_range_is_refused():
    text = "slurmd-gx: Gres Name=gpu Type=v100s Count=8 Index=0 ID=7696487 File=/dev/nvidia[0-7] (null)\n"
    result = _run({"node": "gx", "expected": gpus("v100s", range(8)), "output": text})
    assert result["failed"] is True and "counts 8 devices in one line" in result["msg"]


def test_runs_slurmd_with_the_config_and_node():
    calls = []

    def run_command(self, argv, **kw):
        calls.append((argv, kw.get("environ_update")))
        return 0, "", out("one-h100")

    args = {"node": "gx", "config": "/run/check/slurm.conf", "expected": gpus("h100", [0])}
    result = _run(args, run_command)
    assert result["failed"] is False
    assert calls[0][0][:6] == ["/usr/sbin/slurmd", "-G", "-f", "/run/check/slurm.conf", "-N", "gx"]
    assert calls[0][0][6] == "-L" and calls[0][0][7].endswith("slurmd-G.log")
    assert calls[0][1]["LC_ALL"] == "C"


def test_errors_slurmd_logged_to_its_file_are_reported():
    """Before it prints GRES, slurmd logs to -L FILE only (real lines from the GPU machine)."""
    logged = out("device-cgroup-v2-no-dbus")

    def run_command(self, argv, **kw):
        with open(argv[argv.index("-L") + 1], "w") as handle:
            handle.write(logged)
        return 1, "", ""

    result = _run({"node": "h100node", "config": "/x/slurm.conf", "expected": gpus("h100", [0])}, run_command)
    assert result["failed"] is True
    assert "slurmd -G exited 1: " in result["msg"]
    assert "Unable to initialize cgroup plugin" in result["msg"]
    assert "cannot connect to dbus system daemon" in result["msg"]


def test_nonzero_exit_without_error_lines_fails():
    result = _run({"node": "gx", "config": "/x/slurm.conf", "expected": []},
                  lambda self, argv, **kw: (1, "", ""))
    assert result["failed"] is True and "slurmd -G exited 1 and logged nothing" in result["msg"]


def test_unreadable_output_names_the_line():
    result = _run({"node": "gx", "expected": [], "output": "Segmentation fault\n"})
    assert result["failed"] is True
    assert "line 1: 'Segmentation fault'" in result["msg"]


@pytest.mark.parametrize("entry", ["h100", "h100:nvidia0", ":/dev/nvidia0"])
def test_bad_expected_entry_is_named(entry):
    result = _run({"node": "gx", "expected": [entry], "output": out("one-h100")})
    assert result["failed"] is True and repr(entry) in result["msg"]


def test_non_blocking_errors_are_still_returned():
    result = _run({"node": "gx", "expected": gpus("h100", [0]), "output": out("config-below-hardware")})
    assert result["failed"] is False
    assert any("Node configuration differs from hardware" in e for e in result["errors_seen"])


def test_nonzero_exit_with_its_reason_already_listed():
    result = _run({"node": "gx", "config": "/x/slurm.conf", "expected": gpus("h100", [9])},
                  lambda self, argv, **kw: (1, "", out("fatal-missing-device")))
    assert result["failed"] is True
    assert "slurmd -G exited 1; slurmd said: error: Waiting for gres.conf file /dev/nvidia9" in result["msg"]
    assert "logged nothing" not in result["msg"]
