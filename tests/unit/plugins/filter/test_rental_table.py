"""rental_table and rental_quick_access: the rental playbook's closing summary (no Jinja loops)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter.rental import (
    FilterModule,
    rental_quick_access,
    rental_table,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.rental_report import gpus_cell, status_cell


def row(node, public, private, status="ok", **extra):
    base = {"node": node, "public": public, "private": private, "user": "ubuntu", "gpus": 1,
            "gpu_name": "H100", "driver": "550.127.05", "docker": "27.3.1", "ray": "2.40.0", "status": status}
    return {**base, **extra}


ROWS = [
    row("rental0", "203.0.113.10", "10.0.0.10", gpus=8, gpu_name="H100 80GB HBM3"),
    row("rental1", "203.0.113.11", "10.0.0.11", status="nvidia-smi: No devices were found", gpus=0,
        gpu_name=None, driver=None, ray=None),
    row("rental2", "203.0.113.12", "10.0.0.12"),
]


def test_table_is_aligned_with_failures_last():
    assert rental_table(ROWS) == [
        "node     public        private    user    GPUs               driver      Docker  Ray     status",
        "rental0  203.0.113.10  10.0.0.10  ubuntu  8x H100 80GB HBM3  550.127.05  27.3.1  2.40.0  ok",
        "rental2  203.0.113.12  10.0.0.12  ubuntu  1x H100            550.127.05  27.3.1  2.40.0  ok",
        "rental1  203.0.113.11  10.0.0.11  ubuntu  -                  -           27.3.1  -       "
        "nvidia-smi: No devices were found",
    ]


def test_input_order_kept_within_each_group():
    rows = [row("b", "1.1.1.2", "10.0.0.2", status="down"), row("a", "1.1.1.1", "10.0.0.1"),
            row("d", "1.1.1.4", "10.0.0.4", status="unreachable"),
            row("c", "1.1.1.3", "10.0.0.3", status="OK")]
    assert [line.split()[0] for line in rental_table(rows)] == ["node", "a", "c", "b", "d"]


def test_missing_values_show_as_dash_and_no_trailing_spaces():
    lines = rental_table([{"node": "rental0", "status": "ok"}, {"node": "rental1"}])
    assert lines[1].split() == ["rental0", "-", "-", "-", "-", "-", "-", "-", "ok"]
    assert lines[2].split() == ["rental1"] + ["-"] * 8  # no status: not ok, so after the ok rows
    assert all(line == line.rstrip() for line in lines)


def test_long_and_multiline_status_is_one_line_of_sixty():
    reason = ("apt-get install failed:\n"
              "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1234")
    line = rental_table([row("rental0", "203.0.113.10", "10.0.0.10", status=reason)])[1]
    status = line.split("2.40.0  ", 1)[1]
    assert len(status) == 60 and status.endswith("...")
    assert status == "apt-get install failed: E: Could not get lock /var/lib/dp..."
    assert status_cell("x" * 60) == "x" * 60


@pytest.mark.parametrize(("count", "name", "cell"), [
    (1, "H100", "1x H100"), (8, None, "8"), (0, "H100", "-"), (None, "H100", "-"), ("2", "A100", "2x A100"),
    (True, "H100", "-"),
])
def test_gpus_cell(count, name, cell):
    assert gpus_cell(count, name) == cell


def test_booleans_and_empty_table():
    lines = rental_table([row("rental0", "p", "q", docker=True, ray=False)])
    assert lines[1].split()[7:9] == ["yes", "no"]  # GPUs "1x H100" is two words
    assert rental_table([]) == [
        "node  public  private  user  GPUs  driver  Docker  Ray  status"]


@pytest.mark.parametrize("bad", ["rental0", {"node": "rental0"}, None, 3])
def test_table_wants_a_list_of_dicts(bad):
    with pytest.raises(AnsibleFilterError, match="rental_table: expects a list of row dicts"):
        rental_table(bad)
    with pytest.raises(AnsibleFilterError, match="row 1 is str"):
        rental_table([ROWS[0], "rental1"])


def test_quick_access_lines():
    assert rental_quick_access(ROWS, "ubuntu@203.0.113.10") == [
        "ssh ubuntu@203.0.113.10                              # a shell on the head",
        "ssh -t ubuntu@203.0.113.10 tmux attach -t multinode  # the tmux session: one pane per node",
        "ssh ubuntu@203.0.113.10 ray status                   # the Ray cluster's nodes and resources",
        "ssh ubuntu@203.0.113.10                              # rental0",
        "ssh ubuntu@203.0.113.11                              "
        "# rental1 (failed: nvidia-smi: No devices were found)",
        "ssh ubuntu@203.0.113.12                              # rental2",
    ]


def test_quick_access_session_note_and_quoting():
    rows = [{"node": "rental0", "public": "203.0.113.10", "status": "ok"},
            {"node": "rental1", "public": None}]
    note = "worker1..N in ~/.ssh/config on the head are the private addresses"
    lines = rental_quick_access(rows, "gpu-head", session="my run", config_note=note)
    assert lines == [
        "ssh gpu-head                             # a shell on the head",
        "ssh -t gpu-head tmux attach -t 'my run'  # the tmux session: one pane per node",
        "ssh gpu-head ray status                  # the Ray cluster's nodes and resources",
        "ssh 203.0.113.10                         # rental0",
        "# worker1..N in ~/.ssh/config on the head are the private addresses",
    ]
    assert len(rental_quick_access([], "h")) == 3


def test_quick_access_needs_a_head():
    with pytest.raises(AnsibleFilterError, match="rental_quick_access: no head given"):
        rental_quick_access(ROWS, "")


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"rental_table", "rental_quick_access"}
