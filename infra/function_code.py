"""The function's deployment archive: an explicit, sorted file list zipped reproducibly.

Fixed timestamps, permissions and order mean the same sources always give the same bytes,
so an unchanged handler never shows up as a diff in `pulumi preview`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HANDLER_DIR = ROOT / "handler"
BUILD_DIR = ROOT / "build"
# Everything the function needs, and nothing else (no tests, no __pycache__, no editor files).
HANDLER_FILES = (
    "app.py",
    "mcp_front/__init__.py",
    "mcp_front/documents.py",
    "mcp_front/protocol.py",
    "mcp_front/schemas.py",
    "mcp_front/tools.py",
    "mcp_front/view.html",
    "mcp_front/view.py",
    "proxy.py",
    "search/__init__.py",
    "search/fence.py",
    "search/findings.py",
    "search/github_api.py",
    "search/mapping.py",
    "search/query.py",
    "search/service.py",
    "search/syntax.py",
    "search/ttl_cache.py",
    "signin/__init__.py",
    "signin/aws_json.py",
    "signin/budget.py",
    "signin/clients.py",
    "signin/door.py",
    "signin/gate.py",
    "signin/github_oauth.py",
    "signin/grants.py",
    "signin/pages.py",
    "signin/sealing.py",
    "signin/server.py",
    "signin/sigv4.py",
    "signin/store.py",
)
LAMBDA_HANDLER = "app.handler"
# The Lambda@Edge function that puts WWW-Authenticate back on sign-in's challenges (edge/).
EDGE_DIR = ROOT / "edge"
EDGE_FILES = ("__init__.py", "challenge.py")
EDGE_HANDLER = "challenge.handler"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


@dataclass(frozen=True)
class Archive:
    path: Path
    sha256_base64: str  # Lambda's `source_code_hash` format
    size: int


def archive_bytes(source: Path = HANDLER_DIR, files: tuple[str, ...] = HANDLER_FILES) -> bytes:
    unlisted = sorted(name for p in source.rglob("*.py") if (name := p.relative_to(source).as_posix()) not in files)
    if unlisted:
        raise ValueError(
            f"{source.name}/ has modules missing from its list in {__name__}: {', '.join(unlisted)}; "
            f"add them there (or move them out of {source.name}/) so the archive is complete"
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.create_system = 3  # unix, whatever machine builds it
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (source / name).read_bytes(), compresslevel=9)
    return buffer.getvalue()


def build_archive(
    dest: Path = BUILD_DIR / "function.zip", source: Path = HANDLER_DIR, files: tuple[str, ...] = HANDLER_FILES
) -> Archive:
    data = archive_bytes(source, files)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists() or dest.read_bytes() != data:
        dest.write_bytes(data)
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return Archive(path=dest, sha256_base64=digest, size=len(data))
