"""Every call of the API as a flow: the request Nango's Node client would send, and the
parsing of the answer (see docs/nango-node-client.md for the wire contract).

``Operations`` gathers the calls, grouped by resource in ``_calls_records``,
``_calls_actions`` and ``_calls_connections`` over the shared builder in ``_calls``.
"""

from __future__ import annotations

from nango_scripts.client._calls import NO_BODY, NOT_GIVEN, NotGiven, ParamValue, ProxyParams
from nango_scripts.client._calls_actions import ActionCalls
from nango_scripts.client._calls_connections import ConnectionCalls
from nango_scripts.client._calls_records import RecordCalls

__all__ = ["NOT_GIVEN", "NO_BODY", "NotGiven", "Operations", "ParamValue", "ProxyParams"]


class Operations(RecordCalls, ActionCalls, ConnectionCalls):
    """Builds each call's flow; holds the host, the key and the retry policy."""
