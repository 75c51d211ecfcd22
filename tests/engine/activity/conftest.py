from support.activity_harness import harness  # noqa: F401  (the fixture, shared by this folder)
from support.activity_store import store  # noqa: F401  (the Activity store on each backend)
