"""Prepare an ansible-test sanity run (tests/run.sh, and tests/newest_core/run.sh in its container).

1. Copy what the collection ships (git's tracked and unignored files, less galaxy.yml's build_ignore dev
   tooling: lab/, scripts/, molecule/, .config/, .ci/, which ruff and the other stages cover) to
   TOP/ansible_collections/gpuforge/cluster, a git repository of its own (ansible-test needs both).
2. Offline stand-in for get-pip.py: ansible-test downloads it from a host CI cannot reach; the stand-in
   bootstraps pip from the interpreter's bundled wheel, under the name this ansible-test looks for.

Usage: python tests/sanity_prep.py TOP   (prints the collection's path)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LEFT_OUT = ("lab", "scripts", "molecule", ".config", ".ci")


def copy_tree(top: Path) -> Path:
    dest = top / "ansible_collections" / "gpuforge" / "cluster"
    shutil.rmtree(top, ignore_errors=True)
    dest.mkdir(parents=True)
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard", "-z", "--", ".",
                            *(f":!{name}" for name in LEFT_OUT)],
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = REPO / name
        if src.is_file() or src.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name, follow_symlinks=False)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
    return dest


def get_pip_standin() -> Path:
    import ansible_test  # the ansible-test of the interpreter that runs this

    src = (Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
    version = re.search(r"pip='([0-9.]+)'", src).group(1)
    path = Path(os.path.expanduser(f"~/.ansible/test/cache/get_pip_{version.replace('.', '_')}.py"))
    if not path.is_file() or path.stat().st_size == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# offline stand-in for get-pip.py (written by tests/sanity_prep.py)\n"
                        "import ensurepip\nensurepip.bootstrap(upgrade=True, default_pip=True)\n")
    return path


if __name__ == "__main__":
    get_pip_standin()
    print(copy_tree(Path(sys.argv[1])))
