from activity_harness import harness  # noqa: F401  (the fixture, shared by this folder)
