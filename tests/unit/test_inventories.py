"""The example inventories, read as the docs tell a user to read them (`-i inventories/<name>`).

Every example keeps facts/<host>.json (record_facts.yml writes them, render.yml reads them) beside hosts.yml.
Ansible reads every file of an inventory folder with the enabled plugins, and the yaml plugin takes .json:
before ansible.cfg's `ignore_patterns = ^facts$`, `-i inventories/r1` printed ~20 warnings and made groups
named after fact keys (nvidia_smi, ibstat, gpuforge_host). Here: each folder gives exactly the groups its
hosts.yml defines, the hosts it lists, and no warning about a source or a group definition.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.parent.name for p in (REPO / "inventories").glob("*/hosts.yml"))


def defined(tree: dict) -> tuple[set[str], set[str]]:
    """(groups, hosts) a YAML inventory defines, walking children."""
    groups: set[str] = set()
    hosts: set[str] = set()

    def walk(name: str, body: dict | None) -> None:
        groups.add(name)
        body = body or {}
        hosts.update(body.get("hosts") or {})
        for child, sub in (body.get("children") or {}).items():
            walk(child, sub)

    for name, body in tree.items():
        walk(name, body)
    return groups, hosts


def made_groups(listed: dict) -> set[str]:
    """Every group of an `ansible-inventory --list` answer (an empty group is only someone's child)."""
    names = set(listed) - {"_meta"}
    for body in list(listed.values()):
        names.update(body.get("children", []) if isinstance(body, dict) else [])
    return names - {"ungrouped"}


def inventory(source: Path, config: Path = REPO / "ansible.cfg") -> tuple[dict, str]:
    """`ansible-inventory -i SOURCE --list` under ``config``: (the answer, what it printed on stderr)."""
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
    }
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(source), "--list"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout), run.stderr


def test_every_example_with_a_hosts_file_is_checked():
    assert {"r1", "r2", "r3", "r5"} <= set(EXAMPLES), EXAMPLES
    for name in EXAMPLES:
        assert list((REPO / "inventories" / name / "facts").glob("*.json")), f"{name} has no example facts"


@pytest.mark.parametrize("name", EXAMPLES)
def test_an_inventory_folder_reads_its_hosts_file_and_not_its_facts(name):
    folder = REPO / "inventories" / name
    groups, hosts = defined(yaml.safe_load((folder / "hosts.yml").read_text()))
    listed, stderr = inventory(folder)
    made = made_groups(listed)
    assert made == groups, f"groups that hosts.yml does not define: {sorted(made - groups)}"
    assert set(listed["_meta"]["hostvars"]) == hosts
    for noise in ("Unable to parse", "not a valid group definition", "Skipping", "No inventory was parsed"):
        assert noise not in stderr, stderr[-3000:]
    # group_vars/all still reaches every host (the folder was read, not only hosts.yml).
    expected = set()
    for path in sorted((folder / "group_vars").glob("all*")):
        for part in sorted(path.rglob("*.yml")) if path.is_dir() else [path]:
            expected |= set(yaml.safe_load(part.read_text()) or {})
    assert expected
    for host, hostvars in listed["_meta"]["hostvars"].items():
        assert expected <= set(hostvars), (host, sorted(expected - set(hostvars)))


def test_without_the_ignore_pattern_the_facts_would_be_read_as_inventory(tmp_path):
    # The test above can fail: the same folder with a config lacking the line gives the fact-key groups.
    cfg = tmp_path / "ansible.cfg"
    text = (REPO / "ansible.cfg").read_text()
    assert "ignore_patterns = ^facts$" in text
    cfg.write_text(
        text.replace("ignore_patterns = ^facts$", "")
        .replace("= .cache/collections", f"= {REPO / '.cache' / 'collections'}")
        .replace("= roles", f"= {REPO / 'roles'}")
    )
    listed, stderr = inventory(REPO / "inventories" / "r1", config=cfg)
    assert {"nvidia_smi", "ibstat", "gpuforge_host"} <= made_groups(listed)
    assert "not a valid group definition" in stderr
