"""The author's commands: ``init``, ``validate``, ``pack``, ``publish``, ``keys``, ``login``."""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import re
import sys
from pathlib import Path
from typing import Any

from registry.archive import pack, unpack
from registry.cli import Bind, CliSettings, common
from registry.cli_output import Output, clean, finding_lines, verdict_text
from registry.cli_scaffold import scaffold
from registry.client import SkillRef
from registry.client_errors import ClientError, RemoteError
from registry.client_models import ScanResult
from registry.client_secrets import Credential
from registry.errors import PackageError
from registry.files import read_folder
from registry.hashing import content_hash
from registry.report import ValidationReport
from registry.scan import ScanReport, scan
from registry.signing import PublishStatement
from registry.validate import validate_for_publish

__all__ = ["register"]


def register(actions: Any, bind: Bind) -> None:
    p = common(actions.add_parser("init", help="start a skill folder that validates as is"))
    p.add_argument("name", help="the skill's name (a-z, 0-9, hyphens)")
    p.add_argument("--dir", type=Path, default=Path(), help="create it in this folder")
    p.add_argument("--description", help="what it does and when to use it")
    p.set_defaults(command=bind(init))
    for name, handler, text in (
        ("validate", validate, "check a skill folder as publish would"),
        ("pack", pack_folder, "write the package archive"),
    ):
        p = common(actions.add_parser(name, help=text))
        p.add_argument("path", nargs="?", type=Path, default=Path(), help="the skill folder")
        if name == "pack":
            p.add_argument("-o", "--output", type=Path, help="archive file to write")
        p.set_defaults(command=bind(handler))
    p = common(actions.add_parser("publish", help="validate, pack, sign and upload a skill"))
    p.add_argument("path", nargs="?", type=Path, default=Path(), help="the skill folder")
    p.add_argument("--key", default="default", help="signing key name (default: default)")
    p.set_defaults(command=bind(publish))
    _register_keys(actions, bind)
    p = common(actions.add_parser("login", help="store a registry token for publishing"))
    p.add_argument("--token", help="a registry token for your namespace ('-' reads stdin)")
    p.add_argument("--publisher", help="namespace to create on the local registry")
    p.set_defaults(command=bind(login))


def _register_keys(actions: Any, bind: Bind) -> None:
    keys = actions.add_parser("keys", help="Ed25519 signing keys").add_subparsers(metavar="KEYS")
    for name, handler, text in (
        ("generate", keys_generate, "make a new signing key"),
        ("list", keys_list, "list local keys and what the registry knows"),
        ("register", keys_register, "upload a key's public half"),
    ):
        p = common(keys.add_parser(name, help=text))
        if name != "list":
            p.add_argument("--name", default="default", help="key name (default: default)")
        p.set_defaults(command=bind(handler))


# -- init, validate, pack -------------------------------------------------------------


def init(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    description = args.description or (
        f"Describe what {args.name} does and when to use it (the assistant picks skills by this)."
    )
    folder = scaffold(args.dir, args.name, description)
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    if out.json_mode:
        out.result({"path": str(folder.resolve()), "files": files})
        return 0
    out.say(f"created {clean(folder)}: {clean(', '.join(files))}")
    out.say(f"edit SKILL.md and the script, then: skillyard skill validate {clean(folder)}")
    return 0


def _local_scan(report: ValidationReport, settings: CliSettings) -> ScanReport | None:
    try:
        files = read_folder(report.folder, limits=settings.limits)
    except PackageError:
        return None  # already one of the report's issues
    return scan(files, report.skill)


def validate(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    report = validate_for_publish(args.path, limits=settings.limits)
    local = _local_scan(report, settings)
    ok = report.ok and (local is None or str(local.verdict) != "block")
    if out.json_mode:
        issues = [
            {
                k: str(v) if k in ("code", "severity", "scope") else v
                for k, v in dataclasses.asdict(i).items()
            }
            for i in report.issues
        ]
        out.result(
            {
                "ok": ok,
                "folder": str(report.folder),
                "issues": issues,
                "scan": local.to_dict() if local else None,
            }
        )
        return 0 if ok else 1
    for issue in report.issues:
        out.say(clean(str(issue)))
    if local is not None:
        out.say(f"scanner: {verdict_text(str(local.verdict))} (ruleset {clean(local.ruleset)})")
        for line in finding_lines(local.findings):
            out.say(f"  {line}")
    errors, warnings = len(report.errors), len(report.warnings)
    out.say(f"{'ok' if ok else 'NOT publishable'}: {errors} error(s), {warnings} warning(s)")
    return 0 if ok else 1


def pack_folder(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    folder = args.path.resolve()
    report = validate_for_publish(folder, limits=settings.limits)
    archive = pack(folder, limits=settings.limits)
    digest = content_hash(unpack(archive, limits=settings.limits))
    version = report.skill.version if report.skill and report.skill.version else "0.0.0"
    target = args.output or Path(f"{folder.name}-{version}.tar.gz")
    target.write_bytes(archive)
    if out.json_mode:
        out.result({"path": str(target.resolve()), "content_hash": digest, "size": len(archive)})
        return 0
    out.say(f"wrote {clean(target)} ({len(archive)} bytes)")
    out.say(f"content hash {digest}")
    if not report.ok:
        out.say("[yellow]note:[/] the folder does not validate; run skillyard skill validate")
    return 0


# -- publish --------------------------------------------------------------------------


def _credential(settings: CliSettings) -> Credential:
    credential = settings.credentials().get(settings.api)
    if credential is None:
        raise ClientError(f"not logged in to {settings.api}: run skillyard skill login")
    return credential


def publish(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    report = validate_for_publish(args.path, limits=settings.limits)
    if not report.ok or report.skill is None:
        for issue in report.errors:
            out.note(clean(str(issue)))
        raise ClientError(f"{report.folder} does not validate; nothing was uploaded")
    version = report.skill.version
    if version is None:
        raise ClientError("skill.yaml must give the version to publish (version: 1.0.0)")
    credential, key = _credential(settings), settings.keyring().load(args.key)
    ref = SkillRef(credential.publisher, report.skill.name)
    archive = pack(report.folder, limits=settings.limits)
    digest = content_hash(unpack(archive, limits=settings.limits))
    signature = key.sign(PublishStatement(ref.skill, version, digest).encode())
    with settings.client(token=credential.token) as client:
        if key.key_id not in {k.key_id for k in client.keys(ref.owner)}:
            raise ClientError(
                f"key {args.key!r} ({key.key_id}) is not registered to "
                f"{ref.owner}: run skillyard skill keys register"
            )
        with out.status(f"publishing {ref.skill}@{version} ({len(archive)} bytes)"):
            done = client.publish(ref, version, archive, key_id=key.key_id, signature=signature)
        found = client.scan(ref.owner, ref.name, version) if done.release.findings else None
    _show_published(out, done.created, done.release.raw, done.warnings, found)
    return 0


def _show_published(
    out: Output,
    created: bool,
    release: dict[str, Any],
    warnings: tuple[str, ...],
    found: ScanResult | None,
) -> None:
    findings = found.findings if found else ()
    if out.json_mode:
        out.result(
            {
                "created": created,
                "version": release,
                "warnings": list(warnings),
                "findings": [dataclasses.asdict(f) for f in findings],
            }
        )
        return
    label = f"{release['skill']}@{release['version']}"
    state = "published" if created else "already published (same content)"
    out.say(f"{state}: {clean(label)}, log index {release['log_index']}")
    out.say(f"content hash {clean(release['content_hash'])}")
    out.say(f"scan verdict: {verdict_text(release['verdict'])}")
    for line in finding_lines(findings):
        out.say(f"  {line}")
    for warning in warnings:
        out.say(f"[yellow]warning:[/] {clean(warning)}")
    if release["held"]:
        out.say("the name is held for review: search and install find it once released")
    out.say(f"install with: {clean(release['install'])}")


# -- keys and login -------------------------------------------------------------------


def keys_generate(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    keyring = settings.keyring()
    key = keyring.generate(args.name)
    view = {
        "name": args.name,
        "key_id": key.key_id,
        "fingerprint": key.public_key.fingerprint,
        "path": str(keyring.path(args.name)),
    }
    if out.json_mode:
        out.result(view)
    else:
        out.say(f"new key {args.name}: {key.public_key.fingerprint} at {clean(view['path'])}")
        out.say("register it with: skillyard skill keys register")
    return 0


def keys_list(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    keyring, credential = settings.keyring(), settings.credentials().get(settings.api)
    registered: set[str] | None = None
    if credential is not None:
        with settings.client() as client:
            registered = {k.key_id for k in client.keys(credential.publisher)}
    rows: list[dict[str, Any]] = []
    for name in keyring.names():
        key = keyring.load(name)
        known = None if registered is None else key.key_id in registered
        rows.append(
            {
                "name": name,
                "key_id": key.key_id,
                "fingerprint": key.public_key.fingerprint,
                "registered": known,
            }
        )
    if out.json_mode:
        out.result({"keys": rows, "publisher": credential.publisher if credential else None})
        return 0
    shown = {True: "yes", False: "no", None: "(not logged in)"}
    out.table(
        ["name", "key id", "fingerprint", "registered"],
        [[r["name"], r["key_id"], r["fingerprint"], shown[r["registered"]]] for r in rows],
    )
    return 0


def keys_register(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    credential, key = _credential(settings), settings.keyring().load(args.name)
    with settings.client(token=credential.token) as client:
        try:
            client.add_key(credential.publisher, key.public_key)
            state = "registered"
        except RemoteError as exc:
            if exc.status != 409:
                raise
            state = "already registered"
    if out.json_mode:
        out.result({"publisher": credential.publisher, "key_id": key.key_id, "state": state})
    else:
        out.say(
            f"key {args.name} ({key.public_key.fingerprint}) {state} for {credential.publisher}"
        )
    return 0


def login(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    from_stdin = args.token == "-"  # noqa: S105 - "-" means: read it from stdin
    token = sys.stdin.readline().strip() if from_stdin else args.token
    if token:
        with settings.client(token=token) as client:
            publisher = client.whoami()[1]
        if publisher is None:
            raise ClientError("that token acts for no publisher (the admin's token cannot publish)")
    else:
        publisher, token = _local_publisher(args.publisher or _os_user(), settings)
    settings.credentials().put(settings.api, Credential(publisher, token))
    if out.json_mode:
        out.result({"registry": settings.api, "publisher": publisher})
    else:
        out.say(f"logged in to {clean(settings.api)} as {clean(publisher)}")
    return 0


def _local_publisher(name: str, settings: CliSettings) -> tuple[str, str]:
    """Create (or reuse) publisher ``name`` on the local registry and a token for it."""
    if not settings.local or settings.admin_token is None:
        raise ClientError(f"{settings.api} is not this machine's registry: log in with --token")
    with settings.client(token=settings.admin_token()) as admin:
        try:
            admin.create_publisher(name)
        except RemoteError as exc:
            if exc.status != 409:
                raise
        return name, admin.create_token(name, "skillyard skill login")


def _os_user() -> str:
    name = re.sub(r"[^a-z0-9]+", "-", getpass.getuser().lower()).strip("-")
    return name[:39] or "me"
