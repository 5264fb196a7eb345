"""slurm_config on real files under tmp_path: the marker is written before the files change, survives a
run that dies, and restored puts back exactly what was there."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.modules import slurm_config

from .harness import run_module

SLURM = "ClusterName=lab\nSlurmctldHost=node0\nSelectTypeParameters=CR_Core_Memory\nNodeName=node1 CPUs=4\n"
GRES = "NodeName=node1 Name=gpu File=/dev/nvidia0\n"
KEYS = ["SlurmctldHost", "SelectTypeParameters"]


def _args(tmp_path: Path, slurm: str = SLURM, gres: str = GRES, **extra) -> dict:
    etc = tmp_path / "etc"
    etc.mkdir(exist_ok=True)
    return {"files": [{"dest": str(etc / "slurm.conf"), "content": slurm},
                      {"dest": str(etc / "gres.conf"), "content": gres, "mode": "0640"}],
            "restart_keys": KEYS, "state_dir": str(tmp_path / "state"), **extra}


def _run(args: dict, check_mode: bool = False, diff: bool = False) -> dict:
    return run_module(slurm_config.main, args, check_mode=check_mode, diff=diff)


def _marker(tmp_path: Path):
    path = tmp_path / "state" / "pending.json"
    return json.loads(path.read_text()) if path.exists() else None


def test_first_write_restarts_and_records_it_before_the_files(tmp_path):
    out = _run(_args(tmp_path))
    assert out["changed"] and out["action"] == "restart"
    assert out["reasons"] == ["gres.conf is new", "slurm.conf is new"]
    assert (tmp_path / "etc" / "slurm.conf").read_text() == SLURM
    assert oct(os.stat(tmp_path / "etc" / "gres.conf").st_mode & 0o777) == "0o640"
    assert _marker(tmp_path)["action"] == "restart"
    assert oct(os.stat(tmp_path / "state").st_mode & 0o777) == "0o700"
    assert oct(os.stat(tmp_path / "state" / "pending.json").st_mode & 0o777) == "0o600"
    manifest = json.loads((tmp_path / "state" / "previous" / "manifest.json").read_text())
    assert {entry["existed"] for entry in manifest.values()} == {False}


def test_a_run_that_died_before_the_restart_is_finished_by_the_next(tmp_path):
    _run(_args(tmp_path))
    assert _run(_args(tmp_path, state="applied"))["changed"]
    # the change: a restart key; the run "dies" after the module wrote the files (no applied call)
    new = SLURM.replace("CR_Core_Memory", "CR_Core")
    first = _run(_args(tmp_path, slurm=new))
    assert first["action"] == "restart" and first["changed"]
    again = _run(_args(tmp_path, slurm=new))
    assert not again["changed"] and again["pending"]
    assert again["action"] == "restart"
    assert ("stopped before the restart (SelectTypeParameters: CR_Core_Memory -> CR_Core)"
            in again["reasons"][0])
    assert _run(_args(tmp_path, state="applied"))["changed"]
    settled = _run(_args(tmp_path, slurm=new))
    assert settled == {**settled, "changed": False, "action": "none", "pending": False}
    assert not _run(_args(tmp_path, state="applied"))["changed"]


def test_restored_puts_back_the_files_the_daemons_ran(tmp_path):
    _run(_args(tmp_path))
    _run(_args(tmp_path, state="applied"))
    gres = tmp_path / "etc" / "gres.conf"
    os.chmod(gres, 0o600)  # the state the daemons ran: content and mode
    bad = SLURM.replace("SlurmctldHost=node0", "SlurmctldHost=node0\nStateSaveLocation=/nonexistent")
    _run(_args(tmp_path, slurm=bad, gres=GRES + "# more\n"))
    # a second change on top of the unapplied one keeps the backup of what ran
    _run(_args(tmp_path, slurm=bad + "# again\n"))
    assert _run(_args(tmp_path, state="restored"), check_mode=True)["changed"]
    assert (tmp_path / "etc" / "slurm.conf").read_text() == bad + "# again\n"
    out = _run(_args(tmp_path, state="restored"))
    assert out["changed"]
    assert sorted(out["changed_files"]) == [str(gres), str(tmp_path / "etc" / "slurm.conf")]
    assert (tmp_path / "etc" / "slurm.conf").read_text() == SLURM
    assert gres.read_text() == GRES and os.stat(gres).st_mode & 0o777 == 0o600
    assert _marker(tmp_path) is None
    assert _run(_args(tmp_path))["action"] == "none"


def test_restored_removes_a_file_that_was_not_there(tmp_path):
    args = _args(tmp_path)
    (tmp_path / "etc" / "slurm.conf").write_text(SLURM)
    _run(args)
    out = _run(_args(tmp_path, state="restored"))
    assert not (tmp_path / "etc" / "gres.conf").exists()
    assert out["changed_files"] == [str(tmp_path / "etc" / "gres.conf")]


def test_check_mode_says_the_action_and_writes_nothing(tmp_path):
    out = _run(_args(tmp_path), check_mode=True, diff=True)
    assert out["action"] == "restart" and out["changed"]
    assert not (tmp_path / "etc" / "slurm.conf").exists() and not (tmp_path / "state").exists()
    assert out["diff"][0]["after"] == SLURM


def test_a_reason_outside_the_files_is_recorded(tmp_path):
    _run(_args(tmp_path))
    _run(_args(tmp_path, state="applied"))
    out = _run(_args(tmp_path, restart_reasons=["the JWT key was made again"]))
    assert out["action"] == "restart" and out["changed"]
    assert _marker(tmp_path)["reasons"] == ["the JWT key was made again"]


@pytest.mark.parametrize("state", ["present", "restored"])
def test_a_broken_marker_fails_naming_it_and_changes_nothing(tmp_path, state):
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "pending.json").write_text("{half")
    out = _run(_args(tmp_path, state=state))
    assert out["failed"] and "pending.json: not JSON" in out["msg"]
    assert not (tmp_path / "etc" / "slurm.conf").exists()


def test_restored_without_a_backup_fails(tmp_path):
    out = _run(_args(tmp_path, state="restored"))
    assert out["failed"] and "no previous configuration was kept" in out["msg"]
