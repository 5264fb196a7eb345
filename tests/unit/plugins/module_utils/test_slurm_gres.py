"""slurm_gres: the verdict on real ``slurmd -G`` outputs.

Inputs are the golden parses (``.expected.json``) of fixtures/slurmd_gres, recorded with the lab
image's slurmd 22.05.8 and on an H100 machine (provenance in their .source files); the parser test
holds those parses to the ``.txt`` captures.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils.slurm_gres import (
    failure_message,
    is_blocking,
    judge,
    parse_expected,
)

FIXTURES = Path(__file__).parent / "parsers" / "fixtures" / "slurmd_gres"


def parsed(name):
    return json.loads((FIXTURES / f"{name}.expected.json").read_text())


def gpus(gres_type, minors):
    return [(gres_type, f"/dev/nvidia{m}") for m in minors]


@pytest.mark.parametrize(("fixture", "expected", "summary"), [
    ("eight-v100s", gpus("v100s", range(8)), [f"v100s:/dev/nvidia{m}" for m in range(8)]),
    ("one-h100", gpus("h100", [0]), ["h100:/dev/nvidia0"]),
    # gres.conf lists nvidia1 first; slurmd keeps that order and the comparison ignores it
    ("two-a5000-minor-order", gpus("rtxa5000", [0, 1]), ["rtxa5000:/dev/nvidia1", "rtxa5000:/dev/nvidia0"]),
    ("two-types", gpus("h100", [0]) + gpus("l4", [1]), ["h100:/dev/nvidia0", "l4:/dev/nvidia1"]),
    ("no-gpus", [], []),
    ("other-node-only", [], []),
    # start-up errors unrelated to GRES (no spool dir yet, CPUs=1 declared on a 2-CPU node) do not block
    ("config-below-hardware", gpus("h100", [0]), ["h100:/dev/nvidia0"]),
    ("config-above-hardware", gpus("h100", [0]), ["h100:/dev/nvidia0"]),
])
def test_accepted(fixture, expected, summary):
    assert judge(parsed(fixture), expected) == ([], summary)


V100S_8 = gpus("v100s", range(8))
LAST_4 = "missing: v100s:/dev/nvidia4, v100s:/dev/nvidia5, v100s:/dev/nvidia6, v100s:/dev/nvidia7"
MORE = ("slurmd said: WARNING: A line in gres.conf for GRES gpu:v100s has 1 more configured than expected in "
        "slurm.conf. Ignoring extra GRES.")


@pytest.mark.parametrize(("fixture", "expected", "problems"), [
    # slurmd exits 0 here; only the comparison catches it (slurmctld would drain the node later)
    ("fewer-than-slurm-conf", V100S_8, [LAST_4]),
    ("warning-more-than-slurm-conf", V100S_8, [MORE] * 4 + [LAST_4]),
    ("fatal-not-char-device", gpus("h100", [0]),
     ["slurmd said: error: /etc/hostname is not a valid character or block device, fix your gres.conf",
      "missing: h100:/dev/nvidia0", "not expected: h100:/etc/hostname"]),
    ("fatal-missing-device", gpus("h100", [9]),
     ["slurmd said: error: Waiting for gres.conf file /dev/nvidia9",
      "slurmd said: fatal: can't stat gres.conf file /dev/nvidia9: No such file or directory",
      "missing: h100:/dev/nvidia9"]),
    ("fatal-parse-error", gpus("h100", [0]),
     ["slurmd said: error: Parsing error at unrecognized key: Typo",
      'slurmd said: error: Parse error in file /tmp/g/gres.conf line 1: " Typo=h100 File=/dev/nvidia0"',
      "slurmd said: fatal: error opening/reading /tmp/g/gres.conf",
      "missing: h100:/dev/nvidia0"]),
    ("one-h100", gpus("h100", [1]), ["missing: h100:/dev/nvidia1", "not expected: h100:/dev/nvidia0"]),
    ("one-h100", gpus("a100", [0]), ["missing: a100:/dev/nvidia0", "not expected: h100:/dev/nvidia0"]),
    ("other-node-only", gpus("h100", [0]), ["missing: h100:/dev/nvidia0"]),
    ("eight-v100s", [], ["not expected: " + ", ".join(f"v100s:/dev/nvidia{m}" for m in range(8))]),
    # the same GPU expected twice is one missing
    ("one-h100", gpus("h100", [0, 0]), ["missing: h100:/dev/nvidia0"]),
])
def test_refused(fixture, expected, problems):
    assert judge(parsed(fixture), expected)[0] == problems


def test_one_record_for_a_range_is_refused():
    record = {"name": "gpu", "type": "v100s", "count": 8, "index": 0, "file": "/dev/nvidia[0-7]"}
    problems, summary = judge({"gres": [record], "errors": [], "warnings": []},
                              [("v100s", "/dev/nvidia[0-7]")])
    assert problems == ["a gpu record counts 8 devices in one line (/dev/nvidia[0-7]); expected one line per "
                        "device file"]
    assert summary == ["v100s:/dev/nvidia[0-7]"]


def test_other_gres_are_not_gpus():
    mps = {"name": "mps", "type": None, "count": 100, "file": "/dev/nvidia0"}
    gpu = {"name": "gpu", "type": "h100", "count": 1, "file": "/dev/nvidia0"}
    assert judge({"gres": [mps, gpu], "errors": [], "warnings": []}, gpus("h100", [0])) == (
        [], ["h100:/dev/nvidia0"])


def test_nonzero_exit_names_the_errors_slurmd_logged():
    """slurmd -G exited 1 on the H100 machine, its reason only in the -L log (cgroup/v2 without dbus)."""
    problems, summary = judge(parsed("device-cgroup-v2-no-dbus"), gpus("h100", [0]), rc=1)
    assert problems[0].startswith("slurmd -G exited 1: error: Controller cpuset is not enabled!; ")
    assert "error: Unable to initialize cgroup plugin; error: slurmd initialization failed" in problems[0]
    assert problems[1:] == ["missing: h100:/dev/nvidia0"]
    assert summary == []


def test_nonzero_exit_with_its_reason_already_listed():
    problems = judge(parsed("fatal-missing-device"), gpus("h100", [9]), rc=1)[0]
    assert problems[:2] == ["slurmd -G exited 1",
                            "slurmd said: error: Waiting for gres.conf file /dev/nvidia9"]


def test_nonzero_exit_without_error_lines():
    problems = judge(parsed("no-gpus"), [], rc=1)[0]
    assert problems == ["slurmd -G exited 1 and logged nothing (run it by hand with -vvv)"]


def test_nonzero_exit_names_only_the_errors_not_listed():
    problems = judge(parsed("config-below-hardware"), gpus("h100", [0]), rc=1)[0]
    assert problems == ["slurmd -G exited 1: " + "; ".join(parsed("config-below-hardware")["errors"])]
    assert "Node configuration differs from hardware" in problems[0]


@pytest.mark.parametrize(("line", "blocking"), [
    ("fatal: error opening/reading /tmp/g/gres.conf", True),
    ("error: Parsing error at unrecognized key: Typo", True),
    ("error: /etc/hostname is not a valid character or block device, fix your gres.conf", True),
    ("error: Domain socket directory /var/spool/slurmd: No such file or directory", False),
    ("error: Node configuration differs from hardware: CPUs=1:2(hw)", False),
    ("error: Unable to initialize cgroup plugin", False),
])
def test_is_blocking(line, blocking):
    assert is_blocking(line) is blocking


def test_parse_expected():
    assert parse_expected(["h100:/dev/nvidia0", "l4:/dev/nvidia1"]) == [("h100", "/dev/nvidia0"),
                                                                        ("l4", "/dev/nvidia1")]
    assert parse_expected([]) == []


@pytest.mark.parametrize("entry", ["h100", "h100:nvidia0", ":/dev/nvidia0", ""])
def test_parse_expected_names_the_bad_entry(entry):
    with pytest.raises(ValueError, match="expected entries are TYPE:/dev/FILE") as err:
        parse_expected(["h100:/dev/nvidia0", entry])
    assert str(err.value).endswith(repr(entry))


def test_failure_message():
    msg = failure_message("gx", None, gpus("h100", [1]), ["missing: h100:/dev/nvidia1", "not expected: x:/y"])
    assert msg == ("slurmd -G for node gx (given output) does not give the GPUs nvidia-smi found "
                   "(h100:/dev/nvidia1): missing: h100:/dev/nvidia1; not expected: x:/y")
    assert "(/etc/slurm/slurm.conf) does not give the GPUs nvidia-smi found (none): " in failure_message(
        "gx", "/etc/slurm/slurm.conf", [], ["not expected: h100:/dev/nvidia0"])
