# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DDP smoke job's runs, from the JSON line each rank of roles/munge_slurm/files/ddp_smoke.py prints."""

import json

from ansible.errors import AnsibleFilterError


def ddp_runs(results):
    """[{nodes, rc, ranks: [the ranks' JSON], samples_per_s (sum over the ranks, None when a rank gave none)}]
    from the registered loop results of the torchrun job (``item`` = the number of nodes)."""
    if not isinstance(results, list):
        raise AnsibleFilterError("ddp_runs: expects the registered results of the DDP job's loop (a list)")
    runs = []
    for result in results:
        ranks = []
        for line in result.get("stdout_lines") or []:
            if line.startswith("{"):
                try:
                    ranks.append(json.loads(line))
                except ValueError:
                    continue
        rates = [r.get("samples_per_s") for r in ranks]
        total = round(sum(rates), 1) if ranks and all(isinstance(x, (int, float)) for x in rates) else None
        runs.append({"nodes": int(result.get("item") or 0), "rc": result.get("rc"), "ranks": ranks,
                     "samples_per_s": total})
    return runs


class FilterModule:
    def filters(self):
        return {"ddp_runs": ddp_runs}
