"""bmc_probe: power state and GUID per BMC, the password on a pipe (-f /dev/stdin), failures name the node.

Outputs recorded from OpenIPMI's ipmi_sim 2.0.33 (lanplus) with ipmitool 1.8.19 on Debian 12
(lab/bmc/PROTOTYPE.md, 2026-12-04): power status with and without the HPM.x line ipmitool prints at
-L OPERATOR, mc guid of a BMC that sends SMBIOS order, a wrong password, cipher suite 17 refused.
"""

from __future__ import annotations

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.ipmitool import parse_chassis_power
from ansible_collections.gpuforge.cluster.plugins.modules import bmc_probe

from .harness import run_module

ON = "Chassis Power is on\n"
OFF = "Chassis Power is off\n"
HPM = "Get HPM.x Capabilities request failed, compcode = d4\nChassis Power is on\n"
GUID = ("System GUID   : 42da3da8-cb53-5a14-aa7d-67f7018b2890\n"
        "GUID Encoding : SMBIOS (WARNING: IPMI Specification violation!)\n"
        "GUID Version  : Name-based using SHA-1\n")
NO_SESSION = "Error: Unable to establish IPMI v2 / RMCP+ session\n"
CIPHER_17 = ("Error in open session response message : invalid authentication algorithm\n\n"
             "Error: Unable to establish IPMI v2 / RMCP+ session\n")
PASSWORD = "s3cret-ipmi"


def fake(answers, calls):
    """answers: BMC address -> {command word: (rc, out, err)}."""
    def run_command(self, argv, data=None, **kw):
        calls.append((argv, data))
        address = argv[argv.index("-H") + 1]
        return answers[address][argv[-1] if argv[-1] in ("status", "guid") else argv[-2]]
    return run_command


def test_power_status_outputs():
    assert parse_chassis_power(ON) == "on"
    assert parse_chassis_power(OFF) == "off"
    assert parse_chassis_power(HPM) == "on"
    for text in (NO_SESSION, "", "Chassis Power is on\nChassis Power is off\n"):
        with pytest.raises(ParseError):
            parse_chassis_power(text)


def test_every_bmc_answers_and_the_password_never_reaches_argv():
    calls = []
    answers = {"ipminode002": {"status": (0, ON, ""), "guid": (0, GUID, "")},
               "10.20.0.13": {"status": (0, OFF, ""), "guid": (0, GUID, "")}}
    result = run_module(bmc_probe.main, {"bmcs": {"node003": "10.20.0.13", "node002": "ipminode002"},
                                         "user": "admin", "password": PASSWORD, "cipher_suite": 3,
                                         "privilege": "ADMINISTRATOR"},
                        run_command=fake(answers, calls))
    assert result["failed"] is False and result["changed"] is False
    assert result["bmcs"] == {
        "node002": {"address": "ipminode002", "power": "on", "guid": "42da3da8-cb53-5a14-aa7d-67f7018b2890"},
        "node003": {"address": "10.20.0.13", "power": "off", "guid": "42da3da8-cb53-5a14-aa7d-67f7018b2890"},
    }
    assert len(calls) == 4
    for argv, data in calls:
        assert data == PASSWORD and PASSWORD not in " ".join(argv)
        assert argv[argv.index("-f") + 1] == "/dev/stdin" and "-P" not in argv and "-E" not in argv
        assert argv[argv.index("-C") + 1] == "3" and argv[argv.index("-L") + 1] == "ADMINISTRATOR"


def test_bmcs_that_do_not_answer_are_all_named_without_the_password():
    calls = []
    answers = {"a": {"status": (1, "", NO_SESSION)}, "b": {"status": (1, "", CIPHER_17)},
               "c": {"status": (0, ON, "")}}
    result = run_module(bmc_probe.main, {"bmcs": {"n1": "a", "n2": "b", "n3": "c"}, "user": "admin",
                                         "password": PASSWORD, "guid": False},
                        run_command=fake(answers, calls))
    assert result["failed"] is True
    assert result["msg"] == (
        "BMCs that did not answer: n1 (BMC a): ipmitool chassis power status (rc=1): Error: Unable to "
        "establish IPMI v2 / RMCP+ session; n2 (BMC b): ipmitool chassis power status (rc=1): Error in open "
        "session response message : invalid authentication algorithm. Check the address, the BMC network and "
        "the IPMI user.")
    assert result["bmcs"]["n3"] == {"address": "c", "power": "on"}
    assert PASSWORD not in str(result)
