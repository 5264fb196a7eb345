"""Rented boxes: the pasted table of public and private addresses, every shape and every problem.

The tables are the shapes providers' consoles and mails show and people paste (written here by hand in
those shapes, with documentation addresses: 203.0.113.0/24, 198.51.100.0/24, 2001:db8::/32).
"""

from __future__ import annotations

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils.rental_pairs import (
    RentalPairsError,
    decode_text,
    host_names,
    parse_pairs,
)

THREE = [("203.0.113.10", "10.0.0.10"), ("203.0.113.11", "10.0.0.11"), ("203.0.113.12", "10.0.0.12")]


def addresses(pairs: list[dict]) -> list[tuple[str, str]]:
    return [(pair["public"], pair["private"]) for pair in pairs]


def problems(text: str, source: str = "nodes.txt") -> list[str]:
    with pytest.raises(RentalPairsError) as info:
        parse_pairs(text, source)
    assert str(info.value) == "\n".join(info.value.problems)
    return info.value.problems


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("203.0.113.10 10.0.0.10\n203.0.113.11 10.0.0.11\n203.0.113.12 10.0.0.12\n", id="spaces"),
        pytest.param("203.0.113.10    10.0.0.10\n203.0.113.11  10.0.0.11\n203.0.113.12 10.0.0.12",
                     id="aligned-no-final-newline"),
        pytest.param("203.0.113.10,10.0.0.10\n203.0.113.11, 10.0.0.11\n203.0.113.12 ,10.0.0.12\n", id="csv"),
        pytest.param("203.0.113.10\t10.0.0.10\n203.0.113.11\t10.0.0.11\n203.0.113.12\t10.0.0.12\n", id="tsv"),
        pytest.param("203.0.113.10;10.0.0.10\n203.0.113.11;10.0.0.11\n203.0.113.12;10.0.0.12\n",
                     id="semicolon-csv"),
        pytest.param("203.0.113.10:10.0.0.10\n203.0.113.11:10.0.0.11\n203.0.113.12:10.0.0.12\n", id="words"),
        pytest.param("203.0.113.10:10.0.0.10 203.0.113.11:10.0.0.11\t203.0.113.12:10.0.0.12\n",
                     id="words-one-line"),
        pytest.param("203.0.113.10:10.0.0.10, 203.0.113.11:10.0.0.11,203.0.113.12:10.0.0.12\n",
                     id="words-commas"),
        pytest.param("Public IP      Private IP\n203.0.113.10   10.0.0.10\n203.0.113.11   10.0.0.11\n"
                     "203.0.113.12   10.0.0.12\n", id="header-words"),
        pytest.param("public,private\n203.0.113.10,10.0.0.10\n203.0.113.11,10.0.0.11\n203.0.113.12,10.0.0.12\n",
                     id="header-csv"),
        pytest.param("PUBLIC_IP\tPRIVATE_IP\n203.0.113.10\t10.0.0.10\n203.0.113.11\t10.0.0.11\n"
                     "203.0.113.12\t10.0.0.12\n", id="header-upper-tsv"),
        pytest.param("# rented 2026-05-01, 3 boxes\n\n# head first\n  Public IPv4 / External  Private IPv4 \n"
                     "\n203.0.113.10 10.0.0.10\n\n203.0.113.11 10.0.0.11\n  # spare\n"
                     "203.0.113.12 10.0.0.12\n\n",
                     id="comments-blank-lines-header-after-comments"),
        pytest.param("203.0.113.10 10.0.0.10   # head\n203.0.113.11 10.0.0.11# 2nd\n"
                     "203.0.113.12:10.0.0.12 #\n",
                     id="trailing-comments"),
        pytest.param("Public IP\tPrivate IP\r\n203.0.113.10\t10.0.0.10\r\n203.0.113.11\t10.0.0.11\r\n"
                     "203.0.113.12\t10.0.0.12\r\n", id="crlf"),
        pytest.param("\ufeffpublic,private\r\n203.0.113.10,10.0.0.10\r\n203.0.113.11,10.0.0.11\r\n"
                     "203.0.113.12,10.0.0.12", id="bom-crlf-no-final-newline"),
        pytest.param("   203.0.113.10 10.0.0.10   \n\t203.0.113.11 10.0.0.11\t\n"
                     " \u00a0203.0.113.12\u00a010.0.0.12\n", id="surrounding-whitespace-nbsp"),
        pytest.param("\u200b203.0.113.10 10.0.0.10\n203.0.113.11\u200b 10.0.0.11\u200b\n\n"
                     "203.0.113.12 10.0.0.12\n\u200b\n", id="zero-width-spaces-from-a-web-page"),
        pytest.param("| Public IP | Private IP |\n|---|---|\n| 203.0.113.10 | 10.0.0.10 |\n"
                     "| 203.0.113.11 | 10.0.0.11 |\n| 203.0.113.12 | 10.0.0.12 |\n", id="markdown"),
        pytest.param("| Public IP    | Private IP |\n| :----------- | ---------: |\n"
                     "203.0.113.10 | 10.0.0.10\n|203.0.113.11|10.0.0.11|\n| 203.0.113.12 | 10.0.0.12 |\n",
                     id="markdown-aligned-loose"),
        pytest.param("+--------------+------------+\n"
                     "| public       | private    |\n"
                     "+--------------+------------+\n"
                     "| 203.0.113.10 | 10.0.0.10  |\n"
                     "| 203.0.113.11 | 10.0.0.11  |\n"
                     "| 203.0.113.12 | 10.0.0.12  |\n"
                     "+--------------+------------+\n", id="psql-box"),
        pytest.param("Public IP      Private IP\n-------------  ----------\n203.0.113.10   10.0.0.10\n"
                     "203.0.113.11   10.0.0.11\n203.0.113.12   10.0.0.12\n", id="dashed-rule"),
    ],
)
def test_shapes(text):
    pairs = parse_pairs(text)
    assert addresses(pairs) == THREE
    assert [pair["line"] for pair in pairs] == sorted(pair["line"] for pair in pairs)


def test_line_numbers_are_the_files():
    text = "# boxes\r\nPublic Private\r\n\r\n203.0.113.10 10.0.0.10\r\n|---|---|\r\n203.0.113.11:10.0.0.11 " \
           "203.0.113.12:10.0.0.12\r\n"
    assert parse_pairs(text) == [
        {"line": 4, "public": "203.0.113.10", "private": "10.0.0.10"},
        {"line": 6, "public": "203.0.113.11", "private": "10.0.0.11"},
        {"line": 6, "public": "203.0.113.12", "private": "10.0.0.12"},
    ]


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        pytest.param("2001:db8::10 fd00::10\n2001:db8::11,fd00::11\n", [("2001:db8::10", "fd00::10"),
                     ("2001:db8::11", "fd00::11")], id="v6-columns"),
        pytest.param("[2001:db8::10]:[fd00::10] [2001:db8::11]:[fd00::11]\n",
                     [("2001:db8::10", "fd00::10"), ("2001:db8::11", "fd00::11")], id="v6-bracketed-words"),
        pytest.param("203.0.113.10:[fd00::10]\n[2001:db8::11]:10.0.0.11\n",
                     [("203.0.113.10", "fd00::10"), ("2001:db8::11", "10.0.0.11")], id="mixed-families"),
        pytest.param("[2001:db8::10]\t[fd00::10]\n| 2001:db8::11 | fd00::11 |\n",
                     [("2001:db8::10", "fd00::10"), ("2001:db8::11", "fd00::11")], id="v6-brackets-table"),
        pytest.param("2001:DB8:0:0:0:0:0:10 FD00:0::10\n", [("2001:db8::10", "fd00::10")],
                     id="v6-normalized"),
    ],
)
def test_ipv6(text, expect):
    assert addresses(parse_pairs(text)) == expect


def test_one_box_whose_public_address_is_its_private_one():
    assert addresses(parse_pairs("203.0.113.10 203.0.113.10\n")) == [("203.0.113.10", "203.0.113.10")]


def test_header_only_as_first_line():
    found = problems("203.0.113.10 10.0.0.10\nPublic IP  Private IP\n")
    assert found == [
        "nodes.txt line 2: 'Public IP  Private IP': 4 columns (expected PUBLIC PRIVATE or PUBLIC:PRIVATE; "
        "one box a line, or several PUBLIC:PRIVATE words)"]
    assert problems("203.0.113.10 10.0.0.10\npublic,private\n") == [
        "nodes.txt line 2: 'public,private': 'public' is not an IP address",
        "nodes.txt line 2: 'public,private': 'private' is not an IP address"]


# ---------------------------------------------------------------- each problem names its line and the line


@pytest.mark.parametrize(
    ("text", "num", "content", "reason"),
    [
        pytest.param("203.0.113.1 10.0.0.1\n203.0.113.2 10.0.0.2\n# c\n203.0.113.300 10.0.0.4\n", 4,
                     "203.0.113.300 10.0.0.4", "'203.0.113.300' is not an IP address", id="bad-public"),
        pytest.param("203.0.113.1 10.0.0.1\n203.0.113.4\t10.0.0.256\n", 2, "203.0.113.4\t10.0.0.256",
                     "'10.0.0.256' is not an IP address", id="bad-private"),
        pytest.param("203.0.113.1:10.0.0.1 node2:10.0.0.2\n", 1, "203.0.113.1:10.0.0.1 node2:10.0.0.2",
                     "'node2' is not an IP address", id="bad-word"),
        pytest.param("203.0.113.1 10.0.0.1\n203.0.113.2 10.0.0.2\n203.0.113.6\n", 3, "203.0.113.6",
                     "no private address (expected PUBLIC PRIVATE or PUBLIC:PRIVATE)", id="no-private"),
        pytest.param("203.0.113.1 10.0.0.1\n203.0.113.6:\n", 2, "203.0.113.6:",
                     "no private address (expected PUBLIC PRIVATE or PUBLIC:PRIVATE)", id="no-private-word"),
        pytest.param("| 203.0.113.1 | 10.0.0.1 |\n| 203.0.113.6 |  |\n", 2, "| 203.0.113.6 |  |",
                     "no private address (expected PUBLIC PRIVATE or PUBLIC:PRIVATE)", id="no-private-cell"),
        pytest.param("203.0.113.1 10.0.0.1\n:10.0.0.2\n", 2, ":10.0.0.2",
                     "no public address (expected PUBLIC PRIVATE or PUBLIC:PRIVATE)", id="no-public-word"),
        pytest.param("203.0.113.1 10.0.0.1 8xH100\n", 1, "203.0.113.1 10.0.0.1 8xH100",
                     "3 columns (expected PUBLIC PRIVATE or PUBLIC:PRIVATE", id="three-columns"),
        pytest.param("box1,203.0.113.1,10.0.0.1\n", 1, "box1,203.0.113.1,10.0.0.1", "3 columns",
                     id="three-csv"),
        pytest.param("203.0.113.1:10.0.0.1 203.0.113.2 10.0.0.2\n", 1,
                     "203.0.113.1:10.0.0.1 203.0.113.2 10.0.0.2",
                     "PUBLIC:PRIVATE words mixed with single addresses", id="mixed-shapes"),
        pytest.param("203.0.113.1 10.0.0.1\n127.0.0.1 10.0.0.2\n", 2, "127.0.0.1 10.0.0.2",
                     "public address 127.0.0.1 is a loopback address", id="loopback-public"),
        pytest.param("203.0.113.1 ::1\n", 1, "203.0.113.1 ::1", "private address ::1 is a loopback address",
                     id="loopback-v6"),
        pytest.param("203.0.113.1 169.254.3.4\n", 1, "203.0.113.1 169.254.3.4",
                     "private address 169.254.3.4 is a link-local address", id="link-local"),
        pytest.param("2001:db8::1 fe80::1\n", 1, "2001:db8::1 fe80::1",
                     "private address fe80::1 is a link-local address", id="link-local-v6"),
        pytest.param("0.0.0.0 10.0.0.1\n", 1, "0.0.0.0 10.0.0.1", "public address 0.0.0.0 is the unspecified",
                     id="unspecified"),
        pytest.param("203.0.113.1 224.0.0.5\n", 1, "203.0.113.1 224.0.0.5", "is a multicast address",
                     id="multicast"),
        pytest.param("203.0.113.1:22 203.0.113.2:22\n", 1, "203.0.113.1:22 203.0.113.2:22",
                     "'22' is not an IP address (a port?", id="ip-port"),
        pytest.param("2001:db8::1:fd00::1\n", 1, "2001:db8::1:fd00::1",
                     "needs brackets: [PUBLIC]:[PRIVATE]", id="v6-word-without-brackets"),
        pytest.param("[gpu]\n203.0.113.1\n", 1, "[gpu]", "an INI inventory section", id="ini-section"),
        pytest.param("all:\n  hosts:\n", 1, "all:", "looks like YAML", id="yaml"),
    ],
)
def test_problem_names_line_number_and_content(text, num, content, reason):
    found = problems(text)
    prefix = f"nodes.txt line {num}: {content!r}: "
    assert any(problem.startswith(prefix) and reason in problem for problem in found), found


def test_duplicate_public_names_both_lines():
    text = "203.0.113.1 10.0.0.1\n203.0.113.2 10.0.0.2\n203.0.113.1 10.0.0.3\n"
    assert problems(text) == [
        "nodes.txt line 3: '203.0.113.1 10.0.0.3': public address 203.0.113.1 is already on line 1 "
        "('203.0.113.1 10.0.0.1')"]


def test_duplicate_private_names_both_lines():
    text = "Public Private\n203.0.113.1 10.0.0.1\n203.0.113.2 10.0.0.2\n203.0.113.3\t10.0.0.2  # copy?\n"
    assert problems(text) == [
        "nodes.txt line 4: '203.0.113.3\\t10.0.0.2  # copy?': private address 10.0.0.2 is already on line 3 "
        "('203.0.113.2 10.0.0.2')"]


def test_duplicate_same_line_and_same_box_both_columns():
    found = problems("203.0.113.1:10.0.0.1 203.0.113.1:10.0.0.2\n")
    assert found == ["nodes.txt line 1: '203.0.113.1:10.0.0.1 203.0.113.1:10.0.0.2': public address "
                     "203.0.113.1 is already on this line"]


def test_duplicate_normalized_v6():
    found = problems("2001:db8::1 fd00::1\n2001:DB8:0::1 fd00::2\n")
    assert found == ["nodes.txt line 2: '2001:DB8:0::1 fd00::2': public address 2001:db8::1 is already on "
                     "line 1 ('2001:db8::1 fd00::1')"]


def test_columns_shifted_one_box_public_is_another_private():
    found = problems("203.0.113.1 10.0.0.1\n10.0.0.1 10.0.0.2\n")
    assert found == ["nodes.txt line 2: '10.0.0.1 10.0.0.2': public address 10.0.0.1 is the private address "
                     "on line 1 ('203.0.113.1 10.0.0.1')"]


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing yet\n\n  # \n", "Public IP  Private IP\n|---|---|\n",
                                  "\ufeff\r\n"])
def test_empty(text):
    assert problems(text, "boxes.csv") == [
        "boxes.csv: no address pairs "
        "(expected PUBLIC PRIVATE or PUBLIC:PRIVATE, one box a line, the head first)"]


def test_every_problem_at_once_in_line_order():
    text = (
        "Public IP   Private IP\n"          # 1 header
        "203.0.113.1 10.0.0.1\n"            # 2
        "203.0.113.300 10.0.0.4\n"          # 3 bad public
        "203.0.113.6\n"                     # 4 no private
        "203.0.113.1 10.0.0.7\n"            # 5 duplicate public (of 2)
        "203.0.113.8 10.0.0.1 gpu\n"        # 6 three columns
        "203.0.113.9 10.0.0.1\n"            # 7 duplicate private (of 2)
        "127.0.0.1 10.0.0.10\n"             # 8 loopback
    )
    found = problems(text)
    lines = [problem.split(":", 1)[0] for problem in found]
    assert lines == [f"nodes.txt line {num}" for num in (3, 4, 5, 6, 7, 8)]
    assert found[0] == "nodes.txt line 3: '203.0.113.300 10.0.0.4': '203.0.113.300' is not an IP address"
    assert found[1] == ("nodes.txt line 4: '203.0.113.6': no private address "
                        "(expected PUBLIC PRIVATE or PUBLIC:PRIVATE)")
    assert "line 2 ('203.0.113.1 10.0.0.1')" in found[2] and "line 2 ('203.0.113.1 10.0.0.1')" in found[4]


def test_long_line_is_shortened_in_the_message():
    found = problems("203.0.113.1 " + "x" * 300 + "\n")
    assert len(found[0]) < 300 and found[0].count("...'") == 2


def test_source_names_the_file():
    assert problems("203.0.113.6\n", "rented-may.txt")[0].startswith("rented-may.txt line 1: '203.0.113.6': ")


# ---------------------------------------------------------------- names and text


def test_host_names():
    pairs = parse_pairs("203.0.113.1 10.0.0.1\n203.0.113.2 10.0.0.2\n203.0.113.3 10.0.0.3\n")
    assert host_names(pairs) == ["rental0", "rental1", "rental2"]
    assert host_names(pairs, "gpu-") == ["gpu-0", "gpu-1", "gpu-2"]
    assert host_names([], "x") == []


@pytest.mark.parametrize("prefix", ["", "9box", "box_", "box.a", "b" * 57, None])
def test_host_name_prefix_refused(prefix):
    with pytest.raises(RentalPairsError, match="prefix"):
        host_names([{"line": 1, "public": "203.0.113.1", "private": "10.0.0.1"}], prefix)


@pytest.mark.parametrize(
    "data",
    [
        b"203.0.113.1\t10.0.0.1\r\n",
        "\ufeff203.0.113.1\t10.0.0.1\r\n".encode(),
        "203.0.113.1\t10.0.0.1\r\n".encode("utf-16"),  # with its BOM, as Windows editors save "Unicode"
        "203.0.113.1\t10.0.0.1\r\n".encode("utf-16-be").join([b"\xfe\xff", b""]),
    ],
)
def test_decode_text(data):
    assert addresses(parse_pairs(decode_text(data))) == [("203.0.113.1", "10.0.0.1")]


def test_decode_text_refuses_binary():
    with pytest.raises(RentalPairsError, match=r"^nodes.bin: not UTF-8 or UTF-16 text"):
        decode_text(b"\x89PNG\r\n\x1a\n\xff\xfe\xfd", "nodes.bin")
