"""The built-in template pack of nango-scripts (data: one folder per provider).

Installed as the package ``nango_scripts_templates`` and registered as the pack
``builtin`` (entry point group ``nango_scripts.templates``). Its scripts are imported by
``nango_scripts.dsl`` under ``nango_template_packs``, never through this package.
"""
