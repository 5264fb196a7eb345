# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Before a model is downloaded: do its files fit the GPUs that will serve it? Pure functions, no I/O."""

from __future__ import annotations

import posixpath
import re

from ansible_collections.gpuforge.cluster.plugins.module_utils.model_fetch import SHA256_RE

GIB = 1024 ** 3
HF_REPO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
HF_REVISION_RE = re.compile(r"^[0-9a-f]{40}$")
HF_BASE = "https://huggingface.co"


def hf_problems(repo, revision) -> list:
    """A Hugging Face repository is named owner/name and pinned to a commit (a branch moves under the sha256s)."""
    if repo is None and revision is None:
        return []
    problems = []
    if not isinstance(repo, str) or not HF_REPO_RE.match(repo):
        problems.append("model_cache_hf_repo must be owner/name, got %r" % (repo,))
    if not isinstance(revision, str) or not HF_REVISION_RE.match(revision):
        problems.append("model_cache_hf_revision must be the 40 hex digits of a commit (a branch such as main "
                        "moves under the pinned sha256s), got %r" % (revision,))
    return problems


def resolved_files(files, repo=None, revision=None) -> list:
    """The file list with every url filled in: a file without one comes from the Hugging Face repository at the
    pinned revision (https://huggingface.co/REPO/resolve/REVISION/NAME)."""
    out = []
    for entry in files or []:
        if isinstance(entry, dict) and not entry.get("url") and repo and revision:
            entry = dict(entry, url="%s/%s/resolve/%s/%s" % (HF_BASE, repo, revision, entry.get("name")))
        out.append(entry)
    return out


def files_problems(files, repo=None, revision=None) -> list:
    """What is wrong with a model's file list ({url, name, sha256, size}; url may be left out when a Hugging Face
    repository and revision are given), one line per entry."""
    if not isinstance(files, list):
        return ["model_cache_files must be a list of {url, name, sha256, size}"]
    problems = hf_problems(repo, revision)
    if not problems:
        files = resolved_files(files, repo, revision)
    names = set()
    for num, entry in enumerate(files):
        what = "model_cache_files[%d]" % num
        if not isinstance(entry, dict):
            problems.append("%s must be a dict {url, name, sha256, size}" % what)
            continue
        unknown = sorted(set(entry) - {"url", "name", "sha256", "size"})
        name = entry.get("name")
        if unknown:
            problems.append("%s: unknown keys %s" % (what, ", ".join(unknown)))
        if not str(entry.get("url", "")).startswith(("https://", "http://")):
            problems.append("%s: url must be http(s) (or set model_cache_hf_repo and model_cache_hf_revision), "
                            "got %r" % (what, entry.get("url")))
        if not SHA256_RE.match(str(entry.get("sha256", ""))):
            problems.append("%s: sha256 must be 64 lower-case hex digits" % what)
        if (not isinstance(name, str) or not name or name.startswith("/") or posixpath.normpath(name) != name
                or name.split("/")[0] in ("..", ".") or name.startswith(".")):
            problems.append("%s: name must be a plain relative path (no .., no leading / or .), got %r" % (what, name))
        elif name in names:
            problems.append("%s: name %s is listed twice" % (what, name))
        else:
            names.add(name)
        size = entry.get("size")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            problems.append("%s: size must be a number of bytes, got %r" % (what, size))
    return problems


def vram_fit(files, gpus_mib: dict, overhead: float) -> dict:
    """Whether the files (their sizes) times ``overhead`` fit the GPUs' memory, ``gpus_mib`` = {host: [MiB per
    GPU]}. Returns {judged, fits, message}: not judged (and said why) when a size is unknown or no GPU is known."""
    unknown = [f.get("name") for f in files if f.get("size") is None]
    gpus = sum(len(v) for v in gpus_mib.values())
    total_mib = sum(sum(v) for v in gpus_mib.values())
    if unknown:
        return {"judged": False, "fits": None,
                "message": "GPU memory fit not judged: the size of %s is not given" % ", ".join(unknown)}
    if not gpus:
        where = ", ".join(sorted(gpus_mib)) or "no nodes"
        return {"judged": False, "fits": None,
                "message": "GPU memory fit not judged: no GPUs known on %s (nvidia-smi found none)" % where}
    model = sum(f["size"] for f in files)
    need = model * overhead
    have = total_mib * 1024 * 1024
    text = "the model's %.1f GiB x %.2f = %.1f GiB against %.1f GiB on %d GPU(s) of %s" % (
        model / GIB, overhead, need / GIB, have / GIB, gpus, ", ".join(sorted(h for h in gpus_mib if gpus_mib[h])))
    if need <= have:
        return {"judged": True, "fits": True, "message": "fits: " + text}
    return {"judged": True, "fits": False,
            "message": "does not fit: %s - more GPUs, a smaller or quantized model, or a lower "
                       "model_cache_vram_overhead if you know better" % text}
