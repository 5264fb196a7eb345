"""Behaviour of the parsers beyond the golden files: errors, safety, edge cases, properties."""

from __future__ import annotations

import contextlib
import time

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers import (
    flint,
    ibstat,
    nccl_tests,
    nvidia_smi,
    perftest,
    slurm,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from .golden import FIXTURES

H100_XML = (FIXTURES / "nvidia_smi" / "h100-580-q-x.xml").read_text()
NCCL = (FIXTURES / "nccl_tests" / "gb200-nvl72-allreduce-new-layout.txt").read_text()
PARSERS = [
    nvidia_smi.parse_query_xml, nvidia_smi.parse_query_csv, nvidia_smi.parse_topo_matrix, ibstat.parse_ibstat,
    flint.parse_flint_query, perftest.parse_perftest, nccl_tests.parse_nccl_tests, slurm.parse_slurmd_c,
]
REAL = {
    nvidia_smi.parse_query_xml: H100_XML,
    nvidia_smi.parse_query_csv: (FIXTURES / "nvidia_smi" / "h100-580-query-gpu.csv").read_text(),
    nvidia_smi.parse_topo_matrix: (FIXTURES / "topo" / "h100-580-topo-m.txt").read_text(),
    ibstat.parse_ibstat: (FIXTURES / "ibstat" / "cx6-hdr-disabled-mixed.txt").read_text(),
    flint.parse_flint_query: (FIXTURES / "flint" / "cx3-fs2-query-full-pending.txt").read_text(),
    perftest.parse_perftest: (FIXTURES / "perftest" / "read-lat-ib-cpufreq-warning.txt").read_text(),
    nccl_tests.parse_nccl_tests: NCCL,
    slurm.parse_slurmd_c: (FIXTURES / "slurm" / "slurmd-C-master0.txt").read_text(),
}


def test_h100_device_capture():
    facts = nvidia_smi.parse_query_xml(H100_XML)
    gpu = facts["gpus"][0]
    assert (facts["driver_version"], facts["cuda_version"]) == ("580.159.04", "13.0")
    assert gpu["memory_total_mib"] == 81559 and gpu["uuid"].startswith("GPU-64320c1d")
    assert gpu["power_limit_w"] == 700.0 and gpu["mig_mode"] == "Disabled" and gpu["ecc_mode"] is True


def test_csv_units_stripped_and_strings_kept():
    row = nvidia_smi.parse_query_csv(REAL[nvidia_smi.parse_query_csv])[0]
    assert row["memory.total"] == 81559 and row["power.limit"] == 700.0
    assert row["serial"] == "1752724021032" and row["driver_version"] == "580.159.04"
    assert row["persistence_mode"] == "Enabled"


def test_csv_deprecated_and_na():
    text = "index, fan.speed [%], compute_mode\n0, [N/A], [Requested functionality has been deprecated]\n"
    assert nvidia_smi.parse_query_csv(text) == [{"index": 0, "fan.speed": None, "compute_mode": None}]


@pytest.mark.parametrize("text", [
    '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<nvidia_smi_log>&a;</nvidia_smi_log>',
    '<?xml version="1.0"?>\n<!DOCTYPE nvidia_smi_log SYSTEM "file:///etc/passwd" [ ]>\n<nvidia_smi_log/>',
])
def test_xml_rejects_entities_and_internal_subsets(text):
    with pytest.raises(ParseError) as info:
        nvidia_smi.parse_query_xml(text)
    assert info.value.line_number == 2


def test_truncated_xml_names_a_line():
    with pytest.raises(ParseError) as info:
        nvidia_smi.parse_query_xml(H100_XML[: len(H100_XML) // 2])
    assert info.value.line_number > 1 and "line" in str(info.value)


def test_not_tool_output_names_first_line():
    with pytest.raises(ParseError) as info:
        ibstat.parse_ibstat("\nhello world\n")
    assert info.value.line_number == 2 and info.value.line == "hello world"


def test_ibstat_rate_note_and_errors():
    fdr10 = ibstat.parse_ibstat((FIXTURES / "ibstat" / "cx3-fdr10-active-tabs.txt").read_text())
    assert fdr10["mlx4_0"]["ports"][1]["rate"] == 40 and fdr10["mlx4_0"]["ports"][1]["rate_note"] == "FDR10"
    partial = ibstat.parse_ibstat((FIXTURES / "ibstat" / "cx7-partial-ibpanic.txt").read_text())
    assert partial["errors"][0].startswith("ibpanic:") and partial["mlx5_7"]["ports"][1]["rate"] == 200


def test_flint_pending_and_base_guid():
    info = flint.parse_flint_query(REAL[flint.parse_flint_query])
    assert info["running_fw_version"] == "2.35.5100" and info["fw_version"] == "2.42.5000"
    assert info["base_mac"] == "e41d2ddd7850" and info["security_attributes"] is None


def test_nccl_wrong_na_counts_zero():
    text = (FIXTURES / "nccl_tests" / "h100-580-nccl2283-sendrecv_1gpu.txt").read_text()
    result = nccl_tests.parse_nccl_tests(text)
    assert result["rows"][0]["ip_wrong"] is None and result["wrong_total"] == 0
    assert result["avg_busbw_gbps"] == 103.934


def test_nccl_transports_in_order():
    text = ("a:1:1 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/IPC\n"
            "a:1:1 [0] NCCL INFO Channel 00/0 : 1[1] -> 2[0] [send] via NET/IB/0\n"
            "a:1:1 [0] NCCL INFO Channel 01/0 : 0[0] -> 1[1] via P2P/IPC\n" + NCCL)
    assert nccl_tests.parse_nccl_tests(text)["transports"] == ["P2P/IPC", "NET/IB/0"]


@pytest.mark.parametrize("hostlist,names", [
    ("node[001-003,7]", ["node001", "node002", "node003", "node7"]),
    ("gpu[1-2]-ib[0-1]", ["gpu1-ib0", "gpu1-ib1", "gpu2-ib0", "gpu2-ib1"]),
    ("a,b[08-10],c", ["a", "b08", "b09", "b10", "c"]),
    ("login", ["login"]),
])
def test_hostlist_expand(hostlist, names):
    assert slurm.hostlist_expand(hostlist) == names


def test_hostlist_compress_keeps_padding():
    names = ["node001", "node002", "node003", "node005", "login"]
    assert slurm.hostlist_compress(names) == "node[001-003,005],login"


@pytest.mark.parametrize("bad", ["n[1-", "n[3-1]", "n[a]", "n[[1]]"])
def test_hostlist_errors(bad):
    with pytest.raises(ValueError):
        slurm.hostlist_expand(bad)


names = st.lists(st.builds(lambda p, n, w, s: f"{p}{str(n).zfill(w)}{s}",
                           st.sampled_from(["node", "gpu", "n-", "rack1-"]), st.integers(0, 300),
                           st.integers(0, 4), st.sampled_from(["", "-ib"])), max_size=40)


@given(names)
@settings(max_examples=300, deadline=None)
def test_hostlist_round_trip(hosts):
    compressed = slurm.hostlist_compress(hosts)
    assert sorted(set(slurm.hostlist_expand(compressed))) == sorted(set(hosts))
    assert slurm.hostlist_compress(slurm.hostlist_expand(compressed)) == compressed


def _only_parse_errors(parser, text):
    with contextlib.suppress(ParseError):
        parser(text)


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_random_text_raises_only_parse_error(parser, data):
    _only_parse_errors(parser, data.draw(st.text(max_size=400)))


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_truncated_or_mangled_real_output(parser, data):
    text = REAL[parser]
    cut = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.binary(max_size=20)).decode("latin-1")
    _only_parse_errors(parser, text[:cut] + junk)
    _only_parse_errors(parser, text[:cut].encode())


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
def test_binary_input(parser):
    with pytest.raises(ParseError):
        parser("\x00\x01\x02garbage")


def _timed(parser, text):
    start = time.perf_counter()
    parser(text)
    return time.perf_counter() - start


def test_linear_time():
    row = NCCL.split("\n")[5] + "\n"
    small = (
        "#       size         count      type   redop    root"
        "     time   algbw   busbw #wrong     time   algbw   busbw #wrong\n"
    )
    t1 = min(_timed(nccl_tests.parse_nccl_tests, small + row * 2000) for _attempt in range(3))
    t4 = min(_timed(nccl_tests.parse_nccl_tests, small + row * 8000) for _attempt in range(3))
    assert t4 < t1 * 8  # 4x the input, well under quadratic growth
