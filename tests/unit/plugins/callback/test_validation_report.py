"""gpuforge.cluster.validation_report driven by ansible-playbook itself, with the repository's ansible.cfg.

Fake nodes on this machine (``ansible_connection: local``). The plays hold what a validation run holds:
asserts that pass on every host, one that fails on one host, a skipped one, ``check_skipped``, a ``no_log``
task with a secret, and ``nccl_tests`` judging the recorded 2x H200 run (``output:``, no GPU here) against
the expectation of its recorded topology. A play without ``gpuforge_report_dir`` is not reported.
"""

from __future__ import annotations

import json
import re

import jsonschema
from ansible_collections.gpuforge.cluster.plugins.module_utils import nccl_expect

from .test_node_logs import REPO, SECRET, local, playbook

FIX = REPO / "tests" / "unit" / "plugins" / "module_utils" / "parsers" / "fixtures"
H200 = FIX / "nccl_tests" / "h200x2-580-nccl2283-ansible-all_reduce_mpi_np2_8GiB"
SCHEMA = json.loads((REPO / "docs" / "schemas" / "report.schema.json").read_text())
CALLBACKS = "gpuforge.cluster.validation_report"


def expectation() -> dict:
    topo = json.loads((FIX / "topo" / "h200x2-580-topo-m.expected.json").read_text())
    smi = json.loads((FIX / "nvidia_smi" / "h200x2-580-q-x.expected.json").read_text())
    return nccl_expect.intra_expectation(topo, smi["gpus"])


def plays(fail_on_n2: bool) -> list:
    return [
        {"name": "Validate", "hosts": "all", "gather_facts": False,
         "vars": {"gpuforge_report_dir": "{{ playbook_dir }}/reports/lab"},
         "tasks": [
             {"name": "Names resolve to cluster addresses", "ansible.builtin.assert": {
                 "that": ["true"], "success_msg": "every name resolves to its cluster address"}},
             {"name": "Say why the DDP smoke job did not run", "gpuforge.cluster.check_skipped": {
                 "check": "DDP smoke job", "reason": "no torch on the nodes"}, "run_once": True},
             {"name": "Check the RDMA pairs", "ansible.builtin.assert": {"that": ["true"]},
              "when": "rdma_ports | default([]) | length > 0"},
             {"name": "Read the munge key", "ansible.builtin.debug": {"msg": SECRET}, "no_log": True},
             {"name": "Run the MPI build on this node through mpirun", "gpuforge.cluster.nccl_tests": {
                 "output": H200.with_suffix(".txt").read_text(), "expectation": expectation()},
              "when": "inventory_hostname == 'n1'"},
             {"name": "Hostname does not resolve to 127.0.1.1", "ansible.builtin.assert": {
                 "that": ["inventory_hostname != 'n2'" if fail_on_n2 else "true"],
                 "fail_msg": "{{ inventory_hostname }} resolves to 127.0.1.1"}},
         ]},
        {"name": "Not reported", "hosts": "n1", "gather_facts": False,
         "tasks": [{"name": "Something outside the report", "ansible.builtin.assert": {"that": ["true"]}}]},
    ]


def test_the_report_of_a_run_then_the_comparison_with_the_next(tmp_path):
    hosts = {"n1": local(), "n2": local()}
    first = playbook(tmp_path, plays(fail_on_n2=True), hosts, callbacks=CALLBACKS)
    assert first.returncode == 2, first.stdout + first.stderr  # n2 failed
    latest = tmp_path / "reports" / "lab" / "latest"
    assert latest.is_symlink() and re.fullmatch(r"\d{8}T\d{6}Z", latest.readlink().name)
    report = json.loads((latest / "report.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(report)
    assert report["cluster"] == "lab" and report["playbook"] == "play.yml" and report["verdict"] == "fail"
    rows = [(c["verdict"], c["name"], c["hosts"]) for c in report["checks"]]
    assert rows[0] == ("fail", "Hostname does not resolve to 127.0.1.1", ["n2"])
    assert ("skipped", "DDP smoke job", ["n1"]) in rows
    assert ("skipped", "Check the RDMA pairs", ["n1", "n2"]) in rows
    assert ("pass", "Hostname does not resolve to 127.0.1.1", ["n1"]) in rows
    assert not [r for r in rows if r[1] == "Something outside the report"]
    [names] = [c for c in report["checks"] if c["name"] == "Names resolve to cluster addresses"]
    assert (names["verdict"], names["hosts"]) == ("pass", ["n1", "n2"])  # one row for both hosts
    assert names["detail"] == "every name resolves to its cluster address"
    nccl_rows = json.loads(H200.with_suffix(".expected.json").read_text())["rows"]
    [run] = report["nccl"]
    assert [p["size_bytes"] for p in run["points"]] == [r["size_bytes"] for r in nccl_rows]
    assert run["floor_gbps"] == expectation()["floor_gbps"]
    assert [n["host"] for n in report["nodes"]] == ["n1", "n2"]
    for name in ("report.json", "report.md", "report.html"):
        assert SECRET not in (latest / name).read_text(), name
    assert "validation report: FAIL" in first.stderr
    assert "skipped: DDP smoke job (n1): no torch on the nodes" in first.stderr
    assert re.search(r"FAILED: Hostname does not resolve to 127\.0\.1\.1 \(n2\): n2 resolves to 127\.0\.1\.1",
                     first.stderr)
    assert report["comparison"] is None

    second = playbook(tmp_path, plays(fail_on_n2=False), hosts, callbacks=CALLBACKS)
    assert second.returncode == 0, second.stdout + second.stderr
    again = json.loads((latest / "report.json").read_text())
    assert again["verdict"] == "pass" and again["created"] >= report["created"]
    assert again["comparison"]["previous"] == report["created"]
    assert again["comparison"]["fixed"] == ["Hostname does not resolve to 127.0.1.1"]
    assert again["comparison"]["new_failures"] == []
    assert len([p for p in (tmp_path / "reports" / "lab").iterdir() if not p.is_symlink()]) == 2


def test_a_play_without_the_variable_writes_nothing(tmp_path):
    run = playbook(tmp_path, plays(fail_on_n2=False)[1:], {"n1": local()}, callbacks=CALLBACKS)
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (tmp_path / "reports").exists()
    assert "validation report" not in run.stderr


def test_the_folder_may_name_inventory_variables(tmp_path):
    # validate.yml's folder (playbooks/vars/report.yml) names gpuforge_cluster_name, which an inventory sets.
    play = {"name": "Validate", "hosts": "all", "gather_facts": False,
            "vars_files": [str(REPO / "playbooks" / "vars" / "report.yml")],
            "tasks": [{"name": "Check", "ansible.builtin.assert": {"that": ["true"]}}]}
    run = playbook(tmp_path, [play], {"n1": local(gpuforge_cluster_name="r2")}, callbacks=CALLBACKS)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((tmp_path / "reports" / "r2" / "latest" / "report.json").read_text())
    assert report["cluster"] == "r2" and report["summary"] == {"pass": 1, "fail": 0, "skipped": 0}


def test_versions_table_beside_the_runs_and_no_report_when_nothing_ran(tmp_path):
    # stack_versions on two fake nodes: versions.md and versions.json beside the runs, rewritten only when
    # they change. A play whose checks were all skipped (site.yml without its validate stage) writes no
    # report.
    play = {"name": "Validate", "hosts": "all", "gather_facts": False,
            "vars": {"gpuforge_report_dir": "reports/lab"},
            "tasks": [{"name": "Read", "gpuforge.cluster.stack_versions": {"packages": []}},
                      {"name": "Check", "ansible.builtin.assert": {"that": ["true"]}}]}
    run = playbook(tmp_path, [play], {"n1": local(), "n2": local()}, callbacks=CALLBACKS)
    assert run.returncode == 0, run.stdout + run.stderr
    folder = tmp_path / "reports" / "lab"  # relative: where ansible-playbook ran
    versions = json.loads((folder / "versions.json").read_text())
    assert sorted(versions) == ["n1", "n2"] and versions["n1"]["kernel"]
    table = (folder / "versions.md").read_text()
    assert table.startswith("| node | OS | kernel |") and "| n2 |" in table
    before = (folder / "versions.md").stat().st_mtime_ns
    report = json.loads((folder / "latest" / "report.json").read_text())
    assert [n["kernel"] for n in report["nodes"]] == [versions["n1"]["kernel"]] * 2
    again = playbook(tmp_path, [play], {"n1": local(), "n2": local()}, callbacks=CALLBACKS)
    assert again.returncode == 0 and (folder / "versions.md").stat().st_mtime_ns == before
    # As site.yml's imported validate plays with gpuforge_validate false: the role includes are skipped.
    include = {"name": "gpuforge.cluster.cluster_hosts", "tasks_from": "validate"}
    skipped = {**play, "vars": {"gpuforge_report_dir": "reports/site"},
               "tasks": [{"name": "Validate", "ansible.builtin.include_role": include, "when": "false"}]}
    quiet = playbook(tmp_path, [skipped], {"n1": local()}, callbacks=CALLBACKS)
    assert quiet.returncode == 0 and not (tmp_path / "reports" / "site").exists()
    assert "validation report" not in quiet.stderr
