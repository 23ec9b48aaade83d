"""SPARQL syntax errors as a person can act on them: where, and what is wrong, in one short line.

Oxigraph reports the furthest point its parser reached and every token it would have accepted there,
character classes included (``error at 1:28: expected one of Prefix not found, ['%'], ['-' | '0' ..= '9'
...``). ``explain_syntax_error`` keeps the position and says what is wrong in the client's own text,
read with the lexer of ``store.sparql_text``: an undefined prefix, an unknown query form, an unclosed
string or bracket, an invalid IRI, a selected variable that is not grouped, the token found and a few of
the tokens expected.
"""

from __future__ import annotations

import re

from store.sparql_text import FORMS, Token, tokens

_POSITION = re.compile(r"^error at (\d+):(\d+):\s*(.*)$", re.DOTALL)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)+)"')
_KEYWORD = re.compile(r"(?<![\w'\[])([A-Z][A-Za-z]+)(?=,|$)")
_FIRST_WORDS = {"BASE", "PREFIX", *FORMS}
_OPENING = {"{": "}", "(": ")", "[": "]"}
_UPDATE_WORDS = {"INSERT", "DELETE", "WITH", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY"}
MAX_EXPECTED = 6
MAX_SCAN = 10_000
"""Characters read in full before an error; past that only WINDOW characters either side of it are
(lexing a long text takes tens of milliseconds per 10,000 characters)."""
WINDOW = 200


def explain_syntax_error(text: str, message: str, lines_added: int = 0) -> str:
    """``message`` (Oxigraph's, about ``text`` with ``lines_added`` lines put before it) as "line L, column C:
    what is wrong", positions counted in ``text``; a message without a position is returned shortened.

    >>> explain_syntax_error("SELECT * WHERE { ?s foo:bar ?o }", "error at 1:28: expected one of Prefix not found, ['%']")
    'line 1, column 21: undefined prefix foo (declare it with PREFIX foo: <...>)'
    >>> explain_syntax_error("SELECT * WHERE { ?s ?p ?o ", 'error at 1:27: expected one of ",", ".", ";", "{", "}", [_]')
    'line 1, column 16: the { opened here is not closed'
    >>> explain_syntax_error("SELECT * WHERE { ?s ?p }", 'error at 1:25: expected one of LATERAL, SERVICE, [_]')
    'line 1, column 25: syntax error after }'
    >>> explain_syntax_error("ASK { ?s ?p ?o } LIMIT x", 'error at 1:24: expected one of "(", ";", "{"')
    'line 1, column 24: unexpected x; expected one of ( ; {'
    >>> explain_syntax_error("SELEC * WHERE {}", "error at 1:10: expected CONSTRUCT")
    'line 1, column 1: unknown keyword SELEC: a query starts with SELECT, ASK, CONSTRUCT or DESCRIBE'
    >>> explain_syntax_error('ASK {\\n ?s ?p "abc }', 'error at 3:9: expected one of "\\\\"", [_]', lines_added=1)
    'line 2, column 8: string not closed'
    """
    matched = _POSITION.match(message.strip())
    if not matched:
        return _shorten(message)
    line, column, expected = int(matched.group(1)) - lines_added, int(matched.group(2)), matched.group(3)
    if line < 1:
        line, column = 1, 1
    offset = _offset(text, line, column)
    if offset <= MAX_SCAN:  # the parser stopped at the error: what follows it does not matter
        reason, at = _reason(text, tokens(text[:offset + WINDOW]), offset, expected)
    else:  # a long text: only the tokens around the error are read
        start = offset - WINDOW
        near = [Token(t.kind, t.text, t.start + start) for t in tokens(text[start:offset + WINDOW])][1:]
        reason, at = _near(near, offset, expected), None
    if at is not None:
        line, column = _line_column(text, at)
    return f"line {line}, column {column}: {reason}"


def _reason(text: str, found: list[Token], offset: int, expected: str) -> tuple[str, int | None]:
    """What is wrong, and where when that is not the parser's position."""
    if "IRI parsing failed" in expected:
        start = text.rfind("<", 0, offset + 1)
        end = text.find(">", start)
        if start >= 0 and 0 <= end - start <= 200:
            return f"invalid IRI {text[start:end + 1]}", start
        return "invalid IRI", None
    declared = {t.text[:-1] for i, t in enumerate(found)
                if t.kind == "pname" and t.text.endswith(":") and i and found[i - 1].text.upper() == "PREFIX"}
    for i, token in enumerate(found):
        if token.kind == "pname" and not (i and found[i - 1].text.upper() == "PREFIX"):
            prefix = token.text.split(":", 1)[0]
            if prefix not in declared:
                return f"undefined prefix {prefix or '(empty)'} (declare it with PREFIX {prefix}: <...>)", token.start
    unclosed = next((t for t in found if t.kind == "unclosed"), None)
    if unclosed is not None:
        return "string not closed", unclosed.start
    first = next((t for t in found if t.kind == "word" and t.text.upper() not in ("BASE", "PREFIX")), None)
    if first is not None and first.text.upper() not in _FIRST_WORDS | _UPDATE_WORDS:
        return f"unknown keyword {first.text}: a query starts with SELECT, ASK, CONSTRUCT or DESCRIBE", first.start
    if "variable that is unbound" in expected or "not bound" in expected:
        return "a selected variable is neither grouped by nor aggregated, or is not bound in the query", None
    brackets = _unbalanced(found)
    if brackets is not None and offset >= len(text.rstrip()):
        return f"the {brackets.text} opened here is not closed", brackets.start
    return _near(found, offset, expected), None


def _near(found: list[Token], offset: int, expected: str) -> str:
    """The token at the error (or the one before it), and what was expected when Oxigraph lists it all."""
    alternatives = [] if "[" in expected else _expected(expected)  # a character class: the list is not all
    here = next((t for t in found if t.start <= offset < t.start + len(t.text)), None)
    before = [t for t in found if t.start < offset]
    if here is not None:
        what = f"unexpected {_quote(here.text)}"
    elif before:
        what = f"syntax error after {_quote(before[-1].text)}"
    else:
        what = "unexpected end of the query"
    return f"{what}; expected one of {' '.join(alternatives)}" if alternatives else what


def _unbalanced(found: list[Token]) -> Token | None:
    """The innermost bracket left open at the end, if any."""
    stack: list[Token] = []
    for token in found:
        if token.kind != "other":
            continue
        if token.text in _OPENING:
            stack.append(token)
        elif stack and token.text == _OPENING[stack[-1].text]:
            stack.pop()
    return stack[-1] if stack else None


def _expected(expected: str) -> list[str]:
    """The literal tokens and keywords among Oxigraph's alternatives, up to MAX_EXPECTED (character classes
    and internal names dropped)."""
    words = [w.encode().decode("unicode_escape") for w in _QUOTED.findall(expected)]
    words += [w for w in _KEYWORD.findall(re.sub(r"\[[^\]]*\]|'[^']*'", "", expected))
              if w.isupper() or w in ("LATERAL",)]
    unique = list(dict.fromkeys(w for w in words if w.strip()))
    if not unique or len(unique) > MAX_EXPECTED:
        return unique[:MAX_EXPECTED] + (["..."] if len(unique) > MAX_EXPECTED else [])
    return unique


def _quote(token: str) -> str:
    return token if len(token) <= 30 else token[:27] + "..."


def _offset(text: str, line: int, column: int) -> int:
    """The character offset of a 1-based line and column (clamped to the text)."""
    lines = text.split("\n")
    line = min(line, len(lines))
    return min(sum(len(x) + 1 for x in lines[:line - 1]) + column - 1, len(text))


def _line_column(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _shorten(message: str, limit: int = 300) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[:limit].rstrip() + " ..."
