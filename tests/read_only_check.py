"""A Schemathesis hooks file: registers ``no_write_applied`` so that ``st run --checks all`` includes it.

Loaded (``SCHEMATHESIS_HOOKS``) only when a server without a write token is fuzzed; see tests/fuzzing.py.
"""

from __future__ import annotations

import schemathesis

from tests.fuzzing import no_write_applied

schemathesis.check(no_write_applied)
