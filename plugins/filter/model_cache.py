# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model_cache role's checks (logic in module_utils/model_fit.py)."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils.model_fit import (
    files_problems,
    resolved_files,
    vram_fit,
)


def model_files_problems(files, hf_repo=None, hf_revision=None):
    return files_problems(files, hf_repo, hf_revision)


def model_files(files, hf_repo=None, hf_revision=None):
    return resolved_files(files, hf_repo, hf_revision)


def model_vram_fit(files, hosts, hostvars, overhead=1.2):
    problems = files_problems(files)
    if problems:
        raise AnsibleFilterError("model_vram_fit: %s" % "; ".join(problems))
    gpus = {}
    for host in hosts or []:
        facts = (hostvars[host].get("ansible_facts") or {}).get("nvidia_smi") or {}
        gpus[host] = [int(g.get("memory_total_mib") or 0) for g in facts.get("gpus") or []]
    return vram_fit(files, gpus, float(overhead))


class FilterModule:
    def filters(self):
        return {"model_files_problems": model_files_problems, "model_files": model_files,
                "model_vram_fit": model_vram_fit}
