"""Streaming reads of a JSON feed document: its standards one at a time, in bounded memory.

ijson (the yajl2 C backend) parses the document incrementally, so a 75 MB feed never sits in memory
as one object. yajl's messages carry no position; on a syntax error the document is parsed again up
to the failing chunk and then a byte at a time, which gives the line and column.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import ijson

CHUNK = 1 << 16
BOM = b"\xef\xbb\xbf"
CONTINUATION = bytes(range(0x80, 0xC0))
ESCAPE_OR_QUOTE = re.compile(rb'\\.|"', re.DOTALL)
LITERAL_TAIL = re.compile(rb'[^\s{}\[\],:"]*\Z')  # a number or true/false/null cut by a chunk boundary
STRUCTURAL = frozenset(bytes([c]) for c in b"{}[],:")
WHITESPACE = frozenset(bytes([c]) for c in b" \t\r\n")
SCALARS = frozenset(("string", "number", "boolean", "null", "start_array"))
SCANNED = ("referenceNumber", "occupationCode", "version", "versionNumber")


class FeedError(ValueError):
    """A feed document that cannot be read: where (line and column, or a JSON Pointer) and why."""

    def __init__(self, message: str, pointer: str | None = None, line: int | None = None, column: int | None = None):
        self.message, self.pointer, self.line, self.column = message, pointer, line, column
        if line is not None:
            where = f"line {line}, column {column}"
        elif pointer is not None:
            where = f"at JSON pointer {pointer or '(the whole document)'}"
        else:
            where = ""
        super().__init__(f"{where}: {message}" if where else message)


class _Reader:
    """A binary file for ijson that skips a BOM, hashes what it reads and remembers where the last chunk began."""

    def __init__(self, raw, digest=None):
        self.raw = raw
        self.digest = digest
        head = raw.read(len(BOM))
        if digest is not None:
            digest.update(head)
        self._pending = b"" if head == BOM else head
        self.offset = len(head) - len(self._pending)  # file offset of the next byte handed out
        self.chunk_start = self.offset

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes with read(0) for bytes or text
            return b""
        data = self.raw.read(size if size > 0 else CHUNK)
        if self.digest is not None:
            self.digest.update(data)
        if self._pending:
            data, self._pending = self._pending + data, b""
        self.chunk_start = self.offset
        self.offset += len(data)
        return data


def _first_byte(path: Path) -> tuple[bytes, int]:
    """The first byte that is not white space, and its offset (b"" for an empty document)."""
    try:
        with open(path, "rb") as f:
            offset = 0
            while chunk := f.read(CHUNK):
                stripped = (chunk.removeprefix(BOM) if offset == 0 else chunk).lstrip()
                if stripped:
                    return stripped[:1], offset + len(chunk) - len(stripped)
                offset += len(chunk)
    except OSError as e:
        raise FeedError(f"cannot read the document ({e.strerror})") from None
    return b"", offset


def _shape(path: Path) -> str:
    """ijson's prefix for the standards: "item" for an array of them, "" for one standard object."""
    first, offset = _first_byte(path)
    if first == b"[":
        return "item"
    if first == b"{":
        return ""
    line, column = position(path, offset)
    found = "nothing (an empty document)" if not first else repr(first.decode("latin-1"))
    raise FeedError(f"expected a JSON array of standards or one standard object, found {found}", line=line, column=column)


def position(path: Path, offset: int) -> tuple[int, int]:
    """Line and column (both from 1; the column in characters, a BOM not counted) of a byte offset."""
    line, column = 1, 0
    with open(path, "rb") as f:
        read = len(BOM) if f.read(len(BOM)) == BOM else 0
        f.seek(read)
        # Chunk by chunk, so a one-line (minified) document is never held whole: a character is
        # counted by its first byte, which is never a UTF-8 continuation byte.
        while read < offset and (chunk := f.read(min(CHUNK, offset - read))):
            last = chunk.rfind(b"\n")
            if last >= 0:
                line += chunk.count(b"\n")
                column = len(chunk[last + 1:].translate(None, CONTINUATION))
            else:
                column += len(chunk.translate(None, CONTINUATION))
            read += len(chunk)
    return line, column + 1


def _failure_offset(path: Path, chunk_start: int, lexical: bool) -> int:
    """Where the parser gives up: everything before ``chunk_start`` at once, then a byte at a time.

    yajl rejects a token only once it has read past it, so the offset returned is where Python's json
    places the error: the literal just ended for a lexical error (``tru}``), a bad character or escape
    inside a string, else the token being read (a structural character is a token of its own); the end
    for a premature EOF.
    The bytes sent at once are scanned for strings, so the byte-wise lexing starts in the right state."""

    @ijson.utils.coroutine
    def discard():
        while True:
            yield

    parser = ijson.basic_parse_coro(discard())
    in_string, opened, carry, data = False, 0, b"", b""
    with open(path, "rb") as f:
        offset = len(BOM) if f.read(len(BOM)) == BOM else 0
        f.seek(offset)
        try:
            while offset < chunk_start:
                data = f.read(min(CHUNK, chunk_start - offset))
                parser.send(data)
                in_string, opened, carry = _strings(carry + data, offset - len(carry), in_string, opened)
                offset += len(data)
        except ijson.JSONError:
            return chunk_start
        found_tail = None if in_string else LITERAL_TAIL.search(data)  # matches always, if only the empty tail
        tail = b"" if found_tail is None else found_tail.group()
        token = literal = opened if in_string else offset - len(tail)
        escaped, in_literal = bool(carry), bool(tail)
        escape = offset - 1 if escaped else -CHUNK
        while byte := f.read(1):
            ends_literal, was_in_string = in_literal and not in_string, in_string
            if in_string:
                escaped, in_string = (False, True) if escaped else (byte == b"\\", byte != b'"')
                escape = offset if escaped else escape
            elif byte == b'"' or byte in STRUCTURAL:
                token, in_string, in_literal = offset, byte == b'"', False
            elif byte in WHITESPACE:
                in_literal = False
            elif not in_literal:
                token = literal = offset
                in_literal = True
            try:
                parser.send(byte)
            except ijson.JSONError:
                if was_in_string and in_string:  # a bad character or escape: at the escape's backslash, as json says
                    return escape if offset - escape <= 5 else offset
                return literal if lexical and ends_literal and not in_literal else token
            offset += 1
        try:
            parser.close()
        except ijson.JSONError:
            return offset
    return offset


def _strings(data: bytes, start: int, in_string: bool, opened: int) -> tuple[bool, int, bytes]:
    """After ``data`` (at file offset ``start``): inside a string?, where it opened, and a split escape to carry.

    Valid JSON has backslashes only inside strings, and yajl accepted these bytes."""
    end = 0
    for match in ESCAPE_OR_QUOTE.finditer(data):
        end = match.end()
        if match.group() == b'"':
            in_string = not in_string
            opened = start + match.start() if in_string else opened
    return in_string, opened, b"\\" if data[end:].endswith(b"\\") else b""


def _syntax_error(path: Path, error: Exception, chunk_start: int) -> FeedError:
    reason = error.args[0] if error.args else ""
    reason = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    reason = reason.strip().splitlines()[0] if reason.strip() else type(error).__name__
    line, column = position(path, _failure_offset(path, chunk_start, reason.startswith("lexical")))
    return FeedError(f"invalid JSON ({reason})", line=line, column=column)


def read_feed(path: Path) -> Iterator[tuple[int, str, object]]:
    """(index, JSON Pointer, standard) for each standard of the document, read incrementally."""
    path = Path(path)
    prefix = _shape(path)
    with open(path, "rb") as raw:
        reader = _Reader(raw)
        try:
            for index, value in enumerate(ijson.items(reader, prefix, use_float=True)):
                yield index, f"/{index}" if prefix else "", value
        except (ijson.JSONError, UnicodeDecodeError) as e:
            raise _syntax_error(path, e, reader.chunk_start) from None


def scan_versions(path: Path) -> tuple[list[tuple | None], str]:
    """A first, light pass: the reference and version fields of each entry (None for a non-object), and the sha256."""
    path = Path(path)
    prefix = _shape(path)
    keys = {(f"{prefix}.{key}" if prefix else key): i for i, key in enumerate(SCANNED)}
    entries: list[tuple | None] = []
    current: list = [None] * len(SCANNED)  # the entry being read (a fresh one at each start_map)
    digest = hashlib.sha256()
    with open(path, "rb") as raw:
        reader = _Reader(raw, digest)
        try:
            for p, event, value in ijson.parse(reader, use_float=True):
                if p == prefix:
                    if event == "start_map":
                        current = [None] * len(SCANNED)
                    elif event == "end_map":
                        entries.append(tuple(current))
                    elif event in SCALARS:
                        entries.append(None)
                elif p in keys and event not in ("start_map", "start_array", "map_key", "end_map", "end_array"):
                    current[keys[p]] = value
        except (ijson.JSONError, UnicodeDecodeError) as e:
            raise _syntax_error(path, e, reader.chunk_start) from None
        while reader.read(CHUNK):  # yajl may stop short of trailing white space; hash every byte
            pass
    return entries, digest.hexdigest()
