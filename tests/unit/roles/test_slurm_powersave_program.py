"""roles/slurm_powersave/files/gpuforge-powersave: Slurm's Suspend/Resume/ResumeFail program over IPMI.

Pure functions (hostlist expansion, configuration, the password-file rule) are loaded from the file
with SourceFileLoader. End to end, the program runs as a subprocess against FAKE ipmitool, scontrol
and ssh written into tmp_path: the fake ipmitool keeps each BMC's power state in a file, checks the
password file like a BMC would, and can be told (per BMC) to refuse `power on`, to ignore `power soft`
or to be slow. Every fake records its argv and environment.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import json
import os
import re
import stat
import subprocess
import sys
import time
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PROGRAM = REPO / "roles" / "slurm_powersave" / "files" / "gpuforge-powersave"
PASSWORD = "Tr0ub4dor-bmc-s3cret"


def _load():
    loader = SourceFileLoader("gpuforge_powersave", str(PROGRAM))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


ps = _load()


# ---------------------------------------------------------------- the file itself


def test_program_is_a_stdlib_only_python3_script_without_its_interpreter_line():
    # The role writes the interpreter line (slurm_powersave_python) first when it installs the program: the
    # file here has none (ansible-test sanity allows no #!/usr/bin/python3 outside modules).
    text = PROGRAM.read_text()
    assert not text.startswith("#!")
    install = (REPO / "roles" / "slurm_powersave" / "tasks" / "install.yml").read_text()
    line = "#!{{ slurm_powersave_python }}\\n{{ lookup('ansible.builtin.file', 'gpuforge-powersave') }}\\n"
    assert f"content: \"{line}\"" in install
    imported = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) - {"__future__"} == set()
    # runs on the controller's Python 3.9: no syntax newer than that
    ast.parse(text, feature_version=(3, 9))
    assert "ansible" not in imported


# ---------------------------------------------------------------- hostlist

VALID = [
    ("node001", ["node001"]),
    ("node[001-003,007],gpu-a[1-2]", ["node001", "node002", "node003", "node007", "gpu-a1", "gpu-a2"]),
    ("node[8-11]", ["node8", "node9", "node10", "node11"]),
    ("node[08-11]", ["node08", "node09", "node10", "node11"]),
    ("n[098-101]", ["n098", "n099", "n100", "n101"]),
    ("node[0-1]", ["node0", "node1"]),
    ("node[7]", ["node7"]),
    ("rack[1-2]-n[01-02]", ["rack1-n01", "rack1-n02", "rack2-n01", "rack2-n02"]),
    ("node[1-2]-ib", ["node1-ib", "node2-ib"]),
    ("[1-3]", ["1", "2", "3"]),
    ("node[1,1-2],node1", ["node1", "node2"]),  # each node once: two threads must not race on one BMC
    ("head,node[002-003]", ["head", "node002", "node003"]),
    ("h1.example.org,gpu_x[9-10]", ["h1.example.org", "gpu_x9", "gpu_x10"]),
    ("a[1-2]b[3-4]c", ["a1b3c", "a1b4c", "a2b3c", "a2b4c"]),
]


@pytest.mark.parametrize(("expr", "names"), VALID)
def test_hostlist_expands_like_slurm(expr, names):
    assert ps.expand_hostlist(expr) == names


@pytest.mark.parametrize(("expr", "names"), VALID)
def test_hostlist_agrees_with_the_collections_parser(expr, names):
    # The program cannot import the collection; the two implementations must still agree.
    from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import hostlist_expand

    assert list(dict.fromkeys(hostlist_expand(expr))) == ps.expand_hostlist(expr)


def test_hostlist_blanks_separate_like_commas():
    assert ps.expand_hostlist(" a b\tc,d ") == ["a", "b", "c", "d"]


MALFORMED = [
    ("", "empty hostlist"),
    ("   ", "empty hostlist"),
    ("node[1-3", "'[' without ']'"),
    ("node1-3]", "']' without '['"),
    ("node[[1-2]]", "nested '['"),
    ("node[]", "bad range ''"),
    ("node[a-b]", "bad range 'a-b'"),
    ("node[3-1]", "descending range '3-1'"),
    ("node[1-2-3]", "bad range '1-2-3'"),
    ("node[1-]", "bad range '1-'"),
    ("node[-1]", "bad range '-1'"),
    ("node[1,,2]", "bad range ''"),
    ("node[1 -2]", "bad range '1 -2'"),
    ("a,,b", "empty host name"),
    (",node1", "empty host name"),
    ("node;reboot", "bad character"),
    ("node$(id)", "bad character"),
    ("no/de", "bad character"),
    ("-node1", "bad host name '-node1'"),
    ("node[0-99999]", "larger than 65536"),
    ("n[0-999]x[0-999]", "more than 65536"),
]


@pytest.mark.parametrize(("expr", "message"), MALFORMED)
def test_malformed_hostlist_is_refused_with_a_clear_message(expr, message):
    with pytest.raises(ps.HostlistError, match=re.escape(message)):
        ps.expand_hostlist(expr)


# ---------------------------------------------------------------- configuration


def _node(**extra):
    return {"bmc": "10.0.0.11", "username": "slurmpower", "password_file": "/etc/slurm/ipmi.pass", **extra}


def test_config_minimal_node_gets_the_documented_defaults():
    config = ps.parse_config({"nodes": {"node001": _node()}})
    assert (config.log_file, config.ipmitool, config.scontrol, config.ssh, config.max_parallel) == (
        "/var/log/slurm/gpuforge-powersave.log", "/usr/bin/ipmitool", "/usr/bin/scontrol", "/usr/bin/ssh", 64)
    node = config.nodes["node001"]
    assert node.interface == "lanplus" and node.privilege is None and node.cipher_suite is None
    assert (node.command_timeout, node.suspend_timeout, node.power_off_timeout, node.power_on_timeout,
            node.poll_interval) == (20, 90, 30, 60, 5)
    assert node.ssh_poweroff is None


def test_config_node_defaults_apply_unless_the_node_sets_the_key():
    config = ps.parse_config({
        "node_defaults": {"username": "ADMIN", "password_file": "/etc/slurm/ipmi.pass",
                          "suspend_timeout": 120},
        "nodes": {"a": {"bmc": "ipmi-a"},
                  "b": {"bmc": "ipmi-b", "suspend_timeout": 30, "command_timeout": 5.5}},
    })
    assert config.nodes["a"].username == "ADMIN" and config.nodes["a"].suspend_timeout == 120
    assert config.nodes["b"].suspend_timeout == 30 and config.nodes["b"].command_timeout == 5.5


def test_config_ssh_poweroff_defaults_to_the_node_name_and_sudo_poweroff():
    config = ps.parse_config({"nodes": {"node003": _node(ssh_poweroff={"user": "poweroff"})}})
    spec = config.nodes["node003"].ssh_poweroff
    assert spec == ("poweroff", "node003", ("sudo", "-n", "/usr/sbin/poweroff"), None, None)


@pytest.mark.parametrize(("raw", "message"), [
    ([], "must be a JSON object"),
    ({}, "nodes must be an object"),
    ({"nodes": [], "log_file": "/x"}, "nodes must be an object"),
    ({"nodes": {}, "logfile": "/x"}, "unknown key(s) in the configuration: logfile"),
    ({"nodes": {"n1": _node(pasword_file="/x")}}, "unknown key(s) in nodes.n1: pasword_file"),
    ({"nodes": {"n1": _node()}, "node_defaults": {"timeout": 3}}, "unknown key(s) in node_defaults: timeout"),
    ({"nodes": {"n1": {"bmc": "x", "username": "u"}}}, "nodes.n1.password_file is required"),
    ({"nodes": {"n1": _node(password_file="ipmi.pass")}}, "nodes.n1.password_file must be an absolute path"),
    ({"nodes": {"n1": _node(bmc="-oProxyCommand")}}, "nodes.n1.bmc must be a non-empty string"),
    ({"nodes": {"n1": _node(bmc="10.0.0.1 -P x")}}, "nodes.n1.bmc must be a non-empty string"),
    ({"nodes": {"n1": _node(interface="open")}}, "nodes.n1.interface must be one of lanplus, lan"),
    ({"nodes": {"n1": _node(privilege="admin")}}, "nodes.n1.privilege must be one of"),
    ({"nodes": {"n1": _node(command_timeout=0)}}, "nodes.n1.command_timeout must be a number of seconds"),
    ({"nodes": {"n1": _node(suspend_timeout=True)}}, "nodes.n1.suspend_timeout must be a number"),
    ({"nodes": {"n1": _node(cipher_suite="17")}}, "nodes.n1.cipher_suite must be an integer"),
    ({"nodes": {"n1": _node(ssh_poweroff={"host": "n1"})}}, "nodes.n1.ssh_poweroff.user must be"),
    ({"nodes": {"n1": _node(ssh_poweroff={"user": "p", "command": "poweroff"})}},
     "command must be a non-empty"),
    ({"nodes": {"n1": _node(ssh_poweroff={"user": "p", "opts": []})}},
     "unknown key(s) in nodes.n1.ssh_poweroff"),
    ({"nodes": {"n 1": _node()}}, "bad node name 'n 1'"),
    ({"nodes": {}, "scontrol": "scontrol"}, "scontrol must be an absolute path"),
    ({"nodes": {}, "max_parallel": 0}, "max_parallel must be an integer >= 1"),
])
def test_config_errors_name_the_offending_key(raw, message):
    with pytest.raises(ps.ConfigError, match=re.escape(message)):
        ps.parse_config(raw)


def test_config_file_writable_by_others_is_refused(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"nodes": {}}))
    path.chmod(0o664)
    with pytest.raises(ps.ConfigError, match=r"writable by group or others \(mode 0664\)"):
        ps.load_config(str(path))
    path.chmod(0o644)
    assert ps.load_config(str(path)).nodes == {}


def test_config_file_missing_or_not_json(tmp_path):
    with pytest.raises(ps.ConfigError, match=r"cannot read configuration .*nope\.json"):
        ps.load_config(str(tmp_path / "nope.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{nodes: }")
    bad.chmod(0o644)
    with pytest.raises(ps.ConfigError, match=r"bad\.json is not valid JSON"):
        ps.load_config(str(bad))


# ---------------------------------------------------------------- the password-file rule

ME, MYGROUP, OTHER = 1000, 1000, 2000
REG = stat.S_IFREG


@pytest.mark.parametrize(("mode", "uid", "gid"), [
    (REG | 0o400, ME, OTHER), (REG | 0o600, ME, OTHER), (REG | 0o640, ME, MYGROUP), (REG | 0o440, 0, MYGROUP),
    (REG | 0o400, 0, 0), (REG | 0o640, 0, MYGROUP),
])
def test_password_modes_allowed(mode, uid, gid):
    assert ps.password_mode_problem(mode, uid, gid, ME, MYGROUP) is None


@pytest.mark.parametrize(("mode", "uid", "gid", "message"), [
    (REG | 0o644, ME, MYGROUP, "has mode 0644"),
    (REG | 0o604, ME, MYGROUP, "has mode 0604"),
    (REG | 0o660, ME, MYGROUP, "has mode 0660"),
    (REG | 0o620, ME, MYGROUP, "has mode 0620"),
    (REG | 0o700, ME, MYGROUP, "has mode 0700"),
    (REG | 0o4600, ME, MYGROUP, "has mode 4600"),
    (REG | 0o640, ME, OTHER, "its group (gid 2000) is not the running user's group (gid 1000)"),
    (REG | 0o440, ME, OTHER, "its group (gid 2000) is not the running user's group"),
    (REG | 0o600, 3000, MYGROUP, "owned by uid 3000, neither the running user (uid 1000) nor root"),
    (stat.S_IFDIR | 0o600, ME, MYGROUP, "is not a regular file"),
])
def test_password_modes_refused(mode, uid, gid, message):
    assert message in ps.password_mode_problem(mode, uid, gid, ME, MYGROUP)


def test_password_file_problem_names_the_file_and_states_the_rule(tmp_path):
    path = tmp_path / "bmc.pass"
    path.write_text(PASSWORD + "\n")
    path.chmod(0o600)
    assert ps.password_file_problem(str(path)) is None
    path.chmod(0o644)
    problem = ps.password_file_problem(str(path))
    assert problem.startswith(f"password file {path} has mode 0644; it must have mode 0400 or 0600")
    assert "0440 or 0640 with the running user's primary group" in problem
    assert "cannot be read" in ps.password_file_problem(str(tmp_path / "missing"))


@pytest.mark.skipif(os.geteuid() != 0, reason="chgrp to a foreign group needs root")
def test_password_file_0640_needs_the_running_users_group(tmp_path):
    path = tmp_path / "bmc.pass"
    path.write_text(PASSWORD)
    path.chmod(0o640)
    os.chown(path, os.geteuid(), os.getegid())
    assert ps.password_file_problem(str(path)) is None
    os.chown(path, os.geteuid(), os.getegid() + 4242)
    assert "is not the running user's group" in ps.password_file_problem(str(path))


# ---------------------------------------------------------------- argv builders and output parsing


def test_ipmitool_argv_passes_the_password_only_as_a_file():
    config = ps.parse_config({"ipmitool": "/opt/ipmitool", "nodes": {
        "n1": _node(), "n2": _node(privilege="OPERATOR", cipher_suite=17, interface="lan")}})
    assert ps.ipmi_argv(config, config.nodes["n1"], "chassis", "power", "status") == [
        "/opt/ipmitool", "-I", "lanplus", "-H", "10.0.0.11", "-U", "slurmpower", "-f", "/etc/slurm/ipmi.pass",
        "chassis", "power", "status"]
    argv = ps.ipmi_argv(config, config.nodes["n2"], "chassis", "power", "on")
    assert argv[1:3] == ["-I", "lan"] and argv[-7:-3] == ["-L", "OPERATOR", "-C", "17"]
    assert "-P" not in argv and "-E" not in argv


def test_scontrol_down_argv_is_one_argument_per_field():
    config = ps.parse_config({"scontrol": "/usr/bin/scontrol", "nodes": {}})
    assert ps.scontrol_down_argv(config, "node002", 'BMC said "no"\nreally') == [
        "/usr/bin/scontrol", "update", "nodename=node002", "state=down",
        "reason=gpuforge-powersave: BMC said 'no' really"]


@pytest.mark.parametrize(("text", "state"), [
    ("Chassis Power is on\n", "on"), ("Chassis Power is off\n", "off"), ("Chassis Power is ON", "on"),
    ("Close Session command failed\nChassis Power is off\n", "off"), ("", None),
    ("Error: Unable to establish IPMI v2 / RMCP+ session\n", None),
])
def test_power_status_parser(text, state):
    assert ps.parse_power_status(text) == state


# ---------------------------------------------------------------- end to end against fakes

FAKE_IPMITOOL = r'''#!{python} -S
# FAKE ipmitool written by test_slurm_powersave_program.py: power state in STATE/<bmc>.power,
# behaviour in STATE/<bmc>.json ({{"delay": s, "refuse_on": bool, "ignore_soft": bool}}).
import json, os, sys, time
STATE = {state!r}
CALL = {{"tool": "ipmitool", "argv": sys.argv, "env": dict(os.environ), "t": time.time()}}
with open(os.path.join(STATE, "calls.jsonl"), "a") as fh:
    fh.write(json.dumps(CALL) + "\n")
args, opts = sys.argv[1:], {{}}
if "-P" in args or "-E" in args:
    sys.exit("fake ipmitool: password given on the command line or in the environment")
while args and args[0].startswith("-"):
    opts[args[0]] = args[1]
    args = args[2:]
host = opts["-H"]
ctl_file = os.path.join(STATE, host + ".json")
ctl = json.load(open(ctl_file)) if os.path.exists(ctl_file) else {{}}
time.sleep(ctl.get("delay", 0))
if open(opts["-f"]).read().strip() != {password!r}:
    sys.exit("Error: Unable to establish IPMI v2 / RMCP+ session")
power_file = os.path.join(STATE, host + ".power")
state = open(power_file).read().strip() if os.path.exists(power_file) else "on"
if args[:2] != ["chassis", "power"] or len(args) != 3:
    sys.exit("fake ipmitool: unsupported command " + " ".join(args))
cmd = args[2]
if cmd == "status":
    print("Chassis Power is " + state)
elif cmd == "on":
    if ctl.get("refuse_on"):
        sys.exit("Set Chassis Power Control to Up/On failed: Command not supported in present state")
    open(power_file, "w").write("on")
    print("Chassis Power Control: Up/On")
elif cmd == "soft":
    if not ctl.get("ignore_soft"):
        open(power_file, "w").write("off")
    print("Chassis Power Control: Soft")
elif cmd == "off":
    open(power_file, "w").write("off")
    print("Chassis Power Control: Down/Off")
else:
    sys.exit("fake ipmitool: unsupported power command " + cmd)
'''

FAKE_SCONTROL = r'''#!{python} -S
# FAKE scontrol: records its argv; exits with the number in STATE/scontrol.rc (default 0).
import json, os, sys, time
STATE = {state!r}
CALL = {{"tool": "scontrol", "argv": sys.argv, "env": dict(os.environ), "t": time.time()}}
with open(os.path.join(STATE, "calls.jsonl"), "a") as fh:
    fh.write(json.dumps(CALL) + "\n")
rc_file = os.path.join(STATE, "scontrol.rc")
if os.path.exists(rc_file):
    print("slurm_update error: Invalid node name specified", file=sys.stderr)
    sys.exit(int(open(rc_file).read()))
'''

FAKE_SSH = r'''#!{python} -S
# FAKE ssh: records its argv; "poweroff" on host H turns the BMC named in STATE/ssh_hosts.json off.
import json, os, sys, time
STATE = {state!r}
CALL = {{"tool": "ssh", "argv": sys.argv, "env": dict(os.environ), "t": time.time()}}
with open(os.path.join(STATE, "calls.jsonl"), "a") as fh:
    fh.write(json.dumps(CALL) + "\n")
host = sys.argv[sys.argv.index("--") + 1]
bmc = json.load(open(os.path.join(STATE, "ssh_hosts.json")))[host]
open(os.path.join(STATE, bmc + ".power"), "w").write("off")
sys.exit(255)  # the connection drops as the machine goes down
'''

FAST = {"command_timeout": 5, "suspend_timeout": 0.4, "power_off_timeout": 2, "power_on_timeout": 2,
        "poll_interval": 0.05}
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d node=(\S+) action=(\S+) "
                      r'result=(ok|failed) seconds=(\d+\.\d) detail="([^"]*)"$')


class Lab:
    """A tmp_path with fakes, a password file, a config and helpers to run the program and read results."""

    def __init__(self, tmp_path: Path):
        self.root = tmp_path
        self.state = tmp_path / "state"
        self.state.mkdir()
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        for name, text in (("ipmitool", FAKE_IPMITOOL), ("scontrol", FAKE_SCONTROL), ("ssh", FAKE_SSH)):
            fake = self.bin / name
            fake.write_text(text.format(python=sys.executable, state=str(self.state), password=PASSWORD))
            fake.chmod(0o755)
        self.password_file = tmp_path / "ipmi.pass"
        self.password_file.write_text(PASSWORD + "\n")
        self.password_file.chmod(0o600)
        self.log = tmp_path / "log" / "gpuforge-powersave.log"
        self.log.parent.mkdir()
        self.config = tmp_path / "gpuforge-powersave.json"
        self.nodes: dict[str, dict] = {}

    def node(self, name: str, power: str = "on", **extra) -> None:
        bmc = f"ipmi-{name}"
        self.nodes[name] = {"bmc": bmc, **extra}
        (self.state / f"{bmc}.power").write_text(power)

    def behave(self, name: str, **ctl) -> None:
        (self.state / f"ipmi-{name}.json").write_text(json.dumps(ctl))

    def power(self, name: str) -> str:
        return (self.state / f"ipmi-{name}.power").read_text()

    def write_config(self, **node_defaults) -> None:
        self.config.write_text(json.dumps({
            "log_file": str(self.log),
            "ipmitool": str(self.bin / "ipmitool"),
            "scontrol": str(self.bin / "scontrol"),
            "ssh": str(self.bin / "ssh"),
            "node_defaults": {"username": "slurmpower", "password_file": str(self.password_file),
                              **FAST, **node_defaults},
            "nodes": self.nodes,
        }, indent=2))
        self.config.chmod(0o644)

    def run(self, *args: str, program: Path = PROGRAM) -> subprocess.CompletedProcess:
        if not self.config.exists():
            self.write_config()
        # The caller's environment holds the password: none of it may reach the tools.
        env = {**os.environ, "IPMI_PASSWORD": PASSWORD}
        return subprocess.run([sys.executable, str(program), "--config", str(self.config), *args],
                              capture_output=True, text=True, env=env, timeout=60, check=False)

    def installed(self) -> Path:
        """The program as the role installs it: the interpreter line first, executable."""
        path = self.root / "gpuforge-powersave"
        if not path.exists():
            path.write_text(f"#!{sys.executable}\n" + PROGRAM.read_text())
            path.chmod(0o755)
        return path

    def calls(self, tool: str | None = None) -> list[dict]:
        path = self.state / "calls.jsonl"
        if not path.exists():
            return []
        calls = [json.loads(line) for line in path.read_text().splitlines()]
        return [c for c in calls if tool is None or c["tool"] == tool]

    def ipmi_commands(self, name: str) -> list[str]:
        return [c["argv"][-1] for c in self.calls("ipmitool") if f"ipmi-{name}" in c["argv"]]

    def log_lines(self) -> list[tuple]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        parsed = [LOG_LINE.match(line) for line in lines]
        assert all(parsed), lines
        return [m.groups() for m in parsed]


@pytest.fixture
def lab(tmp_path):
    return Lab(tmp_path)


def _assert_password_never_exposed(lab: Lab, run: subprocess.CompletedProcess) -> None:
    calls = lab.calls()
    assert calls
    for call in calls:
        assert not any(PASSWORD in arg for arg in call["argv"]), call["argv"]
        assert not any(PASSWORD in value for value in call["env"].values()), call["tool"]
        assert "IPMI_PASSWORD" not in call["env"]
        if call["tool"] == "ipmitool":
            assert "-P" not in call["argv"] and "-E" not in call["argv"]
            f = call["argv"].index("-f")
            assert call["argv"][f + 1] == str(lab.password_file)
    assert PASSWORD not in run.stdout + run.stderr
    assert PASSWORD not in (lab.log.read_text() if lab.log.exists() else "")


def test_suspend_soft_powers_off_and_logs_one_line(lab):
    lab.node("node001", power="on")
    run = lab.run("suspend", "node001")
    assert run.returncode == 0, run.stdout + run.stderr
    assert lab.power("node001") == "off"
    assert lab.ipmi_commands("node001") == ["status", "soft", "status"]
    [(node, action, result, _seconds, detail)] = lab.log_lines()
    assert (node, action, result) == ("node001", "suspend", "ok")
    assert detail.startswith("soft off; off after")
    _assert_password_never_exposed(lab, run)


def test_already_off_suspend_and_already_on_resume_are_success(lab):
    lab.node("node001", power="off")
    lab.node("node002", power="on")
    assert lab.run("suspend", "node001").returncode == 0
    assert lab.run("resume", "node002").returncode == 0
    assert lab.ipmi_commands("node001") == ["status"] and lab.ipmi_commands("node002") == ["status"]
    assert [(n, a, r, d) for n, a, r, _s, d in lab.log_lines()] == [
        ("node001", "suspend", "ok", "already off"), ("node002", "resume", "ok", "already on")]
    assert lab.calls("scontrol") == []


def test_suspend_falls_back_to_hard_off_when_soft_is_ignored(lab):
    lab.node("node001", power="on")
    lab.behave("node001", ignore_soft=True)
    started = time.monotonic()
    run = lab.run("suspend", "node001")
    assert run.returncode == 0, run.stdout + run.stderr
    assert time.monotonic() - started >= 0.4  # waited suspend_timeout for the soft off
    commands = lab.ipmi_commands("node001")
    assert commands[:2] == ["status", "soft"] and commands[-2:] == ["off", "status"]
    assert set(commands[2:-2]) == {"status"} and len(commands) >= 5  # polled while waiting
    assert lab.power("node001") == "off"
    [(_node, _action, result, _seconds, detail)] = lab.log_lines()
    assert result == "ok" and "soft off; still on after 0.4s; hard off; off after" in detail


def test_status_only_asks_and_a_silent_bmc_fails_without_touching_slurm(lab):
    lab.node("node001", power="on")
    lab.node("node002", power="off")
    lab.node("node003", power="off")
    lab.behave("node003", delay=30)
    lab.write_config(command_timeout=0.5)
    run = lab.run("status", "node[001-003]")
    assert run.returncode == 1
    assert {n: lab.power(n) for n in ("node001", "node002", "node003")} == {
        "node001": "on", "node002": "off", "node003": "off"}
    assert lab.ipmi_commands("node001") == ["status"] and lab.ipmi_commands("node002") == ["status"]
    details = {n: (a, r, d) for n, a, r, _s, d in lab.log_lines()}
    assert details["node001"] == ("status", "ok", "power on")
    assert details["node002"] == ("status", "ok", "power off")
    assert details["node003"][:2] == ("status", "failed")
    assert "BMC power status failed" in details["node003"][2]
    assert lab.calls("scontrol") == []
    _assert_password_never_exposed(lab, run)


def test_resume_powers_on_without_touching_slurm(lab):
    lab.node("node001", power="off")
    run = lab.run("resume", "node001")
    assert run.returncode == 0, run.stdout + run.stderr
    assert lab.power("node001") == "on"
    assert lab.ipmi_commands("node001") == ["status", "on", "status"]
    assert lab.calls("scontrol") == []
    _assert_password_never_exposed(lab, run)


def test_refused_resume_sets_the_node_down_with_the_reason(lab):
    lab.node("node001", power="off")
    lab.node("node002", power="off")
    lab.behave("node002", refuse_on=True)
    run = lab.run("resume", "node[001-002]")
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert lab.power("node001") == "on" and lab.power("node002") == "off"
    assert [c["argv"][1:] for c in lab.calls("scontrol")] == [[
        "update", "nodename=node002", "state=down",
        "reason=gpuforge-powersave: BMC refused power on: "
        "Set Chassis Power Control to Up/On failed: Command not supported in present state"]]
    lines = {n: (r, d) for n, _a, r, _s, d in lab.log_lines()}
    assert lines["node001"][0] == "ok"
    assert lines["node002"] == ("failed", "failed: BMC refused power on: Set Chassis Power Control to Up/On "
                                          "failed: Command not supported in present state; marked DOWN")


def test_a_hung_bmc_times_out_and_the_node_goes_down(lab):
    lab.node("node001", power="off")
    lab.behave("node001", delay=30)
    lab.write_config(command_timeout=0.5)
    started = time.monotonic()
    run = lab.run("resume", "node001")
    assert time.monotonic() - started < 25  # the BMC hangs for 30 s; room for a loaded machine
    assert run.returncode == 1
    [down] = lab.calls("scontrol")
    assert down["argv"][-1] == ("reason=gpuforge-powersave: BMC power status failed: "
                                "ipmitool timed out after 0.5s")


def test_wrong_password_fails_the_node_without_showing_the_password(lab):
    lab.node("node001", power="on")
    lab.password_file.write_text("not-the-password\n")
    run = lab.run("suspend", "node001")
    assert run.returncode == 1
    [(_node, _action, result, _seconds, detail)] = lab.log_lines()
    assert result == "failed"
    assert detail == "failed: BMC power status failed: Error: Unable to establish IPMI v2 / RMCP+ session"
    assert lab.calls("scontrol") == []  # a node that stays on is not set down by suspend


def test_nodes_are_handled_in_parallel(lab):
    names = [f"node{n:03d}" for n in range(1, 7)]
    for name in names:
        lab.node(name, power="off")
        lab.behave(name, delay=0.6)
    run = lab.run("resume", "node[001-006]")
    assert run.returncode == 0, run.stdout + run.stderr
    assert all(lab.power(name) == "on" for name in names)
    assert sorted(n for n, *_rest in lab.log_lines()) == names
    # Three ipmitool calls of 0.6 s per node. One node after another, each node's calls would come in one
    # block (6 blocks); in parallel they interleave. Read from the fake's own call records, not the wall
    # clock: the unit stage runs at nice 19 beside the lab on two cores (CI, stop 31: a wall-clock bound
    # failed there), and the order of the calls does not depend on how fast the machine is.
    calls = sorted(lab.calls("ipmitool"), key=lambda c: c["t"])
    order = [c["argv"][c["argv"].index("-H") + 1] for c in calls]
    blocks = 1 + sum(a != b for a, b in itertools.pairwise(order))
    assert len(order) == 18 and blocks > len(names), order
    # Every node had begun before the first node was done (its third call waits out two calls of 0.6 s).
    first = {bmc: order.index(bmc) for bmc in set(order)}
    third = sorted(i for i, bmc in enumerate(order) if order[:i + 1].count(bmc) == 3)[0]
    assert max(first.values()) < third, order


def test_resumefail_sets_down_and_powers_off(lab):
    lab.node("node001", power="on")
    lab.node("node002", power="off")
    run = lab.run("resumefail", "node[001-002]")
    assert run.returncode == 0, run.stdout + run.stderr
    reason = "reason=gpuforge-powersave: did not register within ResumeTimeout"
    assert sorted(tuple(c["argv"][1:]) for c in lab.calls("scontrol")) == [
        ("update", "nodename=node001", "state=down", reason),
        ("update", "nodename=node002", "state=down", reason)]
    assert lab.power("node001") == "off"
    assert lab.ipmi_commands("node001") == ["status", "off", "status"]
    assert lab.ipmi_commands("node002") == ["status"]
    lines = {n: (a, r, d) for n, a, r, _s, d in lab.log_lines()}
    assert lines["node001"][:2] == ("resumefail", "ok")
    assert re.fullmatch(r"marked DOWN; hard off; off after \d+\.\ds", lines["node001"][2])
    assert lines["node002"] == ("resumefail", "ok", "marked DOWN; already off")


def test_resumefail_reports_a_failed_scontrol_and_an_unreachable_bmc(lab):
    lab.node("node001", power="on")
    lab.password_file.write_text("wrong\n")
    (lab.state / "scontrol.rc").write_text("1")
    run = lab.run("resumefail", "node001")
    assert run.returncode == 1
    [(_node, _action, result, _seconds, detail)] = lab.log_lines()
    assert result == "failed"
    assert detail.startswith("scontrol update failed: slurm_update error: Invalid node name specified; "
                             "power status failed: Error: Unable to establish")
    assert len(lab.calls("scontrol")) == 1  # not retried


def test_ssh_poweroff_replaces_the_soft_off(lab):
    lab.node("node003", power="on",
             ssh_poweroff={"user": "poweroff", "identity_file": "/var/lib/slurm/.ssh/po"})
    (lab.state / "ssh_hosts.json").write_text(json.dumps({"node003": "ipmi-node003"}))
    run = lab.run("suspend", "node003")
    assert run.returncode == 0, run.stdout + run.stderr
    [ssh] = lab.calls("ssh")
    assert ssh["argv"][1:] == ["-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-l", "poweroff",
                               "-i", "/var/lib/slurm/.ssh/po", "-o", "IdentitiesOnly=yes",
                               "--", "node003", "sudo", "-n", "/usr/sbin/poweroff"]
    assert lab.ipmi_commands("node003") == ["status", "status"]  # no chassis power soft
    [(_node, _action, result, _seconds, detail)] = lab.log_lines()
    assert result == "ok" and detail.startswith("ssh poweroff rc 255; off after")


def test_insecure_password_file_refuses_to_run_and_names_the_file(lab):
    lab.node("node001", power="off")
    lab.password_file.chmod(0o644)
    run = lab.run("resume", "node001")
    assert run.returncode == 2
    assert f"password file {lab.password_file} has mode 0644" in run.stderr
    assert "it must have mode 0400 or 0600" in run.stderr and "Traceback" not in run.stderr
    assert lab.calls("ipmitool") == []
    [down] = lab.calls("scontrol")
    assert down["argv"][-1].startswith(
        f"reason=gpuforge-powersave: refused to run: password file {lab.password_file} has mode 0644")
    [(_node, _action, result, _seconds, detail)] = lab.log_lines()
    assert result == "failed" and "refused to run" in detail


def test_node_missing_from_the_config_is_set_down_on_resume(lab):
    lab.node("node001", power="off")
    run = lab.run("resume", "node[001-002]")
    assert run.returncode == 1
    [down] = lab.calls("scontrol")
    assert down["argv"][1:] == ["update", "nodename=node002", "state=down",
                                "reason=gpuforge-powersave: node node002 is not in the gpuforge-powersave "
                                "configuration"]
    assert lab.power("node001") == "on"


@pytest.mark.parametrize("expr", ["node[1-3", "node[3-1]", "a,,b"])
def test_malformed_hostlist_exits_2_without_a_traceback(lab, expr):
    lab.node("node001")
    run = lab.run("suspend", expr)
    assert run.returncode == 2
    assert run.stderr.startswith("gpuforge-powersave: refusing to run:") and "Traceback" not in run.stderr
    assert lab.calls() == []
    [(node, _action, result, _seconds, detail)] = lab.log_lines()
    assert (node, result) == ("-", "failed") and detail.startswith("refused:")


def test_unreadable_config_exits_2_without_a_traceback(lab):
    lab.config.write_text("{not json")
    lab.config.chmod(0o644)
    run = lab.run("suspend", "node001")
    assert run.returncode == 2
    assert "is not valid JSON" in run.stderr and "Traceback" not in run.stderr
    assert lab.calls() == []


def test_usage_errors(lab):
    run = lab.run("reboot", "node001")
    assert run.returncode == 2 and "invalid choice: 'reboot'" in run.stderr


def test_link_names_imply_the_mode(lab):
    lab.node("node001", power="on")
    lab.write_config()
    link = lab.root / "gpuforge-powersave-suspend"
    link.symlink_to(lab.installed())
    run = subprocess.run([str(link), "--config", str(lab.config), "node001"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert lab.power("node001") == "off"
    assert [a for _n, a, *_rest in lab.log_lines()] == ["suspend"]


def test_runs_with_stdin_stdout_stderr_closed(lab):
    # Older slurmctld close every descriptor before they exec the power-saving programs.
    lab.node("node001", power="off")
    lab.node("node002", power="off")
    lab.behave("node002", refuse_on=True)
    lab.write_config()

    def close_std_fds():
        for fd in (0, 1, 2):
            os.close(fd)

    run = subprocess.run([str(lab.installed()), "--config", str(lab.config), "resume", "node[001-002]"],
                         preexec_fn=close_std_fds, timeout=60, check=False)
    assert run.returncode == 1
    assert lab.power("node001") == "on"
    assert len(lab.calls("scontrol")) == 1
    outcomes = sorted((n, r) for n, _a, r, *_rest in lab.log_lines())
    assert outcomes == [("node001", "ok"), ("node002", "failed")]


def test_an_unexpected_exception_is_logged_with_the_node(lab, monkeypatch, capsys):
    lab.node("node001", power="off")
    lab.write_config()
    config = ps.load_config(str(lab.config))

    def boom(self):
        raise RuntimeError("bug")

    monkeypatch.setattr(ps.NodeAction, "resume", boom)
    assert ps.handle("resume", config, "node001", ps.Log(str(lab.log))) is False
    [(node, _action, result, _seconds, detail)] = lab.log_lines()
    assert (node, result) == ("node001", "failed")
    assert detail == "internal error: RuntimeError: bug; marked DOWN"
    assert lab.calls("scontrol")[0]["argv"][-1] == "reason=gpuforge-powersave: internal error (RuntimeError)"
    assert "RuntimeError: bug" in capsys.readouterr().err
