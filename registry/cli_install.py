"""Installing and keeping skills: ``install``, ``update``, ``remove``, ``list``, ``verify``.

Consent policy (documented in docs/howto/publish-a-skill.md):

* ``install`` always shows the verified permissions, tools, requirements,
  signer and scan verdict first and asks; ``--yes`` answers yes;
* ``update`` asks again only when the new version widens permissions, has a
  worse verdict or another signer; otherwise it proceeds;
* a ``block`` verdict (the registry's or our own scan of the files) is never
  installed, with or without ``--yes``: the brain would refuse to load it.
"""

from __future__ import annotations

import argparse
from typing import Any

from registry.cli import Bind, CliSettings, common
from registry.cli_output import Output, clean, finding_lines, permission_lines, verdict_text
from registry.client import RegistryClient, SkillRef
from registry.client_errors import Declined, LockfileError, VerificationError
from registry.client_models import Release
from registry.install import Candidate, Installer
from registry.install_check import check_installed, check_one
from registry.install_plan import check_resolved
from registry.install_trust import prove_included
from registry.install_verify import verify_locked
from registry.lockfile import LockedSkill
from registry.semver import parse_version
from registry.signing import b64decode
from registry.translog import LogEntry

__all__ = ["register"]


def register(actions: Any, bind: Bind) -> None:
    p = common(actions.add_parser("install", help="verify and install a skill"))
    p.add_argument("skill", help="owner/name[@range], e.g. alice/weather@^1.2")
    p.add_argument("--yes", action="store_true", help="accept without asking")
    p.add_argument("--reinstall", action="store_true", help="install again even if current")
    p.set_defaults(command=bind(install))
    p = common(actions.add_parser("update", help="update installed skills within their range"))
    p.add_argument("skills", nargs="*", help="owner/name[@range] (default: all)")
    p.add_argument("--yes", action="store_true", help="accept wider permissions without asking")
    p.set_defaults(command=bind(update))
    p = common(actions.add_parser("remove", help="uninstall a skill"))
    p.add_argument("skill", help="owner/name")
    p.set_defaults(command=bind(remove))
    p = common(actions.add_parser("list", help="installed skills and whether they verify"))
    p.set_defaults(command=bind(list_installed))
    p = common(actions.add_parser("verify", help="re-hash installed skills, check signatures"))
    p.add_argument("skills", nargs="*", help="owner/name (default: all)")
    p.add_argument(
        "--online",
        action="store_true",
        help="also ask the registry: log inclusion, forks, verdict, yanks",
    )
    p.set_defaults(command=bind(verify))


def _installer(settings: CliSettings, client: RegistryClient) -> Installer:
    return Installer(settings.install(), client, settings.trust())


# -- install and update ---------------------------------------------------------------


def install(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    ref = SkillRef.parse(args.skill)
    with settings.client(stored=True) as client, _installer(settings, client) as installer:
        release = client.resolve(ref)
        check_resolved(release, ref.owner, ref.name, ref.range)
        current = installer.lockfile().get(ref.skill)
        if current is not None and current.version == release.version and not args.reinstall:
            state = check_one(current, installer.settings.root, limits=settings.limits)
            if state.problem is not None:
                raise Declined(f"{ref.skill}@{current.version} is installed but {state.problem}")
            _report(out, "already installed", current, settings)
            return 0
        candidate = _stage(installer, release, ref.range, out)
        return _decide(installer, candidate, args.yes, out, settings, update=False)


def _stage(installer: Installer, release: Release, requested: str, out: Output) -> Candidate:
    with out.transfer(f"{release.skill}@{release.version}") as progress:
        return installer.stage(release, requested, progress=progress)


def _decide(
    installer: Installer,
    candidate: Candidate,
    yes: bool,
    out: Output,
    settings: CliSettings,
    *,
    update: bool,
) -> int:
    _show_candidate(out, candidate)
    if candidate.verdict == "block":
        installer.discard(candidate)
        raise Declined(f"{candidate.label} is blocked by the scanner and is never installed")
    must_ask = not update or bool(candidate.reasons)
    if must_ask and not out.ask(f"Install {candidate.label}?", yes=yes):
        installer.discard(candidate)
        raise Declined(f"{candidate.label} was not installed")
    if candidate.requirements:
        with out.status(f"building the Python environment of {candidate.release.skill}"):
            entry = installer.commit(candidate)
    else:
        entry = installer.commit(candidate)
    _report(out, "installed", entry, settings)
    return 0


def _show_candidate(out: Output, c: Candidate) -> None:
    release, verified = c.release, c.verified
    out.say(f"[bold]{clean(c.label)}[/]: {clean(c.skill.manifest.description)}")
    out.say(
        f"  signed by   {clean(verified.signer.fingerprint)} ({release.owner}'s key), "
        "countersigned by the registry"
    )
    size = verified.registry.checkpoint.size if verified.registry.checkpoint else 0
    out.say(f"  log entry   {release.log_index}, proven in the log of {size} entries")
    out.say(f"  content     {verified.content_hash}")
    out.say(f"  verdict     {verdict_text(c.verdict)} (registry: {clean(release.verdict)})")
    for line in finding_lines(c.findings):
        out.say(f"    {line}")
    for line in permission_lines(c.skill.permissions):
        out.say(f"  permission  {line}")
    tools = ", ".join(t.name for t in c.skill.tools) or "none"
    out.say(f"  tools       {clean(tools)}")
    if c.requirements:
        listed = ", ".join(r.spec for r in c.requirements)
        out.say(f"  python      {clean(listed)} (in its own environment)")
    if c.current is not None and c.diff is not None:
        out.say(f"  update      {clean(c.current.version)} → {clean(release.version)}")
        for line in permission_lines(c.diff.added) if c.diff.widened else ():
            out.say(f"  [bold yellow]NEW[/]         {line}")
        for reason in c.reasons:
            out.say(f"  [yellow]asks again:[/] {clean(reason)}")


def _report(out: Output, state: str, entry: LockedSkill, settings: CliSettings) -> None:
    folder = entry.folder(settings.install().root)
    if out.json_mode:
        out.result(
            {
                "state": state,
                "skill": entry.skill,
                "version": entry.version,
                "content_hash": entry.content_hash,
                "signer": entry.signer_fingerprint,
                "log_index": entry.log_index,
                "verdict": entry.verdict,
                "path": str(folder),
                "env": entry.env,
            }
        )
        return
    out.say(f"{state}: {clean(entry.skill)}@{clean(entry.version)} in {clean(folder)}")
    out.say("restart skillyard serve to let the brain use it")


def update(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    declined = 0
    with settings.client(stored=True) as client, _installer(settings, client) as installer:
        lock = installer.lockfile()
        refs = [SkillRef.parse(s) for s in args.skills] or [
            SkillRef(e.owner, e.name, e.requested) for e in lock.skills.values()
        ]
        for ref in refs:
            entry = lock.get(ref.skill)
            if entry is None:
                raise LockfileError(settings.install().lockfile, f"{ref.skill} is not installed")
            wanted = ref.range if args.skills and ref.range != "latest" else entry.requested
            try:
                _update_one(installer, client, entry, wanted, args.yes, out, settings)
            except Declined as exc:
                out.note(f"skipped: {clean(exc)}")
                declined += 1
    return 1 if declined else 0


def _update_one(
    installer: Installer,
    client: RegistryClient,
    entry: LockedSkill,
    wanted: str,
    yes: bool,
    out: Output,
    settings: CliSettings,
) -> None:
    if entry.registry_url != client.url:
        out.note(f"{entry.skill} came from {entry.registry_url}; it is updated from there only")
        return
    release = client.resolve(SkillRef(entry.owner, entry.name, wanted))
    check_resolved(release, entry.owner, entry.name, wanted)
    if release.version == entry.version:
        if release.content_hash != entry.content_hash:
            raise VerificationError(
                f"{entry.skill}@{entry.version}",
                "log consistency",
                "the registry now gives this version another hash",
            )
        _report(out, "up to date", entry, settings)
        return
    if parse_version(release.version) < parse_version(entry.version):
        out.note(
            f"{entry.skill}: the registry resolves {wanted} to older {release.version}; "
            f"keeping {entry.version}"
        )
        return
    _decide(installer, _stage(installer, release, wanted, out), yes, out, settings, update=True)


def remove(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    ref = SkillRef.parse(args.skill)
    with settings.client() as client, _installer(settings, client) as installer:
        entry = installer.remove(ref.skill)
    if out.json_mode:
        out.result({"removed": entry.skill, "version": entry.version})
    else:
        out.say(f"removed {clean(entry.skill)}@{clean(entry.version)}")
    return 0


# -- list and verify ------------------------------------------------------------------


def list_installed(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    states = check_installed(settings.install().root, limits=settings.limits)
    rows = [
        {
            "skill": s.skill,
            "version": s.entry.version if s.entry else None,
            "verdict": s.entry.verdict if s.entry else None,
            "signer": s.entry.signer_fingerprint if s.entry else None,
            "log_index": s.entry.log_index if s.entry else None,
            "verified": s.ok,
            "problem": s.problem,
            "path": str(s.folder),
        }
        for s in states
    ]
    if out.json_mode:
        out.result({"skills": rows})
        return 0
    if not rows:
        out.say("no registry skills are installed")
    table = [
        [
            str(r["skill"]),
            str(r["version"] or "-"),
            str(r["verdict"] or "-"),
            "ok" if r["verified"] else f"REFUSED: {r['problem']}",
        ]
        for r in rows
    ]
    out.table(["skill", "version", "verdict", "files"], table)
    return 0


def verify(args: argparse.Namespace, settings: CliSettings, out: Output) -> int:
    with settings.client(stored=True) as client, _installer(settings, client) as installer:
        lock = installer.lockfile()
        wanted = [SkillRef.parse(s).skill for s in args.skills] or sorted(lock.skills)
        results = [_verify_one(installer, client, lock.get(s), s, args.online) for s in wanted]
    if out.json_mode:
        out.result({"skills": [{"skill": s, "ok": p is None, "problem": p} for s, p in results]})
    else:
        out.table(
            ["skill", "verification"],
            [[s, "ok" if p is None else f"FAILED: {p}"] for s, p in results],
        )
    return 0 if all(problem is None for _, problem in results) else 1


def _verify_one(
    installer: Installer,
    client: RegistryClient,
    entry: LockedSkill | None,
    skill: str,
    online: bool,
) -> tuple[str, str | None]:
    if entry is None:
        return skill, "not installed"
    known = installer.trust.get(entry.registry_url)
    key = known.key if known and known.key.key_id == entry.registry_key_id else None
    try:
        verify_locked(
            entry, entry.folder(installer.settings.root), key, limits=installer.settings.limits
        )
        if online:
            _verify_online(installer, client, entry)
    except VerificationError as exc:
        return skill, str(exc)
    if key is None:
        return (
            skill,
            f"the key of {entry.registry_url} is unknown here; only the publisher's "
            "signature was checked",
        )
    return skill, None


def _verify_online(installer: Installer, client: RegistryClient, entry: LockedSkill) -> None:
    """The entry is still in the registry's (consistent) log; pin its verdict of today."""
    if entry.registry_url != client.url:
        return  # installed from another registry than the configured one
    release = client.version(entry.owner, entry.name, entry.version)
    if release.content_hash != entry.content_hash:
        raise VerificationError(
            entry.skill,
            "log consistency",
            f"the registry now gives {entry.version} the hash {release.content_hash}",
        )
    known = installer.trust.advance(client, installer.trust.registry(client))
    signature = b64decode(entry.publisher_signature, what="publisher signature", length=64)
    log_entry = LogEntry(
        "publish", entry.skill, entry.version, entry.content_hash, entry.signer_key_id, signature
    )
    prove_included(client, known, entry.skill, log_entry, entry.log_index)
    installer.record_verdict(entry.skill, release.verdict)
    if release.verdict == "block":
        raise VerificationError(
            entry.skill, "scan verdict", "the registry now blocks it; the brain will not load it"
        )
