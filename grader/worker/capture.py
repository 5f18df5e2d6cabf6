"""The student's printed output, kept in memory and truncated (one buffer per request)."""

from __future__ import annotations

import io


class Capture(io.TextIOBase):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.reset()

    def reset(self) -> None:
        self._parts: list[str] = []
        self._kept = 0
        self._dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        s = str(s)
        room = self.limit - self._kept
        if room > 0:
            self._parts.append(s[:room])
            self._kept += min(len(s), room)
        self._dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def text(self) -> str:
        out = "".join(self._parts)
        if self._dropped:
            out += f"\n... ({self._dropped} more characters of output dropped)"
        return out
