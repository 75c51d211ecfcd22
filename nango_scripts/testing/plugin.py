"""The pytest plugin (entry point ``pytest11``): filled in by the cassettes work (issue 4)."""
