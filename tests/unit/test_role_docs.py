"""Each role README's variable table is what scripts/role_docs.py generates from meta/argument_specs.yml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_role_readmes_match_their_argument_specs():
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "role_docs.py"), "--check"],
                         capture_output=True, text=True, cwd=REPO, check=False)
    assert run.returncode == 0, (run.stdout + run.stderr + "\nrun: python scripts/role_docs.py")


def test_the_check_fails_on_a_stale_readme(tmp_path):
    # The check itself can fail: a copy of the script and the roles (the script finds the roles beside it)
    # with one table cut.
    roles = tmp_path / "roles"
    subprocess.run(["cp", "-r", str(REPO / "roles"), str(roles)], check=True)
    (tmp_path / "scripts").mkdir()
    subprocess.run(["cp", str(REPO / "scripts" / "role_docs.py"), str(tmp_path / "scripts")], check=True)
    readme = roles / "openmpi" / "README.md"
    text = readme.read_text()
    start, end = text.index("<!-- BEGIN VARIABLES -->"), text.index("<!-- END VARIABLES -->")
    readme.write_text(text[:start] + "<!-- BEGIN VARIABLES -->\n" + text[end:])
    run = subprocess.run([sys.executable, str(tmp_path / "scripts" / "role_docs.py"), "--check"],
                         capture_output=True, text=True, cwd=tmp_path, check=False)
    assert run.returncode == 1 and "openmpi" in run.stdout + run.stderr


def test_the_check_fails_when_a_role_changes_and_its_pages_do_not(tmp_path):
    # A copy where ray_cluster's main entry point (shown in docs/roles.md) and its `render` entry point (shown
    # on the role's page) say something new: both pages are stale.
    subprocess.run(["cp", "-r", str(REPO / "roles"), str(tmp_path / "roles")], check=True)
    for folder in ("scripts", "docs"):
        (tmp_path / folder).mkdir()
    subprocess.run(["cp", str(REPO / "scripts" / "role_docs.py"), str(tmp_path / "scripts")], check=True)
    subprocess.run(["cp", str(REPO / "docs" / "roles.md"), str(tmp_path / "docs")], check=True)
    specs = tmp_path / "roles" / "ray_cluster" / "meta" / "argument_specs.yml"
    text = specs.read_text()
    changed = text
    for point in ("main", "render"):
        changed = changed.replace(f"\n  {point}:\n    short_description:",
                                  f"\n  {point}:\n    short_description: CHANGED", 1)
    assert changed.count("CHANGED") == 2
    specs.write_text(changed)
    run = subprocess.run([sys.executable, str(tmp_path / "scripts" / "role_docs.py"), "--check"],
                         capture_output=True, text=True, cwd=tmp_path, check=False)
    assert run.returncode == 1
    assert "roles/ray_cluster/README.md" in run.stderr and "docs/roles.md" in run.stderr
