# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a container needs to run NCCL as the host does: the `docker run` options and the env file.

Pure functions, no I/O. ``run_options`` decides the options from what the node has (RDMA devices, GPUs) and
where the host's NCCL settings are written; ``env_file_lines`` writes those settings in Docker's env-file
format (KEY=VALUE, no quoting: Docker takes the rest of the line as the value).
"""

from __future__ import annotations

import re

ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ContainerOptionsError(ValueError):
    """Input the options cannot be made from (names the value)."""


def run_options(rdma: bool, gpus: bool, env_file: str | None = None, host_network: bool = True,
                extra: list | tuple = ()) -> list:
    """The `docker run` options, one argument per item, in a stable order.

    Host network and IPC namespace: NCCL's socket transport binds the host's cluster interface
    (NCCL_SOCKET_IFNAME names a host interface) and its shared-memory transport needs the host's /dev/shm
    between the processes of one node. With RDMA devices: the verbs devices (/dev/infiniband), IPC_LOCK and an
    unlimited memlock limit (registering memory pins it). With GPUs: all of them (NVIDIA Container Toolkit).
    ``env_file``: the host's NCCL settings (env_file_lines) so NCCL in the container uses what the host uses.
    ``extra``: the admin's own options, after ours; one that would undo ours is refused.
    """
    opts = []
    if host_network:
        opts += ["--network=host", "--ipc=host"]
    if rdma:
        opts += ["--device=/dev/infiniband", "--cap-add=IPC_LOCK", "--ulimit=memlock=-1:-1"]
    if gpus:
        opts += ["--gpus=all"]
    if env_file:
        if not str(env_file).startswith("/"):
            raise ContainerOptionsError("the NCCL env file must be an absolute path, got %r" % env_file)
        opts += ["--env-file=%s" % env_file]
    for item in extra or ():
        text = str(item)
        if not text.startswith("-"):
            raise ContainerOptionsError("extra container option %r is not an option (starts with -)" % text)
        name = text.split("=", 1)[0].split(" ", 1)[0]
        if (host_network and name in ("--network", "--net", "--ipc")) or (
                rdma and name == "--ulimit" and "memlock" in text):
            raise ContainerOptionsError("extra container option %r undoes one that NCCL needs (%s)"
                                        % (text, " ".join(o for o in opts if o.startswith(name))))
        opts.append(text)
    return opts


def env_file_lines(settings: dict) -> list:
    """{NCCL_SOCKET_IFNAME: eth0, NCCL_IB_DISABLE: 1} -> ['NCCL_IB_DISABLE=1', 'NCCL_SOCKET_IFNAME=eth0'] (sorted).

    Docker's env-file takes each line whole, quotes included: a value with a newline cannot be written and is
    refused, as is a key that is not a variable name.
    """
    lines = []
    for key in sorted(settings or {}):
        value = settings[key]
        if not ENV_KEY_RE.match(str(key)):
            raise ContainerOptionsError("%r is not an environment variable name" % key)
        if isinstance(value, bool):
            value = int(value)
        text = "" if value is None else str(value)
        if "\n" in text or "\r" in text:
            raise ContainerOptionsError("%s: a value with a line break cannot go into an env file" % key)
        lines.append("%s=%s" % (key, text))
    return lines
