#!/usr/bin/env python3
"""Write each role README's variable section from its meta/argument_specs.yml.

The section sits between `<!-- BEGIN VARIABLES -->` and `<!-- END VARIABLES -->`.
`--check` exits 1 when a README is out of date (the unit tests run it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- BEGIN VARIABLES -->", "<!-- END VARIABLES -->"


def _cell(value: object) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    text = text.removesuffix("...").strip()
    return "`" + text.replace("|", "\\|") + "`"


def variables_section(spec_file: Path) -> str:
    spec = yaml.safe_load(spec_file.read_text())["argument_specs"]["main"]
    rows = ["| variable | type | default | description |", "|---|---|---|---|"]
    for name, opt in spec.get("options", {}).items():
        typ = opt.get("type", "str")
        if opt.get("elements"):
            typ += f" of {opt['elements']}"
        if opt.get("choices"):
            typ += " (" + ", ".join(map(str, opt["choices"])) + ")"
        desc = opt.get("description", "")
        desc = " ".join(desc) if isinstance(desc, list) else desc
        rows.append(f"| `{name}` | {typ} | {_cell(opt.get('default'))} | {desc} |")
    return "\n".join([BEGIN, *rows, END])


def render(readme: Path, spec_file: Path) -> str:
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{readme}: no {BEGIN} ... {END} section")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + variables_section(spec_file) + tail


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("roles", nargs="*", help="only these roles (default: all)")
    args = ap.parse_args()
    stale = []
    for spec_file in sorted(REPO.glob("roles/*/meta/argument_specs.yml")):
        if args.roles and spec_file.parents[1].name not in args.roles:
            continue
        readme = spec_file.parents[1] / "README.md"
        new = render(readme, spec_file)
        if new != readme.read_text():
            stale.append(str(readme.relative_to(REPO)))
            if not args.check:
                readme.write_text(new)
    if args.check and stale:
        print("out of date (run scripts/role_docs.py):", *stale, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
