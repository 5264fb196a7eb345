# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rental playbook's summary table and quick-access commands (logic in module_utils/rental_report.py)."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils.rental_report import (
    RentalReportError,
    quick_access_lines,
    table_lines,
)


def _rows(name, rows):
    if isinstance(rows, (str, bytes, dict)) or not hasattr(rows, "__iter__"):
        raise AnsibleFilterError("%s: expects a list of row dicts, got %s" % (name, type(rows).__name__))
    return list(rows)


def rental_table(rows):
    try:
        return table_lines(_rows("rental_table", rows))
    except RentalReportError as exc:
        raise AnsibleFilterError("rental_table: %s" % exc) from None


def rental_quick_access(rows, head, session="multinode", config_note=None):
    try:
        return quick_access_lines(_rows("rental_quick_access", rows or []), head, session, config_note)
    except RentalReportError as exc:
        raise AnsibleFilterError("rental_quick_access: %s" % exc) from None


class FilterModule:
    def filters(self):
        return {"rental_table": rental_table, "rental_quick_access": rental_quick_access}
