# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The versions table: what each node runs, from the OS to the serving engine, as one Markdown table. Pure
functions, no I/O (the stack_versions module reads the node)."""

from __future__ import annotations

import json
import re

# The table's columns, in order: (key, heading).
COLUMNS = (
    ("os", "OS"),
    ("kernel", "kernel"),
    ("driver", "driver"),
    ("cuda_driver", "CUDA (driver)"),
    ("cuda_toolkit", "CUDA toolkit"),
    ("nccl", "NCCL"),
    ("python", "Python"),
    ("venv_python", "Python (venv)"),
    ("ray", "Ray"),
    ("torch", "torch"),
    ("torch_nccl", "NCCL (torch)"),
    ("vllm", "vLLM"),
)
ABSENT = "-"


def os_release(text: str) -> str:
    """PRETTY_NAME of /etc/os-release (else NAME VERSION_ID)."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"').strip("'")
    return values.get("PRETTY_NAME") or " ".join(
        v for v in (values.get("NAME"), values.get("VERSION_ID")) if v
    )


def cuda_toolkit(version_json: str):
    """The toolkit release from /usr/local/cuda/version.json (CUDA 11.1 and later)."""
    try:
        return json.loads(version_json)["cuda"]["version"]
    except (ValueError, KeyError, TypeError):
        return None


def torch_nccl(packages: dict):
    """NCCL as torch ships it (the nvidia-nccl-cuXX wheel), else None."""
    for name in sorted(packages):
        if re.match(r"^nvidia-nccl-cu\d+$", name) and packages[name]:
            return packages[name]
    return None


def dpkg_installed_version(text: str):
    """The version from ``dpkg-query -W -f '${Status}\t${Version}'`` when the package is installed - held
    ("hold ok installed": the collection holds libnccl2 itself) or not - else None."""
    status, _tab, version = text.strip().partition("\t")
    return version.strip() or None if status.split()[1:] == ["ok", "installed"] else None


def row(versions: dict) -> dict:
    """One node's row: every column, '-' where the node has none of it."""
    return {
        key: str(versions.get(key)) if versions.get(key) not in (None, "") else ABSENT for key, _title in COLUMNS
    }


def table(rows: dict) -> str:
    """Markdown: one line per node (sorted), the columns in COLUMNS' order; columns no node has are left out."""
    hosts = sorted(rows)
    full = {h: row(rows[h]) for h in hosts}
    keep = [(k, title) for k, title in COLUMNS if any(full[h][k] != ABSENT for h in hosts)]
    lines = ["| node | " + " | ".join(title for _key, title in keep) + " |", "|---" * (len(keep) + 1) + "|"]
    for h in hosts:
        lines.append("| " + " | ".join([h] + [full[h][k].replace("|", "/") for k, _title in keep]) + " |")
    return "\n".join(lines) + "\n"


def skew(rows: dict) -> list:
    """The columns where the nodes that have a component run different versions of it (a cluster runs one of
    each; a node without it - no GPU, no venv - is not skew): ['vLLM: 0.33.1 on b, 0.34.0 on a']."""
    out = []
    for key, title in COLUMNS:
        seen = {}
        for host in sorted(rows):
            value = row(rows[host])[key]
            if value != ABSENT:
                seen.setdefault(value, []).append(host)
        if len(seen) > 1 and key not in ("kernel",):
            out.append(
                "%s: %s" % (title, ", ".join("%s on %s" % (v, " ".join(h)) for v, h in sorted(seen.items())))
            )
    return out
