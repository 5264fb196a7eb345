#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: packages
short_description: Install Debian packages, asking dpkg first so that a re-run does not start apt
version_added: 0.3.0
description:
  - Reads the installed versions with M(gpuforge.cluster.dpkg_versions) (one C(dpkg-query) call) and
    only when a package is missing, or installed at another version than a pinned C(name=version),
    runs M(ansible.builtin.apt) with the same options for the whole list.
  - A re-run where everything is installed costs one light call instead of apt's cache load, and
    does not refresh the package lists (C(update_cache)) when nothing is to be installed.
  - Removing packages is left to M(ansible.builtin.apt).
  - This is an action plugin; the work happens on the controller and the node.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  name:
    description: Package names, C(name=version) to pin a version.
    type: list
    elements: str
    required: true
  state:
    description: Only C(present).
    type: str
    default: present
    choices: [present]
  update_cache:
    description: Passed to M(ansible.builtin.apt) when something is installed.
    type: bool
  cache_valid_time:
    description: Passed to M(ansible.builtin.apt) when something is installed.
    type: int
  install_recommends:
    description: Passed to M(ansible.builtin.apt) when something is installed.
    type: bool
  allow_change_held_packages:
    description: Passed to M(ansible.builtin.apt) when something is installed.
    type: bool
  allow_downgrade:
    description: Passed to M(ansible.builtin.apt) when something is installed.
    type: bool
  lock_timeout:
    description:
      - Seconds apt waits for the dpkg lock (unattended-upgrades and cloud-init hold it at boot on fresh VMs);
        M(ansible.builtin.apt)'s own default is 60.
    type: int
    default: 600
  retries:
    description:
      - Further attempts when apt failed because a repository could not be reached for now (name resolution,
        connection, timeout, 5xx); a 404, a bad signature or a broken package is not retried. After the last
        attempt the message names the repositories that stayed unreachable.
    type: int
    default: 3
  retry_delay:
    description: Seconds before the first retry, doubled before each next one.
    type: int
    default: 10
  cloud_init_timeout:
    description: Where cloud-init is installed, C(cloud-init status --wait) runs first, for at most this long.
    type: int
    default: 900
attributes:
  action:
    description: Runs as an action plugin.
    support: full
  check_mode:
    description: The dpkg query always runs; apt runs in check mode.
    support: full
  diff_mode:
    description: As M(ansible.builtin.apt).
    support: partial
"""

EXAMPLES = r"""
- name: Install OpenMPI
  gpuforge.cluster.packages:
    name: [openmpi-bin, libopenmpi-dev]
    update_cache: true
    cache_valid_time: 3600
    install_recommends: false
"""

RETURN = r"""
missing:
  description: The packages that were not installed (at the pinned version) before this task.
  returned: always
  type: list
  elements: str
  sample: ["openmpi-bin"]
attempts:
  description: How many times apt ran (more than 1 after a repository could not be reached).
  returned: when something had to be installed
  type: int
  sample: 1
cloud_init:
  description: What C(cloud-init status --wait) said, where cloud-init is installed.
  returned: when something had to be installed on a node with cloud-init
  type: str
  sample: "status: done"
installed:
  description: Installed package name to version, when nothing had to be installed.
  returned: when nothing was missing
  type: dict
  sample: {"openmpi-bin": "4.1.4-3+b1"}
"""
