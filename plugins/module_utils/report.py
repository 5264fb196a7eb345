# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The validation report: what a run checked and measured, as JSON, Markdown and a self-contained HTML page.

Pure functions. ``build_report`` takes what the ``gpuforge.cluster.validation_report`` callback saw of each task
result (one *observation* per task and host, see ``observation``) and returns the report (report.schema.json
in docs/); ``render_markdown`` and ``render_html`` draw it; ``compare`` says what got slower or started failing
since an earlier report of the same cluster. The HTML has no script and fetches nothing: tables, and charts
drawn as inline SVG (NCCL busbw against message size with the expected floor, RDMA against TCP per host pair,
DDP samples/s on one node and on all with the scaling efficiency).

Where checks come from (each one a row: name, role, hosts, verdict pass/fail/skipped, reason, value, unit,
expectation, detail):
- an ``assert`` task: pass or fail with its message; skipped with the condition that was false;
- a result carrying ``checks`` (``nccl_tests``) or a fact carrying ``verdicts`` per row (``rdma_network_pairs``):
  one row per entry, ``ok`` null = skipped, its ``msg`` the reason;
- ``gpuforge.cluster.check_skipped``: a check that did not run and why (no torch wheel, no GPU, no RDMA);
- any other task that failed, or a host that became unreachable: a failed row (the run stopped there).
"""

from __future__ import annotations

import html
import math
from typing import Any

SCHEMA_ID = "https://gpuforge.example/schemas/report-v1.json"
VERDICTS = ("fail", "skipped", "pass")  # the order rows are shown in
# A measured value is "slower" when it fell by more than this fraction against the previous report.
SLOWER_FRACTION = 0.10

# Keys of a task result (or of its ansible_facts) that the report reads; everything else is dropped by the
# callback before it keeps an observation (results can be large and may hold what no report needs).
RESULT_KEYS = ("msg", "checks", "result", "skipped_check", "versions", "skip_reason", "false_condition",
               "busbw_max_size_gbps", "size_max_bytes", "expectation", "min_busbw_gbps")
FACT_KEYS = ("nvidia_smi", "ibstat", "rdma_network_pairs", "munge_slurm_ddp_runs", "gpuforge_node")
# Modules that fail on the state they check (not only on a broken tool): a successful run is a passed check.
JUDGES = ("gpuforge.cluster.ssh_probe", "gpuforge.cluster.resolve_names", "gpuforge.cluster.peer_ping",
          "gpuforge.cluster.munge_decode", "gpuforge.cluster.mpi_hello", "gpuforge.cluster.slurm_gres_check",
          "gpuforge.cluster.bmc_probe")
QUIET = ("All assertions passed", "All items completed")
PAIR_KEYS = ("pair", "link_rate_gbps", "rdma_gbps", "tcp_gbps", "rdma_lat_us", "tcp_lat_us")
# The module's arguments, where ansible-core passes them on (``invocation``; newer ones do not: the modules the
# report reads return what they were judged against themselves).
ARG_KEYS = ("expectation", "hosts", "min_busbw_gbps")


def _short_action(action: str) -> str:
    return action.rsplit(".", 1)[-1] if action.startswith(("ansible.builtin.", "ansible.legacy.")) else action


def observation(task: str, role: str | None, host: str, status: str, action: str, result: dict[str, Any],
                module_args: dict[str, Any] | None = None, no_log: bool = False) -> dict[str, Any]:
    """What the callback keeps of one task result: its identity, status and the keys the report reads."""
    kept: dict[str, Any] = {}
    if not no_log:
        kept = {k: result[k] for k in RESULT_KEYS if result.get(k) not in (None, "", [])}
        facts = result.get("ansible_facts") or {}
        kept.update({k: facts[k] for k in FACT_KEYS if facts.get(k) is not None})
        args = module_args or {}
        kept.update({"arg_" + k: args[k] for k in ARG_KEYS if args.get(k) not in (None, "", [])})
        if action.endswith("slurm_info") and isinstance(result.get("nodes"), list):
            kept["slurm_nodes"] = {n.get("NodeName"): "+".join([n.get("state") or "?", *(n.get("flags") or [])])
                                   for n in result["nodes"] if isinstance(n, dict) and n.get("NodeName")}
    elif result.get("msg"):
        kept["msg"] = "(output hidden: no_log)"
    return {"task": task, "role": role or None, "host": host, "status": status, "action": _short_action(action),
            "data": kept}


def _verdict(ok: Any) -> str:
    return "skipped" if ok is None else ("pass" if ok else "fail")


def _check(name: str, role: str | None, hosts: list[str], verdict: str, reason: str | None = None,
           detail: str | None = None, value: float | None = None, unit: str | None = None,
           expect: str | None = None) -> dict[str, Any]:
    return {"name": name, "role": role, "hosts": sorted(set(hosts)), "verdict": verdict, "reason": reason,
            "value": value, "unit": unit, "expect": expect, "detail": detail}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    value = str(value).strip()
    return value or None


def _skip_reason(data: dict[str, Any]) -> str:
    if data.get("false_condition"):
        return f"condition false: {data['false_condition']}"
    return _text(data.get("skip_reason")) or "skipped"


def _checks_of(obs: dict[str, Any]) -> list[dict[str, Any]]:
    data, status, role, host = obs["data"], obs["status"], obs["role"], obs["host"]
    task, action = obs["task"], obs["action"]
    if status == "unreachable":
        return [_check(f"{task} (host unreachable)", role, [host], "fail", detail=_text(data.get("msg")))]
    if data.get("skipped_check"):
        skipped = data["skipped_check"]
        return [_check(skipped["name"], role, [host], "skipped", reason=skipped["reason"])]
    rows = []
    if data.get("checks"):
        expect = data.get("expectation") or data.get("arg_expectation") or {}
        least_busbw = data.get("min_busbw_gbps", data.get("arg_min_busbw_gbps"))
        for entry in data["checks"]:
            value = unit = limit = None
            if entry.get("name") in ("busbw", "busbw floor") and data.get("busbw_max_size_gbps") is not None:
                value, unit = data["busbw_max_size_gbps"], "GB/s"
                least = expect.get("floor_gbps") if entry["name"] == "busbw floor" else least_busbw
                limit = f">= {least} GB/s" if least is not None and entry.get("ok") is not None else None
            verdict = _verdict(entry.get("ok"))
            msg = _text(entry.get("msg"))
            rows.append(_check(f"{task}: {entry.get('name')}", role, [host], verdict, value=value, unit=unit,
                               expect=limit, detail=msg, reason=msg if verdict == "skipped" else None))
    pairs = data.get("rdma_network_pairs")
    if isinstance(pairs, dict):
        for row in pairs.get("rows") or []:
            for v in row.get("verdicts") or []:
                verdict = _verdict(v.get("ok"))
                msg = _text(v.get("msg"))
                rows.append(_check(f"{row['pair']}: {v.get('name')}", role, [host], verdict, detail=msg,
                                   reason=msg if verdict == "skipped" else None))
    if rows:
        if status == "failed" and all(r["verdict"] != "fail" for r in rows):
            rows.append(_check(task, role, [host], "fail", detail=_text(data.get("msg"))))
        return rows
    if action == "assert" or (action in JUDGES and status != "skipped"):
        if status == "skipped":
            return [_check(task, role, [host], "skipped", reason=_skip_reason(data))]
        msg = _text(data.get("msg"))
        if msg in QUIET:
            msg = None
        return [_check(task, role, [host], "fail" if status == "failed" else "pass", detail=msg)]
    if status == "failed":
        return [_check(task, role, [host], "fail", detail=_text(data.get("msg")))]
    return []


def _merge_hosts(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per check and outcome: the same check with the same verdict and text on several hosts (or
    run_once) is one row listing the hosts."""
    merged: dict[tuple, dict[str, Any]] = {}
    for c in checks:
        key = (c["name"], c["role"], c["verdict"], c["reason"], c["detail"], c["value"], c["expect"])
        if key in merged:
            merged[key]["hosts"] = sorted(set(merged[key]["hosts"]) | set(c["hosts"]))
        else:
            merged[key] = dict(c)
    return list(merged.values())


def _nccl_runs(observations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    runs = []
    for obs in observations:
        data = obs["data"]
        parsed = data.get("result")
        if obs["action"] != "gpuforge.cluster.nccl_tests" or not isinstance(parsed, dict) or not parsed.get("rows"):
            continue
        expect = data.get("expectation") or data.get("arg_expectation") or {}
        points = []
        for row in parsed["rows"]:
            busbw = row.get("oop_busbw_gbps")
            if busbw is None:
                busbw = row.get("ip_busbw_gbps")
            if row.get("size_bytes") is None or busbw is None:
                continue
            points.append({"size_bytes": row["size_bytes"], "busbw_gbps": busbw,
                           "time_us": row.get("oop_time_us")})
        failed = [c for c in data.get("checks") or [] if c.get("ok") is False]
        runs.append({"name": obs["task"], "host": obs["host"], "hosts": data.get("arg_hosts") or [obs["host"]],
                     "ranks": len(parsed.get("ranks") or []) or None, "floor_gbps": expect.get("floor_gbps"),
                     "transports": parsed.get("transports") or [], "avg_busbw_gbps": parsed.get("avg_busbw_gbps"),
                     "verdict": "fail" if failed or obs["status"] == "failed" else "pass", "points": points})
    return runs


def _network(observations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for obs in observations:
        pairs = obs["data"].get("rdma_network_pairs")
        for row in (pairs or {}).get("rows") or []:
            rows[row["pair"]] = {k: row.get(k) for k in PAIR_KEYS}
    return list(rows.values())


def _ddp(observations: list[dict[str, Any]]) -> dict[str, Any] | None:
    runs = None
    for obs in observations:
        if obs["data"].get("munge_slurm_ddp_runs"):
            runs = obs["data"]["munge_slurm_ddp_runs"]
    if not runs:
        return None
    runs = sorted(({"nodes": r["nodes"], "samples_per_s": r.get("samples_per_s")} for r in runs),
                  key=lambda r: r["nodes"])
    one = next((r for r in runs if r["nodes"] == 1), None)
    top = runs[-1]
    efficiency = None
    if one and top["nodes"] > 1 and one.get("samples_per_s"):
        efficiency = round(top["samples_per_s"] / (top["nodes"] * one["samples_per_s"]), 3)
    return {"runs": runs, "scaling_efficiency": efficiency}


def _nodes(observations: list[dict[str, Any]], hosts: list[str]) -> list[dict[str, Any]]:
    nodes = {h: {"host": h, "os": None, "kernel": None, "gpus": [], "driver": None, "cuda": None, "nccl": None,
                 "hcas": [], "slurm_state": None, "ray": None, "versions": {}} for h in hosts}
    for obs in observations:
        node = nodes.get(obs["host"])
        data = obs["data"]
        if node is None or obs["status"] != "ok":
            continue
        versions = data.get("versions")
        if isinstance(versions, dict):
            node["versions"] = {k: v for k, v in versions.items() if k != "packages" and v is not None}
            for key, field in (("os", "os"), ("kernel", "kernel"), ("driver", "driver"), ("nccl", "nccl"),
                               ("ray", "ray")):
                node[key] = versions.get(field) or node[key]
            node["cuda"] = versions.get("cuda_toolkit") or versions.get("cuda_driver") or node["cuda"]
        smi = data.get("nvidia_smi")
        if isinstance(smi, dict):
            node["gpus"] = [{"name": g.get("name"), "memory_mib": g.get("memory_total_mib")}
                            for g in smi.get("gpus") or []]
            node["driver"] = node["driver"] or smi.get("driver_version")
            node["cuda"] = node["cuda"] or smi.get("cuda_version")
        ibstat = data.get("ibstat")
        if isinstance(ibstat, dict):
            node["hcas"] = [{"name": ca, "port": port, "state": p.get("state"), "rate_gbps": p.get("rate"),
                             "rate_note": p.get("rate_note")}
                            for ca, info in sorted(ibstat.items()) if isinstance(info, dict)
                            for port, p in sorted((info.get("ports") or {}).items())]
    return [nodes[h] for h in hosts]


def _slurm_states(observations: list[dict[str, Any]], nodes: list[dict[str, Any]]) -> None:
    """Each node's Slurm state as the last ``slurm_info`` saw it, by its cluster name (``gpuforge_node``)."""
    states: dict[str, str] = {}
    names: dict[str, str] = {}
    for obs in observations:
        for name, state in (obs["data"].get("slurm_nodes") or {}).items():
            states.setdefault(name, state)  # the first look: before the validation's own test jobs
        node_fact = obs["data"].get("gpuforge_node")
        if isinstance(node_fact, dict) and node_fact.get("name"):
            names[obs["host"]] = node_fact["name"]
    for node in nodes:
        node["slurm_state"] = states.get(names.get(node["host"], node["host"]))


def _ran_elsewhere(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Leave out the hosts where a check was skipped by its condition while it ran on others (a check made
    once, on the first host): it was not left undone. A check_skipped row stays."""
    ran = {c["name"] for c in checks if c["verdict"] != "skipped"}
    return [c for c in checks if not (c["verdict"] == "skipped" and c["name"] in ran
                                      and (c["reason"] or "").startswith("condition false: "))]


def build_report(observations: list[dict[str, Any]], cluster: str, created: str, playbook: str,
                 hosts: list[str], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report of one playbook run. ``hosts``: the inventory hosts the run reached (node table order)."""
    checks = _merge_hosts(_ran_elsewhere([c for obs in observations for c in _checks_of(obs)]))
    checks.sort(key=lambda c: VERDICTS.index(c["verdict"]))  # stable: in run order within a verdict
    nodes = _nodes(observations, hosts)
    _slurm_states(observations, nodes)
    report = {
        "$schema": SCHEMA_ID, "schema_version": 1, "cluster": cluster, "created": created, "playbook": playbook,
        "summary": {v: sum(c["verdict"] == v for c in checks) for v in ("pass", "fail", "skipped")},
        "checks": checks, "nodes": nodes, "nccl": _nccl_runs(observations), "network": _network(observations),
        "ddp": _ddp(observations), "comparison": None,
    }
    report["verdict"] = "fail" if report["summary"]["fail"] else "pass"
    if previous is not None:
        report["comparison"] = compare(report, previous)
    return report


def _figures(report: dict[str, Any]) -> dict[str, tuple[float, bool]]:
    """Measured figures by name: (value, higher is better)."""
    out: dict[str, tuple[float, bool]] = {}
    for run in report.get("nccl") or []:
        if run["points"]:
            top = max(run["points"], key=lambda p: p["size_bytes"])
            out[f"NCCL {run['name']} on {run['host']}: busbw at {top['size_bytes']} B (GB/s)"] = (
                top["busbw_gbps"], True)
    for row in report.get("network") or []:
        for key, label, higher in (("rdma_gbps", "RDMA Gb/s", True), ("tcp_gbps", "TCP Gb/s", True),
                                   ("rdma_lat_us", "RDMA latency us", False), ("tcp_lat_us", "TCP latency us", False)):
            if row.get(key) is not None:
                out[f"{row['pair']}: {label}"] = (row[key], higher)
    for run in (report.get("ddp") or {}).get("runs") or []:
        if run.get("samples_per_s") is not None:
            out[f"DDP on {run['nodes']} node(s): samples/s"] = (run["samples_per_s"], True)
    return out


def compare(report: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """What started failing and what got slower (by more than SLOWER_FRACTION) against ``previous``."""
    def verdicts(rep: dict[str, Any]) -> dict[str, str]:
        out: dict[str, str] = {}
        for c in rep.get("checks") or []:
            # A check that failed on any host counts as failed.
            if out.get(c["name"]) != "fail":
                out[c["name"]] = c["verdict"]
        return out

    now, before = verdicts(report), verdicts(previous)
    new_failures = sorted(n for n, v in now.items() if v == "fail" and before.get(n) != "fail")
    fixed = sorted(n for n, v in now.items() if v == "pass" and before.get(n) == "fail")
    slower = []
    old = _figures(previous)
    for name, (value, higher) in sorted(_figures(report).items()):
        if name not in old or not old[name][0]:
            continue
        was = old[name][0]
        change = (value - was) / abs(was)
        if (higher and change < -SLOWER_FRACTION) or (not higher and change > SLOWER_FRACTION):
            slower.append({"name": name, "before": was, "now": value, "change_pct": round(change * 100, 1)})
    return {"previous": previous.get("created"), "new_failures": new_failures, "fixed": fixed, "slower": slower}


# ---------------------------------------------------------------- Markdown


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"
    return str(value)


def _cell(value: Any) -> str:
    return _fmt(value).replace("|", "\\|").replace("\n", " ")


def _gpus(node: dict[str, Any]) -> str:
    if not node["gpus"]:
        return "-"
    names: dict[str, int] = {}
    for g in node["gpus"]:
        names[g["name"]] = names.get(g["name"], 0) + 1
    return ", ".join(f"{n}x {name}" for name, n in names.items())


def _hcas(node: dict[str, Any]) -> str:
    return ", ".join(f"{h['name']}/{h['port']} {h['state']} {_fmt(h['rate_gbps'])} Gb/s"
                     + (f" ({h['rate_note']})" if h.get("rate_note") else "") for h in node["hcas"]) or "-"


NODE_COLUMNS = (("host", "Host"), ("os", "OS"), ("kernel", "Kernel"), ("gpus", "GPUs"), ("driver", "Driver"),
                ("cuda", "CUDA"), ("nccl", "NCCL"), ("hcas", "HCAs"), ("slurm_state", "Slurm"), ("ray", "Ray"))


def _node_cells(node: dict[str, Any]) -> list[str]:
    return [_gpus(node) if k == "gpus" else _hcas(node) if k == "hcas" else _fmt(node.get(k))
            for k, _title in NODE_COLUMNS]


def _value(check: dict[str, Any]) -> str:
    return "-" if check["value"] is None else f"{_fmt(check['value'])} {check['unit'] or ''}".strip()


def render_markdown(report: dict[str, Any]) -> str:
    s = report["summary"]
    lines = [f"# Validation report: {report['cluster']}", "",
             f"{report['created']}, {report['playbook']}: **{report['verdict'].upper()}** - {s['pass']} passed, "
             f"{s['fail']} failed, {s['skipped']} skipped", ""]
    comp = report.get("comparison")
    if comp:
        lines += [f"## Since the previous report ({comp['previous']})", ""]
        lines += [f"- started failing: {n}" for n in comp["new_failures"]]
        lines += [f"- slower: {x['name']}: {_fmt(x['before'])} -> {_fmt(x['now'])} ({x['change_pct']:+g}%)"
                  for x in comp["slower"]]
        lines += [f"- fixed: {n}" for n in comp["fixed"]]
        if not (comp["new_failures"] or comp["slower"] or comp["fixed"]):
            lines.append("- nothing started failing or got slower")
        lines.append("")
    lines += ["## Nodes", "", "| " + " | ".join(t for _k, t in NODE_COLUMNS) + " |",
              "|" + "---|" * len(NODE_COLUMNS)]
    lines += ["| " + " | ".join(_cell(c) for c in _node_cells(n)) + " |" for n in report["nodes"]]
    lines += ["", "## Checks", "", "| Verdict | Check | Role | Hosts | Value | Expected | Detail |",
              "|---|---|---|---|---|---|---|"]
    for c in report["checks"]:
        detail = c["reason"] if c["verdict"] == "skipped" else c["detail"]
        lines.append("| " + " | ".join(_cell(x) for x in (
            c["verdict"].upper(), c["name"], c["role"], ", ".join(c["hosts"]), _value(c), c["expect"], detail)) + " |")
    if report["nccl"]:
        lines += ["", "## NCCL bus bandwidth (GB/s) by message size", ""]
        for run in report["nccl"]:
            lines += [f"### {run['name']} on {run['host']} ({run['verdict']}; floor {_fmt(run['floor_gbps'])} GB/s;"
                      f" {', '.join(run['transports']) or 'transport not reported'})", "",
                      "| Bytes | busbw GB/s |", "|---:|---:|"]
            lines += [f"| {p['size_bytes']} | {_fmt(p['busbw_gbps'])} |" for p in run["points"]]
            lines.append("")
    if report["network"]:
        lines += ["", "## RDMA against TCP per host pair", "",
                  "| Pair | Link Gb/s | RDMA Gb/s | TCP Gb/s | RDMA lat us | TCP lat us |", "|---|---:|---:|---:|---:|---:|"]
        lines += ["| " + " | ".join(_cell(r[k]) for k in ("pair", "link_rate_gbps", "rdma_gbps", "tcp_gbps",
                                                          "rdma_lat_us", "tcp_lat_us")) + " |"
                  for r in report["network"]]
    if report["ddp"]:
        lines += ["", "## PyTorch DDP", "", "| Nodes | samples/s |", "|---:|---:|"]
        lines += [f"| {r['nodes']} | {_fmt(r.get('samples_per_s'))} |" for r in report["ddp"]["runs"]]
        lines += ["", f"Scaling efficiency: {_fmt(report['ddp']['scaling_efficiency'], 3)}"]
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------- HTML and SVG

W, H, LEFT, RIGHT, TOP, BOTTOM = 640, 300, 60, 20, 20, 44
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def _e(value: Any) -> str:
    return html.escape("-" if value is None else str(value), quote=True)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def _size_label(n: int) -> str:
    for unit, div in (("G", 2 ** 30), ("M", 2 ** 20), ("K", 2 ** 10)):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return str(n)


def nccl_chart(run: dict[str, Any]) -> str:
    """busbw against message size (log2 axis) for one run: one <circle class="point"> per row, the floor a
    dashed line."""
    pts = run["points"]
    sizes = [p["size_bytes"] for p in pts if p["size_bytes"] > 0]
    lo, hi = (math.log2(min(sizes)), math.log2(max(sizes))) if sizes else (0.0, 1.0)
    hi = hi if hi > lo else lo + 1
    ymax = _nice_max(max([p["busbw_gbps"] for p in pts] + [run["floor_gbps"] or 0]) * 1.05)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(size: int) -> float:
        return LEFT + (math.log2(max(size, 1)) - lo) / (hi - lo) * pw

    def y(v: float) -> float:
        return TOP + ph - v / ymax * ph

    out = [f'<svg class="chart nccl" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
           f'height="{H}" role="img" aria-label="NCCL busbw by message size: {_e(run["name"])}">',
           f'<line x1="{LEFT}" y1="{TOP + ph}" x2="{LEFT + pw}" y2="{TOP + ph}" class="axis"/>',
           f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + ph}" class="axis"/>']
    for i in range(5):
        v = ymax * i / 4
        out.append(f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" class="tick">{_fmt(v, 1)}</text>')
        out.append(f'<line x1="{LEFT}" y1="{y(v):.1f}" x2="{LEFT + pw}" y2="{y(v):.1f}" class="grid"/>')
    step = max(1, math.ceil((hi - lo) / 8))
    for e in range(int(lo), int(hi) + 1, step):
        out.append(f'<text x="{x(2 ** e):.1f}" y="{TOP + ph + 16}" text-anchor="middle" class="tick">'
                   f'{_size_label(2 ** e)}</text>')
    out.append(f'<text x="{LEFT + pw / 2}" y="{H - 6}" text-anchor="middle" class="label">message size (bytes)'
               '</text>')
    out.append(f'<text x="14" y="{TOP + ph / 2}" transform="rotate(-90 14 {TOP + ph / 2})" text-anchor="middle" '
               'class="label">busbw GB/s</text>')
    if run["floor_gbps"] is not None:
        out.append(f'<line class="floor" x1="{LEFT}" y1="{y(run["floor_gbps"]):.1f}" x2="{LEFT + pw}" '
                   f'y2="{y(run["floor_gbps"]):.1f}" data-floor="{run["floor_gbps"]}"/>')
        out.append(f'<text x="{LEFT + pw - 4}" y="{y(run["floor_gbps"]) - 4:.1f}" text-anchor="end" class="tick">'
                   f'expected floor {_fmt(run["floor_gbps"])} GB/s</text>')
    line = " ".join(f"{x(p['size_bytes']):.1f},{y(p['busbw_gbps']):.1f}" for p in pts)
    out.append(f'<polyline points="{line}" class="series" stroke="{COLOURS[0]}"/>')
    out += [f'<circle class="point" cx="{x(p["size_bytes"]):.1f}" cy="{y(p["busbw_gbps"]):.1f}" r="3" '
            f'fill="{COLOURS[0]}" data-size="{p["size_bytes"]}" data-busbw="{p["busbw_gbps"]}">'
            f'<title>{p["size_bytes"]} B: {_fmt(p["busbw_gbps"])} GB/s</title></circle>' for p in pts]
    out.append("</svg>")
    return "\n".join(out)


def bar_chart(title: str, unit: str, groups: list[tuple[str, list[tuple[str, float | None]]]],
              css: str) -> str:
    """Grouped bars: ``groups`` = [(group label, [(series, value)])]; a missing value draws no bar."""
    series = list(dict.fromkeys(name for _g, bars in groups for name, _v in bars))
    values = [v for _g, bars in groups for _n, v in bars if v is not None]
    ymax = _nice_max(max(values) * 1.05) if values else 1.0
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    gw = pw / max(1, len(groups))
    bw = gw * 0.7 / max(1, len(series))
    out = [f'<svg class="chart {css}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
           f'height="{H}" role="img" aria-label="{_e(title)}">',
           f'<text x="{W - RIGHT}" y="{TOP + 9}" text-anchor="end" class="label">{_e(title)}</text>',
           f'<line x1="{LEFT}" y1="{TOP + ph}" x2="{LEFT + pw}" y2="{TOP + ph}" class="axis"/>',
           f'<text x="14" y="{TOP + ph / 2}" transform="rotate(-90 14 {TOP + ph / 2})" text-anchor="middle" '
           f'class="label">{_e(unit)}</text>']
    for i in range(5):
        v = ymax * i / 4
        yy = TOP + ph - v / ymax * ph
        out.append(f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end" class="tick">{_fmt(v, 1)}</text>')
        out.append(f'<line x1="{LEFT}" y1="{yy:.1f}" x2="{LEFT + pw}" y2="{yy:.1f}" class="grid"/>')
    for gi, (label, bars) in enumerate(groups):
        x0 = LEFT + gi * gw + gw * 0.15
        for name, v in bars:
            if v is None:
                continue
            si = series.index(name)
            hh = v / ymax * ph
            out.append(f'<rect class="bar" x="{x0 + si * bw:.1f}" y="{TOP + ph - hh:.1f}" width="{bw - 2:.1f}" '
                       f'height="{hh:.1f}" fill="{COLOURS[si % len(COLOURS)]}" data-series="{_e(name)}" '
                       f'data-value="{v}"><title>{_e(label)} {_e(name)}: {_fmt(v)} {_e(unit)}</title></rect>')
        out.append(f'<text x="{LEFT + gi * gw + gw / 2:.1f}" y="{TOP + ph + 16}" text-anchor="middle" '
                   f'class="tick">{_e(label)}</text>')
    for si, name in enumerate(series):
        out.append(f'<rect x="{LEFT + 10 + si * 110}" y="{TOP}" width="10" height="10" '
                   f'fill="{COLOURS[si % len(COLOURS)]}"/><text x="{LEFT + 24 + si * 110}" y="{TOP + 9}" '
                   f'class="tick">{_e(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { margin-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
tr.fail td { background: #fde2e2; }
tr.skipped td { background: #fff6d5; }
.verdict { font-weight: bold; }
.banner { padding: 0.5em 1em; font-size: 1.2em; display: inline-block; border-radius: 4px; }
.banner.pass { background: #d8f3dc; }
.banner.fail { background: #fde2e2; }
svg.chart { background: #fff; border: 1px solid #ddd; margin: 0.5em 0 1.5em; }
svg .axis { stroke: #444; } svg .grid { stroke: #eee; }
svg .floor { stroke: #d62728; stroke-dasharray: 6 4; stroke-width: 1.5; }
svg .series { fill: none; stroke-width: 2; }
svg .tick { font-size: 11px; fill: #444; } svg .label { font-size: 12px; fill: #222; }
"""


def _html_table(headers: list[str], rows: list[tuple[str, list[str]]], table_id: str) -> str:
    out = [f'<table id="{table_id}"><thead><tr>' + "".join(f"<th>{_e(h)}</th>" for h in headers)
           + "</tr></thead><tbody>"]
    for css, cells in rows:
        out.append(f'<tr class="{css}">' + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def render_html(report: dict[str, Any]) -> str:
    """One page, no script, nothing fetched: banner, comparison, nodes, checks (failures first), charts."""
    s = report["summary"]
    parts = [f'<h1>Validation report: {_e(report["cluster"])}</h1>',
             f'<p>{_e(report["created"])}, {_e(report["playbook"])}</p>',
             f'<p class="banner {report["verdict"]}" id="verdict">{report["verdict"].upper()}: {s["pass"]} passed, '
             f'{s["fail"]} failed, {s["skipped"]} skipped</p>']
    comp = report.get("comparison")
    if comp:
        items = ([f"started failing: {n}" for n in comp["new_failures"]]
                 + [f"slower: {x['name']}: {_fmt(x['before'])} -> {_fmt(x['now'])} ({x['change_pct']:+g}%)"
                    for x in comp["slower"]] + [f"fixed: {n}" for n in comp["fixed"]]) \
            or ["nothing started failing or got slower"]
        parts.append(f'<h2>Since the previous report ({_e(comp["previous"])})</h2><ul id="comparison">'
                     + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>")
    parts.append("<h2>Nodes</h2>")
    parts.append(_html_table([t for _k, t in NODE_COLUMNS], [("node", _node_cells(n)) for n in report["nodes"]],
                             "nodes"))
    parts.append("<h2>Checks</h2>")
    parts.append(_html_table(
        ["Verdict", "Check", "Role", "Hosts", "Value", "Expected", "Detail"],
        [(f"check {c['verdict']}", [c["verdict"].upper(), c["name"], c["role"] or "-", ", ".join(c["hosts"]),
                                    _value(c), c["expect"] or "-",
                                    (c["reason"] if c["verdict"] == "skipped" else c["detail"]) or "-"])
         for c in report["checks"]], "checks"))
    if report["nccl"]:
        parts.append("<h2>NCCL bus bandwidth by message size</h2>")
        for run in report["nccl"]:
            parts.append(f'<h3>{_e(run["name"])} on {_e(run["host"])} ({_e(run["verdict"])}; '
                         f'{_e(", ".join(run["transports"]) or "transport not reported")})</h3>')
            parts.append(nccl_chart(run))
    if report["network"]:
        rows = report["network"]
        parts.append("<h2>RDMA against TCP per host pair</h2>")
        parts.append(bar_chart("Bandwidth per pair (Gb/s; link = the port's rate)", "Gb/s", [
            (r["pair"], [("RDMA", r["rdma_gbps"]), ("TCP", r["tcp_gbps"]), ("link", r["link_rate_gbps"])])
            for r in rows], "network-bw"))
        parts.append(bar_chart("Latency per pair (us, smallest message)", "us", [
            (r["pair"], [("RDMA", r["rdma_lat_us"]), ("TCP", r["tcp_lat_us"])]) for r in rows], "network-lat"))
    if report["ddp"]:
        ddp = report["ddp"]
        parts.append("<h2>PyTorch DDP samples/s</h2>")
        parts.append(bar_chart("DDP samples/s", "samples/s", [
            (f"{r['nodes']} node(s)", [("samples/s", r.get("samples_per_s"))]) for r in ddp["runs"]], "ddp"))
        parts.append(f'<p id="scaling">Scaling efficiency: {_e(_fmt(ddp["scaling_efficiency"], 3))}</p>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>gpuforge report {_e(report['cluster'])} {_e(report['created'])}</title>"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
