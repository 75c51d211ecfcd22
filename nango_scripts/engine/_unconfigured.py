"""Scripts that cannot run because nango.toml does not define their integration."""

from __future__ import annotations

from collections.abc import Container

from nango_scripts.dsl import Project
from nango_scripts.errors import ProjectError

__all__ = ["unconfigured_integrations"]


def unconfigured_integrations(project: Project, configured: Container[str]) -> list[ProjectError]:
    """One error per integration of ``project``'s scripts missing from ``configured``
    (the integrations of nango.toml), naming its scripts; ``compile`` and ``dev`` say it."""
    missing: dict[str, list[str]] = {}
    for spec in project.scripts:
        integration = spec.integration or ""
        if integration not in configured:
            missing.setdefault(integration, []).append(spec.name)
    return [
        ProjectError(
            f'integration "{integration}" is not configured in nango.toml, so its '
            f"scripts cannot run: {', '.join(names)}.",
            hint=(
                f'Add an [integrations.{integration}] table to nango.toml, with provider = "..." '
                "(a built-in provider) or base_url and auth."
            ),
        )
        for integration, names in missing.items()
    ]
