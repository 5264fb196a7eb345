"""slurm_info: given outputs, then scontrol and squeue run at argv level with the C locale.

Node text is the real ``scontrol show node`` fixtures of the parser tests (fixtures/scontrol_nodes,
provenance in their .source files); the squeue lines follow ``squeue -h -o '%i|%T|%N|%u|%j|%D'``.
"""

from __future__ import annotations

from pathlib import Path

from ansible_collections.gpuforge.cluster.plugins.modules import slurm_info

from .harness import run_module

FIXTURES = Path(__file__).parents[1] / "module_utils" / "parsers" / "fixtures" / "scontrol_nodes"
NODES = (FIXTURES / "slurm-20.11-idle-and-down-not-responding.out").read_text()
NODES_GPU = (FIXTURES / "slurm-24.05-idle-drain-gres-count-low.out").read_text()
NO_NODES = (FIXTURES / "no-nodes-in-the-system.out").read_text()
JOBS = "161703|RUNNING|slurmmaster,slurmw1|student1|hello_mpi|2\n161705|PENDING||bob|wrap|3\n"
BINS = {"scontrol": "/usr/bin/scontrol", "squeue": "/usr/bin/squeue"}


def _run(args, run_command=None, bins=None, check_mode=False):
    bins = BINS if bins is None else bins
    return run_module(slurm_info.main, args, run_command, bins, check_mode=check_mode)


def test_given_outputs():
    result = _run({"nodes_output": NODES, "jobs_output": JOBS})
    assert result["failed"] is False and result["changed"] is False
    assert [n["NodeName"] for n in result["nodes"]] == ["slurmmaster", "slurmw1", "slurmw2"]
    assert [n["state"] for n in result["nodes"]] == ["idle", "idle", "down"]
    assert result["nodes"][2]["not_responding"] is True
    assert result["nodes"][2]["Reason"] == "Not responding [slurm@2024-12-02T10:32:49]"
    assert result["jobs"][0]["nodes"] == ["slurmmaster", "slurmw1"]
    assert result["jobs"][1]["nodes"] == []


def test_reason_kept_with_gres_node():
    (node,) = _run({"nodes_output": NODES_GPU, "jobs": False})["nodes"]
    assert (node["state"], node["flags"]) == ("idle", ["drain"])
    assert node["Reason"].startswith("gres/gpu count reported lower than configured (0 < 1)")


def test_empty_reason_becomes_none():
    result = _run({"nodes_output": "NodeName=n1 State=IDLE Reason=\nNodeName=n2 State=IDLE Reason=(null)\n",
                   "jobs": False})
    assert [n["Reason"] for n in result["nodes"]] == [None, None]


def test_no_nodes_and_empty_queue():
    result = _run({"nodes_output": NO_NODES, "jobs_output": ""})
    assert result["nodes"] == [] and result["jobs"] == []


def test_jobs_false_skips_squeue_and_returns_no_jobs():
    result = _run({"nodes_output": NODES, "jobs": False})
    assert "jobs" not in result


def test_check_mode_reads_too():
    result = _run({"nodes_output": NODES, "jobs_output": JOBS}, check_mode=True)
    assert result["failed"] is False and len(result["nodes"]) == 3


def test_runs_scontrol_and_squeue_with_c_locale():
    calls = []

    def run_command(self, argv, environ_update=None, **kw):
        calls.append((argv, environ_update))
        return 0, NODES if argv[0].endswith("scontrol") else JOBS, ""

    result = _run({}, run_command)
    assert calls == [
        (["/usr/bin/scontrol", "show", "node", "--oneliner"], {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}),
        (["/usr/bin/squeue", "-h", "-o", "%i|%T|%N|%u|%j|%D"], {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}),
    ]
    assert len(result["nodes"]) == 3 and len(result["jobs"]) == 2


def test_runs_only_what_is_not_given():
    calls = []

    def run_command(self, argv, **kw):
        calls.append(argv[0])
        return 0, JOBS, ""

    result = _run({"nodes_output": NODES}, run_command)
    assert calls == ["/usr/bin/squeue"]
    assert result["failed"] is False


def test_scontrol_missing():
    result = _run({}, bins={})
    assert result["failed"] is True
    assert result["msg"].startswith("scontrol was not found on the PATH of ")
    assert result["msg"].endswith("(install the Slurm client (slurm-client))")
    assert result["reason"] == "tool_not_found"


def test_scontrol_fails_with_its_stderr():
    err = "slurm_load_node error: Unable to contact slurm controller (connect failure)\n"
    result = _run({}, lambda self, argv, **kw: (1, "", err))
    assert result["failed"] is True
    assert result["msg"] == ("scontrol show node --oneliner failed (rc=1): "
                             "slurm_load_node error: Unable to contact slurm controller (connect failure)")


def test_multi_line_output_fails_naming_the_line():
    multi = "NodeName=n1 Arch=x86_64 CoresPerSocket=1\n   CPUAlloc=0 CPUTot=2\n"
    result = _run({"nodes_output": multi, "jobs": False})
    assert result["failed"] is True
    assert "not scontrol show node --oneliner output (line 2:" in result["msg"]


def test_bad_squeue_output_fails():
    table = "JOBID PARTITION NAME USER ST TIME NODES NODELIST\n"
    result = _run({"nodes_output": NODES, "jobs_output": table})
    assert result["failed"] is True
    assert "not squeue -o '%i|%T|%N|%u|%j|%D' output (line 1:" in result["msg"]
