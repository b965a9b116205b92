"""``multipart/form-data`` bodies read with the standard library (the fakes parse uploads
without python-multipart): text fields as strings, file parts as :class:`FilePart`."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

__all__ = ["FilePart", "parse_multipart"]


@dataclass(frozen=True)
class FilePart:
    """An uploaded file: the part's ``filename``, ``content_type`` and bytes."""

    filename: str | None
    content_type: str
    content: bytes


def parse_multipart(body: bytes, content_type: str) -> dict[str, str | FilePart]:
    """The fields of a ``multipart/form-data`` body sent with ``content_type``."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    assert isinstance(message, EmailMessage) and message.is_multipart(), "not multipart"
    fields: dict[str, str | FilePart] = {}
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        name = part.get_param("name", header="content-disposition")
        assert isinstance(name, str), "a form part without a name"
        content = part.get_payload(decode=True)
        assert isinstance(content, bytes)
        filename = part.get_filename()
        if filename is None and part.get_content_type() in ("text/plain", "application/json"):
            fields[name] = content.decode("utf-8")
        else:
            fields[name] = FilePart(filename, part.get_content_type(), content)
    return fields
