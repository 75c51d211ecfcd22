"""Templates enabled per integration in the schedule store, on both backends."""

from __future__ import annotations

from nango_scripts.store import ScheduleStore


def test_templates_are_enabled_per_environment_and_integration(records_url: str) -> None:
    with ScheduleStore.open(records_url) as store:
        assert store.enabled_templates("prod") == {}
        store.set_templates("prod", "github", ["issues", "pull-requests", "issues"], True)
        store.set_templates("prod", "gh-two", ["issues"], True)
        store.set_templates("staging", "github", ["repositories"], True)
        enabled = store.enabled_templates("prod")
        assert {k: sorted(v) for k, v in enabled.items()} == {
            "github": ["issues", "pull-requests"],
            "gh-two": ["issues"],
        }
        assert store.enabled_templates("staging") == {"github": ["repositories"]}

        store.set_templates("prod", "github", ["issues", "issues"], True)  # idempotent
        store.set_templates("prod", "github", ["issues"], False)
        store.set_templates("prod", "github", ["never-enabled"], False)  # no-op
        assert store.enabled_templates("prod") == {
            "github": ["pull-requests"],
            "gh-two": ["issues"],
        }


def test_the_enabled_state_survives_reopening(records_url: str) -> None:
    with ScheduleStore.open(records_url) as store:
        store.set_templates("prod", "github", ["issues"], True)
    with ScheduleStore.open(records_url) as store:
        assert store.enabled_templates("prod") == {"github": ["issues"]}
