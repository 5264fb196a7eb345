# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rented GPU boxes: the pasted table of public and private addresses, read into pairs.

Pure functions, no I/O, no Ansible. ``parse_pairs`` reads the shapes people paste from a provider's
console or mail: ``PUBLIC:PRIVATE`` words (several a line), two columns split by spaces, tabs, commas
or semicolons, markdown or psql tables with their separator rows, one header line of words, ``#``
comments, CRLF. The first pair is the head node. Every problem in the file is collected and raised
once (``RentalPairsError``, one problem a line, each naming the line number and the line), so the
file is fixed in one go. ``host_names`` gives the inventory names, ``decode_text`` the file's text.
"""

from __future__ import annotations

import codecs
import ipaddress
import re

EXPECTED = "expected PUBLIC PRIVATE or PUBLIC:PRIVATE"
# The host names are PREFIX0..PREFIXn-1: one DNS label, room left for the index.
PREFIX_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,55}$")
LINE_END_RE = re.compile(r"\r\n|\r|\n")
# Between columns: whitespace (NBSP included: tables copied from web pages), commas, semicolons (CSV
# from a spreadsheet in a locale with a decimal comma).
COLUMN_SEP_RE = re.compile(r"[\s,;]+")
# A table's rule: |---|:--:|, +-----+-----+, ------ ------, =====.
SEPARATOR_RE = re.compile(r"^[\s|:+=-]*[-=][\s|:+=-]*$")
# A header word: Public, IP, IPv4, private_ip, (internal), Address/IP, /; never an address (no digit
# first, no ':').
HEADER_WORD_RE = re.compile(r"^[A-Za-z_().'/-][\w().'/-]*$")
# An INI inventory's section: [web], [web:vars], [all:children].
INI_SECTION_RE = re.compile(r"^\[[A-Za-z_][\w-]*(:[A-Za-z_]+)?\]$")
SHOWN_CHARS = 120  # of a line quoted in a message
# Invisible characters that copying from a web page or a spreadsheet leaves in the text.
INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"))


class RentalPairsError(ValueError):
    """The table did not read; ``problems`` holds every problem found, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def decode_text(data: bytes, source: str = "nodes.txt") -> str:
    """The file's bytes as text: UTF-8 (with or without a BOM) or UTF-16 with its BOM (Windows editors)."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RentalPairsError([f"{source}: not UTF-8 or UTF-16 text ({exc})"]) from None


def _shown(content: str) -> str:
    if len(content) > SHOWN_CHARS:
        content = content[: SHOWN_CHARS - 3] + "..."
    return repr(content)


def _refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address cannot be a box's public or private address, or None."""
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_loopback:
        return "a loopback address (every machine has it; it does not reach the box)"
    if ip.is_link_local:
        return "a link-local address (valid on one link only, not routed)"
    if ip.is_multicast:
        return "a multicast address, not one host's"
    if ip == ipaddress.IPv4Address("255.255.255.255"):
        return "the broadcast address, not one host's"
    return None


def _address(text: str, role: str) -> tuple[str | None, list[str]]:
    """('203.0.113.7' or '[2001:db8::1]', 'public') -> (normalized address, problems)."""
    if not text:
        return None, [f"no {role} address ({EXPECTED})"]
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        hint = ""
        if text.isdigit():
            hint = " (a port? only addresses are read here)"
        elif text.count(":") > 1:
            hint = " (an IPv6 pair in one word needs brackets: [PUBLIC]:[PRIVATE])"
        return None, [f"{_shown(text)} is not an IP address{hint}"]
    why = _refusal(ip)
    if why:
        return None, [f"{role} address {text} is {why}"]
    return str(ip), []


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text[1:-1] if text.startswith("[") and text.endswith("]") else text)
    except ValueError:
        return False
    return True


def _split_word(word: str) -> tuple[str, str] | None:
    """'PUBLIC:PRIVATE' -> (PUBLIC, PRIVATE) when exactly one ':' lies outside brackets, else None."""
    depth, cuts = 0, []
    for pos, char in enumerate(word):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == ":" and depth == 0:
            cuts.append(pos)
    if len(cuts) != 1:
        return None  # a single address: IPv4, IPv6 (2+ colons) or [IPv6]
    return word[: cuts[0]], word[cuts[0] + 1:]


def _cells(line: str) -> list[str]:
    """A line's columns: the cells of a |-table (an empty cell kept) or the words between separators."""
    if "|" in line:
        cells = [cell.strip() for cell in line.split("|")]
        if cells and not cells[0]:
            cells = cells[1:]
        if cells and not cells[-1]:
            cells = cells[:-1]
        return cells
    return [word for word in COLUMN_SEP_RE.split(line) if word]


def _is_header(cells: list[str]) -> bool:
    words = [word for cell in cells for word in COLUMN_SEP_RE.split(cell) if word]
    return (any(re.search("[A-Za-z]", word) for word in words)
            and all(HEADER_WORD_RE.match(word) for word in words))


def _line_pairs(cells: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """A line's (public, private) texts, or the problem with its shape."""
    if len(cells) == 1 and cells[0].endswith(":") and not _is_address(cells[0][:-1]):
        return [], [f"{cells[0]!r} looks like YAML: a YAML inventory needs a .yml or .yaml name"]
    words = [_split_word(cell) for cell in cells]
    if cells and all(word is not None for word in words):
        return [word for word in words if word is not None], []
    if any(word is not None for word in words):
        return [], [f"PUBLIC:PRIVATE words mixed with single addresses ({EXPECTED} on each line)"]
    if len(cells) == 1:
        return [(cells[0], "")], []
    if len(cells) == 2:
        return [(cells[0], cells[1])], []
    return [], [f"{len(cells)} columns ({EXPECTED}; one box a line, or several PUBLIC:PRIVATE words)"]


def parse_pairs(text: str, source: str = "nodes.txt") -> list[dict]:
    """The pasted table -> [{line, public, private}] in file order; the first pair is the head.

    ``source`` names the file in messages. Raises ``RentalPairsError`` with every problem: a word that
    is not an address, a missing private (or public) part, more than two columns that are not
    PUBLIC:PRIVATE words, a loopback / link-local / unspecified / multicast address, an address on two
    lines (both named), no pair at all. Addresses come back normalized (``str(ipaddress...)``, no
    brackets). A header line of words is skipped only as the first line that is not a comment or a
    table rule.
    """
    pairs: list[dict] = []
    problems: list[tuple[int, str]] = []
    contents: dict[int, str] = {}
    first = True
    for num, raw in enumerate(LINE_END_RE.split(text.translate(INVISIBLE)), 1):
        content = raw.strip()
        line = content.split("#", 1)[0].strip()
        if not line or SEPARATOR_RE.match(line):
            continue
        contents[num] = content
        where = f"{source} line {num}: {_shown(content)}: "
        was_first, first = first, False
        if INI_SECTION_RE.match(line):
            problems.append((num, where + "an INI inventory section, not an address pair "
                             "(INI inventories are not read here: use YAML, hosts.yml)"))
            continue
        cells = _cells(line)
        if was_first and _is_header(cells):
            continue
        texts, shape = _line_pairs(cells)
        problems += [(num, where + problem) for problem in shape]
        for public_text, private_text in texts:
            public, public_problems = _address(public_text, "public")
            private, private_problems = _address(private_text, "private")
            problems += [(num, where + problem) for problem in public_problems + private_problems]
            if public and private:
                pairs.append({"line": num, "public": public, "private": private})
    problems += _duplicates(pairs, contents, source)
    if not pairs and not problems:
        problems.append((0, f"{source}: no address pairs ({EXPECTED}, one box a line, the head first)"))
    if problems:
        raise RentalPairsError([problem for num, problem in sorted(problems, key=lambda item: item[0])])
    return pairs


def _duplicates(pairs: list[dict], contents: dict[int, str], source: str) -> list[tuple[int, str]]:
    """An address on two boxes (or twice as one box's public, or private). A box whose public address is
    also its private one (a single address) is fine."""
    seen: dict[str, tuple[int, str, int]] = {}  # address -> (line, role, pair index) where first seen
    problems = []
    for index, pair in enumerate(pairs):
        num = pair["line"]
        for role in ("public", "private"):
            address = pair[role]
            before = seen.get(address)
            if before is None:
                seen[address] = (num, role, index)
                continue
            other_num, other_role, other_index = before
            if other_index == index:
                continue  # this box's public is its private address
            there = "this line" if other_num == num else f"line {other_num} ({_shown(contents[other_num])})"
            what = f"already on {there}" if other_role == role else f"the {other_role} address on {there}"
            problems.append((num, f"{source} line {num}: {_shown(contents[num])}: "
                                  f"{role} address {address} is {what}"))
    return problems


def host_names(pairs: list[dict], prefix: str = "rental") -> list[str]:
    """The inventory names for the pairs, in order: rental0 (the head), rental1, ..."""
    if not isinstance(prefix, str) or not PREFIX_RE.match(prefix):
        raise RentalPairsError([f"host name prefix {prefix!r} is not the start of a host name "
                                "(a letter, then letters, digits or '-'; 56 characters at most)"])
    return [f"{prefix}{index}" for index in range(len(pairs))]
