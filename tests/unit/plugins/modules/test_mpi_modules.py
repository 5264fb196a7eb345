"""ompi_facts and mpi_hello: argv, parsing and failures (outputs recorded on the lab, fixtures/openmpi)."""

from __future__ import annotations

from pathlib import Path

from ansible_collections.gpuforge.cluster.plugins.modules import mpi_hello, ompi_facts

from .harness import run_module

FIX = Path(__file__).parents[1] / "module_utils" / "fixtures" / "openmpi"
STDERR = (FIX / "debian12-4.1.4-pml-verbose-3-nodes.stderr.txt").read_text()
HELLO = "rank 0 of 3 on node0\nrank 1 of 3 on node1\nrank 2 of 3 on node2\n"


def test_ompi_facts_runs_ompi_info_parsable():
    calls = []

    def run_command(self, argv, **kw):
        calls.append(argv)
        return 0, (FIX / "debian12-4.1.4-ompi_info-parsable.txt").read_text(), ""

    result = run_module(ompi_facts.main, {}, run_command)
    assert calls == [["ompi_info", "--parsable"]]
    assert "ucx" in result["ansible_facts"]["ompi"]["components"]["pml"]


def test_ompi_facts_refuses_output_without_components():
    result = run_module(ompi_facts.main, {"output": "mpirun (Open MPI) 4.1.4\n"})
    assert result["failed"] and "no MCA component" in result["msg"]


def test_mpi_hello_one_rank_per_node_and_the_pml_each_selected():
    calls = []

    def run_command(self, argv, **kw):
        calls.append(argv)
        return 0, HELLO, STDERR

    hello = ["python3", "/usr/local/bin/gpuforge-mpi-hello.py"]
    result = run_module(mpi_hello.main, {"hosts": ["node0", "node1", "node2"], "argv": hello}, run_command)
    assert calls == [["mpirun", "-np", "3", "--host", "node0:1,node1:1,node2:1",
                      "--mca", "pml_base_verbose", "10", *hello]]
    assert result["stdout_lines"] == HELLO.splitlines()
    assert result["pml"] == {"node0": ["ob1"], "node1": ["ob1"], "node2": ["ob1"]}


def test_mpi_hello_failure_names_the_exit_code_and_the_last_lines():
    failed = "ORTE was unable to reliably start one or more daemons.\n"
    result = run_module(mpi_hello.main, {"hosts": ["node0", "node1"], "argv": ["python3", "x.py"]},
                        lambda self, argv, **kw: (1, "", failed))
    assert result["failed"] and "rc=1" in result["msg"] and "ORTE was unable" in result["msg"]
