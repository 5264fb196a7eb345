# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Modules that parse a tool's output: recorded output instead of running the tool.
    DOCUMENTATION = r"""
options:
  output:
    description:
      - Text of the tool's output (the command the module's description names) to parse instead of running
        the tool.
    type: str
  src:
    description:
      - Path on the managed host of a file with the tool's output to parse instead of running the tool.
    type: path
"""
