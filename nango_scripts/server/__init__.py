"""The HTTP service (``nango-scripts serve``): Nango's REST API over the engine.

One module per resource (records, syncs, actions, proxy, connections, integrations,
scripts); FastAPI is imported only here.
"""

from nango_scripts.server._app import create_app

__all__ = ["create_app"]
