"""A daily budget per person (DAILY_CALLS_PER_PERSON): what stops one runaway agent from spending
everyone's GitHub quota and the owner's Lambda bill.

Each call that reaches the search service (a REST search or read, an MCP tool call, a call from
the MCP App's view) counts once against its person's budget for the UTC day, cached answer or
not; a request refused before (bad arguments, outside the fence) does not. The count is one
conditional update in the sign-in table (`store.count`): no read first, so instances at the limit
together serve exactly the budget. Over it: 429 `over_budget`, Retry-After the seconds to the
next UTC midnight, a message a person (or a model telling one) can act on.
"""

from __future__ import annotations

import time

from search.service import Failure

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from signin.gate import Principal
    from signin.store import DynamoStore, MemoryStore

DAY = 86_400
MAX_BUDGET = 1_000_000_000
SETTING = "DAILY_CALLS_PER_PERSON"


def limit(env: Mapping[str, str]) -> int | None:
    """The budget, None when unset; ValueError naming the setting when it is not a budget."""
    value = env.get(SETTING, "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 10 and 0 < int(value) <= MAX_BUDGET):
        raise ValueError(f"{SETTING} must be a whole number of calls from 1 to {MAX_BUDGET:,}, got {value[:20]!r}")
    return int(value)


class Budget:
    def __init__(self, store: MemoryStore | DynamoStore, calls: int, clock: Callable[[], float] = time.time) -> None:
        self.store, self.calls, self.clock = store, calls, clock

    def admit(self, person: Principal) -> int:
        """Count one call of `person` today: their calls today, this one included; or the 429."""
        now = self.clock()
        day = int(now // DAY)
        resets = (day + 1) * DAY
        who = f"id:{person.user_id}" if person.user_id else f"login:{person.login.lower()}"
        date = time.strftime("%Y-%m-%d", time.gmtime(day * DAY))
        # Kept a day past its own, then DynamoDB's TTL deletes it.
        used = self.store.count(f"budget#{who}#{date}", self.calls, resets + DAY)
        if used is None:
            wait = max(1, resets - int(now))
            hours, minutes = divmod((wait + 59) // 60, 60)
            message = (
                f"{person.login} has used today's budget of {self.calls:,} calls on this service; it resets at "
                f"00:00 UTC, in {hours} h {minutes:02d} min (the owner sets it: dailyCallsPerPerson)"
            )
            raise Failure(429, "over_budget", message, retry_after=wait)
        return used
