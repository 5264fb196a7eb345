# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vllm_serve role's layout and command (logic in module_utils/vllm_serve.py)."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils.vllm_serve import (
    VllmError,
    extra_problems,
    layout,
    serve_argv,
)


def vllm_layout(hosts, hostvars, server, pipeline="auto", tensor="auto"):
    gpus = {}
    for host in hosts or []:
        smi = (hostvars[host].get("ansible_facts") or {}).get("nvidia_smi")
        gpus[host] = None if not smi else len(smi.get("gpus") or [])
    return layout(hosts, gpus, server, pipeline, tensor)


def vllm_serve_argv(
    venv, model_path, name, address, port, the_layout, max_model_len=8192, memory_share=0.9, extra=None
):
    try:
        return serve_argv(
            venv, model_path, name, address, port, the_layout, max_model_len, memory_share, list(extra or [])
        )
    except (VllmError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("vllm_serve_argv: %s" % exc) from None


def vllm_extra_problems(extra):
    return extra_problems(extra)


class FilterModule:
    def filters(self):
        return {
            "vllm_layout": vllm_layout,
            "vllm_serve_argv": vllm_serve_argv,
            "vllm_extra_problems": vllm_extra_problems,
        }
