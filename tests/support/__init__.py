"""What the tests share, imported as ``support.<module>`` from any test file (``tests/`` is
on ``sys.path`` through ``pythonpath`` in ``pyproject.toml``)."""
