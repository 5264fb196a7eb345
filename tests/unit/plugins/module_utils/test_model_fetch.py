"""model_fetch: resume with Range, bounded tries, sha256 proof, no request for a verified file - against a
real local HTTP server (tests/lab/range_server.py, the lab test's server)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
import urllib.request
from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils.model_fetch import (
    FetchError,
    fetch,
    marker_path,
    resume_start,
)

SERVER = Path(__file__).resolve().parents[4] / "tests" / "lab" / "range_server.py"
SIZE = 3 * 1024 * 1024 + 17


def load_server():
    spec = importlib.util.spec_from_file_location("range_server", SERVER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(name="site")
def site_fixture(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    data = os.urandom(SIZE)
    (root / "model.bin").write_bytes(data)
    log = tmp_path / "requests.log"
    log.touch()
    server = load_server().make_server(str(root), str(log), 0, "127.0.0.1")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}", "sha256": hashlib.sha256(data).hexdigest(),
           "log": log, "dest": str(tmp_path / "cache" / "model.bin")}
    server.shutdown()


def opener(url, headers, timeout):
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)


def logged(site):
    return [json.loads(line) for line in site["log"].read_text().splitlines()]


def get(site, mode, name="model.bin", **kw):
    os.makedirs(os.path.dirname(site["dest"]), exist_ok=True)
    return fetch(opener, f"{site['url']}/{mode}/{name}", site["dest"], site["sha256"],
                 **{"tries": 3, "timeout": 5, "backoff": 0.01, **kw})


def test_a_transfer_dropped_at_half_resumes_with_range_and_fetches_the_file_once(site):
    result = get(site, "drop-once")
    assert result["changed"] and result["attempts"] == 2
    first, second = logged(site)
    assert first["range"] is None and first["bytes"] == SIZE // 2
    assert second["range"] == f"bytes={SIZE // 2}-" and second["status"] == 206
    assert first["bytes"] + second["bytes"] == SIZE == result["bytes_fetched"]
    assert hashlib.sha256(Path(site["dest"]).read_bytes()).hexdigest() == site["sha256"]
    assert not os.path.exists(site["dest"] + ".part")
    # Verified: the marker spares the next run every request.
    again = get(site, "drop-once")
    assert not again["changed"] and again["requests"] == [] and len(logged(site)) == 2
    assert os.path.exists(marker_path(site["dest"]))


def test_a_corrupt_file_is_detected_by_sha256_and_fetched_again(site):
    result = get(site, "corrupt-once")
    assert result["attempts"] == 2 and [r["range"] for r in logged(site)] == [None, None]
    assert hashlib.sha256(Path(site["dest"]).read_bytes()).hexdigest() == site["sha256"]


def test_a_server_that_always_drops_gives_up_after_the_tries_with_one_message(site):
    with pytest.raises(FetchError) as err:
        get(site, "always-drop", tries=3)
    text = str(err.value)
    assert text.startswith(f"gave up on {site['url']}/always-drop/model.bin after 3 tries")
    assert f"stay in {site['dest']}.part and are resumed on the next run" in text
    assert len(logged(site)) == 3 and not os.path.exists(site["dest"])
    # The next run resumes what is kept (from the server that works now).
    kept = os.path.getsize(site["dest"] + ".part")
    assert get(site, "ok")["requests"][0]["range"] == f"bytes={kept}-"


def test_a_missing_file_fails_after_its_tries_naming_the_status(site):
    with pytest.raises(FetchError, match=r"after 2 tries .*HTTP Error 404"):
        get(site, "ok", tries=2, name="nothing.bin")
    assert [r["status"] for r in logged(site)] == [404, 404]


def test_a_good_file_without_its_marker_is_hashed_not_fetched(site):
    get(site, "ok")
    os.unlink(marker_path(site["dest"]))
    before = len(logged(site))
    result = get(site, "ok")
    assert result["changed"] and result["requests"] == [] and len(logged(site)) == before
    assert os.path.exists(marker_path(site["dest"]))


def test_a_part_that_already_holds_every_byte_is_checked_not_fetched(site):
    get(site, "ok")
    os.rename(site["dest"], site["dest"] + ".part")
    os.unlink(marker_path(site["dest"]))
    result = get(site, "ok")
    assert result["requests"][0]["status"] == 416 and result["bytes_fetched"] == 0


def test_resume_start_refuses_a_range_answer_that_does_not_continue_the_file():
    assert resume_start(200, None, 100) == 0
    assert resume_start(206, "bytes 100-199/200", 100) == 100
    with pytest.raises(FetchError, match="Content-Range 'bytes 0-199/200'"):
        resume_start(206, "bytes 0-199/200", 100)
    with pytest.raises(FetchError, match="HTTP 302"):
        resume_start(302, None, 0)
    with pytest.raises(FetchError, match="sha256 must be"):
        fetch(opener, "http://x", "/tmp/x", "abc")
