"""tmux_layout: the head window, then the nodes four panes a window; tmux's listing read and compared.

The listing lines are tmux 3.3a's (Debian 12), ``list-panes -a -F LIST_FORMAT`` on a session the module
made: tmux shows a start command of one argument in double quotes with ``\\"`` and ``\\$`` escaped.
"""

from __future__ import annotations

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils.tmux_layout import (
    LIST_FORMAT,
    TmuxLayoutError,
    compare,
    expected_panes,
    layout,
    parse_panes,
    unquote,
    worker_command,
)

LOGS = "/home/ubuntu/gpuforge-logs/tmux"
W1 = "sh -c 'ssh worker1; exec \"${SHELL:-/bin/sh}\" -l'"


def cluster(count):
    nodes = [{"alias": "head", "address": "10.0.0.10", "head": True}]
    return nodes + [{"alias": f"worker{i}", "address": f"10.0.0.{10 + i}"} for i in range(1, count)]


def shape(windows):
    return [(w["window"], len(w["panes"])) for w in windows]


def test_three_nodes_share_one_window():
    windows = layout(cluster(3), LOGS)
    assert shape(windows) == [("head", 1), ("all-nodes", 3)]
    assert windows[0]["panes"] == [{"title": "head 10.0.0.10", "command": None, "log": f"{LOGS}/head.0.log"}]
    assert windows[1]["panes"] == [
        {"title": "head 10.0.0.10", "command": None, "log": f"{LOGS}/all-nodes.0.log"},
        {"title": "worker1 10.0.0.11", "command": W1, "log": f"{LOGS}/all-nodes.1.log"},
        {"title": "worker2 10.0.0.12", "command": W1.replace("worker1", "worker2"),
         "log": f"{LOGS}/all-nodes.2.log"},
    ]


def test_four_nodes_still_one_window():
    assert shape(layout(cluster(4), LOGS)) == [("head", 1), ("all-nodes", 4)]


def test_five_nodes_make_two_windows_of_four_and_one():
    windows = layout(cluster(5), LOGS)
    assert shape(windows) == [("head", 1), ("nodes-1", 4), ("nodes-2", 1)]
    assert [p["title"] for p in windows[1]["panes"]] == [
        "head 10.0.0.10", "worker1 10.0.0.11", "worker2 10.0.0.12", "worker3 10.0.0.13"]
    assert windows[2]["panes"] == [{"title": "worker4 10.0.0.14", "command": W1.replace("worker1", "worker4"),
                                    "log": f"{LOGS}/nodes-2.0.log"}]


def test_eight_nodes_make_two_full_windows():
    windows = layout(cluster(8), LOGS)
    assert shape(windows) == [("head", 1), ("nodes-1", 4), ("nodes-2", 4)]
    assert [p["log"] for p in windows[2]["panes"]] == [f"{LOGS}/nodes-2.{i}.log" for i in range(4)]
    assert shape(layout(cluster(9), LOGS))[-1] == ("nodes-3", 1)


def test_head_anywhere_in_the_list_keeps_node_order():
    nodes = cluster(3)
    nodes = [nodes[1], nodes[0], nodes[2]]
    windows = layout(nodes, LOGS)
    assert [p["title"].split()[0] for p in windows[1]["panes"]] == ["worker1", "head", "worker2"]
    assert windows[0]["panes"][0]["title"] == "head 10.0.0.10"


def test_single_node_cluster():
    assert shape(layout(cluster(1), LOGS)) == [("head", 1), ("all-nodes", 1)]


def test_worker_command_quotes_odd_aliases():
    assert worker_command("worker1") == W1
    assert worker_command("a b") == "sh -c 'ssh '\"'\"'a b'\"'\"'; exec \"${SHELL:-/bin/sh}\" -l'"


@pytest.mark.parametrize(("nodes", "message"), [
    ([], "no nodes"),
    ([{"alias": "a", "address": "10.0.0.1"}], "exactly one node must be the head, got 0"),
    ([{"alias": "a", "address": "1", "head": True}, {"alias": "b", "address": "2", "head": True}],
     "got 2"),
    ([{"alias": "a", "address": "1", "head": True}, {"alias": "a", "address": "2"}],
     "alias a is given twice"),
    ([{"alias": "a", "head": True}], "needs an alias and an address"),
    (["head"], "node 0 is str"),
])
def test_bad_nodes(nodes, message):
    with pytest.raises(TmuxLayoutError, match=message):
        layout(nodes, LOGS)


# tmux 3.3a, Debian 12: list-panes -a -F LIST_FORMAT after the module made the session for 3 nodes; a second
# session of the user's ("scratch") on the same server.
LISTED = (
    "multinode\thead\t0\thead 10.0.0.10\t\n"
    "multinode\tall-nodes\t0\thead 10.0.0.10\t\n"
    "multinode\tall-nodes\t1\tworker1 10.0.0.11\t"
    "\"sh -c 'ssh worker1; exec \\\"\\${SHELL:-/bin/sh}\\\" -l'\"\n"
    "multinode\tall-nodes\t2\tworker2 10.0.0.12\t"
    "\"sh -c 'ssh worker2; exec \\\"\\${SHELL:-/bin/sh}\\\" -l'\"\n"
    "scratch\tbash\t0\tvm\t\n"
)


def test_list_format_asks_for_the_five_fields():
    assert LIST_FORMAT == ("#{session_name}\t#{window_name}\t#{pane_index}\t#{pane_title}"
                           "\t#{pane_start_command}")


def test_parse_panes():
    panes = parse_panes(LISTED)
    assert panes[0] == {"session": "multinode", "window": "head", "index": 0, "title": "head 10.0.0.10",
                        "command": None}
    assert panes[2] == {"session": "multinode", "window": "all-nodes", "index": 1,
                        "title": "worker1 10.0.0.11", "command": W1}
    assert panes[4]["session"] == "scratch"
    assert parse_panes("") == []


def test_parse_panes_names_a_bad_line():
    with pytest.raises(TmuxLayoutError, match=r"line 1 .*'no tabs here'"):
        parse_panes("no tabs here\n")


@pytest.mark.parametrize(("shown", "command"), [
    ('"sh -c \'echo a\\tb; sleep 100\'"', "sh -c 'echo a\tb; sleep 100'"),
    ("'say \"hi\"'", 'say "hi"'),
    ("top", "top"),
    ('"x\\101y"', "xAy"),
    ("", ""),
])
def test_unquote(shown, command):
    assert unquote(shown) == command


def test_a_session_made_from_the_layout_matches():
    windows = layout(cluster(3), LOGS)
    assert compare(windows, parse_panes(LISTED), "multinode") == []
    assert compare(windows, expected_panes(windows, "multinode"), "multinode") == []


def test_pane_base_index_one_still_matches():
    listed = [dict(p, index=p["index"] + 1) for p in parse_panes(LISTED)]
    assert compare(layout(cluster(3), LOGS), listed, "multinode") == []


def test_missing_session():
    windows = layout(cluster(3), LOGS)
    assert compare(windows, parse_panes(LISTED), "other") == ["session other does not exist"]
    assert compare(windows, []) == ["no session"]


def test_differences_are_each_named():
    panes = parse_panes(LISTED)
    del panes[3]  # worker2's pane closed
    panes[2]["title"] = "ubuntu@worker1: ~"  # a shell set the title
    panes[0]["window"] = "bash"  # the head window renamed
    panes.append({"session": "multinode", "window": "train", "index": 0, "title": "vm",
                  "command": "python t.py"})
    assert compare(layout(cluster(3), LOGS), panes, "multinode") == [
        "window head is missing",
        "window all-nodes has 2 panes, expected 3",
        "window all-nodes pane 1: title 'ubuntu@worker1: ~', expected 'worker1 10.0.0.11'",
        "window bash is not in the layout",
        "window train is not in the layout",
    ]


def test_a_changed_command_is_a_difference():
    panes = parse_panes(LISTED)
    panes[3]["command"] = None
    assert compare(layout(cluster(3), LOGS), panes, "multinode") == [
        f"window all-nodes pane 2: command None, expected {W1.replace('worker1', 'worker2')!r}"]
