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
installed:
  description: Installed package name to version, when nothing had to be installed.
  returned: when nothing was missing
  type: dict
  sample: {"openmpi-bin": "4.1.4-3+b1"}
"""
