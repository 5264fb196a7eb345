"""gpuforge.cluster.rental_nodes through ansible-inventory with the repository's ansible.cfg.

What a user runs (``ansible-playbook -i nodes.txt playbooks/rental.yml``) picks the inventory the same
way: the enabled plugins of ansible.cfg, in order. So a table the plugin refuses must fail the command
with every problem shown, and no other plugin may read it instead (``ini`` took a refused nodes.txt as
a list of host names).
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.inventory.rental_nodes import InventoryModule

REPO = Path(__file__).resolve().parents[4]
ANSIBLE_INVENTORY = Path(sys.executable).parent / "ansible-inventory"
# Settings from the caller's environment that would change what is tested here.
CLEARED = ("GPUFORGE_RENTAL_PREFIX", "ANSIBLE_INVENTORY_ENABLED", "ANSIBLE_INVENTORY_UNPARSED_FAILED",
           "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "ANSIBLE_INVENTORY", "ANSIBLE_COLLECTIONS_PATH")

TABLE = """\
# Rented 2026-05-01: the head first.
Public IP        Private IP
203.0.113.10     10.0.0.10
203.0.113.11\t10.0.0.11   # second box
203.0.113.12,10.0.0.12
"""


@pytest.fixture(autouse=True)
def empty_fact_cache(tmp_path, monkeypatch):
    # ansible.cfg's jsonfile fact cache (.cache/facts) is shared with every other run from this checkout;
    # ansible-inventory lists cached facts as host variables.
    monkeypatch.setenv("ANSIBLE_CACHE_PLUGIN_CONNECTION", str(tmp_path / "facts"))


def run(path: Path, *args: str, config: Path = REPO / "ansible.cfg",
        **env: str) -> subprocess.CompletedProcess:
    """ansible-inventory -i PATH ARGS (default --list), as a user runs it from the checkout."""
    environ = {key: value for key, value in os.environ.items() if key not in CLEARED}
    environ.update({"ANSIBLE_CONFIG": str(config), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", **env})
    return subprocess.run([str(ANSIBLE_INVENTORY), "-i", str(path), *(args or ["--list"])], cwd=REPO,
                          env=environ, capture_output=True, text=True, check=False)


def plain(value):
    """ansible-inventory's JSON with the {"__ansible_unsafe": ...} wrappers of inventory strings taken off."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def listed(path: Path, **env: str) -> dict:
    result = run(path, **env)
    assert result.returncode == 0, result.stderr
    return plain(json.loads(result.stdout))


def members(data: dict, group: str) -> list[str]:
    return data.get(group, {}).get("hosts", [])


def hosts_listed(result: subprocess.CompletedProcess) -> list[str]:
    """The hosts of an ``--list`` run: none when it failed (nothing printed)."""
    listing = plain(json.loads(result.stdout)) if result.stdout.strip() else {}
    return sorted(listing.get("_meta", {}).get("hostvars", {}))


# A source that no plugin read fails the command (ansible.cfg [inventory] unparsed_is_failed); set here so the
# plugin's refusals are tested as a user with that setting sees them, whatever the repository's file says.
STRICT = {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"}


def test_three_boxes_with_a_header(tmp_path):
    path = tmp_path / "nodes.txt"
    path.write_text(TABLE)
    data = listed(path)
    hostvars = data["_meta"]["hostvars"]
    assert sorted(hostvars) == ["rental0", "rental1", "rental2"]
    assert hostvars["rental1"] == {
        "ansible_host": "203.0.113.11", "cluster_ip": "10.0.0.11", "rental_public_ip": "203.0.113.11",
        "rental_private_ip": "10.0.0.11", "rental_index": 1, "rental_source_line": 4, "rental_node_count": 3}
    assert [(hostvars[h]["ansible_host"], hostvars[h]["cluster_ip"]) for h in ("rental0", "rental2")] == [
        ("203.0.113.10", "10.0.0.10"), ("203.0.113.12", "10.0.0.12")]
    assert members(data, "head") == ["rental0"]
    assert members(data, "workers") == ["rental1", "rental2"]
    for group in ("rental", "gpu", "compute"):
        assert members(data, group) == ["rental0", "rental1", "rental2"], group
    assert all("ansible_user" not in hostvars[host] for host in hostvars)  # the playbook detects it


def test_group_var_on_rental(tmp_path):
    path = tmp_path / "nodes.txt"
    path.write_text(TABLE)
    result = run(path, "--host", "rental2")
    assert result.returncode == 0, result.stderr
    assert plain(json.loads(result.stdout))["rental_node_count"] == 3
    graph = run(path, "--graph", "--vars")
    assert graph.returncode == 0, graph.stderr
    rental = graph.stdout.split("@rental:", 1)[1]
    assert "{rental_node_count = 3}" in rental.split("@", 1)[0]


def test_one_box_has_an_empty_workers_group(tmp_path):
    path = tmp_path / "nodes.txt"
    path.write_text("203.0.113.10:10.0.0.10\n")
    data = listed(path)
    assert list(data["_meta"]["hostvars"]) == ["rental0"]
    assert members(data, "head") == ["rental0"]
    assert "workers" in data["all"]["children"] and members(data, "workers") == []


@pytest.mark.parametrize("name", ["nodes", "nodes.txt", "nodes.TXT", "nodes.csv", "boxes.tsv", "rented.list",
                                  "nodes.pairs"])
def test_plain_files_are_picked(tmp_path, name):
    path = tmp_path / name
    path.write_text("203.0.113.10 10.0.0.10\r\n203.0.113.11 10.0.0.11\r\n")
    result = run(path, "-vvv", "--list")
    assert result.returncode == 0, result.stderr
    assert f"Parsed {path} inventory source with ansible_collections.gpuforge.cluster.plugins.inventory." \
           "rental_nodes plugin" in result.stdout + result.stderr
    listing = result.stdout[result.stdout.index("\n{\n") + 1:]  # after -vvv's own lines
    assert sorted(plain(json.loads(listing))["_meta"]["hostvars"]) == ["rental0", "rental1"]


def test_prefix_from_the_environment(tmp_path):
    path = tmp_path / "nodes.txt"
    path.write_text(TABLE)
    data = listed(path, GPUFORGE_RENTAL_PREFIX="gpu-")
    assert members(data, "head") == ["gpu-0"] and members(data, "workers") == ["gpu-1", "gpu-2"]


@pytest.mark.parametrize("section", ["gpuforge_rental_nodes", "inventory_plugin_rental_nodes"])
def test_prefix_from_ansible_cfg(tmp_path, section):
    text = (REPO / "ansible.cfg").read_text()
    relative = "collections_path = .cache/collections"
    assert relative in text
    config = tmp_path / "ansible.cfg"
    config.write_text(text.replace(relative, f"collections_path = {REPO / '.cache' / 'collections'}")
                      + f"\n[{section}]\nprefix = box\n")
    path = tmp_path / "nodes.txt"
    path.write_text(TABLE)
    result = run(path, config=config)
    assert result.returncode == 0, result.stderr
    assert members(plain(json.loads(result.stdout)), "rental") == ["box0", "box1", "box2"]


def test_a_prefix_that_makes_no_host_name_is_refused(tmp_path):
    path = tmp_path / "nodes.txt"
    path.write_text(TABLE)
    result = run(path, GPUFORGE_RENTAL_PREFIX="9 box", **STRICT)
    assert result.returncode != 0
    assert "host name prefix '9 box'" in result.stderr and hosts_listed(result) == []


# ---------------------------------------------------------------- refused tables: the problems, no hosts


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("203.0.113.1 10.0.0.1\n203.0.113.2 10.0.0.2\n# box 3\n203.0.113.300 10.0.0.4\n",
                     "nodes.txt line 4: '203.0.113.300 10.0.0.4': '203.0.113.300' is not an IP address",
                     id="bad-address"),
        pytest.param("203.0.113.1 10.0.0.1\n203.0.113.2 10.0.0.2\n203.0.113.6\n",
                     "nodes.txt line 3: '203.0.113.6': no private address "
                     "(expected PUBLIC PRIVATE or PUBLIC:PRIVATE)", id="no-private"),
        pytest.param("203.0.113.1 10.0.0.1\n203.0.113.1 10.0.0.2\n",
                     "nodes.txt line 2: '203.0.113.1 10.0.0.2': "
                     "public address 203.0.113.1 is already on line 1 ('203.0.113.1 10.0.0.1')",
                     id="duplicate-public"),
        pytest.param("203.0.113.1 10.0.0.1\n203.0.113.2 10.0.0.1\n",
                     "nodes.txt line 2: '203.0.113.2 10.0.0.1': "
                     "private address 10.0.0.1 is already on line 1 ('203.0.113.1 10.0.0.1')",
                     id="duplicate-private"),
        pytest.param("203.0.113.1 10.0.0.1 h100\n",
                     "nodes.txt line 1: '203.0.113.1 10.0.0.1 h100': 3 columns", id="three-columns"),
        pytest.param("203.0.113.1 10.0.0.1\n127.0.0.1 10.0.0.2\n",
                     "nodes.txt line 2: '127.0.0.1 10.0.0.2': public address 127.0.0.1 is a loopback address",
                     id="loopback"),
        pytest.param("# nothing yet\n\n", "nodes.txt: no address pairs", id="empty"),
        pytest.param("[gpu]\n203.0.113.1\n203.0.113.2\n",
                     "nodes.txt line 1: '[gpu]': an INI inventory section", id="ini-file"),
    ],
)
def test_refused_table_fails_with_the_line_and_no_hosts(tmp_path, text, problem):
    path = tmp_path / "nodes.txt"
    path.write_text(text)
    result = run(path, **STRICT)
    assert result.returncode != 0
    assert problem in result.stderr
    assert "No inventory was parsed" in result.stderr  # an error, not a warning
    # No other plugin read it instead: nothing listed at all.
    assert result.stdout.strip() == ""
    # With the repository's ansible.cfg as it is: the same problems and still no hosts.
    result = run(path)
    assert problem in result.stderr and hosts_listed(result) == []


def test_every_problem_is_shown_at_once(tmp_path):
    path = tmp_path / "rented.txt"
    path.write_text("Public Private\n203.0.113.1 10.0.0.1\n203.0.113.300 10.0.0.4\n203.0.113.6\n"
                    "203.0.113.1 10.0.0.7\n")
    result = run(path, **STRICT)
    assert result.returncode != 0 and result.stdout.strip() == ""
    for problem in ("rented.txt line 3: '203.0.113.300 10.0.0.4': '203.0.113.300' is not an IP address",
                    "rented.txt line 4: '203.0.113.6': no private address",
                    "rented.txt line 5: '203.0.113.1 10.0.0.7': "
                    "public address 203.0.113.1 is already on line 2 ('203.0.113.1 10.0.0.1')"):
        assert problem in result.stderr


def test_the_repository_config_enables_no_ini():
    parser = configparser.ConfigParser()
    parser.read(REPO / "ansible.cfg")
    plugins = [name.strip() for name in parser["inventory"]["enable_plugins"].split(",")]
    assert "ini" not in plugins and "gpuforge.cluster.rental_nodes" in plugins
    assert "yaml" in plugins and "auto" in plugins and "host_list" in plugins


def test_why_ini_stays_off(tmp_path):
    # The same refused table with ini enabled after the plugin: ini reads it, silently, as host names.
    path = tmp_path / "nodes.txt"
    path.write_text("203.0.113.1:10.0.0.1\n203.0.113.6\n")
    assert hosts_listed(run(path)) == []
    enabled = "host_list,script,auto,yaml,toml,gpuforge.cluster.rental_nodes,ini"
    result = run(path, ANSIBLE_INVENTORY_ENABLED=enabled)
    assert result.returncode == 0, result.stderr
    assert members(plain(json.loads(result.stdout)), "ungrouped") == ["203.0.113.1:10.0.0.1", "203.0.113.6"]


@pytest.mark.parametrize("name", ["r1", "r2", "r3"])
def test_the_repository_inventories_still_parse(name):
    result = run(REPO / "inventories" / name, "--graph")
    assert result.returncode == 0, result.stderr
    assert "@head:" in result.stdout and "rental" not in result.stdout


# ---------------------------------------------------------------- verify_file


@pytest.mark.parametrize(
    ("name", "picked"),
    [
        ("nodes", True), ("nodes.txt", True), ("nodes.csv", True), ("nodes.tsv", True), ("nodes.list", True),
        ("nodes.pairs", True), ("NODES.TXT", True),
        ("hosts.yml", False), ("hosts.yaml", False), ("hosts.json", False), ("hosts.toml", False),
        ("hosts.ini", False), ("nodes.txt.bak", False),
    ],
)
def test_verify_file(tmp_path, name, picked):
    path = tmp_path / name
    path.write_text("203.0.113.1 10.0.0.1\n")
    assert InventoryModule().verify_file(str(path)) is picked


def test_verify_file_wants_an_existing_file(tmp_path):
    plugin = InventoryModule()
    assert plugin.verify_file(str(tmp_path / "missing.txt")) is False
    (tmp_path / "dir.txt").mkdir()
    assert plugin.verify_file(str(tmp_path / "dir.txt")) is False
    assert plugin.verify_file("203.0.113.1,203.0.113.2") is False  # host_list's
