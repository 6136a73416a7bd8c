"""Which logit columns belong to which head (torch-free, so the ONNX scoring path needs no torch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class HeadSpec:
    """Which logit columns belong to which head, and their class names."""

    heads: tuple[tuple[str, tuple[str, ...]], ...]

    @classmethod
    def from_meta(cls, heads: Mapping[str, Sequence[str]]) -> HeadSpec:
        return cls(tuple((name, tuple(labels)) for name, labels in heads.items()))

    def as_meta(self) -> dict[str, list[str]]:
        return {name: list(labels) for name, labels in self.heads}

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.heads]

    def labels(self, head: str) -> tuple[str, ...]:
        return dict(self.heads)[head]

    def columns(self, head: str) -> slice:
        """The logit columns of ``head``; raises KeyError for an unknown head."""
        start = 0
        for name, labels in self.heads:
            if name == head:
                return slice(start, start + len(labels))
            start += len(labels)
        raise KeyError(f"no head {head!r}; heads: {', '.join(self.names)}")

    @property
    def width(self) -> int:
        return sum(len(labels) for _, labels in self.heads)
