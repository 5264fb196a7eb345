# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The flint tool of the flint_* modules (NVIDIA MFT's flint, else mstflint).
    DOCUMENTATION = r"""
options:
  executable:
    description:
      - Name or path of the tool. Default is C(flint), then C(mstflint) when flint is not installed.
    type: str
"""
