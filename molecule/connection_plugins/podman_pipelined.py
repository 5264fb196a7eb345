# Molecule's transport (test harness only, not shipped: galaxy.yml's build_ignore has molecule/).
"""podman exec with pipelining, for the molecule scenarios' three containers.

containers.podman.podman runs about five podman commands per task and host (mount, mkdir, copy,
exec, rm) because it cannot pipe a module into ``podman exec`` (it never passes ``-i``). Each podman
command costs 0.3 s or more on a loaded two-core CI machine, which made an idempotent converge of the
cluster scenario take 2.5 minutes. This plugin passes stdin with ``-i``, so a module is one
``podman exec -i`` (pipelining), and puts files through ``cat`` in the container instead of mounting
its filesystem. Everything else is what containers.podman.podman does.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: podman_pipelined
short_description: Run tasks in podman containers with one podman exec per module (molecule harness)
description:
  - podman exec with stdin, so Ansible pipelining works; files go through cat inside the container.
options:
  remote_addr:
    description: The container's name.
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
  remote_user:
    description: The user inside the container (podman exec --user).
    vars:
      - name: ansible_user
  podman_executable:
    description: The podman command.
    default: podman
    vars:
      - name: ansible_podman_executable
"""

import shlex
import shutil
import subprocess

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.connection import ConnectionBase


class Connection(ConnectionBase):
    transport = "podman_pipelined"
    has_pipelining = True

    def _podman(self, args: list, in_data: bytes | None = None) -> tuple[int, bytes, bytes]:
        podman = shutil.which(self.get_option("podman_executable"))
        if not podman:
            raise AnsibleError(f"{self.get_option('podman_executable')} command not found in PATH")
        argv = [to_bytes(a, errors="surrogate_or_strict") for a in [podman, *args]]
        proc = subprocess.run(argv, input=in_data, capture_output=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def _exec_args(self, interactive: bool) -> list:
        args = ["exec"] + (["-i"] if interactive else [])
        if self.get_option("remote_user"):
            args += ["--user", self.get_option("remote_user")]
        return [*args, self.get_option("remote_addr")]

    def _connect(self):
        super()._connect()
        self._connected = True
        return self

    def exec_command(self, cmd, in_data=None, sudoable=False):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        argv = shlex.split(to_native(cmd, errors="surrogate_or_strict"))
        return self._podman([*self._exec_args(in_data is not None), *argv], in_data)

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        with open(to_bytes(in_path, errors="surrogate_or_strict"), "rb") as src:
            data = src.read()
        rc, _out, err = self._podman(
            [*self._exec_args(True), "/bin/sh", "-c", f"cat > {shlex.quote(to_native(out_path))}"], data)
        if rc != 0:
            raise AnsibleError(f"failed to put {in_path} at {out_path} in {self.get_option('remote_addr')}: "
                               f"{to_native(err)}")

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        rc, out, err = self._podman([*self._exec_args(False), "cat", to_native(in_path)])
        if rc != 0:
            raise AnsibleError(f"failed to fetch {in_path} from {self.get_option('remote_addr')}: "
                               f"{to_native(err)}")
        with open(to_bytes(out_path, errors="surrogate_or_strict"), "wb") as dest:
            dest.write(out)

    def close(self):
        super().close()
        self._connected = False
