"""Finding and managing published skills: ``search``, ``info``, ``yank``."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from registry.cli import Bind, CliSettings, common
from registry.cli_output import Output, clean, finding_lines, permission_lines, verdict_text
from registry.client import SkillRef
from registry.client_errors import BadReference, ClientError
from registry.client_models import Release, ScanResult, SkillInfo
from registry.semver import VersionSyntaxError, parse_range

__all__ = ["register"]


def register(actions: Any, bind: Bind) -> None:
    p = common(actions.add_parser("search", help="find skills in the registry"))
    p.add_argument("words", nargs="*", help="what you are looking for")
    p.add_argument("--owner", help="only this publisher's skills")
    p.add_argument("--verdict", choices=["pass", "review", "block"], help="only this verdict")
    p.add_argument(
        "--tools",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="only skills with (or without) runnable tools",
    )
    p.add_argument("--sort", choices=["relevance", "downloads", "recent"], default="relevance")
    p.add_argument("--limit", type=int, default=20, help="at most this many (1-100)")
    p.set_defaults(command=bind(search))
    p = common(actions.add_parser("info", help="a skill's versions, permissions and verdict"))
    p.add_argument("skill", help="owner/name[@range]")
    p.set_defaults(command=bind(info))
    p = common(actions.add_parser("yank", help="hide a version from resolution (or --undo)"))
    p.add_argument("skill", help="owner/name@version")
    p.add_argument("--reason", default="", help="why, shown to everyone")
    p.add_argument("--undo", action="store_true", help="unyank it")
    p.set_defaults(command=bind(yank))


def search(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    if not 1 <= args.limit <= 100:
        raise BadReference("--limit must be between 1 and 100")
    with settings.client(stored=True) as client:
        page = client.search(
            " ".join(args.words),
            owner=args.owner,
            verdict=args.verdict,
            has_tools=args.tools,
            sort=args.sort,
            limit=args.limit,
        )
    if out.json_mode:
        out.result(page.raw)
        return 0
    if not page.hits:
        out.say("no skill matches")
        return 0
    out.table(
        ["skill", "version", "verdict", "tools", "downloads", "description"],
        [
            [
                h.skill,
                h.version or "-",
                h.verdict,
                "yes" if h.has_tools else "",
                str(h.downloads),
                h.description,
            ]
            for h in page.hits
        ],
    )
    out.say(f"{page.total} found; install with: skillyard skill install OWNER/NAME")
    return 0


def info(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    ref = SkillRef.parse(args.skill)
    with settings.client(stored=True) as client:
        skill = client.skill(ref.owner, ref.name)
        release = client.resolve(ref) if skill.hit.version or ref.range != "latest" else None
        found = client.scan(ref.owner, ref.name, release.version) if release else None
    if out.json_mode:
        out.result(
            {
                "skill": skill.hit.raw,
                "version": release.raw if release else None,
                "scan": _scan_json(found),
            }
        )
        return 0
    _show_skill(out, skill)
    if release is not None:
        _show_release(out, release, found)
    return 0


def _scan_json(found: ScanResult | None) -> dict[str, Any] | None:
    if found is None:
        return None
    findings = [dataclasses.asdict(f) for f in found.findings]
    return {"verdict": found.verdict, "ruleset": found.ruleset, "findings": findings}


def _show_skill(out: Output, skill: SkillInfo) -> None:
    out.say(f"[bold]{clean(skill.hit.skill)}[/]: {clean(skill.hit.description)}")
    if skill.held:
        out.say(f"[yellow]held for review:[/] {clean(skill.hold_reason)}")
    rows = [
        [
            v.version,
            v.published_at,
            v.verdict,
            "deleted" if v.deleted else (f"yanked: {v.yank_reason}" if v.yanked else ""),
        ]
        for v in skill.versions
    ]
    out.table(["version", "published", "verdict", "state"], rows)


def _show_release(out: Output, release: Release, found: ScanResult | None) -> None:
    signer = release.publisher
    out.say(f"[bold]{clean(release.skill)}@{clean(release.version)}[/]")
    out.say(f"  verdict:     {verdict_text(release.verdict)} ({release.findings} finding(s))")
    for line in finding_lines(found.findings if found else ()):
        out.say(f"    {line}")
    for line in permission_lines(release.permissions):
        out.say(f"  permissions: {line}")
    tools = ", ".join(f"{t.name} ({t.description})" for t in release.tools) or "none"
    out.say(f"  tools:       {clean(tools)}")
    if release.command:
        out.say(f"  command:     /{clean(release.name)} (runs {clean(release.command)})")
    revoked = f", revoked {signer.key_revoked_at}" if signer.key_revoked_at else ""
    out.say(f"  signer:      {clean(signer.fingerprint or signer.key_id)}{clean(revoked)}")
    out.say(f"  log index:   {release.log_index}")
    out.say(f"  content:     {clean(release.content_hash)}")
    if release.yanked:
        out.say(f"  [yellow]yanked:[/] {clean(release.yank_reason)}")
    out.say(
        f"  install:     skillyard skill install {clean(release.skill)}@{clean(release.version)}"
    )


def yank(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    ref = SkillRef.parse(args.skill)
    try:
        pin = parse_range(ref.range).pin
    except VersionSyntaxError:
        pin = None
    if pin is None:
        raise BadReference(f"{args.skill!r}: name one exact version (owner/name@1.2.3)")
    credential = settings.credentials().get(settings.api)
    if credential is None:
        raise ClientError(f"not logged in to {settings.api}: run skillyard skill login")
    with settings.client(token=credential.token) as client:
        if args.undo:
            release = client.unyank(ref.owner, ref.name, str(pin))
        else:
            release = client.yank(ref.owner, ref.name, str(pin), args.reason)
    if out.json_mode:
        out.result(release.raw)
    else:
        state = "yanked" if release.yanked else "no longer yanked"
        out.say(f"{clean(release.skill)}@{clean(release.version)} is {state}")
    return 0
