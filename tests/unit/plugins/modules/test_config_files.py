"""config_files: several files and their directories in one call, on real files under tmp_path.

Each test runs the module's main() (harness.run_module) against a fresh tmp_path and checks the
file system with os.stat and the bytes read back, not only the returned lists.
"""

from __future__ import annotations

import grp
import os
import pwd
from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils.config_files import parse_mode
from ansible_collections.gpuforge.cluster.plugins.modules import config_files

from .harness import run_module

ROOT = os.geteuid() == 0
SLURM = "ClusterName=lab\nSlurmctldHost=node0\n"
CGROUP = "ConstrainCores=yes\n# café: written as UTF-8\n"
GRES = "Name=gpu File=/dev/nvidia0\n"


def _run(args: dict, check_mode: bool = False, diff: bool = False) -> dict:
    return run_module(config_files.main, args, check_mode=check_mode, diff=diff)


def _mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o7777


def _tree(root: Path) -> list[str]:
    """Every path under root, relative and sorted (temp files would show up here)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _args(tmp_path: Path, slurm: str = SLURM, slurm_mode="0640") -> dict:
    etc = tmp_path / "slurm"
    return {
        "directories": [{"path": str(etc), "mode": "0750"}, {"path": str(etc / "conf.d")}],
        "files": [
            {"dest": str(etc / "slurm.conf"), "content": slurm, "mode": slurm_mode},
            {"dest": str(etc / "conf.d" / "cgroup.conf"), "content": CGROUP},
            {"dest": str(tmp_path / "gres.conf"), "content": GRES, "mode": 0o600},
        ],
    }


@pytest.fixture
def paths(tmp_path: Path) -> dict:
    etc = tmp_path / "slurm"
    return {"etc": etc, "confd": etc / "conf.d", "slurm": etc / "slurm.conf",
            "cgroup": etc / "conf.d" / "cgroup.conf", "gres": tmp_path / "gres.conf"}


def test_first_write_creates_directories_and_files(tmp_path, paths):
    result = _run(_args(tmp_path))
    everything = [str(paths["slurm"]), str(paths["cgroup"]), str(paths["gres"])]
    assert result["failed"] is False and result["changed"] is True
    assert result["changed_files"] == everything
    assert result["content_changed"] == everything
    assert result["created_directories"] == [str(paths["etc"]), str(paths["confd"])]
    assert result["changed_directories"] == [str(paths["etc"]), str(paths["confd"])]
    assert result["results"] == [{"dest": d, "changed": True, "content_changed": True} for d in everything]
    assert "diff" not in result
    assert paths["slurm"].read_bytes() == SLURM.encode()
    assert paths["cgroup"].read_bytes() == "ConstrainCores=yes\n# caf\u00e9: written as UTF-8\n".encode()
    assert paths["gres"].read_bytes() == GRES.encode()
    modes = [_mode(paths[k]) for k in ("etc", "confd", "slurm", "cgroup", "gres")]
    assert modes == [0o750, 0o755, 0o640, 0o644, 0o600]
    assert _tree(tmp_path) == ["gres.conf", "slurm", "slurm/conf.d", "slurm/conf.d/cgroup.conf",
                               "slurm/slurm.conf"]


def test_second_identical_call_changes_nothing(tmp_path, paths):
    _run(_args(tmp_path))
    inodes = [os.stat(paths[k]).st_ino for k in ("slurm", "cgroup", "gres")]
    result = _run(_args(tmp_path), diff=True)
    assert result["changed"] is False
    assert (result["changed_files"], result["content_changed"]) == ([], [])
    assert (result["created_directories"], result["changed_directories"]) == ([], [])
    assert [r["changed"] or r["content_changed"] for r in result["results"]] == [False, False, False]
    assert result["diff"] == []
    assert [os.stat(paths[k]).st_ino for k in ("slurm", "cgroup", "gres")] == inodes


def test_content_change_rewrites_only_that_file(tmp_path, paths):
    _run(_args(tmp_path))
    untouched = [os.stat(paths[k]).st_ino for k in ("cgroup", "gres")]
    slurm_inode = os.stat(paths["slurm"]).st_ino
    new = SLURM + "SlurmdPort=6818\n"
    result = _run(_args(tmp_path, slurm=new), diff=True)
    assert result["changed"] is True
    assert result["changed_files"] == [str(paths["slurm"])]
    assert result["content_changed"] == [str(paths["slurm"])]
    assert result["results"][0] == {"dest": str(paths["slurm"]), "changed": True, "content_changed": True}
    assert result["diff"] == [{"before_header": str(paths["slurm"]), "after_header": str(paths["slurm"]),
                               "before": SLURM, "after": new}]
    assert paths["slurm"].read_bytes() == new.encode()
    assert os.stat(paths["slurm"]).st_ino != slurm_inode  # renamed into place
    assert _mode(paths["slurm"]) == 0o640
    assert [os.stat(paths[k]).st_ino for k in ("cgroup", "gres")] == untouched
    assert "slurm/.config_files" not in " ".join(_tree(tmp_path))


def test_diff_of_a_new_file_has_an_empty_before(tmp_path, paths):
    result = _run(_args(tmp_path), diff=True)
    assert [(d["before_header"], d["before"], d["after"]) for d in result["diff"]] == [
        (str(paths["slurm"]), "", SLURM), (str(paths["cgroup"]), "", CGROUP), (str(paths["gres"]), "", GRES)]


def test_mode_only_change_is_changed_but_not_content_changed(tmp_path, paths):
    _run(_args(tmp_path))
    inode = os.stat(paths["slurm"]).st_ino
    result = _run(_args(tmp_path, slurm_mode="0600"), diff=True)
    assert result["changed"] is True
    assert result["changed_files"] == [str(paths["slurm"])]
    assert result["content_changed"] == []
    assert result["results"][0] == {"dest": str(paths["slurm"]), "changed": True, "content_changed": False}
    assert result["diff"] == []
    assert _mode(paths["slurm"]) == 0o600
    assert os.stat(paths["slurm"]).st_ino == inode


def test_directory_mode_is_fixed(tmp_path, paths):
    _run(_args(tmp_path))
    paths["confd"].chmod(0o700)
    result = _run(_args(tmp_path))
    assert result["changed"] is True
    assert (result["created_directories"], result["changed_directories"]) == ([], [str(paths["confd"])])
    assert result["changed_files"] == []
    assert _mode(paths["confd"]) == 0o755


def test_check_mode_on_an_empty_host_writes_nothing(tmp_path, paths):
    checked = _run(_args(tmp_path), check_mode=True, diff=True)
    assert _tree(tmp_path) == []
    real = _run(_args(tmp_path), diff=True)
    assert checked["changed"] is True
    keys = ("changed_files", "content_changed", "created_directories", "changed_directories", "results",
            "diff")
    assert {k: checked[k] for k in keys} == {k: real[k] for k in keys}
    assert len(checked["changed_files"]) == 3 and len(checked["created_directories"]) == 2


def test_check_mode_reports_content_and_mode_changes_without_making_them(tmp_path, paths):
    _run(_args(tmp_path))
    paths["gres"].chmod(0o644)
    new = SLURM + "SlurmdPort=6818\n"
    checked = _run(_args(tmp_path, slurm=new), check_mode=True)
    assert paths["slurm"].read_bytes() == SLURM.encode() and _mode(paths["gres"]) == 0o644
    assert checked["changed_files"] == [str(paths["slurm"]), str(paths["gres"])]
    assert checked["content_changed"] == [str(paths["slurm"])]
    real = _run(_args(tmp_path, slurm=new))
    assert (real["changed_files"], real["content_changed"]) == (checked["changed_files"],
                                                                checked["content_changed"])
    assert _mode(paths["gres"]) == 0o600


def test_missing_parent_fails_before_any_file_is_written(tmp_path, paths):
    args = _args(tmp_path)
    missing = tmp_path / "nowhere" / "topology.conf"
    args["files"].append({"dest": str(missing), "content": "SwitchName=s0\n"})
    result = _run(args)
    assert result["failed"] is True
    assert result["msg"] == (f"{missing}: parent directory {tmp_path / 'nowhere'} is not an existing "
                             "directory and is not in directories")
    assert _tree(tmp_path) == []  # neither the directories nor the three valid files


def test_all_problems_are_named_in_one_message(tmp_path):
    args = {"files": [{"dest": "slurm.conf", "content": ""},
                      {"dest": str(tmp_path / "a.conf"), "content": "", "mode": "rw-r--r--"}]}
    result = _run(args)
    assert result["failed"] is True
    assert result["msg"] == ("slurm.conf: dest is not an absolute path; "
                             f"{tmp_path / 'a.conf'}: mode 'rw-r--r--' is not an octal mode such as \"0644\"")
    assert _tree(tmp_path) == []


@pytest.mark.parametrize("second", ["{d}/a.conf", "{d}//a.conf", "{d}/./a.conf"])
def test_duplicate_dest_fails(tmp_path, second):
    second = second.format(d=tmp_path)
    args = {"files": [{"dest": str(tmp_path / "a.conf"), "content": "one\n"},
                      {"dest": second, "content": "two\n"}]}
    result = _run(args)
    assert result["failed"] is True
    assert result["msg"] == f"{second}: listed twice (also as a dest)"
    assert _tree(tmp_path) == []


def test_relative_dest_fails(tmp_path):
    args = {"files": [{"dest": str(tmp_path / "a.conf"), "content": "one\n"},
                      {"dest": "etc/slurm/slurm.conf", "content": SLURM}]}
    result = _run(args)
    assert result["failed"] is True
    assert result["msg"] == "etc/slurm/slurm.conf: dest is not an absolute path"
    assert _tree(tmp_path) == []


def test_relative_directory_fails(tmp_path):
    args = {"directories": [{"path": "slurm"}], "files": [{"dest": str(tmp_path / "a"), "content": ""}]}
    result = _run(args)
    assert result["failed"] is True
    assert result["msg"] == "slurm: path is not an absolute path"
    assert _tree(tmp_path) == []


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.symlink_to(p.parent / "real_dir", target_is_directory=True),
         "is a symbolic link (links are neither followed nor replaced)"),
        (os.mkfifo, "exists and is not a regular file"),
    ],
    ids=["directory", "symlink-to-directory", "fifo"],
)
def test_dest_that_is_not_a_regular_file_fails(tmp_path, make, problem):
    (tmp_path / "real_dir").mkdir()
    target = tmp_path / "slurm.conf"
    make(target)
    args = {"files": [{"dest": str(tmp_path / "gres.conf"), "content": GRES},
                      {"dest": str(target), "content": SLURM}]}
    result = _run(args)
    assert result["failed"] is True
    assert result["msg"] == f"{target}: {problem}"
    assert not (tmp_path / "gres.conf").exists()


def test_directory_path_that_is_a_file_fails(tmp_path):
    (tmp_path / "slurm").write_text("not a directory\n")
    args = {"directories": [{"path": str(tmp_path / "slurm")}],
            "files": [{"dest": str(tmp_path / "slurm" / "slurm.conf"), "content": SLURM}]}
    result = _run(args)
    assert result["failed"] is True
    assert result["msg"] == f"{tmp_path / 'slurm'}: exists and is not a directory"
    assert (tmp_path / "slurm").read_text() == "not a directory\n"


def test_unknown_owner_and_group_fail(tmp_path):
    args = {"files": [{"dest": str(tmp_path / "a.conf"), "content": "",
                       "owner": "no-such-user-gpuforge", "group": "no-such-group-gpuforge"}]}
    result = _run(args)
    assert result["failed"] is True
    assert result["msg"] == (f"{tmp_path / 'a.conf'}: owner 'no-such-user-gpuforge' does not exist on this "
                             f"host; {tmp_path / 'a.conf'}: group 'no-such-group-gpuforge' does not exist "
                             "on this host")
    assert _tree(tmp_path) == []


@pytest.mark.skipif(not ROOT, reason="chown to another user needs root")
def test_owner_and_group(tmp_path):
    dest = tmp_path / "d" / "slurmdbd.conf"
    args = {"directories": [{"path": str(dest.parent), "owner": "nobody", "group": "nogroup"}],
            "files": [{"dest": str(dest), "content": "DbdPort=6819\n", "owner": "nobody",
                       "group": "nogroup", "mode": "0600"}]}
    assert _run(args)["changed_files"] == [str(dest)]
    for path in (dest, dest.parent):
        st = os.stat(path)
        assert (pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name) == ("nobody", "nogroup")
    os.chown(dest, 0, -1)
    again = _run(args)
    assert (again["changed_files"], again["content_changed"]) == ([str(dest)], [])
    assert pwd.getpwuid(os.stat(dest).st_uid).pw_name == "nobody"
    assert _run(args)["changed"] is False


@pytest.mark.parametrize(
    ("value", "mode"), [("0644", 0o644), ("644", 0o644), ("2775", 0o2775), (0o640, 0o640), (420, 0o644)])
def test_parse_mode(value, mode):
    assert parse_mode(value) == mode


@pytest.mark.parametrize("value", ["u=rw", "0888", "64", "10644", True, 0o10000, None])
def test_parse_mode_rejects(value):
    with pytest.raises(ValueError):
        parse_mode(value)
