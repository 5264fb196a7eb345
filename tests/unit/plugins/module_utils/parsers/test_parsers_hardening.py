"""Hardening of every parser: any text in, a result or ParseError out; plus the nvidia-smi CSV, nccl-tests
prefix/crash and perftest cases of the issue "Faults, secrets, check mode and parsers"."""

from __future__ import annotations

import contextlib
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils import parsers as parsers_pkg
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers import (
    nccl_tests,
    nvidia_smi,
    perftest,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .golden import FIXTURES, fixture_files, parser_for

HERE = Path(__file__).parent


def _public_parsers() -> list:
    found = []
    for info in pkgutil.iter_modules(parsers_pkg.__path__):
        module = importlib.import_module(f"{parsers_pkg.__name__}.{info.name}")
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("parse_") and func.__module__ == module.__name__:
                found.append(func)
    return sorted(found, key=lambda f: f"{f.__module__}.{f.__name__}")


PARSERS = _public_parsers()
NAME = {f: f"{f.__module__.rsplit('.', 1)[-1]}.{f.__name__}" for f in PARSERS}


def _samples() -> dict[str, list[str]]:
    """Real captures for each parser: the golden fixtures plus the scontrol outputs of test_slurm_state."""
    samples: dict[str, list[str]] = {}
    for path in fixture_files():
        func = parser_for(path)
        samples.setdefault(getattr(func, "__name__", ""), []).append(path.read_text(encoding="utf-8"))
    scontrol = sorted((HERE / "fixtures" / "scontrol_nodes").glob("*.out"))
    samples["parse_scontrol_nodes"] = [p.read_text(encoding="utf-8") for p in scontrol]
    # squeue -h -o '%i|%T|%N|%u|%j|%D' as in test_slurm_state (real job lines are one line each)
    samples["parse_squeue"] = ["1234|RUNNING|node[01-02]|alice|train|2\n1235_7|PENDING||bob|eval|1\n"]
    return samples


SAMPLES = _samples()
ANY_SAMPLE = [text for texts in SAMPLES.values() for text in texts]


def test_every_parser_is_covered():
    names = {f.__name__ for f in PARSERS}
    assert {"parse_query_csv", "parse_nccl_tests", "parse_perftest", "parse_show_gids",
            "parse_ibv_devinfo_gids", "parse_slurmd_gres", "parse_slurmd_c", "parse_scontrol_nodes",
            "parse_squeue"} <= names
    assert len(PARSERS) >= 15


def _only_parse_errors(parser, text) -> None:
    with contextlib.suppress(ParseError):
        parser(text)


REPLACEMENTS = ["9", "99999999999999999999", ".", "-1", "1.5", "x", "", "nan", "\u00b2"]


def _mutate(data, text: str) -> str:
    lines = text.split("\n")
    for _step in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["drop", "truncate", "digits", "dup", "junk"]))
        if not lines:
            break
        at = data.draw(st.integers(0, len(lines) - 1))
        if op == "drop":
            del lines[at]
        elif op == "truncate":
            lines = [*lines[:at], lines[at][:data.draw(st.integers(0, len(lines[at])))]]
        elif op == "digits":
            repl = data.draw(st.sampled_from(REPLACEMENTS))
            lines[at] = "".join(repl if c.isdigit() and data.draw(st.booleans()) else c for c in lines[at])
        elif op == "dup":
            lines.insert(at, lines[at])
        else:
            lines.insert(at, data.draw(st.text(max_size=40)))
    return "\n".join(lines)


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("parser", PARSERS, ids=lambda f: NAME[f])
@given(data=st.data())
@SETTINGS
def test_arbitrary_text_gives_result_or_parse_error(parser, data):
    text = data.draw(st.text(max_size=300) | st.sampled_from(ANY_SAMPLE).map(lambda t: t[:2000]))
    _only_parse_errors(parser, text)


@pytest.mark.parametrize("parser", PARSERS, ids=lambda f: NAME[f])
@given(data=st.data())
@SETTINGS
def test_mutated_real_output_gives_result_or_parse_error(parser, data):
    texts = SAMPLES.get(parser.__name__) or ANY_SAMPLE
    _only_parse_errors(parser, _mutate(data, data.draw(st.sampled_from(texts))))


# ------------------------------------------------------------------ nvidia-smi --query-gpu CSV

EXPORTER_H100_MIG = (FIXTURES / "nvidia_smi" / "exporter_h100-mig-590-query-gpu-212-fields.csv").read_text()


def test_csv_long_camel_case_field_list_with_mig():
    header, _row = EXPORTER_H100_MIG.splitlines()
    assert len(header.split(", ")) == 212
    gpu = nvidia_smi.parse_query_csv(EXPORTER_H100_MIG)[0]
    assert gpu["mig.mode.current"] == "Enabled" and gpu["memory.total"] == 81559
    assert gpu["vgpu_driver_capability.heterogenous_multivGPU"] is None
    assert gpu["pci.baseClass"] == "0x3" and gpu["encoder.stats.sessionCount"] == 0


def test_csv_noheader_needs_the_fields_and_nounits_header_without_suffixes():
    header, row = EXPORTER_H100_MIG.splitlines()
    names = [c.split(" [")[0] for c in header.split(", ")]
    with pytest.raises(ParseError) as info:
        nvidia_smi.parse_query_csv(row + "\n")
    assert info.value.line_number == 1
    noheader = nvidia_smi.parse_query_csv(row + "\n", fields=names)
    assert noheader == nvidia_smi.parse_query_csv(EXPORTER_H100_MIG)
    bare = ", ".join(names) + "\n" + row + "\n"  # a header without any unit suffix, as some wrappers print it
    assert nvidia_smi.parse_query_csv(bare)[0]["memory.total"] == 81559
    assert nvidia_smi.parse_query_csv(EXPORTER_H100_MIG, fields=names)[0]["mig.mode.pending"] == "Enabled"
    with pytest.raises(ParseError) as info:
        nvidia_smi.parse_query_csv(EXPORTER_H100_MIG, fields=names[:-1])
    assert info.value.line_number == 1


# ------------------------------------------------------------------ nccl-tests

SRUN = (FIXTURES / "nccl_tests" / "srun-label-h100-2node-16rank.txt").read_text()


@pytest.mark.parametrize("prefix", [
    "", "[1,0]<stdout>:", " 0: ", "node005: ", "2025-03-04T09:13:02.123Z ",
    "[2025-03-04 09:13:02] node005: 0: ",
])
def test_nccl_prefixes_keep_every_rank(prefix):
    body = "\n".join(line[4:] if line.startswith(" 0: ") else line for line in SRUN.splitlines())
    text = "\n".join(prefix + line for line in body.splitlines())
    result = nccl_tests.parse_nccl_tests(text)
    assert [r["rank"] for r in result["ranks"]] == list(range(16))
    assert {r["host"] for r in result["ranks"]} == {"node005", "node007"}
    assert len(result["rows"]) == 11 and result["avg_busbw_gbps"] == 142.735


def test_nccl_old_rank_lines_without_pid():
    text = (FIXTURES / "nccl_tests" / "crash-nccl-failure-nccl1.txt").read_text()
    ok = text.replace("NCCL failure all_reduce.cu:95 'unhandled cuda error'",
                      "           8             2   float     sum    0.010    0.00    0.00    0e+00"
                      "    0.010    0.00    0.00    0e+00")
    result = nccl_tests.parse_nccl_tests(ok)
    assert len(result["ranks"]) == 8 and result["ranks"][7] == {
        "rank": 7, "host": "node03", "device": 7, "name": "Tesla P100-PCIE-16GB"}
    assert result["rows"][0]["redop"] == "sum" and result["rows"][0]["oop_error"] == 0.0


@pytest.mark.parametrize("name,line_number,needle", [
    ("crash-test-nccl-failure-mid-table.txt", 7, "Test NCCL failure common.cu:1204"),
    ("crash-cuda-failure-old-layout-no-pid.txt", 12, "Cuda failure common.cu:510"),
    ("crash-nccl-failure-nccl1.txt", 15, "NCCL failure all_reduce.cu:95"),
])
def test_nccl_crash_names_the_failure_line(name, line_number, needle):
    with pytest.raises(ParseError) as info:
        nccl_tests.parse_nccl_tests((FIXTURES / "nccl_tests" / name).read_text())
    assert info.value.line_number == line_number and needle in info.value.line and needle in str(info.value)


def test_nccl_warn_mid_table_without_summary_is_a_crash_but_not_with_one():
    lines = SRUN.splitlines()
    at = next(i for i, line in enumerate(lines) if "134217728" in line)
    warn = (" 0: node005:291005:291100 [0] transport/net_ib.cc:1700 NCCL WARN NET/IB : "
            "Got completion with error 12")
    crashed = "\n".join([*lines[:at], warn])
    with pytest.raises(ParseError) as info:
        nccl_tests.parse_nccl_tests(crashed)
    assert info.value.line_number == at + 1 and "NCCL WARN" in str(info.value)
    survived = "\n".join([*lines[:at], warn, *lines[at:]])
    assert nccl_tests.parse_nccl_tests(survived)["avg_busbw_gbps"] == 142.735


def test_nccl_unknown_rank_line_is_refused_not_dropped():
    text = SRUN.replace("#  Rank  3 Group  0 Pid 291004 on    node005 device  3",
                        "#  Rank  3 Group  0 Pid 291004 @@")
    with pytest.raises(ParseError) as info:
        nccl_tests.parse_nccl_tests(text)
    assert info.value.line_number == 7


# ------------------------------------------------------------------ perftest

def test_perftest_decimal_in_integer_column_is_a_parse_error():
    text = (FIXTURES / "perftest" / "write-bw-rdmacm-4qp-gbits.txt").read_text()
    line = next(line for line in text.splitlines() if line.strip()[:1].isdigit() and len(line.split()) >= 4)
    bad = text.replace(line, line.replace(line.split()[0], line.split()[0] + ".5", 1), 1)
    with pytest.raises(ParseError) as info:
        perftest.parse_perftest(bad)
    assert info.value.line_number > 0 and ".5" in info.value.line
