"""The deployment archive: complete, standard-library only, and byte-for-byte reproducible."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.function_code import HANDLER_DIR, HANDLER_FILES, LAMBDA_HANDLER, archive_bytes, build_archive
from tools.fake_github import FakeGitHub

# What Lambda does: the archive's root on sys.path, then `module.function` from the handler setting.
RUNNER = """
import json, sys
sys.path.insert(0, sys.argv[1])
module, function = sys.argv[2].rsplit(".", 1)
handler = getattr(__import__(module), function)
answers = [handler(json.loads(arg), None) for arg in sys.argv[3:]]
print(json.dumps({"answers": answers, "modules": sorted(sys.modules)}))
"""


def test_archive_holds_exactly_the_listed_sources(tmp_path: Path):
    archive = build_archive(tmp_path / "function.zip")
    with zipfile.ZipFile(archive.path) as zf:
        names = zf.namelist()
        assert names == sorted(HANDLER_FILES)
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in zf.infolist())
    assert not any("__pycache__" in n or n.startswith("test") for n in names)


def test_unpacked_archive_answers_with_standard_library_only(tmp_path: Path, fake: FakeGitHub):
    archive = build_archive(tmp_path / "function.zip")
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(archive.path) as zf:
        zf.extractall(unpacked)
    events = [
        {"httpMethod": "GET", "queryStringParameters": {"q": "pulumi"}},
        {"httpMethod": "GET", "queryStringParameters": {"q": "pulumi"}},
        {"httpMethod": "GET", "queryStringParameters": None},
        {
            "resource": "/mcp",
            "httpMethod": "POST",
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        },
    ]
    env = {"GITHUB_API_URL": fake.url, "GITHUB_TOKEN": "t0ken", "PATH": os.environ.get("PATH", "")}
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RUNNER, str(unpacked), LAMBDA_HANDLER, *map(json.dumps, events)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=tmp_path,
    )
    out = json.loads(result.stdout)
    assert [a["statusCode"] for a in out["answers"]] == [200, 200, 400, 200]
    assert len(json.loads(out["answers"][3]["body"])["result"]["tools"]) == 7  # the MCP front, from the archive
    assert [a["headers"].get("X-Search-Cache") for a in out["answers"][:2]] == ["MISS", "HIT"]
    third_party = [
        m for m in out["modules"] if m.split(".")[0] in {"requests", "urllib3", "boto3", "botocore", "pulumi"}
    ]
    assert third_party == []
    assert len(fake.seen) == 1


def test_same_sources_same_hash_whatever_the_timestamps(tmp_path: Path):
    source = tmp_path / "handler"
    source.mkdir()
    for name in HANDLER_FILES:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes((HANDLER_DIR / name).read_bytes())
    first = build_archive(tmp_path / "a.zip", source)
    for n, name in enumerate(HANDLER_FILES):
        os.utime(source / name, (1_000_000 + n, 1_700_000_000 + n))
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0junk")
    (source / "app.py~").write_text("editor backup")
    second = build_archive(tmp_path / "b.zip", source)
    assert first.sha256_base64 == second.sha256_base64
    assert first.path.read_bytes() == second.path.read_bytes()
    (source / "app.py").write_text((source / "app.py").read_text() + "\n# changed\n")
    assert build_archive(tmp_path / "c.zip", source).sha256_base64 != first.sha256_base64


def test_a_module_missing_from_the_list_is_refused(tmp_path: Path):
    source = tmp_path / "handler"
    source.mkdir()
    for name in (*HANDLER_FILES, "search/extra.py"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("")
    with pytest.raises(ValueError, match=r"search/extra\.py"):
        archive_bytes(source)
