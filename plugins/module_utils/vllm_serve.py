# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vllm_serve role's layout (pipeline stages x GPUs per stage over the Ray nodes) and its `vllm serve`
command. Pure functions, no I/O."""

from __future__ import annotations

import re

VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(\.post\d+)?$")
# Options the role sets itself: given again in extra args they would contradict the unit.
OWN_OPTIONS = (
    "--host",
    "--port",
    "--served-model-name",
    "--pipeline-parallel-size",
    "--tensor-parallel-size",
    "--distributed-executor-backend",
    "--max-model-len",
    "--gpu-memory-utilization",
    "--model",
    "-pp",
    "-tp",
)


class VllmError(ValueError):
    pass


def _size(value, name):
    if value == "auto":
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise VllmError("%s must be auto or a whole number >= 1, got %r" % (name, value))
    return value


def layout(hosts, gpus: dict, server, pipeline="auto", tensor="auto") -> dict:
    """The serving layout over ``hosts`` (the nodes of vllm_serve_group) with ``gpus`` = {host: GPUs nvidia-smi
    counts, None when unknown}: {pipeline_parallel_size, tensor_parallel_size, gpus, problems, text}. auto is one
    pipeline stage per node and the fewest GPUs of a node per stage; what cannot run is said in problems."""
    hosts = list(hosts or [])
    problems = []
    try:
        pp, tp = (
            _size(pipeline, "vllm_serve_pipeline_parallel_size"),
            _size(tensor, "vllm_serve_tensor_parallel_size"),
        )
    except VllmError as exc:
        return {
            "pipeline_parallel_size": None,
            "tensor_parallel_size": None,
            "gpus": 0,
            "problems": [str(exc)],
            "text": "",
        }
    if not hosts:
        problems.append("vllm_serve_group has no hosts in this play")
    if server not in hosts:
        problems.append(
            "the server %s (vllm_serve_host, else Ray's head) is not in vllm_serve_group %s"
            % (server, ", ".join(hosts))
        )
    unknown = sorted(h for h in hosts if gpus.get(h) is None)
    counts = {h: int(gpus[h]) for h in hosts if gpus.get(h) is not None}
    if pp is None:
        pp = len(hosts) or None
    if tp is None:
        if unknown:
            problems.append(
                "vllm_serve_tensor_parallel_size auto needs the GPUs of every node; nvidia-smi gave none "
                "on %s (install the GPU stack first, or set it)" % ", ".join(unknown)
            )
        elif counts:
            tp = min(counts.values())
            if tp < 1:
                problems.append(
                    "vllm_serve_tensor_parallel_size auto: %s has no GPU"
                    % ", ".join(sorted(h for h, n in counts.items() if n < 1))
                )
                tp = None
    total = sum(counts.values())
    if pp and tp and not unknown:
        if pp * tp > total:
            problems.append(
                "%d pipeline stage(s) x %d GPU(s) = %d GPUs, but vllm_serve_group has %d (%s)"
                % (pp, tp, pp * tp, total, ", ".join("%s %d" % (h, counts[h]) for h in hosts))
            )
        if server in counts and counts[server] < tp:
            problems.append(
                "the server %s has %d GPU(s): vLLM places the first pipeline stage (%d GPU(s)) on the "
                "node it runs on" % (server, counts[server], tp)
            )
    text = ""
    if pp and tp:
        text = "%d pipeline stage(s) x %d GPU(s) over %s, server on %s" % (pp, tp, ", ".join(hosts), server)
    return {
        "pipeline_parallel_size": pp,
        "tensor_parallel_size": tp,
        "gpus": total,
        "problems": problems,
        "text": text,
    }


def extra_problems(extra) -> list:
    if not isinstance(extra, list) or not all(isinstance(w, str) and w.startswith("-") for w in extra):
        return ["vllm_serve_extra_args must be a list of --flag or --flag=value words, got %r" % (extra,)]
    clash = sorted({w.split("=")[0] for w in extra if w.split("=")[0] in OWN_OPTIONS})
    if clash:
        return ["vllm_serve_extra_args sets %s, which the role sets (use its variables)" % ", ".join(clash)]
    return []


def serve_argv(
    venv, model_path, name, address, port, the_layout, max_model_len, memory_share, extra=()
) -> list:
    """`vllm serve` for the unit: the model from the local cache, the API on the cluster address, the stages
    through Ray."""
    if not the_layout.get("pipeline_parallel_size") or not the_layout.get("tensor_parallel_size"):
        raise VllmError("no layout: %s" % "; ".join(the_layout.get("problems") or ["unknown"]))
    return [
        venv.rstrip("/") + "/bin/vllm",
        "serve",
        model_path,
        "--served-model-name",
        name,
        "--host",
        address,
        "--port",
        str(int(port)),
        "--pipeline-parallel-size",
        str(the_layout["pipeline_parallel_size"]),
        "--tensor-parallel-size",
        str(the_layout["tensor_parallel_size"]),
        "--distributed-executor-backend",
        "ray",
        "--max-model-len",
        str(int(max_model_len)),
        "--gpu-memory-utilization",
        "%g" % float(memory_share),
        *extra,
    ]
