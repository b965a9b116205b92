"""BERT's uncased WordPiece tokenizer, as all-MiniLM-L6-v2 was trained with it.

Matches Hugging Face's ``BertTokenizer`` (``do_lower_case``, accents
stripped, Chinese characters and punctuation split off, greedy longest-match
word pieces with ``##`` continuations); ``tests/brain/test_discovery_dense.py``
checks it on fixed strings.  Pure Python: a query is a few dozen words.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

__all__ = ["WordPiece"]

# BERT gives up on longer words (``max_input_chars_per_word``).
_MAX_WORD_CHARS = 100


class WordPiece:
    """Token ids for text; ``vocab_path`` is a ``vocab.txt`` (one piece a line)."""

    def __init__(self, vocab_path: Path) -> None:
        lines = vocab_path.read_text(encoding="utf-8").split("\n")
        self._vocab = {piece: i for i, piece in enumerate(lines) if piece}
        self._pieces_by_id = tuple(lines[: max(self._vocab.values(), default=-1) + 1])
        self.unk, self.cls, self.sep = (self._vocab[t] for t in ("[UNK]", "[CLS]", "[SEP]"))

    def __len__(self) -> int:
        """The vocabulary size (one more than the highest id)."""
        return len(self._pieces_by_id)

    def piece(self, token: int) -> str:
        """The text of the piece ``token`` (``##``-prefixed for a continuation)."""
        return self._pieces_by_id[token]

    def id_of(self, piece: str) -> int | None:
        return self._vocab.get(piece)

    def encode(self, text: str, *, max_tokens: int) -> list[int]:
        """``[CLS] pieces… [SEP]``, at most ``max_tokens`` ids in all (``max_tokens`` ≥ 2)."""
        ids = [i for word in _words(text) for i in self.pieces(word)]
        return [self.cls, *ids[: max_tokens - 2], self.sep]

    def words(self, text: str) -> list[str]:
        """The words BERT splits ``text`` into (lower-cased, accents dropped)."""
        return _words(text)

    def pieces(self, word: str) -> list[int]:
        """The piece ids of one word from :meth:`words` (``[UNK]`` when it cannot be split)."""
        if len(word) > _MAX_WORD_CHARS:
            return [self.unk]
        ids: list[int] = []
        start = 0
        while start < len(word):
            for end in range(len(word), start, -1):
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self._vocab.get(piece)
                if found is not None:
                    ids.append(found)
                    start = end
                    break
            else:
                return [self.unk]
        return ids


def _words(text: str) -> list[str]:
    """Lower-cased, accent-free words, with each punctuation or CJK character on its own."""
    out: list[str] = []
    current: list[str] = []
    for char in unicodedata.normalize("NFD", text.lower()):
        kind = unicodedata.category(char)
        if char.isspace():
            _flush(current, out)
        elif kind in ("Mn", "Cc", "Cf") or char == "\ufffd":
            continue  # accents, control characters and replacement marks are dropped
        elif _is_punctuation(char, kind) or _is_cjk(ord(char)):
            _flush(current, out)
            out.append(char)
        else:
            current.append(char)
    _flush(current, out)
    return out


def _flush(current: list[str], out: list[str]) -> None:
    if current:
        out.append("".join(current))
        current.clear()


def _is_punctuation(char: str, kind: str) -> bool:
    # BERT counts every non-alphanumeric ASCII symbol as punctuation ($, ^, `...).
    code = ord(char)
    ascii_symbol = 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126
    return ascii_symbol or kind.startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )
