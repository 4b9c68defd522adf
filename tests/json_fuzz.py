"""Hypothesis strategies for the readers' fuzz tests: any JSON value, and valid documents with one thing broken.

Random JSON alone rarely gets past a reader's first check, so most examples
are a valid document with one node replaced by an odd value, deleted, or
wrapped in a list: that reaches every field the reader looks at. The odd
values are the ones that broke the readers before: null, lists where numbers
belong, 400-digit integers, NaN and infinities, and deep nesting.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Bounded, so the whole fuzz suite runs in seconds; no deadline, as the machine may be busy; no example
# database, so a test run leaves no .hypothesis folder behind (a failure prints its example to reproduce).
FUZZ_SETTINGS = settings(max_examples=150, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.too_slow])

_ODD_SCALARS = st.sampled_from([
    None, True, False, 0, -1, 1.5, 2**63, -(2**63) - 1, 10**400, -(10**30), 1e30, 1e308, -1e308,
    math.nan, math.inf, -math.inf, "", "1", "nan", "person", "nose",
])
_SCALARS = _ODD_SCALARS | st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)


def _nested(depth: int) -> Any:
    value: Any = [1, 2]
    for _ in range(depth):
        value = [value]
    return value


JSON_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
) | st.sampled_from([_nested(40), _nested(400), _nested(900), [[1, 2]], [[]], [{}], {"": []}])


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """A deep copy of ``document`` with one node (at any depth) replaced, deleted or wrapped in a list."""
    document = copy.deepcopy(document)
    path: list[Any] = []
    node = document
    while isinstance(node, (dict, list)) and node and draw(st.integers(0, 4)) > 0:
        key = draw(st.sampled_from(sorted(node))) if isinstance(node, dict) else draw(st.integers(0, len(node) - 1))
        path.append(key)
        node = node[key]
    if not path:
        return draw(JSON_VALUES)
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    action = draw(st.sampled_from(["replace", "replace", "delete", "wrap"]))
    if action == "replace":
        parent[path[-1]] = draw(JSON_VALUES)
    elif action == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = [parent[path[-1]]]
    return document
