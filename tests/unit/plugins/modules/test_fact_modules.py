"""Module glue: output/src parsing, argv and environment of the tool run, failures."""

from __future__ import annotations

import json
from pathlib import Path

from ansible_collections.gpuforge.cluster.plugins.modules import (
    flint_info,
    ibstat_facts,
    nvidia_smi_facts,
    rdma_gid_facts,
    slurm_node_facts,
)

from .harness import fixed_bin_path, run_module

FIX = Path(__file__).parents[1] / "module_utils" / "parsers" / "fixtures"


def _no_output(self, *a, **k):
    return 0, "", ""


def _run(module, args, run_command=None, bin_path="/usr/bin/tool"):
    return run_module(module.main, args, run_command or _no_output, fixed_bin_path(bin_path))


def test_nvidia_smi_runs_tool_with_c_locale():
    calls = []

    def run_command(self, argv, environ_update=None, **kw):
        calls.append((argv, environ_update))
        return 0, (FIX / "nvidia_smi" / "h100-580-q-x.xml").read_text(), ""

    result = _run(nvidia_smi_facts, {}, run_command)
    assert calls == [(["/usr/bin/tool", "-q", "-x"], {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"})]
    facts = result["ansible_facts"]["nvidia_smi"]
    assert facts["driver_version"] == "580.159.04" and facts["gpus"][0]["memory_total_mib"] == 81559
    assert result["changed"] is False


def test_nvidia_smi_topology():
    outputs = iter([
        (FIX / "nvidia_smi" / "h100-580-q-x.xml").read_text(),
        (FIX / "topo" / "h100-580-topo-m.txt").read_text(),
    ])
    result = _run(nvidia_smi_facts, {"topology": True}, lambda self, argv, **kw: (0, next(outputs), ""))
    assert result["ansible_facts"]["nvidia_smi"]["topology"]["cpu_affinity"] == {"GPU0": "0-15"}


def test_nvidia_smi_missing_tool():
    result = _run(nvidia_smi_facts, {}, bin_path=None)
    assert result["failed"] and result["reason"] == "tool_not_found" and "not found" in result["msg"]


def test_nvidia_smi_no_driver_fails_or_reports():
    text = (FIX / "nvidia_smi" / "error-no-driver.txt").read_text()
    failed = _run(nvidia_smi_facts, {"output": text})
    assert failed["failed"] and failed["reason"] == "no_driver"
    soft = _run(nvidia_smi_facts, {"output": text, "fail_on_error": False})
    assert soft["ansible_facts"]["nvidia_smi"]["error"]["reason"] == "no_driver"


def test_nvidia_smi_src(tmp_path):
    src = tmp_path / "x.xml"
    src.write_text((FIX / "nvidia_smi" / "netdata_a100-sxm4-mig.xml").read_text())
    result = _run(nvidia_smi_facts, {"src": str(src)})
    assert result["ansible_facts"]["nvidia_smi"]["gpus"][0]["mig_mode"] == "Enabled"


def test_ibstat_facts():
    result = _run(ibstat_facts, {"output": (FIX / "ibstat" / "cx3-fdr10-initializing.txt").read_text()})
    port = result["ansible_facts"]["ibstat"]["mlx4_0"]["ports"][1]
    assert port["rate"] == 40 and port["rate_note"] == "FDR10"


def test_ibstat_without_rdma_devices_is_empty_and_runs_nothing(monkeypatch):
    # A node with infiniband-diags but no HCA (the lab's nodes): ibstat would print nothing.
    monkeypatch.setattr(ibstat_facts, "_rdma_devices", lambda: [])

    def run_command(self, argv, **kw):
        raise AssertionError("ran ibstat")

    result = _run(ibstat_facts, {}, run_command)
    assert result["ansible_facts"]["ibstat"] == {}


def test_ibstat_runs_ibstat(monkeypatch):
    monkeypatch.setattr(ibstat_facts, "_rdma_devices", lambda: ["mlx5_0", "mlx5_1"])
    calls = []

    def run_command(self, argv, **kw):
        calls.append(argv)
        return 0, (FIX / "ibstat" / "cx6dx-ethernet-100g.txt").read_text(), ""

    result = _run(ibstat_facts, {}, run_command)
    assert calls == [["/usr/bin/tool"]]
    assert result["ansible_facts"]["ibstat"]["mlx5_1"]["ports"][1]["link_layer"] == "Ethernet"


def test_flint_info_argv_and_pending():
    calls = []

    def run_command(self, argv, **kw):
        calls.append(argv)
        return 0, (FIX / "flint" / "cx3-fs2-query-full-pending.txt").read_text(), ""

    result = _run(flint_info, {"device": "/dev/mst/mt4099_pci_cr0", "full": True}, run_command)
    assert calls == [["/usr/bin/tool", "-d", "/dev/mst/mt4099_pci_cr0", "query", "full"]]
    assert result["pending_reboot"] is True and result["firmware"]["psid"] == "MT_1170110023"


def test_flint_info_error_reason():
    result = _run(flint_info, {"output": (FIX / "flint" / "error-mfe-cr-error-ppc64.txt").read_text()})
    assert result["failed"] and result["reason"] == "cr_access"


def test_slurm_node_facts():
    text = (FIX / "slurm" / "slurmd-C-two-lines-aws.txt").read_text()
    result = _run(slurm_node_facts, {}, lambda self, argv, **kw: (0, text, ""))
    assert result["ansible_facts"]["slurm_node"]["RealMemory"] == 456


def _sysfs(root: Path):
    port = root / "class" / "infiniband" / "mlx5_0" / "ports" / "1"
    for sub in ("gids", "gid_attrs/types", "gid_attrs/ndevs"):
        (port / sub).mkdir(parents=True)
    (port / "link_layer").write_text("Ethernet\n")
    (port / "state").write_text("4: ACTIVE\n")
    table = [
        ("fe80:0000:0000:0000:5aa2:e1ff:feda:e626", "IB/RoCE v1", "enp1s0np0"),
        ("fe80:0000:0000:0000:5aa2:e1ff:feda:e626", "RoCE v2", "enp1s0np0"),
        ("0000:0000:0000:0000:0000:ffff:c0a8:0102", "IB/RoCE v1", "enp1s0np0"),
        ("0000:0000:0000:0000:0000:ffff:c0a8:0102", "RoCE v2", "enp1s0np0"),
    ]
    for index, (gid, kind, ndev) in enumerate(table):
        (port / "gids" / str(index)).write_text(gid + "\n")
        (port / "gid_attrs" / "types" / str(index)).write_text(kind + "\n")
        (port / "gid_attrs" / "ndevs" / str(index)).write_text(ndev + "\n")
    (port / "gids" / "4").write_text("0000:0000:0000:0000:0000:0000:0000:0000\n")  # unused slot, no attrs


def test_rdma_gid_facts(tmp_path):
    _sysfs(tmp_path)
    facts = _run(rdma_gid_facts, {"sysfs_root": str(tmp_path)})["ansible_facts"]["rdma_gids"]
    assert facts["roce_v2_ipv4"]["enp1s0np0"] == {
        "device": "mlx5_0", "port": 1, "index": 3,
        "gid": "0000:0000:0000:0000:0000:ffff:c0a8:0102", "ipv4": "192.168.1.2",
    }
    assert [g["index"] for g in facts["devices"]["mlx5_0"][1]["gids"]] == [0, 1, 2, 3]
    json.dumps(facts)


def test_rdma_gid_facts_empty(tmp_path):
    facts = _run(rdma_gid_facts, {"sysfs_root": str(tmp_path)})["ansible_facts"]["rdma_gids"]
    assert facts == {"devices": {}, "roce_v2_ipv4": {}}
