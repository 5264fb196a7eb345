"""lab/labctl.py drives every lab and test run through ansible-runner: host-key checking stays on
(ansible-runner turns it off unless told) and the fact cache outlives the run."""

from __future__ import annotations

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
