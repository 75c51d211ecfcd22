"""The Python backend SDK of Nango's REST API (``nango-scripts serve`` or Nango Cloud).

::

    from nango_scripts.client import Nango

    with Nango(secret_key="...", host="http://127.0.0.1:3003") as nango:
        for record in nango.iter_records("github", "acme", "Issue"):
            ...

``AsyncNango`` has the same methods, awaited. Errors are ``NangoAPIError`` (with Nango's
``code``) and its subclasses, or ``NangoConnectionError``. Only httpx and pydantic are
needed: nothing else of nango_scripts is imported.
"""

from nango_scripts.client._async import AsyncNango
from nango_scripts.client._base import CLOUD_HOST, DEFAULT_HOST, ProxyOptions
from nango_scripts.client._errors import (
    ActionFailedError,
    ActionPendingError,
    NangoAPIError,
    NangoAuthError,
    NangoBadRequestError,
    NangoClientError,
    NangoConnectionError,
    NangoNotFoundError,
    NangoTimeoutError,
)
from nango_scripts.client._models import (
    AsyncActionHandle,
    Connection,
    ConnectionDetails,
    Integration,
    ModelResult,
    PruneResult,
    RecordMetadata,
    RecordsPage,
    SyncStatus,
)
from nango_scripts.client._sync import Nango
from nango_scripts.client._webhooks import (
    SIGNATURE_HEADER,
    verify_webhook_signature,
    webhook_signature,
)

__all__ = [
    "CLOUD_HOST",
    "DEFAULT_HOST",
    "SIGNATURE_HEADER",
    "ActionFailedError",
    "ActionPendingError",
    "AsyncActionHandle",
    "AsyncNango",
    "Connection",
    "ConnectionDetails",
    "Integration",
    "ModelResult",
    "Nango",
    "NangoAPIError",
    "NangoAuthError",
    "NangoBadRequestError",
    "NangoClientError",
    "NangoConnectionError",
    "NangoNotFoundError",
    "NangoTimeoutError",
    "ProxyOptions",
    "PruneResult",
    "RecordMetadata",
    "RecordsPage",
    "SyncStatus",
    "verify_webhook_signature",
    "webhook_signature",
]
