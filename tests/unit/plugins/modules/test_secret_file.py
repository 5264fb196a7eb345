"""secret_file: writes the decoded secret atomically with a tight mode and never returns it.

The secret is 1024 random-looking bytes, the size ``create-munge-key`` and ``mungekey`` write by
default; its base64 form is what a user keeps in a vaulted variable.
"""

from __future__ import annotations

import base64
import grp
import hashlib
import json
import os
import pwd
from pathlib import Path
from unittest.mock import patch

import pytest
from ansible.module_utils import basic
from ansible_collections.gpuforge.cluster.plugins.modules import secret_file

from .harness import run_module

SECRET = bytes((i * 73 + 41) % 256 for i in range(1024))
B64 = base64.b64encode(SECRET).decode()
OTHER = bytes(reversed(SECRET))
SHA = hashlib.sha256(SECRET).hexdigest()
ROOT = os.geteuid() == 0


def _run(args, check_mode=False, diff=False, spy=None):
    real_set = basic.AnsibleModule.set_fs_attributes_if_different

    def set_attrs(self, file_args, changed, *a, **kw):
        if spy is not None:
            spy.append(os.stat(file_args["path"]).st_mode & 0o7777)
        return real_set(self, file_args, changed, *a, **kw)

    with patch.object(basic.AnsibleModule, "set_fs_attributes_if_different", set_attrs):
        return run_module(secret_file.main, args, check_mode=check_mode, diff=diff)


def _mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o7777


def _leaks(result) -> list[str]:
    text = json.dumps(result)
    forms = (B64, B64[:24], SECRET.hex()[:32], repr(SECRET)[:40], SECRET.decode("latin-1")[:16])
    return [form for form in forms if form in text]


@pytest.fixture
def key(tmp_path: Path) -> Path:
    return tmp_path / "munge.key"


def test_writes_bytes_with_mode_0400_then_is_unchanged(key):
    result = _run({"path": str(key), "content": B64})
    assert result["failed"] is False and result["changed"] is True
    assert key.read_bytes() == SECRET
    assert _mode(key) == 0o400
    assert (result["sha256"], result["size"], result["path"]) == (SHA, 1024, str(key))
    assert [p.name for p in key.parent.iterdir()] == ["munge.key"]  # no temp file left behind

    again = _run({"path": str(key), "content": B64})
    assert again["changed"] is False and again["sha256"] == SHA


def test_replaces_different_content_atomically(key):
    key.write_bytes(OTHER)
    key.chmod(0o400)
    inode = key.stat().st_ino
    result = _run({"path": str(key), "content": B64})
    assert result["changed"] is True
    assert key.read_bytes() == SECRET
    assert key.stat().st_ino != inode  # renamed into place, not rewritten in place
    assert _mode(key) == 0o400
    assert [p.name for p in key.parent.iterdir()] == ["munge.key"]


def test_surrounding_whitespace_in_content_is_ignored(key):
    result = _run({"path": str(key), "content": "\n" + B64 + "\n"})
    assert result["failed"] is False and key.read_bytes() == SECRET


def test_mode_option(key):
    _run({"path": str(key), "content": B64, "mode": "0600"})
    assert _mode(key) == 0o600


def test_only_mode_differs_is_a_change(key):
    key.write_bytes(SECRET)
    key.chmod(0o644)
    result = _run({"path": str(key), "content": B64})
    assert result["changed"] is True and _mode(key) == 0o400


@pytest.mark.skipif(not ROOT, reason="chown to another user needs root")
def test_owner_and_group(key):
    result = _run({"path": str(key), "content": B64, "owner": "nobody", "group": "nogroup"})
    assert result["changed"] is True
    stat = key.stat()
    assert (pwd.getpwuid(stat.st_uid).pw_name, grp.getgrgid(stat.st_gid).gr_name) == ("nobody", "nogroup")
    again = _run({"path": str(key), "content": B64, "owner": "nobody", "group": "nogroup"})
    assert again["changed"] is False


def test_unknown_owner_fails(key):
    result = _run({"path": str(key), "content": B64, "owner": "no-such-user-gpuforge"})
    assert result["failed"] is True
    assert "no-such-user-gpuforge" in result["msg"]
    assert _leaks(result) == []


def test_check_mode_writes_nothing(key):
    result = _run({"path": str(key), "content": B64}, check_mode=True)
    assert result["changed"] is True and result["sha256"] == SHA
    assert not key.exists()
    key.write_bytes(OTHER)
    result = _run({"path": str(key), "content": B64}, check_mode=True)
    assert result["changed"] is True and key.read_bytes() == OTHER


def test_check_mode_unchanged(key):
    _run({"path": str(key), "content": B64})
    assert _run({"path": str(key), "content": B64}, check_mode=True)["changed"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"min_size": 2048}, "the secret for {path} is 1024 bytes; it must be 2048 to 1048576 bytes"),
        ({"max_size": 512}, "the secret for {path} is 1024 bytes; it must be 1 to 512 bytes"),
        ({"min_size": 32, "max_size": 1024}, None),
        ({"min_size": 1024, "max_size": 1024}, None),
    ],
)
def test_size_bounds(key, args, message):
    result = _run({"path": str(key), "content": B64, **args})
    if message is None:
        assert result["failed"] is False and key.read_bytes() == SECRET
    else:
        assert result["failed"] is True
        assert result["msg"] == message.format(path=key)
        assert not key.exists()


def test_empty_secret_is_below_the_default_minimum(key):
    result = _run({"path": str(key), "content": ""})
    assert result["failed"] is True
    assert result["msg"] == f"the secret for {key} is 0 bytes; it must be 1 to 1048576 bytes"


@pytest.mark.parametrize("content", ["not base64!", B64[:-2] + "*=", B64[:-1], "=" + B64])
def test_invalid_base64(key, content):
    result = _run({"path": str(key), "content": content})
    assert result["failed"] is True
    assert result["msg"] == f"content for {key} is not valid base64"
    assert not key.exists()
    assert _leaks(result) == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_secret_never_in_result(key, check_mode):
    key.write_bytes(OTHER)
    result = _run({"path": str(key), "content": B64}, check_mode=check_mode, diff=True)
    assert _leaks(result) == []
    assert "content" not in result
    assert base64.b64encode(OTHER).decode()[:24] not in json.dumps(result)


def test_diff_names_the_change_not_the_content(key):
    result = _run({"path": str(key), "content": B64}, diff=True)
    assert result["diff"] == {
        "before": "(secret: absent)\n",
        "after": f"(secret: new content, sha256 {SHA[:12]})\n",
        "before_header": str(key),
        "after_header": str(key),
    }
    key.chmod(0o600)
    key.write_bytes(OTHER)
    result = _run({"path": str(key), "content": B64}, diff=True)
    assert result["diff"]["before"] == "(secret: old content)\n"
    assert _run({"path": str(key), "content": B64}, diff=True).get("diff") is None


def test_new_secret_is_never_readable_by_others(key):
    modes = []
    old = os.umask(0o022)
    try:
        _run({"path": str(key), "content": B64}, spy=modes)
    finally:
        os.umask(old)
    assert modes and modes[0] & 0o077 == 0, oct(modes[0])


def test_failed_owner_leaves_no_readable_secret(key):
    old = os.umask(0o022)
    try:
        result = _run({"path": str(key), "content": B64, "owner": "no-such-user-gpuforge"})
    finally:
        os.umask(old)
    assert result["failed"] is True
    assert not key.exists() or _mode(key) & 0o077 == 0
