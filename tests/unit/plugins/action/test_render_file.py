"""gpuforge.cluster.render_file: the template action's rendering, written on the controller in-process."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from ansible.errors import AnsibleActionFail
from ansible_collections.gpuforge.cluster.plugins.action.render_file import parse_mode, write_file

from ..callback.test_node_logs import playbook


@pytest.mark.parametrize(
    ("mode", "bits"), [(None, 0o644), ("0600", 0o600), ("644", 0o644), (0o640, 0o640), ("01777", 0o1777)]
)
def test_modes(mode, bits):
    assert parse_mode(mode) == bits


@pytest.mark.parametrize("mode", ["u=rw", "0x1a4", "77777", ""])
def test_a_mode_that_is_not_octal_bits_is_refused(mode):
    with pytest.raises(AnsibleActionFail, match="mode"):
        parse_mode(mode)


def test_write_makes_folders_reports_change_and_keeps_an_equal_file(tmp_path):
    dest = tmp_path / "node0" / "etc" / "slurm" / "slurm.conf"
    assert write_file(str(dest), b"a\n", 0o644)["changed"] is True
    assert dest.read_bytes() == b"a\n" and stat.S_IMODE(dest.stat().st_mode) == 0o644
    assert stat.S_IMODE(dest.parent.stat().st_mode) == 0o755
    inode = dest.stat().st_ino
    assert write_file(str(dest), b"a\n", 0o644)["changed"] is False
    assert dest.stat().st_ino == inode  # not rewritten
    assert write_file(str(dest), b"a\n", 0o600)["changed"] is True  # the mode alone
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert write_file(str(dest), b"b\n", 0o600, check_mode=True)["changed"] is True
    assert dest.read_bytes() == b"a\n"  # check mode writes nothing
    assert [p.name for p in dest.parent.iterdir()] == ["slurm.conf"]  # no temporary file left


def test_a_template_renders_as_the_template_module_does_and_bad_arguments_fail(tmp_path):
    (tmp_path / "templates").mkdir()
    # trim_blocks (the template module's default), a template variable and a host variable.
    (tmp_path / "templates" / "t.conf.j2").write_text(
        "# {{ template_path | basename }}\n{% if true %}\nname={{ inventory_hostname }}\n{% endif %}\n"
    )
    out = tmp_path / "out"
    plays = [
        {
            "hosts": "all",
            "gather_facts": False,
            "connection": "local",
            "tasks": [
                {
                    "name": "With the template module",
                    "ansible.builtin.template": {
                        "src": "t.conf.j2",
                        "dest": f"{out}/template/{{{{ inventory_hostname }}}}.conf",
                        "mode": "0640",
                    },
                },
                {
                    "name": "With render_file",
                    "gpuforge.cluster.render_file": {
                        "src": "t.conf.j2",
                        "dest": f"{out}/render/{{{{ inventory_hostname }}}}.conf",
                        "mode": "0640",
                    },
                },
                {
                    "name": "Content",
                    "gpuforge.cluster.render_file": {"content": "x=1\n", "dest": f"{out}/c.txt"},
                },
                {
                    "name": "Both",
                    "gpuforge.cluster.render_file": {"src": "t.conf.j2", "content": "x", "dest": f"{out}/b"},
                    "ignore_errors": True,
                },
                {
                    "name": "Relative",
                    "gpuforge.cluster.render_file": {"content": "x", "dest": "rel/b"},
                    "ignore_errors": True,
                },
            ],
        }
    ]
    (out / "template").mkdir(parents=True)
    run = playbook(
        tmp_path, plays, {"node0": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}}
    )
    assert run.returncode == 0, run.stdout + run.stderr
    rendered = out / "render" / "node0.conf"
    assert (
        rendered.read_text() == (out / "template" / "node0.conf").read_text() == "# t.conf.j2\nname=node0\n"
    )
    assert stat.S_IMODE(rendered.stat().st_mode) == 0o640
    assert (out / "c.txt").read_text() == "x=1\n" and stat.S_IMODE((out / "c.txt").stat().st_mode) == 0o644
    assert "exactly one of src (a template) and content is required" in run.stdout
    assert "dest must be an absolute path on the controller" in run.stdout
    assert not (out / "b").exists() and not Path(tmp_path / "rel").exists()
