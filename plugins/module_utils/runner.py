# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a hardware tool the same way from every module: C locale, clear message when it is missing."""


C_LOCALE = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}


def find_tool(module, executable, package_hint=None):
    """Absolute path of ``executable`` (a name on PATH or a path), or fail_json saying what to install."""
    path = module.get_bin_path(executable, required=False)
    if path is None:
        hint = f" (install {package_hint})" if package_hint else ""
        module.fail_json(msg=f"{executable} was not found on the PATH of {_hostname()}{hint}",
                         reason="tool_not_found", executable=executable)
    return path


def first_tool(module, names):
    """The first of ``names`` found on the PATH (flint from NVIDIA MFT before mstflint), else the last one,
    so that run_tool's "not found" message names it."""
    for name in names:
        if module.get_bin_path(name, required=False):
            return name
    return names[-1]


def run_tool(module, executable, args, package_hint=None, data=None, env=None):
    """Run ``executable args...`` with LC_ALL=C; returns (rc, stdout, stderr, argv).

    ``data`` goes to the tool's stdin as text (a credential for unmunge); ``env`` adds variables to its
    environment over the C locale (NCCL_DEBUG for nccl-tests)."""
    argv = [find_tool(module, executable, package_hint), *args]
    kwargs = {"environ_update": {**C_LOCALE, **(env or {})}}
    if data is not None:
        kwargs.update(data=str(data), binary_data=False)
    rc, out, err = module.run_command(argv, **kwargs)
    return rc, out, err, argv


def run_parsed(module, executable, args, parse, package_hint=None, failure="nothing was changed"):
    """Run the tool and parse stdout + stderr with ``parse``; a ParseError (the parsers' errors, flint's
    included) fails the module naming the command, its rc, the parser's message and ``failure``."""
    from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError

    rc, out, err, argv = run_tool(module, executable, args, package_hint)
    try:
        return parse(out + ("\n" + err if err else ""))
    except ParseError as exc:
        module.fail_json(msg=f"{' '.join(argv)} (rc={rc}): {exc}; {failure}", cmd=argv, rc=rc,
                         reason=getattr(exc, "reason", "parse_error"))


def read_source(module, output, src):
    """Text given as ``output`` or read from the ``src`` path on the managed host; None when neither."""
    if output is not None:
        return output
    if src is not None:
        try:
            with open(src, "rb") as handle:
                return handle.read().decode("utf-8", "replace")
        except OSError as exc:
            module.fail_json(msg=f"cannot read {src}: {exc}")
    return None


def _hostname():
    import socket

    return socket.gethostname() or "this host"
