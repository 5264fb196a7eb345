"""parse_scontrol_nodes and parse_squeue: golden results on real ``scontrol show node`` outputs, then edges.

Fixtures live in ``fixtures/scontrol_nodes/*.out`` with a ``.source`` note each (Slurm version, where the
text came from, and whether a published multi-line output was joined into the ``--oneliner`` shape).
They use ``.out``, not ``.txt``, because ``golden.py`` maps fixture folders to parsers and has no entry
for this one yet; this module runs the same golden comparison for them.

Regenerate the goldens after a deliberate parser change (then review the diff of every *.expected.json):
    PYTHONPATH=.cache/collections .venv/bin/python -m tests.unit.plugins.module_utils.parsers.test_slurm_state
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import (
    SQUEUE_FORMAT,
    parse_scontrol_nodes,
    parse_squeue,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st

FIXTURES = Path(__file__).parent / "fixtures" / "scontrol_nodes"
FILES = sorted(FIXTURES.glob("*.out"))


def _read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def _nodes(name: str) -> dict[str, dict]:
    return {node["NodeName"]: node for node in parse_scontrol_nodes(_read(name))}


def result_for(path: Path) -> object:
    try:
        value = parse_scontrol_nodes(path.read_text(encoding="utf-8"))
    except ParseError as exc:
        return {"error": type(exc).__name__, "line_number": exc.line_number}
    return json.loads(json.dumps(value))


def expected_path(path: Path) -> Path:
    return path.with_name(path.stem + ".expected.json")


# ---------------------------------------------------------------- golden and provenance


def test_fixture_set_covers_the_states():
    assert len(FILES) >= 8
    states = {node["State"] for path in FILES for node in parse_scontrol_nodes(path.read_text())}
    wanted = {"IDLE", "MIXED", "ALLOCATED", "DOWN*", "DOWN*+DRAIN", "IDLE+DRAIN", "IDLE+CLOUD+POWERED_DOWN"}
    assert wanted <= states


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_golden(path):
    assert json.loads(expected_path(path).read_text()) == result_for(path)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_provenance(path):
    text = path.with_suffix(".source").read_text()
    assert "source:" in text and ("hardware:" in text or "tool:" in text)


# ---------------------------------------------------------------- parse_scontrol_nodes


def test_slurm_16_05_oneliner_states_and_reasons():
    nodes = _nodes("slurm-16.05-oneliner-ten-nodes.out")
    assert list(nodes) == ["datamover1", "datamover2", "highmem1", "highmem2", "highmem4",
                           "lm1", "lm2", "lm3", "r1n03", "r1n04"]
    idle = nodes["datamover1"]
    assert (idle["state"], idle["flags"], idle["not_responding"]) == ("idle", [], False)
    assert idle["CPUTot"] == 24 and idle["CPUAlloc"] == 23 and idle["RealMemory"] == 96672
    assert idle["Partitions"] == "copy" and "Reason" not in idle
    drained = nodes["datamover2"]
    assert drained["State"] == "DOWN*+DRAIN"
    assert (drained["state"], drained["flags"], drained["not_responding"]) == ("down", ["drain"], True)
    assert drained["Reason"] == "Not responding [root@2017-06-29T08:00:07]"
    assert nodes["highmem1"]["state"] == "down" and nodes["highmem1"]["not_responding"] is True
    # The reason keeps its inner double space; only the ends are stripped.
    assert nodes["lm2"]["Reason"] == "NHC:  [root@2017-08-07T11:01:52]"
    busy = nodes["r1n03"]
    assert (busy["state"], busy["flags"]) == ("allocated", [])
    assert busy["AllocTRES"] == "cpu=32,mem=122G"
    assert busy["CfgTRES"] == "cpu=32,mem=128246M"
    assert nodes["highmem4"]["CPULoad"] == "N/A"


def test_slurm_17_02_gpu_node_mixed():
    (node,) = parse_scontrol_nodes(_read("slurm-17.02-oneliner-gpu-mixed.out"))
    assert node["NodeName"] == "gpu01"
    assert (node["state"], node["flags"], node["not_responding"]) == ("mixed", [], False)
    assert node["Gres"] == "gpu:4"
    assert (node["CPUTot"], node["CPUAlloc"], node["Sockets"], node["CoresPerSocket"]) == (16, 3, 2, 8)


def test_os_value_with_spaces_and_hash_is_one_value():
    node = _nodes("slurm-20.11-idle-and-down-not-responding.out")["slurmmaster"]
    assert node["OS"] == "Linux 4.18.0-553.30.1.el8_10.x86_64 #1 SMP Tue Nov 26 18:56:25 UTC 2024"
    assert node["Comment"] == "(null)" and node["Gres"] == "(null)"


def test_down_not_responding_reason_then_comment():
    node = _nodes("slurm-20.11-idle-and-down-not-responding.out")["slurmw2"]
    assert (node["state"], node["not_responding"]) == ("down", True)
    assert node["Reason"] == "Not responding [slurm@2024-12-02T10:32:49]"
    assert node["Comment"] == "(null)"
    assert node["BootTime"] == "None"


def test_idle_drain_reason_with_parentheses_and_comparison():
    (node,) = parse_scontrol_nodes(_read("slurm-24.05-idle-drain-gres-count-low.out"))
    assert (node["state"], node["flags"], node["not_responding"]) == ("idle", ["drain"], False)
    assert node["Gres"] == "gpu:nvidia-rtx-3090:1"
    assert node["Reason"] == (
        "gres/gpu count reported lower than configured (0 < 1) [slurm@2024-12-19T11:03:34]"
    )
    assert node["CfgTRES"] == "cpu=8,mem=1M,billing=8,gres/gpu=1"
    assert node["AllocTRES"] == ""
    assert node["Version"] == "24.05.0-0rc1"


def test_cloud_powered_down_gpu_node():
    (node,) = parse_scontrol_nodes(_read("parallelcluster-idle-cloud-powered-down-gpu.out"))
    assert node["State"] == "IDLE+CLOUD+POWERED_DOWN"
    assert (node["state"], node["flags"]) == ("idle", ["cloud", "powered_down"])
    assert node["not_responding"] is False
    assert node["Gres"] == "gpu:rtxproserver6000:8"
    assert node["AvailableFeatures"] == "dynamic,g7e.48xlarge,ml-large,efa,gpu"
    assert node["Reason"] == "stopping cluster [root@2026-03-28T08:18:20]"
    assert node["CPUTot"] == 192


def test_mixed_gres_with_type():
    (node,) = parse_scontrol_nodes(_read("slurm-24.05-mixed-gres-v100.out"))
    assert (node["state"], node["Gres"]) == ("mixed", "gpu:V100:4")
    assert node["AllocTRES"] == "cpu=26,mem=150720M,gres/gpu=4"
    assert node["CPUEfctv"] == "40"  # not in the parser's list of integer keys


def test_no_nodes_in_the_system():
    assert parse_scontrol_nodes(_read("no-nodes-in-the-system.out")) == []


def test_slurm_23_02_not_responding_is_a_flag():
    (node,) = parse_scontrol_nodes(_read("slurm-23.02-down-cloud-fail-not-responding.out"))
    assert node["state"] == "down"
    assert node["flags"] == ["cloud", "fail", "not_responding"]
    assert node["Reason"] == "Action:Replace : Not responding [slurm@2024-02-21T01:53:15]"


def test_slurm_23_02_not_responding_flag_sets_not_responding():
    (node,) = parse_scontrol_nodes(_read("slurm-23.02-down-cloud-fail-not-responding.out"))
    assert node["not_responding"] is True


@pytest.mark.parametrize("text", ["", "\n", "  \n\n"])
def test_empty_output_is_no_nodes(text):
    assert parse_scontrol_nodes(text) == []


def test_bytes_are_decoded():
    data = _read("slurm-17.02-oneliner-gpu-mixed.out").encode()
    assert parse_scontrol_nodes(data)[0]["NodeName"] == "gpu01"


@pytest.mark.parametrize(
    ("text", "line_number"),
    [
        # scontrol show node without --oneliner: the second line is an indented continuation.
        ("NodeName=n1 Arch=x86_64 CoresPerSocket=1\n   CPUAlloc=0 CPUTot=2 CPULoad=0.08\n", 2),
        ("Node n9 not found\n", 1),  # scontrol show node n9 (a name given)
        ("slurm_load_node error: Unable to contact slurm controller (connect failure)\n", 1),
        ("\n\nsinfo: error: Invalid user for SlurmUser slurm, ignored\n", 3),
    ],
)
def test_other_output_names_the_line(text, line_number):
    with pytest.raises(ParseError) as err:
        parse_scontrol_nodes(text)
    assert err.value.line_number == line_number
    assert err.value.line == text.split("\n")[line_number - 1]
    assert "not scontrol show node --oneliner output" in str(err.value)


@pytest.mark.parametrize("value", [None, 12, ["NodeName=a"]])
def test_non_text_is_a_parse_error(value):
    with pytest.raises(ParseError):
        parse_scontrol_nodes(value)


def test_nul_byte_is_a_parse_error():
    with pytest.raises(ParseError) as err:
        parse_scontrol_nodes("NodeName=a State=IDLE\nNodeName=b\x00 State=IDLE\n")
    assert err.value.line_number == 2


# ---------------------------------------------------------------- parse_squeue
# squeue -h -o '%i|%T|%N|%u|%j|%D' lines: job id (array tasks as <job>_<task>), long state, node list
# (empty while pending), user, job name, node count.

SQUEUE = """\
161703|RUNNING|slurmmaster,slurmw1|student1|hello_mpi|2
161704|RUNNING|node[001-003,007]|alice|train-llm|4
161705|PENDING||bob|wrap|3
161706_4|RUNNING|gpu01|carol|sweep|1
"""


def test_squeue_jobs():
    jobs = parse_squeue(SQUEUE)
    assert jobs[0] == {"job_id": "161703", "state": "RUNNING", "nodelist": "slurmmaster,slurmw1",
                       "nodes": ["slurmmaster", "slurmw1"], "user": "student1", "name": "hello_mpi",
                       "node_count": 2}
    assert jobs[1]["nodes"] == ["node001", "node002", "node003", "node007"]
    assert jobs[1]["node_count"] == 4
    assert (jobs[2]["state"], jobs[2]["nodelist"], jobs[2]["nodes"]) == ("PENDING", "", [])
    assert (jobs[3]["job_id"], jobs[3]["nodes"]) == ("161706_4", ["gpu01"])


def test_squeue_empty_queue():
    assert parse_squeue("") == []


def test_squeue_format_constant_matches_the_module():
    assert SQUEUE_FORMAT == "%i|%T|%N|%u|%j|%D"


@pytest.mark.parametrize(
    ("text", "line_number"),
    [
        # The default squeue table (no -o).
        ("             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)\n", 1),
        (SQUEUE + "161707|RUNNING|n1|u|j\n", 5),  # truncated line
        ("abc|RUNNING|n1|u|j|1\n", 1),  # job id not a number
        ("161707|RUNNING|n1|u|j|one\n", 1),  # node count not a number
    ],
)
def test_squeue_garbage_names_the_line(text, line_number):
    with pytest.raises(ParseError) as err:
        parse_squeue(text)
    assert err.value.line_number == line_number
    assert f"not squeue -o '{SQUEUE_FORMAT}' output" in str(err.value)


def test_squeue_job_name_with_a_bar():
    (job,) = parse_squeue("161707|RUNNING|n1|u|a|b|1\n")
    assert job["name"] == "a|b"
    assert job["node_count"] == 1


def test_squeue_pending_job_array():
    jobs = parse_squeue("161708_[1-10]|PENDING||alice|sweep|1\n")
    assert jobs[0]["job_id"] == "161708_[1-10]"


def test_squeue_bad_nodelist_is_a_parse_error():
    with pytest.raises(ParseError):
        parse_squeue("1|RUNNING|n[1-|u|j|1\n")


# ---------------------------------------------------------------- properties


def _only_parse_errors(parser, text):
    with contextlib.suppress(ParseError):
        assert isinstance(parser(text), list)


@given(st.text(max_size=400))
@settings(max_examples=200, deadline=None)
def test_scontrol_random_text_raises_only_parse_error(text):
    _only_parse_errors(parse_scontrol_nodes, text)


@given(st.text(max_size=200).map(lambda t: "NodeName=" + t))
@settings(max_examples=200, deadline=None)
def test_scontrol_lines_starting_with_nodename_always_parse(text):
    _only_parse_errors(parse_scontrol_nodes, text)


@given(data=st.data())
@settings(max_examples=100, deadline=None)
def test_scontrol_truncated_or_mangled_real_output(data):
    text = data.draw(st.sampled_from(FILES)).read_text()
    cut = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.binary(max_size=20)).decode("latin-1")
    _only_parse_errors(parse_scontrol_nodes, text[:cut] + junk)


_SQUEUE_TEXT = st.text(max_size=200)


@given(_SQUEUE_TEXT)
@example("1|RUNNING|n1|u|j|1")
@example("1|R||u|j|0\n\n2_3|PENDING||u||1")
@settings(max_examples=200, deadline=None)
def test_squeue_random_text_raises_only_parse_error(text):
    _only_parse_errors(parse_squeue, text)


@given(st.lists(st.sampled_from(["0", "12", "7_3", "|", "RUNNING", "n1", "n[1-2]", ",", "", "x", "\n"]),
                max_size=20).map("".join))
@settings(max_examples=200, deadline=None)
def test_squeue_pipe_shaped_text_raises_only_parse_error(text):
    _only_parse_errors(parse_squeue, text)


if __name__ == "__main__":
    for fixture in FILES:
        expected_path(fixture).write_text(json.dumps(result_for(fixture), indent=2, sort_keys=True) + "\n")
        print(fixture.name)
