# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""gpu_type: a GPU's marketing name as a short Slurm GRES type (h100, rtx5090, v100, a100)."""

import re

from ansible.errors import AnsibleFilterError

_DROP = re.compile(r"\b(nvidia|geforce|tesla|quadro|graphics|gpu|laptop|\d+\s*gb|hbm\d*e?|sxm\d*|pcie|nvl|"
                   r"max q|founders edition|workstation edition|server edition|generation|blackwell|mig.*)\b", re.IGNORECASE)


def gpu_type(name):
    """'NVIDIA H100 80GB HBM3' -> 'h100'; 'NVIDIA GeForce RTX 5090' -> 'rtx5090';
    'Tesla V100-SXM2-16GB' -> 'v100'; 'NVIDIA RTX A6000' -> 'rtxa6000'."""
    if not isinstance(name, str) or not name.strip():
        raise AnsibleFilterError("gpu_type needs a GPU name, got %r" % (name,))
    text = name.replace("-", " ").replace("_", " ")
    text = _DROP.sub(" ", text)
    token = re.sub(r"[^a-z0-9]", "", text.lower())
    if not token:
        raise AnsibleFilterError("gpu_type could not make a type from %r" % name)
    return token


class FilterModule:
    def filters(self):
        return {"gpu_type": gpu_type}
