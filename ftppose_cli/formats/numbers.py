"""Numbers from parsed JSON, checked without ever raising: what the readers accept as an integer or as floats.

JSON that parses can still hold values Python's ``int()`` and NumPy choke on
(``null``, lists, 400-digit integers, ``-Infinity``, deep nesting). The
readers convert through these helpers and turn a ``None`` into an error that
names the file and the field, instead of a traceback.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def whole_number(value: Any) -> int | None:
    """``value`` as an int if it is a whole number that fits int64 (``1.0`` does; ``True``, ``inf``, ``1e30`` don't)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    number = int(value)
    return number if INT64_MIN <= number <= INT64_MAX else None


def float_array(values: Any) -> np.ndarray | None:
    """``values`` as a float64 array, or None for anything that is not numbers (or overflows a float)."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError, RecursionError):
        return None
