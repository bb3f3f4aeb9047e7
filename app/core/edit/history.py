"""Instruction history for the instruction bar (Up/Down), like a shell's. No Qt."""

from __future__ import annotations


class InstructionHistory:
    """Sent instructions, newest last; browsing keeps the unsent draft to come back to."""

    def __init__(self, entries: list[str] | None = None, max_entries: int = 200) -> None:
        self.max_entries = max_entries
        self.entries: list[str] = [e for e in (entries or []) if e.strip()][-max_entries:]
        self._pos = len(self.entries)  # == len(entries) means "at the draft"
        self._draft = ""

    def add(self, instruction: str) -> None:
        """Remember a sent instruction (not twice in a row) and go back to an empty draft."""
        text = instruction.strip()
        if text and (not self.entries or self.entries[-1] != text):
            self.entries.append(text)
            del self.entries[: -self.max_entries]
        self._pos = len(self.entries)
        self._draft = ""

    def previous(self, current: str) -> str:
        """Up: the older entry; the first Up keeps `current` as the draft."""
        if self._pos == len(self.entries):
            self._draft = current
        if self._pos > 0:
            self._pos -= 1
        return self.entries[self._pos] if self.entries else current

    def next(self, current: str) -> str:
        """Down: the newer entry, and finally the draft the user was typing."""
        if self._pos >= len(self.entries):
            return current
        self._pos += 1
        return self.entries[self._pos] if self._pos < len(self.entries) else self._draft
