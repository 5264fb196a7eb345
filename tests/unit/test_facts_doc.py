"""docs/facts.md and the RETURN blocks of the modules name the same keys.

Each `## ` section of docs/facts.md whose heading names a module of plugins/modules/ is checked against
that module's RETURN. The heading names the module and what it returns: `` `mod` -> `key`, ... `` or
`` `mod` -> `ansible_facts['fact']` ``; one heading may name several modules, split by `;`.

The documented keys are the backticked names in the first column of the section's tables. `a.b` is key b
of dict a, and `a[].b` is key b of the items of list a. `<name>` stands for a key that varies (a CA name,
a port number); RETURN stops above it (validate-modules refuses such keys) and says in words what the
values hold. In a cell with several names, a name without `.` shares the parent of the first name:
`` `gpus[].uuid`, `name` `` is `gpus[].uuid` and `gpus[].name`. Keys are relative to the fact for a fact
module, and to the result for any other module.

A table belongs to the module or fact named in backticks at the start of the paragraph just before it
(`` `gpuforge_host` is ... ``, `` `flint_burn`: ... ``). Otherwise it belongs to the first module of the
heading, and to the first fact that the heading names for it.

The RETURN keys come from the module file's RETURN string (ast and yaml, the module is not imported).
`contains` is walked into the same notation; the `contains` of a list describes its items.

The rule, per module:

- Every module and fact that the heading names exists: each `ansible_facts['x']` is a fact in RETURN,
  and each other key after `->` is a top-level RETURN key.
- Every documented key exists in RETURN: the doc names nothing that the module does not return.
- Every fact in RETURN lists its keys (`contains`), and each of its first-level keys is documented.
  For a module without facts, each top-level RETURN key is documented. A key counts as documented when
  a table names it or a key below it (`devices.<dev>.<port>.gids` documents `devices`).
- Deeper keys in RETURN need not be in the doc.
- A fact module's keys beside `ansible_facts` (such as `problems`) are not checked.

Sections whose heading names no module are listed in SKIPPED_HEADINGS with the reason. The test fails
when that list and the doc disagree, so no section is left out without a word.

Every module that sets facts has a section: its RETURN lists `ansible_facts`, or its code passes
`ansible_facts` (a keyword of exit_json, a dict key), so a module whose RETURN forgot its facts counts too.
So have the modules named `*_facts` and `*_info`, and the other modules whose results roles read, listed in
INFO_MODULES. A module left out fails the test, naming it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "facts.md"
MODULES = REPO / "plugins" / "modules"

SKIPPED_HEADINGS = {
    "`rdma_network`'s facts: `rdma_network_hca`, `rdma_network_pairs`": (
        "facts that the rdma_network role sets from filters; no module returns them"
    ),
    "InfiniBand fabric readers (no module yet: infiniband_fw)": (
        "parsers in plugins/module_utils/; no module returns their output as it is"
    ),
    "`infiniband_fw`'s facts: `infiniband_fw_ports`, `infiniband_fw_switch_ports`, `infiniband_fw_plan`": (
        "facts that the infiniband_fw role sets from filters; no module returns them"
    ),
    "Parsers behind other modules, and the hostlist helpers": "parser functions, not module return values",
    "Fixtures": "where the parser test data lives, not a return value",
}

# Modules without facts whose results the doc must cover (roles and filters read them), beside `*_info`.
INFO_MODULES = (
    "dpkg_versions",
    "flint_backup",
    "flint_burn",
    "iperf3",
    "mpi_hello",
    "nccl_tests",
    "perftest",
    "stack_versions",
)

NAME = re.compile(r"`([^`]+)`")
FACT = re.compile(r"^ansible_facts\['(\w+)'\]$")
OPENER = re.compile(r"^`(\w+)`")


@dataclass
class Documented:
    """What docs/facts.md says about one module."""

    heading_keys: list[str] = field(default_factory=list)
    heading_facts: list[str] = field(default_factory=list)
    keys: dict[str | None, set[str]] = field(default_factory=dict)


def sections(text: str) -> list[tuple[str, list[str]]]:
    """(heading, lines) of each `## ` section."""
    found: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            found.append((line[3:].strip(), []))
        elif found:
            found[-1][1].append(line)
    return found


def heading_modules(heading: str) -> list[tuple[str, list[str]]]:
    """(module, names after it) for each `;` part of the heading that starts with an existing module."""
    parts = []
    for part in heading.split(";"):
        names = NAME.findall(part)
        if names and (MODULES / f"{names[0]}.py").is_file():
            parts.append((names[0], names[1:]))
    return parts


def cell_keys(cell: str) -> list[str]:
    """The keys of one first-column cell; later names without a dot share the first name's parent."""
    names = NAME.findall(cell)
    if not names:
        return []
    first = names[0]
    parent = first[: first.rindex(".") + 1] if "." in first else ""
    return [first] + [name if "." in name else parent + name for name in names[1:]]


def tables(lines: list[str]) -> list[tuple[str | None, list[str]]]:
    """(owner, keys) of each table. The owner is the backticked name that opens the paragraph before the
    table, or None."""
    found: list[tuple[str | None, list[str]]] = []
    opener, previous, row = "", "", 0
    for line in lines:
        if not line.startswith("|"):
            if line.strip() and not previous.strip():
                opener = line
            previous, row = line, 0
            continue
        if row == 0:
            match = OPENER.match(opener)
            found.append((match.group(1) if match else None, []))
        elif row > 1:  # row 0 is the header, row 1 the |---| line
            found[-1][1].extend(cell_keys(line.strip("|").split("|")[0]))
        previous, row = line, row + 1
    return found


def read_doc() -> tuple[dict[str, Documented], list[str]]:
    """{module: Documented} and the headings that name no module."""
    modules: dict[str, Documented] = {}
    unchecked = []
    for heading, lines in sections(DOC.read_text()):
        parts = heading_modules(heading)
        if not parts:
            unchecked.append(heading)
            continue
        owners: dict[str, tuple[str, str | None]] = {}
        for module, names in parts:
            entry = modules.setdefault(module, Documented())
            facts = [m.group(1) for m in map(FACT.match, names) if m]
            entry.heading_facts += facts
            entry.heading_keys += [name for name in names if not FACT.match(name)]
            owners[module] = (module, facts[0] if facts else None)
            owners.update((fact, (module, fact)) for fact in facts)
        for owner, keys in tables(lines):
            module, fact = owners.get(owner or "", owners[parts[0][0]])
            modules[module].keys.setdefault(fact, set()).update(keys)
    return modules, unchecked


def load_return(module: str) -> dict:
    """The module's RETURN string as YAML, read without importing the module."""
    tree = ast.parse((MODULES / f"{module}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "RETURN" for t in node.targets):
            return yaml.safe_load(ast.literal_eval(node.value)) or {}
    raise AssertionError(f"{module}: no RETURN string")


def return_keys(spec: dict | None, prefix: str = "") -> set[str]:
    """Every key under ``spec`` in the docs' notation: `a.b` in a dict, `a[].b` in the items of a list."""
    keys = set()
    for name, entry in (spec or {}).items():
        entry = entry or {}
        keys.add(prefix + name)
        below = prefix + name + ("[]." if entry.get("type") == "list" else ".")
        keys |= return_keys(entry.get("contains"), below)
    return keys


def scopes(ret: dict) -> dict[str | None, dict | None]:
    """{fact: its `contains`} for a fact module, {None: RETURN} for any other."""
    if "ansible_facts" not in ret:
        return {None: ret}
    facts = (ret["ansible_facts"] or {}).get("contains") or {}
    return {name: (entry or {}).get("contains") for name, entry in facts.items()}


def label(fact: str | None) -> str:
    return f"ansible_facts['{fact}']" if fact else "the result"


def heading_problems(doc: Documented, ret: dict) -> list[str]:
    facts = scopes(ret) if "ansible_facts" in ret else {}
    problems = [f"the heading names {label(f)}, not in RETURN" for f in doc.heading_facts if f not in facts]
    problems += [
        f"the heading names `{k}`, not a top-level RETURN key" for k in doc.heading_keys if k not in ret
    ]
    return problems


def above_placeholder(key: str) -> str:
    """The part of a documented key above its first `<name>`: RETURN stops at a dict keyed by names or numbers
    (ansible-test's validate-modules refuses `<name>` keys, which Jinja's dot notation cannot reach), and its
    description says what the values hold. `devices.<dev>.<port>.gids` -> `devices`; `<ca>.ports` -> ``."""
    parts = re.split(r"\.|\[\]\.", key)
    for i, part in enumerate(parts):
        if part.startswith("<"):
            return ".".join(parts[:i])
    return key


def unknown_keys(doc: Documented, ret: dict) -> list[str]:
    """Documented keys that RETURN does not list (down to a dict keyed by names or numbers)."""
    known = scopes(ret)
    problems = []
    for fact, keys in sorted(doc.keys.items(), key=lambda item: item[0] or ""):
        if fact is not None and fact not in known:
            problems.append(f"a table documents {label(fact)}, not in RETURN")
            continue
        checked = {above_placeholder(key) for key in keys} - {""}
        missing = sorted(checked - return_keys(known[fact] if fact else ret))
        if missing:
            problems.append(f"{label(fact)}: documented but not in RETURN: {', '.join(missing)}")
    return problems


def undocumented_keys(doc: Documented, ret: dict) -> list[str]:
    """First-level keys of each fact (or top-level keys) that no table names; facts without `contains`."""
    problems = []
    for fact, spec in scopes(ret).items():
        if spec is None:
            problems.append(f"{label(fact)}: RETURN lists no keys (no `contains`)")
            continue
        documented = doc.keys.get(fact, set())
        missing = [
            key
            for key in spec
            if not any(d == key or d.startswith((key + ".", key + "[]")) for d in documented)
        ]
        if missing:
            problems.append(f"{label(fact)}: returned but not documented: {', '.join(missing)}")
    return problems


def sets_facts(module: str) -> bool:
    """RETURN lists `ansible_facts`, or the code passes it: `exit_json(ansible_facts=...)`, `{"ansible_facts":
    ...}`, `result["ansible_facts"] = ...` (the strings of DOCUMENTATION and EXAMPLES do not count)."""
    if "ansible_facts" in load_return(module):
        return True
    for node in ast.walk(ast.parse((MODULES / f"{module}.py").read_text())):
        if isinstance(node, ast.keyword) and node.arg == "ansible_facts":
            return True
        keys = node.keys if isinstance(node, ast.Dict) else []
        if isinstance(node, ast.Subscript):
            keys = [node.slice]
        if any(isinstance(key, ast.Constant) and key.value == "ansible_facts" for key in keys):
            return True
    return False


def required_modules() -> dict[str, str]:
    """{module: why the doc must have a section for it} over plugins/modules/."""
    required = {}
    for path in sorted(MODULES.glob("*.py")):
        module = path.stem
        if module.startswith("_"):
            continue
        if sets_facts(module):
            required[module] = "it sets facts"
        elif module.endswith(("_facts", "_info")):
            required[module] = "it is a facts or info module"
        elif module in INFO_MODULES:
            required[module] = "it is in INFO_MODULES"
    return required


DOCUMENTED, UNCHECKED = read_doc()
REQUIRED = required_modules()


def test_every_heading_is_checked_or_skipped_with_a_reason():
    assert len(DOCUMENTED) >= 10
    assert sorted(UNCHECKED) == sorted(SKIPPED_HEADINGS)


def test_info_modules_exist():
    missing = [module for module in INFO_MODULES if not (MODULES / f"{module}.py").is_file()]
    assert not missing, f"INFO_MODULES names modules that plugins/modules/ lacks: {', '.join(missing)}"


def test_the_fact_modules_are_found():
    assert {"cluster_facts", "nvidia_smi_facts", "recorded_facts", "chrony_facts"} <= set(REQUIRED)
    assert not sets_facts("iperf3")


@pytest.mark.parametrize("module", sorted(REQUIRED))
def test_every_fact_and_info_module_has_a_section(module):
    assert module in DOCUMENTED, f"{module}: {REQUIRED[module]}, but no heading of docs/facts.md names it"


@pytest.mark.parametrize("module", sorted(DOCUMENTED))
def test_documented_keys_are_returned(module):
    doc, ret = DOCUMENTED[module], load_return(module)
    problems = heading_problems(doc, ret) + unknown_keys(doc, ret)
    assert not problems, f"{module}: " + "; ".join(problems)


@pytest.mark.parametrize("module", sorted(DOCUMENTED))
def test_returned_keys_are_documented(module):
    doc, ret = DOCUMENTED[module], load_return(module)
    problems = undocumented_keys(doc, ret)
    assert not problems, f"{module}: " + "; ".join(problems)


def test_the_reader_follows_the_notation():
    lines = [
        "`second` is the other fact.",
        "",
        "| key | type |",
        "|---|---|",
        "| `gpus[].uuid`, `name` | str |",
        "| `short`, `fqdn` | str |",
        "",
        "A paragraph that names no fact.",
        "",
        "| key | type |",
        "|---|---|",
        "| `a.b.c`, `d`, `e.f` | int |",
    ]
    assert tables(lines) == [
        ("second", ["gpus[].uuid", "gpus[].name", "short", "fqdn"]),
        (None, ["a.b.c", "a.b.d", "e.f"]),
    ]
    spec = {"gpus": {"type": "list", "contains": {"index": {"type": "int"}}}, "<ca>": {"type": "dict"}}
    assert return_keys(spec) == {"gpus", "gpus[].index", "<ca>"}
