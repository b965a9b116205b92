"""A skill page's parts: install, scan report, permissions, tools, signer, versions, files."""

from __future__ import annotations

from registry.scan.model import ScanReport
from registry.store.records import FileEntry, KeyRecord, SkillRecord, SkillSummary, VersionRecord
from registry.web.layout import badge, when
from registry.web.markdown import escape, render_markdown

__all__ = ["result_card", "skill_sections"]


def result_card(root: str, hit: SkillSummary) -> str:
    href = f"{root}/skills/{escape(hit.owner)}/{escape(hit.name)}"
    meta = [f"v{escape(hit.current_version or '-')}", f"{hit.downloads} downloads"]
    if hit.has_tools:
        meta.append("runs tools")
    return (
        '<li class="card">'
        f'<h2><a href="{href}">{escape(hit.skill)}</a></h2> {badge(hit.verdict)}'
        f'<p class="description">{escape(hit.description)}</p>'
        f'<p class="meta">{" · ".join(meta)}</p></li>'
    )


def skill_sections(
    root: str,
    skill: SkillRecord,
    record: VersionRecord,
    files: list[FileEntry],
    key: KeyRecord | None,
) -> list[str]:
    return [
        _heading(root, skill, record),
        _install(record),
        _scan(record.scan),
        _permissions(record),
        _tools(record),
        _signature(record, key),
        _versions(root, skill),
        _files(files),
        _readme(record.skill_md),
    ]


def _heading(root: str, skill: SkillRecord, record: VersionRecord) -> str:
    owner = escape(record.owner)
    notes = []
    if record.yanked:
        notes.append(
            '<p class="warning" role="note">This version was yanked: '
            f"{escape(record.yank_reason or 'no reason given')}</p>"
        )
    if str(record.scan.verdict) == "block":
        notes.append(
            '<p class="warning" role="note">The scanner blocks this version: '
            "it cannot be downloaded or installed.</p>"
        )
    if skill.summary.held:
        notes.append(
            '<p class="warning" role="note">This name is held for review: '
            f"{escape(skill.hold_reason)}</p>"
        )
    return (
        f'<h1>{escape(record.skill)} <span class="version">{escape(record.version)}</span></h1>'
        f'<p class="description">{escape(record.info.description)}</p>'
        f'<p class="meta">by <a href="{root}/publishers/{owner}">{owner}</a> · published '
        f"{when(record.published_at)} · {skill.summary.downloads} downloads · "
        f"{badge(str(record.scan.verdict))}</p>{''.join(notes)}"
    )


def _install(record: VersionRecord) -> str:
    command = f"skillyard skill install {record.skill}@{record.version}"
    return (
        '<section aria-labelledby="install"><h2 id="install">Install</h2>'
        f'<p><code class="install-command">{escape(command)}</code> '
        '<button type="button" class="copy" hidden>Copy</button></p></section>'
    )


def _scan(report: ScanReport) -> str:
    items = "".join(
        f'<li class="finding severity-{escape(str(f.severity))}"><strong>{escape(f.rule)}</strong> '
        f"({escape(str(f.severity))}) in <code>{escape(f.file)}:{f.line}</code>: "
        f"{escape(f.message)}<pre><code>{escape(f.excerpt)}</code></pre></li>"
        for f in report.findings
    )
    found = f"<ul>{items}</ul>" if items else "<p>No findings.</p>"
    return (
        '<section aria-labelledby="scan"><h2 id="scan">Security scan</h2>'
        f"<p>{badge(str(report.verdict))} by ruleset {escape(report.ruleset)}</p>{found}</section>"
    )


def _permissions(record: VersionRecord) -> str:
    info = record.info
    rows = [
        ("Network hosts", info.network),
        ("Environment variables", info.env),
        ("Programs", info.binaries),
        ("Files", info.filesystem),
        ("Allowed tools", info.allowed_tools),
    ]
    cells = "".join(
        f'<tr><th scope="row">{label}</th><td>{escape(", ".join(values)) or "none"}</td></tr>'
        for label, values in rows
    )
    return (
        '<section aria-labelledby="permissions"><h2 id="permissions">Permissions</h2>'
        f"<table>{cells}</table></section>"
    )


def _tools(record: VersionRecord) -> str:
    tools = record.info.tools
    if not tools:
        return (
            '<section aria-labelledby="tools"><h2 id="tools">Tools</h2>'
            "<p>Instructions only: no tools.</p></section>"
        )
    items = "".join(
        f"<li><code>{escape(t.name)}</code>: {escape(t.description)}</li>" for t in tools
    )
    command = record.info.command
    extra = (
        f"<p>Command: <code>/{escape(record.name)}</code> runs <code>{escape(command)}</code>.</p>"
        if command
        else ""
    )
    return (
        '<section aria-labelledby="tools"><h2 id="tools">Tools</h2>'
        f"<ul>{items}</ul>{extra}</section>"
    )


def _signature(record: VersionRecord, key: KeyRecord | None) -> str:
    fingerprint = key.public_key.fingerprint if key else "unknown key"
    revoked = f" (revoked {when(key.revoked_at)})" if key and key.revoked_at else ""
    return (
        '<section aria-labelledby="signature"><h2 id="signature">Signature</h2><dl>'
        "<dt>Signed by</dt>"
        f'<dd><code class="fingerprint">{escape(fingerprint)}</code>{revoked}</dd>'
        f"<dt>Content hash</dt><dd><code>{escape(record.content_hash)}</code></dd>"
        f'<dt>Transparency log index</dt><dd class="log-index">{record.log_index}</dd>'
        "<dt>Countersigned by the registry key</dt>"
        f"<dd><code>{escape(record.registry_key_id)}</code></dd>"
        "</dl></section>"
    )


def _versions(root: str, skill: SkillRecord) -> str:
    base = f"{root}/skills/{escape(skill.summary.owner)}/{escape(skill.summary.name)}"
    rows = "".join(
        f'<tr><td><a href="{base}?version={escape(v.version)}">{escape(v.version)}</a></td>'
        f"<td>{when(v.published_at)}</td><td>{badge(str(v.scan.verdict))}</td>"
        f"<td>{_status(v)}</td></tr>"
        for v in skill.versions
    )
    return (
        '<section aria-labelledby="versions"><h2 id="versions">Versions</h2><table>'
        "<tr><th>Version</th><th>Published</th><th>Scan</th><th>Status</th></tr>"
        f"{rows}</table></section>"
    )


def _status(version: VersionRecord) -> str:
    if version.deleted_at is not None:
        return "deleted"
    if version.yanked:
        return f"yanked: {escape(version.yank_reason)}"
    return "available"


def _files(files: list[FileEntry]) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(f.path)}</code></td><td>{f.size}</td>"
        f"<td>{'yes' if f.executable else ''}</td></tr>"
        for f in files
    )
    return (
        '<section aria-labelledby="files"><h2 id="files">Files</h2><table>'
        f"<tr><th>Path</th><th>Bytes</th><th>Executable</th></tr>{rows}</table></section>"
    )


def _readme(skill_md: str) -> str:
    body = _without_frontmatter(skill_md)
    return (
        '<section aria-labelledby="readme"><h2 id="readme">SKILL.md</h2>'
        f'<article class="skill-md">{render_markdown(body)}</article></section>'
    )


def _without_frontmatter(text: str) -> str:
    lines = text.lstrip("\ufeff").splitlines()
    if lines and lines[0].strip() == "---":
        for index, line in enumerate(lines[1:], 1):
            if line.strip() == "---":
                return "\n".join(lines[index + 1 :])
    return text
