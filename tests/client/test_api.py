"""The public names of nango_scripts.client, and what importing it loads."""

from __future__ import annotations

import json
import subprocess
import sys

import nango_scripts.client as client

EXPECTED = {
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
    "PruneResult",
    "ProxyOptions",
    "RecordMetadata",
    "RecordsPage",
    "SyncStatus",
    "verify_webhook_signature",
    "webhook_signature",
}


def test_the_exported_names_are_exactly_the_list() -> None:
    assert set(client.__all__) == EXPECTED
    assert len(client.__all__) == len(EXPECTED)
    for name in EXPECTED:
        assert getattr(client, name) is not None, name
    public = {n for n in vars(client) if not n.startswith("_")}
    assert public == EXPECTED  # the implementation modules stay private


def test_importing_the_client_loads_nothing_else_of_nango_scripts() -> None:
    code = (
        "import json, sys; import nango_scripts.client; "
        "print(json.dumps(sorted(m for m in sys.modules"
        " if m.startswith(('nango_scripts', 'fastapi', 'starlette', 'jinja2')))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert "nango_scripts.client" in loaded
    others = [
        m for m in loaded if m != "nango_scripts" and not m.startswith("nango_scripts.client")
    ]
    assert others == []
