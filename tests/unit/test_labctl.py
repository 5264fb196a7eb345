"""lab/labctl.py drives every lab and test run through ansible-runner: host-key checking stays on
(ansible-runner turns it off unless told) and the fact cache outlives the run."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from unittest.mock import patch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))
import labctl  # noqa: E402


class Result:
    rc, status, stats = 0, "successful", {}


def runner_kwargs(*args, **kwargs) -> dict:
    """What labctl.run_playbook(*args, **kwargs) hands to ansible_runner.run."""
    seen = {}

    def fake_run(**kw):
        seen.update(kw)
        return Result()

    with patch.object(labctl.ansible_runner, "run", fake_run):
        labctl.run_playbook(*args, **kwargs)
    return seen


def test_runner_keeps_host_key_checking_and_a_lasting_fact_cache(tmp_path):
    seen = runner_kwargs("site.yml", tmp_path, fact_cache=tmp_path / "facts")
    assert seen["envvars"]["ANSIBLE_HOST_KEY_CHECKING"] == "True"
    assert seen["fact_cache"] == str((tmp_path / "facts").resolve())
    seen = runner_kwargs("site.yml", tmp_path)
    assert seen["fact_cache"] == str(REPO / ".cache" / "facts")


def test_a_first_contact_password_answers_the_prompt_and_is_not_on_the_command_line(tmp_path):
    seen = runner_kwargs("site.yml", tmp_path, check=True, password="s3cret-pw")
    assert seen["cmdline"] == "--check --diff --ask-pass"
    assert list(seen["passwords"].values()) == ["s3cret-pw"]
    assert "s3cret-pw" not in repr(seen["envvars"]) and "s3cret-pw" not in str(seen.get("extravars"))
    seen = runner_kwargs("site.yml", tmp_path)
    assert seen["cmdline"] is None and seen["passwords"] is None


def test_the_lab_summary_relays_what_the_validation_report_said(tmp_path):
    # A real run (local connection) with the callback: its verdict, the skipped check and why, and where the
    # report is, reach the lab's console summary.
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    (tmp_path / "hosts.yml").write_text(json.dumps({"all": {"hosts": {"n1": host}}}))
    (tmp_path / "play.yml").write_text(json.dumps([{
        "hosts": "all", "gather_facts": False, "vars": {"gpuforge_report_dir": f"{tmp_path}/reports/x"},
        "tasks": [{"name": "A check", "ansible.builtin.assert": {"that": True}},
                  {"name": "Say why", "gpuforge.cluster.check_skipped": {"check": "DDP smoke job",
                                                                         "reason": "no torch here"}}]}]))
    run = labctl.run_playbook(str(tmp_path / "play.yml"), tmp_path / "hosts.yml",
                              fact_cache=tmp_path / "facts")
    assert run.rc == 0
    text = labctl.report([run], tmp_path / "hosts.yml")
    assert "validation report: PASS - 1 passed, 0 failed, 1 skipped" in text
    assert "  skipped: DDP smoke job (n1): no torch here" in text
    assert f"report: {tmp_path}/reports/x/" in text
