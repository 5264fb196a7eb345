# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The head and worker aliases of a rented cluster (worker1..N -> private addresses) and the rows of its table."""

from ansible.errors import AnsibleFilterError


def rental_aliases(hosts, hostvars, head, prefix="worker"):
    """[{host, alias, address, head}] in inventory order: the head is 'head', each other node <prefix><n> with n its
    rental_index (the line order of nodes.txt, so a node that dropped out does not renumber the others; a host
    without one takes its position). address: the node model's cluster address (the private one)."""
    if isinstance(hosts, str):
        raise AnsibleFilterError("rental_aliases: expects a list of inventory hosts, got a string")
    out = []
    for pos, host in enumerate(hosts):
        hv = hostvars[host]
        node = (hv.get("ansible_facts") or {}).get("gpuforge_node") or {}
        address = node.get("address")
        if not address:
            raise AnsibleFilterError("rental_aliases: %s has no node model yet (gpuforge.cluster.cluster)" % host)
        index = hv.get("rental_index", pos)
        out.append({"host": str(host), "address": str(address), "head": host == head,
                    "alias": "head" if host == head else "%s%s" % (prefix, index)})
    return out


def rental_rows(hosts, hostvars):
    """One row per rented node for the final table (the rental_table filter): what the node reported at the end of
    its setup (rental_report), else why it is missing (rental_access_failure: not reached; else it failed during
    the setup - its log says where)."""
    if isinstance(hosts, str):
        raise AnsibleFilterError("rental_rows: expects a list of inventory hosts, got a string")
    rows = []
    for host in hosts:
        hv = hostvars[host]
        report = hv.get("rental_report") or {}
        if report:
            status = "ok"
        elif hv.get("rental_access_failure"):
            status = str(hv["rental_access_failure"])
        else:
            status = "failed during setup (see logs/%s.log)" % host
        rows.append({
            "node": str(host), "public": hv.get("rental_public_ip", hv.get("ansible_host")),
            "private": hv.get("rental_private_ip", hv.get("cluster_ip")),
            "user": hv.get("rental_access_login_user"),
            "gpus": report.get("gpus"), "gpu_name": report.get("gpu_name"), "driver": report.get("driver"),
            "docker": report.get("docker"), "ray": report.get("ray"), "status": status})
    return rows


class FilterModule:
    def filters(self):
        return {"rental_aliases": rental_aliases, "rental_rows": rental_rows}
