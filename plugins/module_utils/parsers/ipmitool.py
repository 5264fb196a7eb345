# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipmitool outputs: ``chassis power status`` (the GUID of ``mc guid``: module_utils/bmc_guid.py).

roles/slurm_powersave/files/gpuforge-powersave reads the same line with its own copy of the pattern (it runs
under slurmctld with the standard library only); tests/unit/roles/test_slurm_powersave_program.py checks that
both read every recorded output alike.
"""

from __future__ import annotations

import re

from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError, check_text

POWER_STATUS = re.compile(r"^Chassis Power is (on|off)\s*$", re.IGNORECASE | re.MULTILINE)


def parse_chassis_power(text: str) -> str:
    """``ipmitool chassis power status`` -> 'on' or 'off'; anything else (an error, no session) is a
    ParseError naming the first line."""
    text = check_text(text)
    states = {match.group(1).lower() for match in POWER_STATUS.finditer(text)}
    if len(states) == 1:
        return states.pop()
    lines = [line for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else ""
    if len(states) > 1:
        raise ParseError("both 'on' and 'off' in one power status")
    raise ParseError("no 'Chassis Power is on|off' line", 1 if first else 0, first)
