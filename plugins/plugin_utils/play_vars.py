# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side helper for the collection's callbacks: a play variable, rendered with the play's variables."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.text.converters import to_text


def play_var(play, name, display, owner, host=None):
    """The play variable ``name`` (its ``vars:``, else its ``vars_files`` or an extra var), rendered when it
    holds a Jinja expression such as ``"{{ playbook_dir }}/logs"`` - with ``host``'s variables too when given
    (an expression of inventory variables); None when unset or when it cannot be rendered (a warning from
    ``owner`` says why: a bad expression must not break the playbook)."""
    manager = getattr(play, "_variable_manager", None)
    value = (play.get_vars() or {}).get(name)
    try:
        variables = None
        if value is None and manager is not None:  # from the play's vars_files (or -e)
            variables = manager.get_vars(play=play, host=host) if host is not None else manager.get_vars(play=play)
            value = variables.get(name)
        if not value or not ("{{" in to_text(value) or "{%" in to_text(value)):
            return value or None
        from ansible.template import Templar

        if variables is None:
            if manager is None:
                variables = play.get_vars()
            else:
                variables = manager.get_vars(play=play, host=host) if host is not None else manager.get_vars(play=play)
        return Templar(loader=getattr(play, "_loader", None), variables=variables).template(value)
    except Exception as exc:
        display.warning("%s: cannot render %s=%r (%s): nothing from it for play %r"
                        % (owner, name, to_text(value), exc, to_text(play.get_name()).strip()))
        return None
