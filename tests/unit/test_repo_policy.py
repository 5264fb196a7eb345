"""Repository policy: host-key checking stays on, no secrets in git, roles keep their contract.

The scanners are plain functions over (path, text) so that each rule is also tested on a
synthetic bad string below: a policy test that cannot fail proves nothing.

Files come from ``git ls-files --cached --others --exclude-standard``: everything tracked plus
new files git would pick up (a scenario added but not yet committed is checked before it lands),
never ignored output such as .cache/, .lab/ or the lab's generated inventory.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

# Where host-key and ignore_errors rules apply.
SCANNED_DIRS = ("roles/", "playbooks/", "plugins/", "inventories/", "molecule/", "lab/", ".config/")
SCANNED_FILES = ("ansible.cfg",)
PLAYBOOK_DIRS = ("roles/", "playbooks/", "molecule/")

# HOST_KEY_REFUSAL_VERIFY runs ssh with empty known_hosts files on purpose: it proves that an unknown
# host key is REFUSED ("Host key verification failed", rc 255). That is the one place a /dev/null
# known_hosts file is allowed, and only while the file still asserts the refusal.
HOST_KEY_REFUSAL_VERIFY = "molecule/cluster_hosts_ssh_trust_openmpi_munge_slurm/verify_hosts_trust.yml"
KNOWN_HOSTS_DEVNULL_ALLOWED = {HOST_KEY_REFUSAL_VERIFY: "Host key verification failed"}

_OPT_SEP = r"""["']?\s*[= ]\s*["']?"""
HOST_KEY_RULES = {
    "StrictHostKeyChecking off": re.compile(
        r"StrictHostKeyChecking" + _OPT_SEP + r"(no|off|false|accept-new)\b", re.IGNORECASE
    ),
    "host_key_checking off": re.compile(
        r"host_key_checking" + r"""["']?\s*[:=]\s*["']?""" + r"(false|no|off|0)\b", re.IGNORECASE
    ),
}
KNOWN_HOSTS_DEVNULL = re.compile(r"(User|Global)KnownHostsFile" + _OPT_SEP + r"/dev/null", re.IGNORECASE)
IGNORE_ERRORS = re.compile(
    r"""^\s*(-\s+)?ignore_errors\s*:\s*["']?(true|yes|on|1)["']?\s*(#.*)?$""", re.IGNORECASE | re.MULTILINE
)

SECRET_NAMES = re.compile(r"(^|/)(munge\.key|id_(rsa|dsa|ecdsa|ed25519)(_[\w.-]+)?|[^/]+\.pem)$")
PRIVATE_KEY_TEXT = re.compile(r"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----")

MANAGED_HEADER = re.compile(r"^\{\{-?\s*ansible_managed\s*\|\s*comment(\([^)]*\))?\s*-?\}\}\s*$")


# ---------------------------------------------------------------- scanners


def host_key_findings(path: str, text: str) -> list[str]:
    """Lines of ``text`` that turn host-key checking off."""
    found = []
    for num, line in enumerate(text.splitlines(), 1):
        for rule, rx in HOST_KEY_RULES.items():
            if rx.search(line):
                found.append(f"{path}:{num}: {rule}: {line.strip()}")
        if KNOWN_HOSTS_DEVNULL.search(line):
            proof = KNOWN_HOSTS_DEVNULL_ALLOWED.get(path)
            if proof is None or proof not in text:
                found.append(f"{path}:{num}: known_hosts file is /dev/null: {line.strip()}")
    return found


def ignore_errors_findings(path: str, text: str) -> list[str]:
    """``ignore_errors: true`` (or yes/on/1) anywhere in a playbook or role file."""
    found = []
    for m in IGNORE_ERRORS.finditer(text):
        num = text.count("\n", 0, m.start()) + 1
        found.append(f"{path}:{num}: ignore_errors: {m.group(2)} (use failed_when on the real failure)")
    return found


# Jinja is glue (STYLE.md): a loop or a namespace() that decides something belongs in a filter or a
# module's return, with unit tests. Role tasks, vars and defaults hold none.
JINJA_LOOP_FILES = re.compile(r"^roles/[^/]+/(tasks|vars|defaults)/[^/]+\.ya?ml$")
JINJA_LOOP = re.compile(r"\{%-?\s*for\b|\bnamespace\(")
# Files another change is moving into filters (issue 12); each entry goes as soon as its file is clean.
JINJA_LOOPS_PENDING: dict[str, str] = {}


def jinja_loop_findings(path: str, text: str) -> list[str]:
    """``{% for`` and ``namespace(`` in a role's tasks, vars or defaults."""
    if not JINJA_LOOP_FILES.match(path):
        return []
    found = []
    for num, line in enumerate(text.splitlines(), 1):
        if JINJA_LOOP.search(line):
            found.append(f"{path}:{num}: Jinja loop in a role's YAML (make it a filter): {line.strip()}")
    return found


# Every external tool runs through plugins/module_utils/runner.py (C locale, one "not found" message).
DIRECT_RUN = re.compile(r"\.run_command\(|\bsubprocess\b|\bos\.(system|popen|exec\w*)\(")


def direct_run_findings(path: str, text: str) -> list[str]:
    """A module or module_utils file (other than the runner) that runs a tool itself."""
    if not path.startswith(("plugins/modules/", "plugins/module_utils/")) or path.endswith("/runner.py"):
        return []
    return [f"{path}:{num}: runs a tool without module_utils/runner.py: {line.strip()}"
            for num, line in enumerate(text.splitlines(), 1) if DIRECT_RUN.search(line)]


def secret_findings(path: str, text: str | None) -> list[str]:
    """A file named like a private key, munge key or certificate bundle, or holding a private key."""
    found = []
    if SECRET_NAMES.search(path):
        found.append(f"{path}: file name looks like a secret")
    if text is not None and PRIVATE_KEY_TEXT.search(text):
        found.append(f"{path}: holds a private key")
    return found


def template_findings(path: str, text: str, role: str) -> list[str]:
    """A role template must start with the ansible_managed header and a line naming the role."""
    lines = text.splitlines() or [""]
    found = []
    if not MANAGED_HEADER.match(lines[0]):
        found.append(f"{path}:1: first line is {lines[0]!r}, not '{{{{ ansible_managed | comment }}}}'")
    if len(lines) < 2 or f"gpuforge.cluster.{role}" not in lines[1]:
        found.append(f"{path}:2: second line does not name the role gpuforge.cluster.{role}")
    return found


def _canon(value: object) -> str:
    # JSON keeps true/1 and null/"" apart, which == does not (True == 1).
    return json.dumps(value, sort_keys=True)


def defaults_findings(role: str, defaults: dict | None, specs: dict | None) -> list[str]:
    """defaults/main.yml against every entry point of meta/argument_specs.yml."""
    defaults = defaults or {}
    entry_points = (specs or {}).get("argument_specs") or {}
    if "main" not in entry_points:
        return [f"{role}: meta/argument_specs.yml has no 'main' entry point"]
    found = []
    main = entry_points["main"].get("options") or {}
    for key, value in defaults.items():
        if key not in main:
            found.append(f"{role}: defaults/main.yml key {key} is not an option of argument_specs main")
        elif "default" not in main[key]:
            found.append(
                f"{role}: {key} has no default in argument_specs main (defaults/main.yml: {value!r})"
            )
    for name, entry in entry_points.items():
        for key, spec in (entry.get("options") or {}).items():
            if (
                key in defaults
                and "default" in (spec or {})
                and _canon(spec["default"]) != _canon(defaults[key])
            ):
                found.append(
                    f"{role}: {name}.{key} default {spec['default']!r} != defaults/main.yml {defaults[key]!r}"
                )
    for key, spec in main.items():
        if "default" in (spec or {}) and key not in defaults:
            found.append(
                f"{role}: argument_specs main option {key} has a default but is not in defaults/main.yml"
            )
    return found


# ---------------------------------------------------------------- no_log
# A secret travels in a task's arguments and in the results it registers. Ansible hides both only where
# the task itself says no_log: true; at -v it prints a task's result (with its loop items and their
# labels), and its failure message; a debug or fail prints whatever its msg names. So:
#   * a secret source is a task with no_log: true, a task of a module that handles secrets
#     (SECRET_MODULES), an ``scontrol token`` call, a uri call carrying a token or Authorization
#     header, or a slurp/fetch of a key file; a secret source that is not itself no_log is a finding;
#   * what a secret source registers is secret; every other task that names it (in its arguments,
#     loop, when, vars, name, until, failed_when...) must be no_log: true as well.
# One exception, decided here: ansible.builtin.assert with quiet: true may test a secret in ``that``
# only (a boolean; quiet hides the evaluated conditions) provided its fail_msg/success_msg/msg, its
# loop and its vars do not name the secret.
# DECLASSIFIED lists results that are not secret although their task is no_log, each bound to the
# module that makes them safe and the reason: such a result may be named by a task that is not no_log.
SECRET_MODULES = {
    "gpuforge.cluster.secret_file",
    "gpuforge.cluster.munge_decode",
}
DECLASSIFIED = {
    # munge_decode takes the credentials as an option declared no_log in its argument_spec, so
    # Ansible masks every credential in all it returns; msg and failed_origins name origin nodes and
    # unmunge's error text only. verify.yml runs it no_log (its arguments carry the credentials) and
    # shows the failure in the assert that follows.
    "__munge_slurm_decode": "gpuforge.cluster.munge_decode",
}
SECRET_HEADER = re.compile(r"authorization|token|api[-_]?key|password|secret|cookie", re.IGNORECASE)
# A key file by its name, or by the variable that holds its path ("{{ __r_munge_key }}").
SECRET_PATH = re.compile(r"([._]key|jwt\w*|/id_(rsa|dsa|ecdsa|ed25519)\w*|\.pem)\W*$", re.IGNORECASE)

# Every key a task may carry besides its module (ansible-core's Task, Block and their bases).
TASK_KEYWORDS = {
    "action", "any_errors_fatal", "args", "async", "become", "become_exe", "become_flags",
    "become_method", "become_user", "changed_when", "check_mode", "collections", "connection",
    "debugger", "delay", "delegate_facts", "delegate_to", "diff", "environment", "failed_when",
    "ignore_errors", "ignore_unreachable", "local_action", "loop", "loop_control", "module_defaults",
    "name", "no_log", "notify", "poll", "port", "register", "remote_user", "retries", "run_once",
    "tags", "throttle", "timeout", "until", "vars", "when", "listen", "block", "rescue", "always",
}
_SHORT = {"ansible.builtin." + m: m for m in ("assert", "command", "uri", "slurp", "fetch", "shell", "debug")}


def _on(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1"))


def _module(task: dict) -> tuple[str | None, object]:
    for key, value in task.items():
        if key not in TASK_KEYWORDS and not key.startswith("with_"):
            return _SHORT.get(key, key), value
    return None, None


def _walk_tasks(tasks: object, inherited_no_log: bool = False):
    """Every task of a task list, blocks opened; a block's no_log applies to its tasks."""
    for task in tasks if isinstance(tasks, list) else []:
        if not isinstance(task, dict):
            continue
        no_log = inherited_no_log or _on(task.get("no_log"))
        if any(k in task for k in ("block", "rescue", "always")):
            own = {k: v for k, v in task.items() if k not in ("block", "rescue", "always")}
            yield own, no_log
            for key in ("block", "rescue", "always"):
                yield from _walk_tasks(task.get(key), no_log)
        else:
            yield task, no_log


def _task_lists(path: str, data: object) -> list:
    """Task lists of a role's task or handler file, or of every play in a playbook."""
    if "/tasks/" in path or "/handlers/" in path:
        return [data]
    lists = []
    for play in data if isinstance(data, list) else []:
        if isinstance(play, dict) and "hosts" in play:
            lists += [play.get(k) for k in ("pre_tasks", "tasks", "post_tasks", "handlers")]
    return lists


def _secret_source(task: dict) -> str | None:
    """Why this task's arguments or result carry a secret, or None."""
    module, args = _module(task)
    text = yaml.safe_dump(args) if args is not None else ""
    if module in SECRET_MODULES:
        return f"module {module} handles secrets"
    if module in ("command", "shell") and re.search(r"\bscontrol\b[\s\S]*\btoken\b", text):
        return "scontrol token prints a JWT"
    if module == "uri" and isinstance(args, dict):
        headers = args.get("headers") or {}
        if any(SECRET_HEADER.search(str(h)) for h in headers) or args.get("url_password"):
            return "uri call with a credential"
    src = str(args.get("src", "")) if isinstance(args, dict) else ""
    if module in ("slurp", "fetch") and SECRET_PATH.search(src):
        return "reads a key file"
    return None


def _names(var: str, value: object) -> bool:
    return bool(re.search(r"(?<![\w.])" + re.escape(var) + r"\b", yaml.safe_dump(value)))


def no_log_findings(files: dict[str, object]) -> list[str]:
    """Tasks that handle or name a secret result without no_log: true. ``files``: path -> parsed YAML."""
    tasks = []
    for path, data in sorted(files.items()):
        for task_list in _task_lists(path, data):
            for task, no_log in _walk_tasks(task_list):
                tasks.append((path, task, no_log))
    found, secret = [], {}
    for path, task, no_log in tasks:
        why = _secret_source(task)
        if why and not no_log:
            found.append(f"{path}: task {task.get('name')!r}: {why} but it is not no_log: true")
        if (why or no_log) and isinstance(task.get("register"), str):
            var = task["register"]
            if DECLASSIFIED.get(var) != _module(task)[0]:
                secret[var] = f"{path}: {task.get('name')!r}"
    for path, task, no_log in tasks:
        if no_log:
            continue
        module, args = _module(task)
        for var, origin in sorted(secret.items()):
            rest = {k: v for k, v in task.items() if k != "register"}
            if not _names(var, rest):
                continue
            if (
                module == "assert"
                and isinstance(args, dict)
                and _on(args.get("quiet"))
                and not _names(var, {k: v for k, v in args.items() if k != "that"})
                and not _names(var, {k: v for k, v in rest.items()
                                     if k not in (module, "ansible.builtin.assert")})
            ):
                continue  # a quiet assert that only tests the secret
            found.append(
                f"{path}: task {task.get('name')!r} names {var} (secret, registered by {origin}) "
                "without no_log: true"
            )
    return found


# ---------------------------------------------------------------- repository


def _repo_files() -> list[str]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return []  # not a git checkout (an unpacked collection tarball): the repo tests skip
    return sorted({p for p in out.split("\0") if p and (REPO / p).is_file()})


FILES = _repo_files()


def _text(path: str) -> str | None:
    data = (REPO / path).read_bytes()
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def _scanned(prefixes: tuple[str, ...], files: tuple[str, ...] = ()) -> list[str]:
    return [p for p in FILES if p.startswith(prefixes) or p in files]


def _roles() -> list[Path]:
    return sorted(p for p in (REPO / "roles").iterdir() if p.is_dir()) if (REPO / "roles").is_dir() else []


def _load(path: Path) -> object:
    return yaml.safe_load(path.read_text()) if path.is_file() else None


needs_git = pytest.mark.skipif(not FILES, reason="needs a git checkout")


@needs_git
def test_host_key_checking_never_turned_off():
    found = []
    for path in _scanned(SCANNED_DIRS, SCANNED_FILES):
        text = _text(path)
        if text is not None:
            found += host_key_findings(path, text)
    assert found == []


@needs_git
def test_devnull_known_hosts_exception_is_still_needed():
    # If the refusal check moves or goes, the allowance must go with it.
    for path, proof in KNOWN_HOSTS_DEVNULL_ALLOWED.items():
        if path in FILES:
            text = _text(path) or ""
            assert KNOWN_HOSTS_DEVNULL.search(text), f"{path} no longer needs its /dev/null allowance"
            assert proof in text


@needs_git
def test_no_ignore_errors_in_roles_and_playbooks():
    found = []
    for path in _scanned(PLAYBOOK_DIRS):
        if path.endswith((".yml", ".yaml")):
            found += ignore_errors_findings(path, _text(path) or "")
    assert found == []


@needs_git
def test_no_jinja_loops_in_role_tasks_and_vars():
    found = []
    for path in _scanned(("roles/",)):
        if path not in JINJA_LOOPS_PENDING:
            found += jinja_loop_findings(path, _text(path) or "")
    assert found == []


@needs_git
def test_jinja_loop_allowances_are_still_needed():
    for path in JINJA_LOOPS_PENDING:
        if path in FILES:
            assert jinja_loop_findings(path, _text(path) or ""), (
                f"{path} has no Jinja loop left: remove it from JINJA_LOOPS_PENDING")


@needs_git
def test_every_tool_call_goes_through_the_runner():
    found = []
    for path in _scanned(("plugins/",)):
        if path.endswith(".py"):
            found += direct_run_findings(path, _text(path) or "")
    assert found == []


@needs_git
def test_no_secrets_in_git():
    found = []
    for path in FILES:
        found += secret_findings(path, _text(path))
    assert found == []


@needs_git
def test_every_role_has_its_contract_files():
    missing = [
        f"roles/{role.name}/{name}"
        for role in _roles()
        for name in ("meta/argument_specs.yml", "README.md", "defaults/main.yml")
        if not (role / name).is_file()
    ]
    assert _roles(), "no roles found under roles/"
    assert missing == []


@pytest.mark.parametrize("role", [r.name for r in _roles()])
def test_role_defaults_equal_argument_specs(role):
    base = REPO / "roles" / role
    assert (
        defaults_findings(role, _load(base / "defaults/main.yml"), _load(base / "meta/argument_specs.yml"))
        == []
    )


@pytest.mark.parametrize("role", [r.name for r in _roles()])
def test_role_templates_start_with_ansible_managed(role):
    found = []
    for tpl in sorted((REPO / "roles" / role / "templates").rglob("*")):
        if tpl.is_file():
            found += template_findings(str(tpl.relative_to(REPO)), tpl.read_text(), role)
    assert found == []


def _task_files() -> dict[str, object]:
    return {
        p: yaml.safe_load(_text(p) or "")
        for p in _scanned(("roles/", "playbooks/"))
        if p.endswith((".yml", ".yaml"))
        and (p.startswith("playbooks/") or "/tasks/" in p or "/handlers/" in p)
    }


@needs_git
def test_secret_results_stay_no_log():
    files = _task_files()
    assert files, "no task files found under roles/ and playbooks/"
    assert no_log_findings(files) == []


@needs_git
def test_declassified_results_are_still_registered_by_their_module():
    # An allowance goes when the task it was made for goes or changes module.
    registered = {
        task.get("register"): _module(task)[0]
        for path, data in _task_files().items()
        for task_list in _task_lists(path, data)
        for task, _covered in _walk_tasks(task_list)
    }
    for var, module in DECLASSIFIED.items():
        assert registered.get(var) == module, f"{var} is no longer registered by {module}"


# ---------------------------------------------------------------- the scanners catch what they should


@pytest.mark.parametrize(
    "line",
    [
        "ansible_ssh_common_args: -o StrictHostKeyChecking=no",
        "ssh_args = -o StrictHostKeyChecking no",
        '    StrictHostKeyChecking "no"',
        'argv: [ssh, -o, "StrictHostKeyChecking=accept-new", node1]',
        '["ssh", "-o", "StrictHostKeyChecking=No", host]',
        "host_key_checking = False",
        "host_key_checking=0",
        "    host_key_checking: false",
        "ANSIBLE_HOST_KEY_CHECKING: 'false'",
        "export ANSIBLE_HOST_KEY_CHECKING=False",
        "  UserKnownHostsFile /dev/null",
        "-o UserKnownHostsFile=/dev/null",
        "argv: [ssh, -o, GlobalKnownHostsFile=/dev/null, node0]",
    ],
)
def test_scanner_catches_host_key_bypass(line):
    assert host_key_findings("roles/x/tasks/main.yml", f"---\n{line}\n")


@pytest.mark.parametrize(
    "line",
    [
        "host_key_checking = true",
        "ansible_ssh_common_args: -o UserKnownHostsFile=/srv/lab/known_hosts -o StrictHostKeyChecking=yes",
        "    StrictHostKeyChecking yes",
        "# StrictHostKeyChecking yes (never no)",
    ],
)
def test_scanner_passes_host_key_checking_on(line):
    assert host_key_findings("ansible.cfg", line + "\n") == []


def test_devnull_allowance_is_for_one_file_and_needs_its_proof():
    line = "argv: [ssh, -o, UserKnownHostsFile=/dev/null, node0, 'true']\n"
    proof = "failed_when: \"'Host key verification failed' not in r.stderr\"\n"
    assert host_key_findings(HOST_KEY_REFUSAL_VERIFY, line + proof) == []
    # proof gone: no longer allowed
    assert host_key_findings(HOST_KEY_REFUSAL_VERIFY, line)
    assert host_key_findings("molecule/other/verify.yml", line + proof)  # other files never


def test_scanner_catches_ignore_errors():
    text = "- name: Try\n  ansible.builtin.command: x\n  ignore_errors: true\n- ignore_errors: yes  # why\n"
    assert len(ignore_errors_findings("roles/x/tasks/main.yml", text)) == 2
    assert ignore_errors_findings("p.yml", '  ignore_errors: "{{ ansible_check_mode }}"\n') == []
    assert ignore_errors_findings("p.yml", "  ignore_errors: false\n") == []


@pytest.mark.parametrize("text", [
    "    x: >-\n      {% for t in types | unique %}gpu:{{ t }}{% endfor %}\n",
    "    x: \"{%- for k in keys -%}{{ k }}{%- endfor -%}\"\n",
    "    fits: >-\n      {%- set ns = namespace(ok=true) -%}{{ ns.ok }}\n",
    "block: |\n  {%for key, value in params | dictsort %}\n  {{ key }}\n  {% endfor %}\n",
])
def test_scanner_catches_jinja_loops(text):
    assert jinja_loop_findings("roles/x/tasks/main.yml", text)
    assert jinja_loop_findings("roles/x/vars/main.yml", text)


def test_direct_run_scanner():
    assert direct_run_findings("plugins/modules/x.py", "    rc, out, err = module.run_command([tool])\n")
    assert direct_run_findings("plugins/module_utils/y.py", "import subprocess\n")
    assert direct_run_findings("plugins/module_utils/runner.py", "module.run_command(argv)\n") == []
    through = "rc, out, err, argv = run_tool(module, 'ip', [])\n"
    assert direct_run_findings("plugins/modules/x.py", through) == []


def test_jinja_loop_scanner_passes_filters_and_other_files():
    gres = 'gres: "{{ types | gpuforge.cluster.slurm_gres }}"\n'
    assert jinja_loop_findings("roles/x/tasks/gpus.yml", gres) == []
    assert jinja_loop_findings("roles/x/tasks/main.yml", "loop: \"{{ nodes }}\"  # for every node\n") == []
    # Templates may place values with a loop; playbooks are not role files.
    template = "{% for line in lines %}\n{{ line }}\n{% endfor %}\n"
    assert jinja_loop_findings("roles/x/templates/a.conf.j2", template) == []


@pytest.mark.parametrize(
    "path",
    [
        "roles/slurm/files/munge.key",
        "id_rsa",
        "keys/id_ed25519",
        "lab/id_ed25519_cluster",
        "certs/server.pem",
    ],
)
def test_scanner_catches_secret_names(path):
    assert secret_findings(path, "")


@pytest.mark.parametrize(
    "path", ["keys/id_ed25519.pub", "id_rsa.pub", "docs/munge.md", "roles/x/templates/pem.j2"]
)
def test_scanner_passes_public_names(path):
    assert secret_findings(path, "") == []


def test_scanner_catches_private_key_text():
    begin = "-----BEGIN " + "OPENSSH PRIVATE KEY-----"  # split so this file does not match itself
    assert secret_findings("roles/x/files/key.txt", f"{begin}\nb3BlbnNzaC1rZXktdjEAAAAA\n")
    assert secret_findings("roles/x/files/key.txt", "-----BEGIN PUBLIC KEY-----\n") == []


def test_scanner_catches_template_header():
    assert template_findings("t.j2", "# Role: gpuforge.cluster.r\n{{ ansible_managed | comment }}\n", "r")
    assert template_findings("t.j2", "{{ ansible_managed }}\n# Role: gpuforge.cluster.r\n", "r")
    assert template_findings("t.j2", "{{ ansible_managed | comment }}\nkey=value\n", "r")
    assert template_findings("t.j2", "", "r")
    assert (
        template_findings("t.j2", "{{ ansible_managed | comment }}\n# Role: gpuforge.cluster.r\n", "r") == []
    )
    assert (
        template_findings("t.j2", "{{ ansible_managed | comment('c') }}\n/* gpuforge.cluster.r */\n", "r")
        == []
    )


SPECS = """
argument_specs:
  main:
    options: &options
      r_port: {type: int, default: 80}
      r_flag: {type: bool, default: true}
      r_list: {type: list, elements: str, default: [a]}
      r_none: {type: str, default: null}
  other:
    options: *options
"""


def test_scanner_defaults_match():
    defaults = {"r_port": 80, "r_flag": True, "r_list": ["a"], "r_none": None}
    assert defaults_findings("r", defaults, yaml.safe_load(SPECS)) == []


@pytest.mark.parametrize(
    ("defaults", "expect"),
    [
        ({"r_port": 8080, "r_flag": True, "r_list": ["a"], "r_none": None}, "main.r_port default 80 != "),
        ({"r_port": 80, "r_flag": 1, "r_list": ["a"], "r_none": None}, "main.r_flag default True != "),
        ({"r_port": 80, "r_flag": True, "r_list": ["a", "b"], "r_none": None}, "r_list default"),
        ({"r_port": 80, "r_flag": True, "r_list": ["a"], "r_none": ""}, "r_none default None != "),
        (
            {"r_port": 80, "r_flag": True, "r_list": ["a"], "r_none": None, "r_new": 1},
            "key r_new is not an option",
        ),
        (
            {"r_port": 80, "r_flag": True, "r_list": ["a"]},
            "option r_none has a default but is not in defaults",
        ),
    ],
)
def test_scanner_catches_defaults_drift(defaults, expect):
    found = defaults_findings("r", defaults, yaml.safe_load(SPECS))
    assert any(expect in f for f in found), found


def test_scanner_catches_missing_main_entry_point():
    assert defaults_findings("r", {}, {"argument_specs": {"other": {"options": {}}}})


# ---------------------------------------------------------------- variable shadowing
# A task-level `vars:` entry loses to a fact or a registered result of the same name (higher
# precedence), so a role whose task var shares a name with one of its own facts reads the
# wrong value on the second pass. Intentional overrides of a role var are listed here.
SHADOW_ALLOWED = {("munge_slurm", "__munge_slurm_compute_hosts")}  # preview_gres: the play's hosts


def _role_names_and_task_vars(role_dir: Path) -> tuple[set, dict]:
    defined, task_vars = set(), {}
    for f in sorted((role_dir / "vars").glob("*.yml")):
        defined.update((yaml.safe_load(f.read_text()) or {}).keys())

    def walk(tasks, fname):
        for t in tasks or []:
            if not isinstance(t, dict):
                continue
            if "register" in t:
                defined.add(t["register"])
            for key in ("ansible.builtin.set_fact", "set_fact"):
                if isinstance(t.get(key), dict):
                    defined.update(t[key].keys())
            for name in t.get("vars") or {}:
                task_vars.setdefault(name, set()).add(fname)
            for key in ("block", "rescue", "always"):
                walk(t.get(key), fname)

    for f in sorted([*(role_dir / "tasks").glob("*.yml"), *(role_dir / "handlers").glob("*.yml")]):
        walk(yaml.safe_load(f.read_text()), f.name)
    return defined, task_vars


@pytest.mark.parametrize("role", sorted(p.name for p in (REPO / "roles").iterdir() if p.is_dir()))
def test_task_vars_do_not_shadow_the_roles_own_facts(role):
    defined, task_vars = _role_names_and_task_vars(REPO / "roles" / role)
    clashes = {name: sorted(files) for name, files in task_vars.items()
               if name in defined and (role, name) not in SHADOW_ALLOWED}
    assert clashes == {}


def test_shadow_check_catches_a_clash(tmp_path):
    (tmp_path / "vars").mkdir()
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "main.yml").write_text(
        "- ansible.builtin.set_fact:\n    __r_x: 1\n"
        "- ansible.builtin.debug:\n    msg: hi\n  vars:\n    __r_x: 2\n")
    defined, task_vars = _role_names_and_task_vars(tmp_path)
    assert "__r_x" in defined and "__r_x" in task_vars


# ---------------------------------------------------------------- no_log scanner on bad samples


def _tasks(text: str) -> dict[str, object]:
    return {"roles/r/tasks/main.yml": yaml.safe_load(text)}


MAKE_CRED = """
- name: Make a credential
  ansible.builtin.command:
    argv: [munge, --no-input]
  register: __r_cred
  changed_when: false
  no_log: true
"""


@pytest.mark.parametrize(
    "use",
    [
        # a loop over another node's credential: each item is printed at -v
        "- name: Decode\n  ansible.builtin.command:\n    argv: [unmunge]\n    stdin: '{{ item }}'\n"
        "  loop: \"{{ ansible_play_hosts | map('extract', hostvars, ['__r_cred', 'stdout']) }}\"\n",
        "- name: Show\n  ansible.builtin.debug:\n    msg: '{{ __r_cred.stdout }}'\n",
        "- name: When\n  ansible.builtin.debug:\n    msg: hi\n  when: __r_cred.stdout | length > 0\n",
        "- name: Vars\n  ansible.builtin.debug:\n    msg: '{{ x }}'\n  vars:\n    x: '{{ __r_cred }}'\n",
        "- name: Name {{ __r_cred.stdout }}\n  ansible.builtin.debug:\n    msg: hi\n",
        # a quiet assert that prints the secret in its message
        "- name: Check\n  ansible.builtin.assert:\n    that: __r_cred.rc == 0\n"
        "    fail_msg: '{{ __r_cred.stdout }}'\n    quiet: true\n",
        # an assert that is not quiet prints the evaluated conditions
        "- name: Check\n  ansible.builtin.assert:\n    that: __r_cred.stdout is match('MUNGE:')\n",
        # the secret handed on through the assert's vars
        "- name: Check\n  ansible.builtin.assert:\n    that: c | length > 0\n    fail_msg: '{{ c }}'\n"
        "    quiet: true\n  vars:\n    c: '{{ __r_cred.stdout }}'\n",
        # inside a block that is not no_log
        "- name: Block\n  block:\n    - name: Show\n      ansible.builtin.debug:\n        var: __r_cred\n",
    ],
)
def test_no_log_scanner_catches_a_secret_result_named_in_the_open(use):
    found = no_log_findings(_tasks(MAKE_CRED + use))
    assert len(found) == 1 and "names __r_cred" in found[0], found


@pytest.mark.parametrize(
    "use",
    [
        "- name: Decode\n  ansible.builtin.command:\n    argv: [unmunge]\n"
        "    stdin: '{{ __r_cred.stdout }}'\n  no_log: true\n",
        "- name: Check\n  ansible.builtin.assert:\n    that: __r_cred.stdout is match('MUNGE:')\n"
        "    fail_msg: the credential is not a munge credential\n    quiet: true\n",
        "- name: Block\n  no_log: true\n  block:\n    - name: Show\n      ansible.builtin.command:\n"
        "        argv: [unmunge]\n        stdin: '{{ __r_cred.stdout }}'\n",
        # a name that only starts like the secret is another variable
        "- name: Other\n  ansible.builtin.debug:\n    var: __r_cred_count\n",
    ],
)
def test_no_log_scanner_passes_secret_results_kept_hidden(use):
    assert no_log_findings(_tasks(MAKE_CRED + use)) == []


@pytest.mark.parametrize(
    "task",
    [
        "- name: Key\n  gpuforge.cluster.secret_file:\n    path: /etc/munge/munge.key\n    content: x\n",
        "- name: Token\n  ansible.builtin.command:\n    argv: [scontrol, token, username=u]\n  register: t\n",
        "- name: Call\n  ansible.builtin.uri:\n    url: http://h/x\n    headers:\n"
        "      Authorization: 'Bearer {{ t }}'\n",
        "- name: Call\n  ansible.builtin.uri:\n    url: http://h/x\n    headers:\n"
        "      X-SLURM-USER-TOKEN: '{{ t }}'\n",
        "- name: Read\n  ansible.builtin.slurp:\n    src: '{{ __r_munge_key }}'\n  register: k\n",
        "- name: Read\n  ansible.builtin.slurp:\n    src: /etc/slurm/jwt_hs256.key\n  register: k\n",
        "- name: Decode\n  gpuforge.cluster.munge_decode:\n    credentials: {}\n",
    ],
)
def test_no_log_scanner_catches_a_secret_source_that_is_not_no_log(task):
    found = no_log_findings(_tasks(task))
    assert any("is not no_log: true" in f for f in found), found


def test_no_log_scanner_treats_secret_modules_results_as_secret():
    text = (
        "- name: Token\n  ansible.builtin.command:\n    argv: [scontrol, token]\n  register: __r_tok\n"
        "  no_log: true\n"
        "- name: Print\n  ansible.builtin.debug:\n    msg: '{{ __r_tok.stdout }}'\n"
    )
    found = no_log_findings(_tasks(text))
    assert len(found) == 1 and "names __r_tok" in found[0]


def test_no_log_scanner_reads_playbooks_and_declassified_results():
    play = [
        {
            "hosts": "all",
            "tasks": [
                {"name": "Decode", "gpuforge.cluster.munge_decode": {"credentials": "{{ c }}"},
                 "register": "__munge_slurm_decode", "no_log": True},
                {"name": "Check", "ansible.builtin.assert": {"that": "true",
                 "fail_msg": "{{ __munge_slurm_decode.msg }}", "quiet": True}},
                {"name": "Key", "ansible.builtin.slurp": {"src": "/etc/munge/munge.key"},
                 "register": "__k", "no_log": True},
                {"name": "Show", "ansible.builtin.debug": {"var": "__k"}},
            ],
        }
    ]
    found = no_log_findings({"playbooks/p.yml": play})
    assert len(found) == 1 and "names __k" in found[0], found
    # declassified only when the module that makes it safe registered it
    play[0]["tasks"][0] = {"name": "Decode", "ansible.builtin.command": "unmunge",
                           "register": "__munge_slurm_decode", "no_log": True}
    assert len(no_log_findings({"playbooks/p.yml": play})) == 2
