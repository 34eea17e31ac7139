"""toolkit/terminal.py: a command on a pty, as a reader types at it (no cluster)."""

import pytest

from tutorial_conformance.toolkit.evidence import Evidence
from tutorial_conformance.toolkit.terminal import TerminalError, screen, terminal

PROMPTS = 'read -p "Username: " u; read -s -p "Password: " p; echo; echo "hello $u"; exit 3'


def test_line_editing_shows_as_the_screen_does():
    # linenoise (redis-cli) redraws the line on each key: return, prompt, text, erase.
    raw = "\rhost:6379> \x1b[0K\rhost:6379> p\x1b[0K\r\x1b[12C\rhost:6379> pi\x1b[0K\r\x1b[13C\r\n"
    assert screen(raw) == ["host:6379> pi", ""]
    assert screen("\x1b[?2004hroot@x:/data# ls\r\nab\bc\n") == ["root@x:/data# ls", "ac", ""]


def test_prompts_are_answered_and_the_secret_is_not_on_the_screen():
    evidence = Evidence(secrets=["s3cret"])
    with terminal(["bash", "-c", PROMPTS], "the prompts", evidence) as term:
        term.expect(r"Username:$", "the Username prompt", timeout=10)
        term.type("reader")
        term.expect(r"Password:$", "the Password prompt", timeout=10)
        term.type("s3cret")
        assert term.wait(10) == 3
    assert term.lines[:3] == ["Username: reader", "Password:", "hello reader"]
    (entry,) = evidence.entries
    assert entry.name == "$ the prompts (on a terminal)" and "s3cret" not in entry.text


def test_a_prompt_that_does_not_come_says_what_the_screen_shows():
    with terminal(["bash", "-c", "echo nothing to ask; sleep 5"], "quiet") as term, \
            pytest.raises(TerminalError, match="waited for the prompt; not shown within 1 s; "
                                               "the screen's last lines: nothing to ask"):
        term.expect(r"Username:$", "the prompt", timeout=1)
