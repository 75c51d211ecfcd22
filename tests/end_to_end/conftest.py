"""Fixtures of the end-to-end tests: the browser, the generated endpoints' API, the
service in-process, and Nango's Node client."""

from support.browser import chromium  # noqa: F401
from support.endpoints_harness import api  # noqa: F401
from support.node_client import node  # noqa: F401
from support.server_harness import harness  # noqa: F401
