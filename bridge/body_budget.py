"""BodyBudget: request body bytes held in memory, bounded across all connections of a process."""

from __future__ import annotations

from types import TracebackType

from bridge.problems import ProblemError

RETRY_AFTER_SECONDS = 5  # the Retry-After of the 503 answered when the budget is spent


class BodyBudget:
    """At most `limit` bytes of request bodies held at once, counted as they are read (a
    Content-Length alone reserves nothing, so that slow senders hold only what they sent); a
    request whose next bytes would go beyond gets 503 `overloaded` with Retry-After."""

    def __init__(self, limit: int) -> None:
        """A budget of `limit` bytes, none held."""
        self.limit = limit
        self.held = 0

    def hold(self) -> BodyHold:
        """A hold for one request's body; release it (leave the `with`) once the body is gone."""
        return BodyHold(self)


class BodyHold:
    """The bytes one request holds of a BodyBudget; a context manager that releases them."""

    def __init__(self, budget: BodyBudget) -> None:
        """Holds nothing yet."""
        self._budget = budget
        self._held = 0

    def take(self, size: int) -> None:
        """Holds `size` more bytes; 503 if the budget has no room for them."""
        budget = self._budget
        if budget.held + size > budget.limit:
            raise ProblemError(
                "overloaded",
                "body_buffer_full",
                f"The bridge holds {budget.limit} bytes of request bodies already; "
                f"retry in {RETRY_AFTER_SECONDS} s.",
            )
        budget.held += size
        self._held += size

    def release(self) -> None:
        """Gives every held byte back."""
        self._budget.held -= self._held
        self._held = 0

    def __enter__(self) -> BodyHold:
        """Starts holding."""
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Releases everything held."""
        self.release()
