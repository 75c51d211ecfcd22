from support.browser import chromium  # noqa: F401  (the fixture of the browser tests)
from support.endpoints_harness import api  # noqa: F401  (the generated endpoints tests share it)
from support.server_harness import harness  # noqa: F401  (the fixture, shared by this folder)
