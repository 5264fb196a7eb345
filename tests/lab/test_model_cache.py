"""model_cache on the lab: model files staged once on node0 from an HTTP server on the controller that honours
and logs Range requests and breaks off or corrupts on demand (tests/lab/range_server.py, started here), then
copied to node1 and node2 over the cluster network and proven by sha256 on every node."""

from __future__ import annotations

import json

import labctl
from conftest import MODEL_FILE_SIZE, REPO, node_exec
from test_lab import NODE_NAMES, failure_text

PLAY = str(REPO / "tests" / "lab" / "model_cache.yml")
SIZE = MODEL_FILE_SIZE


def requests_for(server, mode):
    return [r for r in map(json.loads, server["log"].read_text().splitlines())
            if r["path"].startswith(f"/{mode}/")]


def stage(inventory, fact_cache, server, mode, model, size=SIZE, **extra):
    files = [{"url": f"{server['base']}/{mode}/shard-1.bin", "name": "shard-1.bin",
              "sha256": server["sha256"], "size": size}]
    return labctl.run_playbook(PLAY, inventory, fact_cache=fact_cache, extravars={
        "model_cache_model": model, "model_cache_files": files, "model_cache_backoff": 1, **extra})


def test_a_dropped_transfer_resumes_every_node_gets_the_verified_copy_and_a_rerun_sends_nothing(
        inventory, fact_cache, server):
    run = stage(inventory, fact_cache, server, "drop-once", "m-drop")
    assert run.rc == 0, failure_text(run)
    first, second = requests_for(server, "drop-once")
    assert first["range"] is None and first["bytes"] == SIZE // 2
    assert second["range"] == f"bytes={SIZE // 2}-" and second["status"] == 206
    print(f"\nserver log: {first}\n            {second}")
    assert first["bytes"] + second["bytes"] == SIZE  # the file's bytes fetched once in all
    for node in NODE_NAMES:  # node1 and node2 copied it from node0 over the cluster network
        out = node_exec(node, "sha256sum", "/var/cache/gpuforge/models/m-drop/shard-1.bin").stdout
        assert out.split()[0] == server["sha256"], node
        assert node_exec(node, "stat", "-c", "%U %a", "/var/cache/gpuforge/models/m-drop/shard-1.bin"
                         ).stdout.split() == ["cluster", "644"]
    served = node_exec("node0", "systemctl", "is-active", "gpuforge-model-cache-serve",
                       check=False).stdout.strip()
    assert served in ("inactive", "failed", "unknown", ""), served  # served only while copies were made
    again = stage(inventory, fact_cache, server, "drop-once", "m-drop")
    assert again.rc == 0 and again.changed == 0, failure_text(again)
    assert len(requests_for(server, "drop-once")) == 2  # verified files: not one request


def test_a_corrupt_download_is_caught_by_sha256_and_fetched_again(inventory, fact_cache, server):
    run = stage(inventory, fact_cache, server, "corrupt-once", "m-corrupt")
    assert run.rc == 0, failure_text(run)
    seen = [(r["range"], r["bytes"]) for r in requests_for(server, "corrupt-once")]
    assert seen == [(None, SIZE), (None, SIZE)]


def test_a_server_that_always_drops_is_given_up_after_the_tries_with_one_message(inventory, fact_cache,
                                                                                 server):
    tries, timeout = 3, 5
    run = stage(inventory, fact_cache, server, "always-drop", "m-always", model_cache_tries=tries,
                model_cache_timeout=timeout)
    assert run.rc != 0
    text = failure_text(run)
    assert f"gave up on {server['base']}/always-drop/shard-1.bin after {tries} tries" in text, text
    assert "are resumed on the next run" in text
    seen = requests_for(server, "always-drop")
    assert len(seen) == tries
    # the tries and their backoffs (1 s, 2 s), no more
    assert seen[-1]["t"] - seen[0]["t"] <= tries * timeout + 1 + 2, seen


def test_a_model_that_does_not_fit_the_gpus_is_refused_before_any_download(inventory, fact_cache, server):
    run = stage(inventory, fact_cache, server, "ok", "m-huge", size=10 ** 12)
    assert run.rc != 0 and run.changed == 0
    assert "m-huge does not fit: the model's 931.3 GiB x 1.20" in failure_text(run), failure_text(run)
    assert requests_for(server, "ok") == []
