"""Fitting requests to capability records, and keeping <think> text out of replies."""

from __future__ import annotations

import logging
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brain.models import ForceTool, Message, ModelRequest, Role, Sampling
from brain.models.capabilities import Capabilities, Range
from brain.models.fit import AdjustmentLog, fit_request, fit_sampling
from brain.models.local import LocalProvider
from brain.models.presets import PRESETS
from brain.models.scripted import ScriptedProvider
from brain.models.think import ThinkFilter, strip_think
from brain.models.wire import openai_params
from tests.fakes.openai_server import minimax_problem

ALL_CAPS = {
    **{name: preset.capabilities for name, preset in PRESETS.items()},
    "local": LocalProvider(__import__("pathlib").Path("x.gguf")).capabilities,
    "scripted": ScriptedProvider().capabilities,
}

numbers = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-3, max_value=3),
    st.sampled_from([0.0, 1.0, 2.0, -2.0, 1e-9, 0.01]),
)
samplings = st.builds(
    Sampling,
    temperature=numbers,
    top_p=numbers,
    top_k=st.one_of(st.none(), st.integers(min_value=-(10**6), max_value=10**6)),
    frequency_penalty=numbers,
    presence_penalty=numbers,
)


def within(value: float | None, allowed: Range | None) -> bool:
    if value is None:
        return True
    return allowed is not None and math.isfinite(value) and allowed.contains(value)


@settings(max_examples=1000, deadline=None)
@given(samplings, st.sampled_from(sorted(ALL_CAPS)))
def test_no_random_sampling_config_yields_an_out_of_range_request(
    sampling: Sampling, provider: str
) -> None:
    caps = ALL_CAPS[provider]
    fitted, _ = fit_sampling(sampling, caps)
    assert within(fitted.temperature, caps.temperature)
    assert within(fitted.top_p, caps.top_p)
    assert within(fitted.top_k, caps.top_k)
    assert within(fitted.frequency_penalty, caps.penalties)
    assert within(fitted.presence_penalty, caps.penalties)
    assert fitted.top_k is None or isinstance(fitted.top_k, int)


@settings(max_examples=200, deadline=None)
@given(samplings, st.sampled_from(["auto", "none", "force"]), st.integers(0, 3))
def test_minimax_never_gets_a_request_it_refuses(
    sampling: Sampling, choice: str, extra_systems: int
) -> None:
    from brain.models import ToolDef

    tool = ToolDef("t", "a tool", {"type": "object"})
    systems = tuple(Message(Role.SYSTEM, f"s{i}") for i in range(extra_systems))
    messages = (*systems, Message(Role.USER, "u"), *systems)
    request = ModelRequest(
        messages,
        (tool,),
        ForceTool("t") if choice == "force" else choice,  # type: ignore[arg-type]
        sampling=sampling,
    )
    preset = PRESETS["minimax"]
    fitted = fit_request(request, preset.capabilities, preset=preset.sampling)
    body = openai_params(
        "MiniMax-M2.7", fitted, (tool,), producer="p", extra_body={}, stream_usage=False
    )
    assert minimax_problem(body) is None


def test_temperature_zero_becomes_epsilon_for_minimax() -> None:
    fitted, notes = fit_sampling(Sampling(temperature=0.0), PRESETS["minimax"].capabilities)
    assert fitted.temperature == 0.01
    assert [(n.parameter, n.action) for n in notes] == [("temperature", "clamped")]


def test_top_k_never_goes_to_minimax_anthropic() -> None:
    preset = PRESETS["minimax-anthropic"]
    fitted = fit_request(ModelRequest(()), preset.capabilities, preset=preset.sampling)
    assert fitted.sampling == Sampling(temperature=1.0, top_p=0.95)
    assert [(n.parameter, n.action) for n in fitted.adjustments] == [("top_k", "dropped")]


def test_request_values_win_over_the_preset() -> None:
    preset = PRESETS["minimax"]
    request = ModelRequest((), sampling=Sampling(temperature=0.7))
    fitted = fit_request(request, preset.capabilities, preset=preset.sampling)
    assert fitted.sampling == Sampling(temperature=0.7, top_p=0.95, top_k=40)


def test_max_tokens_is_capped_and_json_mode_dropped_where_unsupported() -> None:
    caps = Capabilities(chooses_tools=True, streams=True, context_window=10, max_output_tokens=100)
    fitted = fit_request(ModelRequest((), max_tokens=5000, response_format="json"), caps)
    assert (fitted.max_tokens, fitted.response_format) == (100, "text")
    assert fit_request(ModelRequest(()), caps, default_max_tokens=50).max_tokens == 50


def test_system_messages_are_merged_and_later_ones_kept_in_place() -> None:
    messages = (
        Message(Role.SYSTEM, "a"),
        Message(Role.SYSTEM, "b"),
        Message(Role.USER, "u"),
        Message(Role.SYSTEM, "late"),
    )
    fitted = fit_request(ModelRequest(messages), PRESETS["minimax"].capabilities)
    assert fitted.messages == (
        Message(Role.SYSTEM, "a\n\nb"),
        Message(Role.USER, "u"),
        Message(Role.USER, "[system note]\nlate"),
    )
    untouched = fit_request(ModelRequest(messages), PRESETS["openai"].capabilities)
    assert untouched.messages == messages and untouched.adjustments == ()


def test_each_adjustment_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    notes = AdjustmentLog("minimax:MiniMax-M2.7")
    caps = PRESETS["minimax"].capabilities
    with caplog.at_level(logging.INFO, logger="brain.models.fit"):
        for value in (0.0, 0.0, 5.0):
            notes.report(fit_sampling(Sampling(temperature=value), caps)[1])
    assert len(caplog.records) == 1
    assert "minimax:MiniMax-M2.7: clamped temperature (0 -> 0.01" in caplog.records[0].getMessage()


# -- <think> filtering ---------------------------------------------------------

thinky = st.lists(
    st.sampled_from(["<think>", "</think>", "<th", "ink>", "</", "\n", " ", "a", "b", "<", ">"]),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(thinky, st.lists(st.integers(1, 7), min_size=1, max_size=20))
def test_streaming_filter_equals_the_whole_text_filter(text: str, cuts: list[int]) -> None:
    stream, shown, start = ThinkFilter(), [], 0
    for size in cuts * (len(text) // max(sum(cuts), 1) + 1):
        if start >= len(text):
            break
        shown.append(stream.feed(text[start : start + size]))
        start += size
    shown.append(stream.feed(text[start:]))
    shown.append(stream.close())
    assert "".join(shown) == strip_think(text)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("<think>\nplan\n</think>\n\nHello", "Hello"),
        ("Hello", "Hello"),
        ("a <think>x</think> b", "a b"),
        ("<think>cut off by max_tokens", ""),
        ("1 < 2 and <thin is not a tag", "1 < 2 and <thin is not a tag"),
        ("</think>stray close", "</think>stray close"),
    ],
)
def test_strip_think(raw: str, shown: str) -> None:
    assert strip_think(raw) == shown


def test_no_partial_tag_is_ever_shown() -> None:
    stream = ThinkFilter()
    assert stream.feed("Hi <thi") == "Hi "
    assert stream.feed("nk>secret</thi") == ""
    assert stream.feed("nk> there") == "there"
    assert stream.close() == ""
