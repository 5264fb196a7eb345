"""slurm_config's decision: restart or reconfigure, from the deployed files (not a sentinel file)."""

from __future__ import annotations

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils.slurm_config import (
    SlurmConfigError,
    backup_name,
    decide,
    merge_marker,
    parse_slurm_conf,
    read_marker,
    restore_plan,
)

KEYS = ["SlurmctldHost", "SelectTypeParameters", "GresTypes", "StateSaveLocation"]
BASE = """# Written by gpuforge.cluster.munge_slurm
ClusterName=lab
SlurmctldHost=node0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
StateSaveLocation=/var/spool/slurmctld
SchedulerType=sched/backfill
NodeName=node1 CPUs=4 Boards=1 SocketsPerBoard=1 CoresPerSocket=4 ThreadsPerCore=1 RealMemory=7000
NodeName=node2 CPUs=8 RealMemory=15000 Gres=gpu:h200:2
PartitionName=main Nodes=node1,node2 Default=YES MaxTime=INFINITE State=UP
"""
GRES = "NodeName=node1 Name=gpu Type=h100 File=/dev/nvidia0\n"


def files(slurm=BASE, gres=GRES):
    return {"slurm.conf": slurm, "gres.conf": gres}


def test_parse_keeps_settings_case_insensitive_and_node_lines_whole():
    settings, nodes = parse_slurm_conf(BASE + "selecttypeparameters=CR_Core  # later wins\n")
    assert settings["selecttypeparameters"] == "CR_Core"
    assert settings["clustername"] == "lab"
    assert "partitionname" not in settings and "nodename" not in settings
    assert nodes[1] == "NodeName=node2 CPUs=8 RealMemory=15000 Gres=gpu:h200:2"


def test_parse_joins_continuation_lines_and_ignores_comments():
    settings, nodes = parse_slurm_conf("NodeName=node1 CPUs=4 \\\n   RealMemory=7000\n# NodeName=ghost\n")
    assert nodes == ["NodeName=node1 CPUs=4 RealMemory=7000"]
    assert settings == {}


def test_unchanged_files_need_nothing():
    assert decide(files(), files(), KEYS) == {"action": "none", "reasons": [], "changed": []}


def test_a_partition_or_scheduler_change_only_reconfigures():
    new = BASE.replace("MaxTime=INFINITE", "MaxTime=90").replace("sched/backfill", "sched/builtin")
    out = decide(files(), files(new), KEYS)
    assert out["action"] == "reconfigure"
    assert out["changed"] == ["slurm.conf"]


@pytest.mark.parametrize("edit, reason", [
    (("CR_Core_Memory", "CR_Core"), "SelectTypeParameters: CR_Core_Memory -> CR_Core"),
    (("StateSaveLocation=/var/spool/slurmctld", "STATESAVELOCATION=/srv/state"),
     "StateSaveLocation: /var/spool/slurmctld -> /srv/state"),
    (("CPUs=4 Boards", "CPUs=1 Boards"), "node definitions changed"),
    (("ClusterName=lab\n", "ClusterName=lab\nGresTypes=gpu\n"), "GresTypes: (unset) -> gpu"),
])
def test_a_restart_key_or_node_line_change_restarts(edit, reason):
    out = decide(files(), files(BASE.replace(*edit)), KEYS)
    assert out["action"] == "restart"
    assert out["reasons"] == [reason]


def test_node_lines_in_another_order_are_the_same_definitions():
    lines = BASE.splitlines(keepends=True)
    swapped = "".join([*lines[:7], lines[8], lines[7], *lines[9:]])
    assert decide(files(), files(swapped), KEYS)["action"] == "reconfigure"


def test_gres_change_or_a_new_file_restarts():
    assert decide(files(), files(gres=GRES + "NodeName=node2 Name=gpu File=/dev/nvidia[0-1]\n"),
                  KEYS)["reasons"] == ["gres.conf changed"]
    assert decide({"slurm.conf": BASE, "gres.conf": None}, files(), KEYS)["reasons"] == ["gres.conf is new"]


def test_a_pending_restart_is_owed_although_nothing_changed():
    pending = {"action": "restart", "reasons": ["SelectTypeParameters: CR_Core_Memory -> CR_Core"],
               "files": []}
    out = decide(files(), files(), KEYS, pending)
    assert out["action"] == "restart"
    assert out["reasons"] == ["an earlier run changed the files and stopped before the restart "
                              "(SelectTypeParameters: CR_Core_Memory -> CR_Core)"]


def test_a_pending_restart_is_not_weakened_by_a_reconfigure_change():
    pending = {"action": "restart", "reasons": ["gres.conf changed"], "files": ["/etc/slurm/gres.conf"]}
    new = BASE.replace("MaxTime=INFINITE", "MaxTime=90")
    decision = decide(files(), files(new), KEYS, pending)
    assert decision["action"] == "restart"
    marker = merge_marker(pending, decision, ["/etc/slurm/slurm.conf"])
    assert marker["action"] == "restart"
    assert marker["files"] == ["/etc/slurm/gres.conf", "/etc/slurm/slurm.conf"]


def test_extra_reasons_force_a_restart():
    out = decide(files(), files(), KEYS, extra_reasons=["the JWT key was made again"])
    assert out == {"action": "restart", "reasons": ["the JWT key was made again"], "changed": []}


@pytest.mark.parametrize("text, message", [
    ("{not json", "not JSON"),
    ('{"action": "explode"}', "no action"),
    ('{"action": "restart", "files": "x"}', "must be lists"),
    ("[]", "no action"),
])
def test_an_unreadable_marker_is_refused_naming_it(text, message):
    with pytest.raises(SlurmConfigError, match=message) as err:
        read_marker(text, "/var/lib/gpuforge/munge_slurm/pending.json")
    assert "/var/lib/gpuforge/munge_slurm/pending.json" in str(err.value)


def test_no_marker_is_none_and_a_good_one_reads_back():
    assert read_marker(None) is None
    assert read_marker('{"action": "reconfigure", "reasons": [], "files": []}')["action"] == "reconfigure"


def test_restore_plan_writes_kept_files_and_removes_new_ones():
    plan = restore_plan({"/etc/slurm/slurm.conf": True, "/etc/slurm/gres.conf": False, "/etc/slurm/x": False},
                        {"/etc/slurm/slurm.conf": True, "/etc/slurm/gres.conf": True, "/etc/slurm/x": False})
    assert plan == [("/etc/slurm/gres.conf", "remove"), ("/etc/slurm/slurm.conf", "write"),
                    ("/etc/slurm/x", "keep")]


def test_backup_names_are_flat_and_distinct():
    assert backup_name("/etc/slurm/slurm.conf") == "etc%slurm%slurm.conf"
    assert backup_name("/a%b/c") != backup_name("/a/b/c")
