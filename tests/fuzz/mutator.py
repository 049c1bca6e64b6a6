"""A JSON-aware mutator for the targets whose input is JSON (an authorizer event, claims, a JSON-RPC body).

libFuzzer's mutations work on bytes: turning ``"aud":"https://as.example/api"`` into ``"aud":true`` takes a deletion
and an insertion in one step, and most byte edits of JSON are not JSON at all, so the checks behind the parser are
seldom reached with a value of another type. Half of the time this mutator parses the input (each part of it, on
either side of a NUL), changes one value of it (another JSON type, an edge value, a member added or removed, a
string edited by libFuzzer's own byte mutator) and writes it back; otherwise, or when the part is not JSON, it
leaves the input to libFuzzer's mutator. Pure Python: ``tests.fuzz.libfuzzer`` hands it ``atheris.Mutate``.
"""

from __future__ import annotations

import copy
import json
import random
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

#: libFuzzer's mutator, as ``atheris.Mutate(data, max_size)``.
ByteMutator = Callable[[bytes, int], bytes]

#: Values at the edges of what a parser or a check tells apart: each JSON type, empty and not; integers past 2**53
#: and 2**63; a float, a negative zero, the largest double; a lone surrogate and NUL in a string.
EDGES: tuple[Any, ...] = (
    None, True, False, 0, -1, 1, 0.5, -0.0, 2**53 + 1, 2**63, 10**30, 1e308, "", "x", "\ud800", "\u0000",
    [], {}, [None], [""], ["x", 1], {"": None}, [[[]]],
)
#: The deepest a value is walked for a node to change (a deeper input is left to libFuzzer's mutator).
MAX_DEPTH = 64
MAX_NODES = 512


def _words(words: Sequence[bytes]) -> tuple[list[str], list[Any]]:
    """The member names (quoted words: ``"aud"``) and other values (numbers, bare strings) among a target's words."""
    keys, values = [], []
    for word in words:
        text = word.decode("utf-8", "replace")
        if len(text) > 2 and text[0] == text[-1] == '"':
            keys.append(text[1:-1])
        try:
            values.append(json.loads(text))
        except ValueError:
            values.append(text)
    return keys, values


def _nodes(root: list[Any]) -> list[tuple[Any, Any]]:
    """(container, key) of every value under ``root[0]`` (``root`` boxes it), breadth first, depth-bounded."""
    found: list[tuple[Any, Any]] = [(root, 0)]
    frontier: deque[tuple[Any, int]] = deque([(root[0], 1)])
    while frontier and len(found) < MAX_NODES:
        node, depth = frontier.popleft()
        if depth > MAX_DEPTH:
            continue
        members = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in members:
            found.append((node, key))
            frontier.append((child, depth + 1))
    return found


class JsonMutator:
    """``custom_mutator(data, max_size, seed)`` for atheris; deterministic for a seed."""

    def __init__(self, words: Sequence[bytes], bytewise: ByteMutator, share: float = 0.5) -> None:
        self.keys, extra = _words(words)
        self.values = [*EDGES, *extra]
        self.bytewise = bytewise
        self.share = share

    def __call__(self, data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        if rng.random() >= self.share:
            return self.bytewise(data, max_size)
        parts = data.split(b"\0", 1)
        index = rng.randrange(len(parts))
        try:
            value = json.loads(parts[index])
            parts[index] = self.write(self.mutate(value, rng), rng)
        except (ValueError, RecursionError):  # not JSON (or too deep to write back): bytes it is
            return self.bytewise(data, max_size)
        mutated = b"\0".join(parts)
        return mutated if len(mutated) <= max_size else self.bytewise(data, max_size)

    def mutate(self, value: Any, rng: random.Random) -> Any:
        root = [value]
        nodes = _nodes(root)
        # The root itself seldom: replacing the whole value throws away the structure that got the input this far.
        container, key = rng.choice(nodes[1:] if len(nodes) > 1 and rng.random() < 0.9 else nodes)
        node = container[key]
        choice = rng.randrange(6)
        if choice == 0 and isinstance(node, dict):
            if node and rng.random() < 0.5:
                del node[rng.choice(list(node))]
            else:
                node[rng.choice(self.keys) if self.keys else "a"] = self.value(rng)
        elif choice == 1 and isinstance(node, list):
            if node and rng.random() < 0.5:
                del node[rng.randrange(len(node))]
            else:
                node.insert(rng.randrange(len(node) + 1), self.value(rng))
        elif choice == 2 and isinstance(node, str):
            edited = self.bytewise(node.encode("utf-8", "surrogatepass"), len(node) * 2 + 8)
            container[key] = edited.decode("utf-8", "surrogateescape")
        elif choice == 3:
            container[key] = [node]  # a value where an array of them is allowed, or the other way round
        elif choice == 4 and isinstance(node, int | float | str) and not isinstance(node, bool):
            container[key] = str(node) if not isinstance(node, str) else len(node)  # the type, not the meaning
        else:
            container[key] = self.value(rng)
        return root[0]

    def value(self, rng: random.Random) -> Any:
        return copy.deepcopy(rng.choice(self.values))

    @staticmethod
    def write(value: Any, rng: random.Random) -> bytes:
        """Compact JSON; a lone surrogate either escaped or as the raw (invalid UTF-8) bytes."""
        text = json.dumps(value, ensure_ascii=rng.random() < 0.5, separators=(",", ":"))
        return text.encode("utf-8", "surrogatepass")
