"""The validation report: recorded results in, report.json (checked against docs/schemas/report.schema.json),
Markdown and HTML out.

Inputs with provenance: the 2x H200 all_reduce run through Ansible (nccl_tests fixture, device tool,
2026-11-23) judged against the expectation its own recorded topology and nvidia-smi give; R1's hand-made
RDMA/TCP row (test_fabric_table.py); and the observations the callback kept of a real lab validate.yml run
(fixtures/report/lab-validate-observations.json, see its .source).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils import fabric_table, nccl_expect
from ansible_collections.gpuforge.cluster.plugins.module_utils import report as rep

from .parsers.golden import FIXTURES
from .test_fabric_table import R1_BW, R1_LAT, R1_TCP

REPO = Path(__file__).resolve().parents[4]
SCHEMA = json.loads((REPO / "docs" / "schemas" / "report.schema.json").read_text())
H200_RUN = "h200x2-580-nccl2283-ansible-all_reduce_mpi_np2_8GiB"
LAB = Path(__file__).parent / "fixtures" / "report" / "lab-validate-observations.json"
CREATED = "2026-12-06T01:00:00+00:00"


def validate(report: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(report)


def h200_observation(floor: float | None = None) -> dict:
    """What the callback keeps of the nccl_tests task of the recorded H200 run."""
    parsed = json.loads((FIXTURES / "nccl_tests" / f"{H200_RUN}.expected.json").read_text())
    topo = json.loads((FIXTURES / "topo" / "h200x2-580-topo-m.expected.json").read_text())
    smi = json.loads((FIXTURES / "nvidia_smi" / "h200x2-580-q-x.expected.json").read_text())
    expectation = nccl_expect.intra_expectation(topo, smi["gpus"])
    if floor is not None:
        expectation = {**expectation, "floor_gbps": floor}
    last = max(parsed["rows"], key=lambda r: r["size_bytes"])
    checks = nccl_expect.judge(
        expectation, parsed["transports"], last["oop_busbw_gbps"], len(parsed["ranks"])
    )
    result = {
        "result": parsed,
        "checks": checks,
        "busbw_max_size_gbps": last["oop_busbw_gbps"],
        "size_max_bytes": last["size_bytes"],
        "expectation": expectation,  # what the module judged against, returned with its checks
        "min_busbw_gbps": None,
        "changed": False,
        "ansible_facts": {},
        "stdout": "x" * 10000,
    }
    status = "failed" if any(c["ok"] is False for c in checks) else "ok"
    return rep.observation(
        "Run the MPI build on this node through mpirun",
        "nccl",
        "vm",
        status,
        "gpuforge.cluster.nccl_tests",
        result,
        None,  # the newest ansible-core passes no ``invocation`` on to callbacks
    )


def test_the_h200_run_becomes_a_chart_with_every_row_and_the_floor():
    parsed = json.loads((FIXTURES / "nccl_tests" / f"{H200_RUN}.expected.json").read_text())
    obs = h200_observation()
    assert "stdout" not in obs["data"]  # only the keys a report reads are kept
    report = rep.build_report([obs], "h200", CREATED, "device_validate.yml", ["vm"])
    validate(report)
    [run] = report["nccl"]
    assert [p["size_bytes"] for p in run["points"]] == [r["size_bytes"] for r in parsed["rows"]]
    assert [p["busbw_gbps"] for p in run["points"]] == [r["oop_busbw_gbps"] for r in parsed["rows"]]
    assert run["floor_gbps"] == obs["data"]["expectation"]["floor_gbps"] and run["floor_gbps"] > 0
    assert run["verdict"] == "pass" and report["verdict"] == "pass"
    floor = [c for c in report["checks"] if c["name"].endswith(": busbw floor")]
    assert floor and floor[0]["value"] == parsed["rows"][-1]["oop_busbw_gbps"] and floor[0]["unit"] == "GB/s"
    assert floor[0]["expect"] == f">= {run['floor_gbps']} GB/s"
    svg = rep.nccl_chart(run)
    points = re.findall(r'<circle class="point"[^>]*data-size="(\d+)" data-busbw="([\d.]+)"', svg)
    assert [(int(s), float(b)) for s, b in points] == [
        (r["size_bytes"], r["oop_busbw_gbps"]) for r in parsed["rows"]
    ]
    assert f'data-floor="{run["floor_gbps"]}"' in svg


def test_a_floor_the_run_misses_fails_at_the_top():
    report = rep.build_report([h200_observation(floor=500.0)], "h200", CREATED, "device_validate.yml", ["vm"])
    validate(report)
    assert report["verdict"] == "fail" and report["nccl"][0]["verdict"] == "fail"
    assert report["checks"][0]["verdict"] == "fail" and report["checks"][0]["name"].endswith("busbw floor")
    assert report["checks"][0]["expect"] == ">= 500.0 GB/s"
    html = rep.render_html(report)
    first_row = re.search(r'<table id="checks">.*?<tbody>\s*<tr class="([^"]+)">', html, re.S)
    assert first_row and first_row.group(1) == "check fail"


def assert_observation(task, host, status, msg=None, role="cluster_hosts", **extra):
    return rep.observation(task, role, host, status, "ansible.builtin.assert", {"msg": msg, **extra})


def test_asserts_merge_across_hosts_and_skips_say_why():
    obs = [assert_observation("Check names", h, "ok", "All assertions passed") for h in ("n1", "n2", "n3")]
    obs.append(
        assert_observation(
            "Check the pairs",
            "n1",
            "skipped",
            false_condition="rdma_network_pairs is defined",
            skip_reason="Conditional result was False",
        )
    )
    obs.append(
        rep.observation(
            "Say why the DDP smoke job did not run",
            "munge_slurm",
            "n1",
            "ok",
            "gpuforge.cluster.check_skipped",
            {
                "skipped_check": {"name": "DDP smoke job", "reason": "no torch on the nodes"},
                "msg": "skipped: DDP smoke job: no torch on the nodes",
            },
        )
    )
    obs.append(
        rep.observation(
            "Install munge key",
            "munge_slurm",
            "n2",
            "ok",
            "ansible.builtin.copy",
            {"msg": "secret", "_ansible_no_log": True},
            no_log=True,
        )
    )
    report = rep.build_report(obs, "lab", CREATED, "validate.yml", ["n1", "n2", "n3"])
    validate(report)
    assert report["summary"] == {"pass": 1, "fail": 0, "skipped": 2}
    [names] = [c for c in report["checks"] if c["name"] == "Check names"]
    assert names["hosts"] == ["n1", "n2", "n3"] and names["detail"] is None
    skipped = {c["name"]: c["reason"] for c in report["checks"] if c["verdict"] == "skipped"}
    assert skipped == {
        "Check the pairs": "condition false: rdma_network_pairs is defined",
        "DDP smoke job": "no torch on the nodes",
    }
    assert [c["verdict"] for c in report["checks"]] == ["skipped", "skipped", "pass"]


def test_a_failed_task_and_an_unreachable_host_are_failed_checks():
    obs = [
        assert_observation("Check names", "n1", "ok"),
        rep.observation(
            "Run a single-node job",
            "munge_slurm",
            "n1",
            "failed",
            "ansible.builtin.command",
            {"msg": "non-zero return code"},
        ),
        rep.observation("Gathering", None, "n3", "unreachable", "setup", {"msg": "ssh: connect refused"}),
    ]
    report = rep.build_report(obs, "lab", CREATED, "validate.yml", ["n1", "n3"])
    validate(report)
    assert [(c["verdict"], c["name"]) for c in report["checks"]] == [
        ("fail", "Run a single-node job"),
        ("fail", "Gathering (host unreachable)"),
        ("pass", "Check names"),
    ]


def test_the_pair_table_gives_rows_verdicts_and_bars():
    pairs = fabric_table.pair_table([fabric_table.pair_row("r1a -> r1b", 40, R1_BW, R1_LAT, R1_TCP, 21.9)])
    obs = [
        rep.observation(
            "Make the pair table",
            "rdma_network",
            "r1a",
            "ok",
            "ansible.builtin.set_fact",
            {"ansible_facts": {"rdma_network_pairs": pairs}},
        )
    ]
    report = rep.build_report(obs, "r1", CREATED, "validate.yml", ["r1a", "r1b"])
    validate(report)
    assert report["network"] == [
        {
            "pair": "r1a -> r1b",
            "link_rate_gbps": 40.0,
            "rdma_gbps": 36.4,
            "tcp_gbps": 27.4,
            "rdma_lat_us": 0.85,
            "tcp_lat_us": 21.9,
        }
    ]
    assert {c["name"]: c["verdict"] for c in report["checks"]} == {
        "r1a -> r1b: rdma_bw_of_link": "pass",
        "r1a -> r1b: rdma_bw_above_tcp": "pass",
        "r1a -> r1b: rdma_lat_below_tcp": "pass",
    }
    html = rep.render_html(report)
    bars = re.findall(r'<rect class="bar"[^>]*data-series="(\w+)" data-value="([\d.]+)"', html)
    assert ("RDMA", "36.4") in bars and ("TCP", "27.4") in bars and ("RDMA", "0.85") in bars


def test_ddp_scaling_efficiency_and_the_comparison_with_the_previous_report():
    def ddp(one, three):
        return rep.observation(
            "Note the runs",
            "munge_slurm",
            "n1",
            "ok",
            "ansible.builtin.set_fact",
            {
                "ansible_facts": {
                    "munge_slurm_ddp_runs": [
                        {"nodes": 1, "rc": 0, "ranks": [{}], "samples_per_s": one},
                        {"nodes": 3, "rc": 0, "ranks": [{}, {}, {}], "samples_per_s": three},
                    ]
                }
            },
        )

    before = rep.build_report(
        [ddp(1000.0, 2700.0), assert_observation("Check names", "n1", "ok")],
        "lab",
        "2026-12-05T00:00:00+00:00",
        "validate.yml",
        ["n1"],
    )
    validate(before)
    assert before["ddp"] == {
        "runs": [{"nodes": 1, "samples_per_s": 1000.0}, {"nodes": 3, "samples_per_s": 2700.0}],
        "scaling_efficiency": 0.9,
    }
    after = rep.build_report(
        [ddp(1000.0, 1800.0), assert_observation("Check names", "n1", "failed", "n2 is 127.0.1.1")],
        "lab",
        CREATED,
        "validate.yml",
        ["n1"],
        previous=before,
    )
    validate(after)
    assert after["comparison"] == {
        "previous": "2026-12-05T00:00:00+00:00",
        "new_failures": ["Check names"],
        "fixed": [],
        "slower": [
            {"name": "DDP on 3 node(s): samples/s", "before": 2700.0, "now": 1800.0, "change_pct": -33.3}
        ],
    }
    md = rep.render_markdown(after)
    assert "- started failing: Check names" in md and "2700 -> 1800 (-33.3%)" in md
    assert "Scaling efficiency: 0.6" in md


def test_the_schema_refuses_what_the_report_never_writes():
    report = rep.build_report(
        [assert_observation("Check names", "n1", "ok")], "lab", CREATED, "validate.yml", ["n1"]
    )
    validate(report)
    for broken in (
        {**report, "verdict": "maybe"},
        {**report, "checks": [{**report["checks"][0], "verdict": "skipped", "reason": None}]},
        {**report, "extra": 1},
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


def test_html_escapes_what_the_hosts_said_and_fetches_nothing():
    obs = [assert_observation("Check <names>", "n1", "failed", '<script>alert("x")</script>')]
    html = rep.render_html(rep.build_report(obs, "lab", CREATED, "validate.yml", ["n1"]))
    assert "<script" not in html and "&lt;script&gt;" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_the_recorded_lab_run_gives_a_valid_passing_report():
    recorded = json.loads(LAB.read_text())
    report = rep.build_report(recorded["observations"], "lab", CREATED, "validate.yml", recorded["hosts"])
    validate(report)
    assert report["verdict"] == "pass", [c for c in report["checks"] if c["verdict"] == "fail"]
    assert report["summary"] == {"pass": 38, "fail": 0, "skipped": 3}
    assert [n["host"] for n in report["nodes"]] == recorded["hosts"] == ["node0", "node1", "node2"]
    assert [n["slurm_state"] for n in report["nodes"]] == ["idle", "idle", "idle"]  # before the test jobs
    assert [len(n["gpus"]) for n in report["nodes"]] == [0, 1, 2]  # the FAKE GPUs' recorded captures
    assert all(n["os"] == "Debian GNU/Linux 12 (bookworm)" and n["kernel"] for n in report["nodes"])
    names = {c["name"]: c for c in report["checks"]}
    ssh = names["SSH to every node by every name with BatchMode, as each trusted user"]
    assert (ssh["verdict"], ssh["hosts"]) == ("pass", recorded["hosts"])
    transport = names["Check that every rank used the transport decided for its node, and say which"]
    assert "MPI used" in transport["detail"]
    skipped = {c["name"]: c["reason"] for c in report["checks"] if c["verdict"] == "skipped"}
    assert skipped["Check that every port runs at its expected rate"].startswith("condition false: ")
    ddp = report["ddp"]
    assert [r["nodes"] for r in ddp["runs"]] == [1, 3]
    one, three = (r["samples_per_s"] for r in ddp["runs"])
    assert ddp["scaling_efficiency"] == round(three / (3 * one), 3)
    html = rep.render_html(report)
    assert html.count('<tr class="check ') == len(report["checks"])
    assert html.count('<rect class="bar"') == 2 and 'id="scaling"' in html


def test_a_check_made_on_the_first_host_only_is_not_skipped_on_the_others():
    obs = [
        assert_observation("Check every node", "n1", "ok"),
        assert_observation(
            "Check every node", "n2", "skipped", false_condition="inventory_hostname == first"
        ),
        assert_observation("Check a supplied key", "n1", "skipped", false_condition="key | length > 0"),
        rep.observation(
            "Say why",
            "munge_slurm",
            "n2",
            "ok",
            "gpuforge.cluster.check_skipped",
            {"skipped_check": {"name": "Check every node", "reason": "explicitly not run on n2"}},
        ),
    ]
    report = rep.build_report(obs, "lab", CREATED, "validate.yml", ["n1", "n2"])
    validate(report)
    rows = [(c["verdict"], c["name"], c["hosts"], c["reason"]) for c in report["checks"]]
    assert rows == [
        ("skipped", "Check a supplied key", ["n1"], "condition false: key | length > 0"),
        ("skipped", "Check every node", ["n2"], "explicitly not run on n2"),
        ("pass", "Check every node", ["n1"], None),
    ]


def test_judging_modules_are_checks_and_the_slurm_state_is_the_first_seen():
    slurm = [
        {"NodeName": "n1", "state": "idle", "flags": []},
        {"NodeName": "n2", "state": "idle", "flags": ["cloud"]},
    ]
    busy = [{"NodeName": "n1", "state": "allocated", "flags": []}]
    obs = [
        rep.observation(
            "SSH to every node",
            "ssh_trust",
            "n1",
            "ok",
            "gpuforge.cluster.ssh_probe",
            {"msg": "3 of 3 reached"},
        ),
        rep.observation(
            "Read the nodes", "munge_slurm", "n1", "ok", "gpuforge.cluster.slurm_info", {"nodes": slurm}
        ),
        rep.observation(
            "Wait for the jobs", "munge_slurm", "n1", "ok", "gpuforge.cluster.slurm_info", {"nodes": busy}
        ),
        rep.observation(
            "Node model",
            "cluster",
            "h2",
            "ok",
            "gpuforge.cluster.cluster_facts",
            {"ansible_facts": {"gpuforge_node": {"name": "n2"}}},
        ),
        rep.observation("Read GPUs", "nvidia_stack", "h2", "ok", "gpuforge.cluster.nvidia_smi_facts", {}),
    ]
    report = rep.build_report(obs, "lab", CREATED, "validate.yml", ["n1", "h2"])
    validate(report)
    assert [(c["verdict"], c["name"], c["detail"]) for c in report["checks"]] == [
        ("pass", "SSH to every node", "3 of 3 reached")
    ]
    assert [n["slurm_state"] for n in report["nodes"]] == ["idle", "idle+cloud"]
