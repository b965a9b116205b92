"""The checked payload reader every normaliser uses: errors name the field's path."""

from __future__ import annotations

import pytest

from channels import payload
from channels.errors import MalformedPayload


class Malformed(MalformedPayload):
    platform = "testchat"


class Obj(payload.Obj):
    __slots__ = ()
    error = Malformed


class BlankIsAbsent(Obj):
    __slots__ = ()
    blank_is_absent = True


DATA = {
    "id": 7,
    "name": "",
    "ok": True,
    "off": None,
    "chat": {"title": "club"},
    "items": [{"n": 1}, {"n": "two"}],
}


def test_reads_are_typed() -> None:
    root = Obj(DATA, "update")
    assert root.req_int("id") == 7 and root.opt_int("missing") is None
    assert root.req_str("name") == "" and root.flag("ok") and not root.flag("off")
    assert root.child("chat").req_str("title") == "club"
    assert root.opt_child("missing") is None
    assert [item.path for item in root.children("items")] == ["update.items[0]", "update.items[1]"]
    assert isinstance(root.child("chat"), Obj)  # children read by the same rules


@pytest.mark.parametrize(
    ("read", "message"),
    [
        (lambda o: o.req_str("id"), "testchat: update.id must be a string"),
        (lambda o: o.req_int("name"), "update.name must be an integer"),
        (lambda o: o.req_int("ok"), "update.ok must be an integer"),  # a bool is no number
        (lambda o: o.flag("id"), "update.id must be true or false"),
        (lambda o: o.child("missing"), "update.missing must be an object"),
        (lambda o: o.children("chat"), "update.chat must be an array"),
        (lambda o: o.children("items")[1].req_int("n"), r"update.items\[1\].n must be an integer"),
    ],
)
def test_errors_name_the_path(read: object, message: str) -> None:
    with pytest.raises(Malformed, match=message) as raised:
        read(Obj(DATA, "update"))  # type: ignore[operator]
    assert raised.value.channel == "testchat"


def test_where_blank_means_absent_a_required_string_must_not_be_blank() -> None:
    root = BlankIsAbsent(DATA, "body")
    assert root.opt_str("name") is None and not root.has("name")
    with pytest.raises(Malformed, match=r"body\.name must be a non-empty string"):
        root.req_str("name")


def test_the_root_must_be_an_object() -> None:
    with pytest.raises(Malformed, match="update must be an object"):
        Obj(["not", "an", "object"], "update")
