from browser import chromium  # noqa: F401  (the fixture of the browser tests)
from server_harness import harness  # noqa: F401  (the fixture, shared by this folder)
