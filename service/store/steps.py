"""The shape of a sans-IO step (see service.store.sql_rows): statements and what they return."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

T = TypeVar("T")
# What a statement's result is: a row (or None), all rows, nothing, how many rows it changed.
ONE, ALL, RUN, COUNT = 1, 2, 3, 4


# One SQL statement: which result its step wants back, its text with `?` placeholders, and its
# parameters (a plain tuple: the writer's hot path builds several per event).
Statement = tuple[int, str, tuple[Any, ...]]


# A step: yields statements, receives their results, returns a T.
Step = Generator[Statement, Any, T]
