"""Test and benchmark support: write a skill folder, pack it, sign it, make a publisher.

Meant for our tests, the benchmark and third-party client authors::

    folder = write_skill(tmp_path, "notes", description="Keep notes. Use when …")
    request = signed_request(folder, owner="alice", version="1.0.0", key=key)
    registry.publish(request, principal)

Nothing here is used by the server itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from registry.archive import pack
from registry.hashing import hash_folder
from registry.signing import PublishStatement, SigningKey
from registry.store.publish import PublishRequest
from registry.store.records import IssuedToken, Principal
from registry.store.registry import Registry

__all__ = ["ADMIN", "TOOL_SIDECAR", "make_publisher", "signed_request", "write_skill"]

ADMIN = Principal(admin=True)

# A sidecar with one tool, ``echo``, reading {"text": …} and writing it back.
TOOL_SIDECAR = """\
version: {version}
tools:
  - name: echo
    description: Say the text back.
    entrypoint: scripts/echo.py
    timeout: 5
    input:
      type: object
      required: [text]
      properties: {{text: {{type: string}}}}
    output:
      type: object
      properties: {{text: {{type: string}}}}
permissions:
  network: [{hosts}]
  env: []
  binaries: []
  filesystem: []
"""
ECHO_SCRIPT = "import json, sys\nprint(json.dumps(json.load(sys.stdin)))\n"


def write_skill(
    parent: Path,
    name: str,
    *,
    description: str = "Test skill. Use when a test needs a skill.",
    body: str = "# Test\n\nDo what the test says.\n",
    version: str | None = None,
    tool: bool = False,
    hosts: tuple[str, ...] = (),
    extra: Mapping[str, str | bytes] | None = None,
    frontmatter: str = "",
) -> Path:
    """A skill folder ``parent/name``; with ``tool`` (or ``version``) it gets a ``skill.yaml``."""
    folder = parent / name
    folder.mkdir(parents=True)
    head = f"---\nname: {name}\ndescription: {_quoted(description)}\n{frontmatter}---\n"
    (folder / "SKILL.md").write_text(head + body, encoding="utf-8")
    if tool or version is not None:
        sidecar = TOOL_SIDECAR if tool else "version: {version}\n"
        text = sidecar.format(version=version or "1.0.0", hosts=", ".join(hosts))
        (folder / "skill.yaml").write_text(text, encoding="utf-8")
    if tool:
        (folder / "scripts").mkdir()
        (folder / "scripts" / "echo.py").write_text(ECHO_SCRIPT, encoding="utf-8")
    for relative, content in (extra or {}).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def signed_request(
    folder: Path, *, owner: str, version: str, key: SigningKey, name: str | None = None
) -> PublishRequest:
    """The publish request for ``folder`` as ``owner/<folder name>@version``, signed by ``key``."""
    skill = name or folder.name
    statement = PublishStatement(f"{owner}/{skill}", version, hash_folder(folder))
    return PublishRequest(
        owner, skill, version, pack(folder), key.key_id, key.sign(statement.encode())
    )


def make_publisher(registry: Registry, name: str) -> tuple[IssuedToken, SigningKey, Principal]:
    """A publisher with a token and a registered signing key, and the principal it acts as."""
    registry.publishers.create(name, name.title())
    token = registry.publishers.issue_token(name, "test", None)
    key = SigningKey.generate()
    registry.publishers.add_key(name, key.public_key)
    return token, key, Principal(publisher=name, token_id=token.record.token_id)
