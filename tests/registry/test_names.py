"""registry.names: slugs, reserved names and look-alikes (ClawHavoc's typosquats)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.names import (
    NamePolicy,
    NameVerdict,
    check_new_name,
    damerau_levenshtein,
    skeleton,
)

EXISTING = [("openclaw", "clawhub"), ("alice", "pdf-tools"), ("bob", "weather-report")]
HOLD, REJECT, ACCEPT = NameVerdict.HOLD, NameVerdict.REJECT, NameVerdict.ACCEPT


@pytest.mark.parametrize(
    "name",
    ["clawwhub", "cllawhub", "clawhub1", "c1awhub", "clawhubcli", "clawhub-cli", "claw-hub",
     "dawhub", "clawhbu"],
)  # fmt: skip
def test_clawhub_look_alikes_are_held(name: str) -> None:
    decision = check_new_name(name, "hightower6eu", EXISTING)
    assert decision.verdict is HOLD
    assert ("openclaw", "clawhub") in decision.similar_to
    assert any("openclaw/clawhub" in reason for reason in decision.reasons)


def test_the_reasons_say_how_a_name_resembles_another() -> None:
    reasons = check_new_name("pdf-tool", "mallory", EXISTING).reasons
    assert reasons == ("'pdf-tool' is a small edit away from alice/pdf-tools",)
    assert check_new_name("pdftools", "mallory", EXISTING).reasons == (
        "'pdftools' looks the same as alice/pdf-tools",
    )
    assert check_new_name("pdf-tools", "mallory", EXISTING).reasons == (
        "'pdf-tools' is the same name as alice/pdf-tools",
    )


def test_an_owner_never_collides_with_itself() -> None:
    assert check_new_name("pdf-tools2", "alice", EXISTING).verdict is ACCEPT
    assert check_new_name("clawhub-backup", "openclaw", EXISTING).verdict is ACCEPT


@pytest.mark.parametrize("name", ["weather", "unit-convert-pro2x", "pdf", "invoice-tools", "ab"])
def test_distinct_names_are_accepted(name: str) -> None:
    decision = check_new_name(name, "carol", EXISTING)
    assert decision.verdict is ACCEPT, decision.reasons


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Clawhub", "lowercase"),
        ("\u0441lawhub", "lowercase"),  # Cyrillic es
        ("claw--hub", "'--'"),
        ("-claw", "start or end"),
        ("a" * 65, "1-64"),
        ("", "1-64"),
    ],
)
def test_invalid_slugs_are_rejected(name: str, fragment: str) -> None:
    decision = check_new_name(name, "mallory", EXISTING)
    assert decision.verdict is REJECT
    assert any(fragment in reason for reason in decision.reasons)


@pytest.mark.parametrize("name", ["admin", "official", "skillyard", "api", "system", "clawhub"])
def test_reserved_names_are_rejected(name: str) -> None:
    decision = check_new_name(name, "mallory", [])
    assert decision.verdict is REJECT
    assert decision.reasons == (f"{name!r} is a reserved name",)
    assert check_new_name(name, "skillyard", []).verdict is ACCEPT


@pytest.mark.parametrize("name", ["calculator", "notes", "time", "unit-convert"])
def test_first_party_names_are_reserved_for_their_owner(name: str) -> None:
    assert check_new_name(name, "mallory", []).verdict is REJECT
    assert check_new_name(name, "skillyard", []).verdict is ACCEPT


@pytest.mark.parametrize(
    "name",
    ["calculator2", "calcuator", "unit-converter", "n0tes", "official-tools", "skillyard-cli"],
)
def test_look_alikes_of_protected_names_are_held(name: str) -> None:
    assert check_new_name(name, "mallory", []).verdict is HOLD


def test_tiny_names_only_compare_skeletons() -> None:
    # "time" is one edit from "lime", "tim" and "tame": all honest names.
    assert check_new_name("lime", "mallory", []).verdict is ACCEPT
    assert check_new_name("tirne", "mallory", []).verdict is HOLD  # rn looks like m


def test_policy_is_configurable() -> None:
    policy = NamePolicy(
        reserved=frozenset({"acme"}), first_party=frozenset(), first_party_owner="acme"
    )
    assert check_new_name("admin", "mallory", [], policy=policy).verdict is ACCEPT
    assert check_new_name("acme", "mallory", [], policy=policy).verdict is REJECT


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("clawhub", "\u0441lawhub"),  # Cyrillic es
        ("clawhub", "CLAWHUB"),
        ("clawhub", "c1awhub"),
        ("microsoft", "rnicrosoft"),
        ("paypal", "p\u0430yp\u0430l"),  # Cyrillic a
        ("pdf-tools", "pdf_tools"),
        ("google", "g\u03bf\u03bfgle"),  # Greek omicron
        ("wallet", "vvallet"),
    ],
)
def test_skeletons_fold_look_alikes(a: str, b: str) -> None:
    assert skeleton(a) == skeleton(b)


def test_skeletons_keep_different_names_apart() -> None:
    assert skeleton("clawhub") != skeleton("clawpub")
    assert skeleton("notes") != skeleton("nodes")


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("", "", 0), ("abc", "abc", 0), ("abc", "acb", 1), ("clawhub", "clawwhub", 1),
     ("clawhub", "cllawhub", 1), ("kitten", "sitting", 3), ("ca", "abc", 3)],
)  # fmt: skip
def test_damerau_levenshtein(a: str, b: str, distance: int) -> None:
    assert damerau_levenshtein(a, b, 5) == distance
    assert damerau_levenshtein(a, b, 0) == min(distance, 1)


@given(st.text(max_size=12), st.text(max_size=12), st.integers(0, 4))
def test_the_distance_is_symmetric_and_bounded(a: str, b: str, limit: int) -> None:
    distance = damerau_levenshtein(a, b, limit)
    assert distance == damerau_levenshtein(b, a, limit)
    assert distance <= limit + 1
    assert (distance == 0) == (a == b)
