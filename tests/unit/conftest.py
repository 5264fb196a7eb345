"""Make ``ansible_collections.gpuforge.cluster`` importable from a clone.

The checkout is linked in as ``.cache/collections/ansible_collections/gpuforge/cluster``
(the link lab/host-prep.sh and docs/quickstart.md create for ansible.cfg) and that root goes on sys.path.
The ``ansible`` package's own ``ansible_collections`` (community.general, ...) stays
importable: ``ansible_collections`` is a namespace package spread over both roots.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / ".cache" / "collections"
LINK = ROOT / "ansible_collections" / "gpuforge" / "cluster"


def _link_collection() -> None:
    LINK.parent.mkdir(parents=True, exist_ok=True)
    if not LINK.is_symlink():
        with contextlib.suppress(FileExistsError):  # another pytest worker made it first
            os.symlink(os.path.relpath(REPO, LINK.parent), LINK)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


_link_collection()
