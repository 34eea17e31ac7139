"""A command on a terminal, as a reader types at it (`kubectl exec -it`, a prompt that asks
for a password): it runs on a pty, the test waits for what it prints and types the
reader's lines; the screen's lines (what a reader sees: carriage returns, line editing
and colours applied, not their escape codes) go into the evidence, the typed secrets
scrubbed by it."""

import fcntl
import os
import pty
import re
import select
import struct
import termios
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tutorial_conformance.toolkit.commands import Process, TimeoutExpired, start_on_terminal
from tutorial_conformance.toolkit.evidence import Evidence
from tutorial_conformance.toolkit.timeouts import INTERVALS, TIMEOUTS

CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z@])|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]")


class TerminalError(AssertionError):
    """What the terminal showed when the awaited text did not come."""


def screen(raw: str) -> list[str]:
    """The lines a terminal shows for `raw`: `\\r` returns to the line's start, `\\b` and
    cursor-forward move, erase-line cuts; other escape codes show nothing."""
    lines, line, col, i = [], [], 0, 0
    while i < len(raw):
        match = CSI.match(raw, i)
        if match:
            args, code = match.group(1) or "", match.group(2)
            if code == "K" and args in ("", "0"):
                del line[col:]
            elif code == "C":
                col += int(args or 1)
            i = match.end()
            continue
        char = raw[i]
        i += 1
        if char == "\n":
            lines.append("".join(line).rstrip())
            line, col = [], 0
        elif char == "\r":
            col = 0
        elif char == "\b":
            col = max(0, col - 1)
        elif char.isprintable():
            line.extend(" " * (col - len(line) + 1) if col >= len(line) else "")
            line[col] = char
            col += 1
    lines.append("".join(line).rstrip())
    return lines


class Terminal:
    def __init__(self, proc: Process[bytes], fd: int, shown: str) -> None:
        self.proc, self.fd, self.shown = proc, fd, shown
        self.output = b""  # bytes, decoded whole: a character may span two reads

    @property
    def raw(self) -> str:
        return self.output.decode(errors="replace")

    def expect(self, pattern: str, what: str, timeout: float | None = None) -> re.Match[str]:
        """Reads until the screen's text (its lines without trailing blanks) matches
        `pattern`; TerminalError names `what` it waited for and the screen's last lines."""
        bound = timeout or TIMEOUTS.exec
        deadline = time.monotonic() + bound
        regex = re.compile(pattern)
        while not (found := regex.search("\n".join(self.lines))):
            left = deadline - time.monotonic()
            ready = select.select([self.fd], [], [], max(0.0, left))[0] if left > 0 else []
            if not (ready and self._read()):
                last = " | ".join(self.lines[-3:]) or "nothing"
                state = ("the command ended" if self.proc.poll() is not None
                         else f"not shown within {bound:.0f} s")
                raise TerminalError(f"`{self.shown}` on a terminal: waited for {what}; {state}; "
                                    f"the screen's last lines: {last}")
        return found

    def type(self, line: str) -> None:
        """A line typed at the terminal, Enter included."""
        os.write(self.fd, (line + "\r").encode())

    def _read(self) -> bool:
        """What the command printed since the last read; False once it closed its end."""
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # the other end closed: the command ended
            return False
        self.output += data
        return bool(data)

    @property
    def lines(self) -> list[str]:
        return screen(self.raw)

    def wait(self, timeout: float | None = None) -> int:
        """The command's exit code once it ends by itself (what it prints meanwhile is
        read); TerminalError if it does not end within the bound."""
        bound = timeout or TIMEOUTS.short
        deadline = time.monotonic() + bound
        while self.proc.poll() is None and time.monotonic() < deadline:
            if select.select([self.fd], [], [], INTERVALS.fast)[0] and not self._read():
                break
        try:
            return self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutExpired:
            raise TerminalError(f"`{self.shown}` on a terminal did not end within {bound:.0f} s; "
                                f"the screen's last lines: {' | '.join(self.lines[-3:])}") from None


@contextmanager
def terminal(argv: Sequence[str], shown: str, evidence: Evidence | None = None,
             size: tuple[int, int] = (40, 200), env: dict[str, str] | None = None,
             cwd: Path | None = None) -> Iterator[Terminal]:
    """`argv` on a new pty of `size` (rows, columns); on leaving, the command is ended
    (hung up, then killed after TIMEOUTS.short) and its screen kept in `evidence`."""
    master, slave = pty.openpty()
    os.set_blocking(master, True)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    started = time.monotonic()
    try:
        proc = start_on_terminal(argv, slave, cwd=cwd, env=env)
    except FileNotFoundError:
        os.close(master)
        os.close(slave)
        raise TerminalError(f"`{argv[0]}` is not installed (running `{shown}`)") from None
    os.close(slave)
    term = Terminal(proc, master, shown)
    try:
        yield term
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=TIMEOUTS.short)
        except TimeoutExpired:
            proc.kill()
            proc.wait(timeout=TIMEOUTS.short)
        os.close(master)
        if evidence is not None:
            evidence.add(f"$ {shown} (on a terminal)", "\n".join(term.lines) +
                         f"\n[exit {proc.returncode}, {time.monotonic() - started:.1f} s]")
