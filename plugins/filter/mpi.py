# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the openmpi role's MPI hello should print (logic in module_utils/mpi_transport.py)."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils.mpi_transport import hello_lines


def mpi_hello_lines(nodes):
    """['node0', 'node1'] -> ['rank 0 of 2 on node0', 'rank 1 of 2 on node1']."""
    if isinstance(nodes, str):
        raise AnsibleFilterError("mpi_hello_lines: expects a list of node names, got a string")
    return hello_lines([str(n) for n in nodes])


class FilterModule:
    def filters(self):
        return {"mpi_hello_lines": mpi_hello_lines}
