"""``store_meta``: small named values a database keeps for good (the API secret key).

Values are text under a key. :meth:`MetaStore.ensure` stores a value only when the key
has none, in one statement, so two processes starting at once agree on one value.
"""

from __future__ import annotations

from typing import ClassVar

from nango_scripts.store._db import guarded
from nango_scripts.store._sqlite import TableStore

__all__ = ["MetaStore"]


class MetaStore(TableStore):
    """The ``store_meta`` table on its own connection. Open with :meth:`open`; close when done."""

    store_name: ClassVar[str] = "store meta"

    @guarded
    def get(self, key: str) -> str | None:
        """The stored value of ``key``, or None."""
        with self._db.lock:
            row = self._db.one("SELECT value FROM store_meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    @guarded
    def ensure(self, key: str, value: str) -> tuple[str, bool]:
        """The stored value of ``key``, storing ``value`` first if there is none.

        Returns ``(stored value, whether this call stored it)``; two processes racing
        agree on one value.
        """
        with self._db.transaction() as db:
            created = db.execute(
                "INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (key, value),
            ).rowcount
            row = db.one("SELECT value FROM store_meta WHERE key = ?", (key,))
        return str(row[0]), created == 1

    @guarded
    def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``, replacing what was there."""
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO store_meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
