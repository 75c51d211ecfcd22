"""The environment's secret key: the API's bearer key and the webhooks' signing key.

``NANGO_SECRET_KEY`` wins when it is set. Without it, the key is generated once and kept
in the database (``store_meta``, key ``secret_key``): the first process that needs it
(``serve``, ``dev``, ``run`` sending webhooks, ``secret-key show``) stores it, and every
other process reads the same one. :func:`rotate_secret_key` replaces the stored key.

Webhooks are signed when they are sent, not when they are written to the outbox: after
a rotation, pending deliveries (retries included) go out signed with the new key, once
the process sending them has it (a running ``serve`` reads the key when it starts).
"""

from __future__ import annotations

import secrets
from typing import Final

from nango_scripts.settings import Settings
from nango_scripts.store import MetaStore

__all__ = [
    "SECRET_KEY_META",
    "SECRET_KEY_PREFIX",
    "new_secret_key",
    "resolve_secret_key",
    "rotate_secret_key",
]

SECRET_KEY_PREFIX: Final = "nango_sk_"
SECRET_KEY_META: Final = "secret_key"
"""The ``store_meta`` key under which the generated secret key is kept."""


def new_secret_key() -> str:
    """A fresh key: the prefix and 64 random hex digits."""
    return SECRET_KEY_PREFIX + secrets.token_hex(32)


def resolve_secret_key(settings: Settings) -> tuple[str, bool]:
    """``(key, created)``: ``NANGO_SECRET_KEY``, else the key kept in the database,
    generated and stored now if there is none (``created`` True: show it once)."""
    if settings.secret_key:
        return settings.secret_key, False
    with MetaStore.open(settings.database_url) as meta:
        return meta.ensure(SECRET_KEY_META, new_secret_key())


def rotate_secret_key(settings: Settings) -> str:
    """Store a new key in the database in place of the old one; returns it.

    Leaves ``NANGO_SECRET_KEY`` alone: with it set, the stored key is not the one in use
    (the caller says so rather than rotating a key nobody reads).
    """
    key = new_secret_key()
    with MetaStore.open(settings.database_url) as meta:
        meta.put(SECRET_KEY_META, key)
    return key
