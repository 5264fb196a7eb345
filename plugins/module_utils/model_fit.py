# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Before a model is downloaded: do its files fit the GPUs that will serve it? Pure functions, no I/O."""

from __future__ import annotations

import posixpath

from ansible_collections.gpuforge.cluster.plugins.module_utils.model_fetch import SHA256_RE

GIB = 1024 ** 3


def files_problems(files) -> list:
    """What is wrong with a model's file list ({url, name, sha256, size}), one line per entry."""
    if not isinstance(files, list):
        return ["model_cache_files must be a list of {url, name, sha256, size}"]
    problems, names = [], set()
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
            problems.append("%s: url must be http(s), got %r" % (what, entry.get("url")))
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
