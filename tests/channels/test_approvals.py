"""Approval button ids: one format for every platform, within each platform's limit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.approvals import button_ids, decode_button, encode_button
from channels.base import ApprovalButtons
from gateway.events import ApprovalDecision


@pytest.mark.parametrize("decision", list(ApprovalDecision))
def test_an_id_round_trips_even_with_colons_in_the_request_id(decision: ApprovalDecision) -> None:
    data = encode_button("apr_abc:def", decision, max_bytes=64)
    assert data == f"apr:apr_abc:def:{decision.value}"
    assert decode_button(data) == ("apr_abc:def", decision)


def test_the_limit_counts_utf8_bytes() -> None:
    assert encode_button("x" * 52, ApprovalDecision.APPROVE, max_bytes=64) is not None
    assert encode_button("x" * 53, ApprovalDecision.APPROVE, max_bytes=64) is None
    assert encode_button("é" * 27, ApprovalDecision.APPROVE, max_bytes=64) is None  # 54 bytes
    assert encode_button("", ApprovalDecision.APPROVE, max_bytes=64) is None


def test_both_buttons_or_none() -> None:
    assert button_ids(ApprovalButtons("apr_1"), max_bytes=100) == (
        "apr:apr_1:approve",
        "apr:apr_1:deny",
    )
    # "approve" is longer than "deny": an id where only deny fits gets no buttons at all
    assert button_ids(ApprovalButtons("x" * 52), max_bytes=61) is None


@pytest.mark.parametrize(
    "data", ["", "apr", "apr:x", "apr::approve", "apr:x:maybe", "other:x:approve", "x:apr:deny"]
)
def test_other_ids_are_not_ours(data: str) -> None:
    assert decode_button(data) is None


@given(st.text(max_size=80))
def test_any_data_decodes_or_is_refused(data: str) -> None:
    decoded = decode_button(data)
    if decoded is not None:
        request_id, decision = decoded
        assert encode_button(request_id, decision, max_bytes=1000) == data
