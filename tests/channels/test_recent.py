"""The ids a channel handled lately: bounded, oldest forgotten first."""

from __future__ import annotations

from channels.recent import Recent


def test_the_oldest_id_is_forgotten_first() -> None:
    recent: Recent[int] = Recent(size=2)
    for number in (1, 2, 1, 3):  # 1 seen again: it is young again
        recent.add(number)
    assert 1 in recent and 3 in recent and 2 not in recent
