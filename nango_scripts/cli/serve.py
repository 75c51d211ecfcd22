"""``nango-scripts serve``: the HTTP API and the scheduler, on uvicorn."""

from __future__ import annotations

import gc

import click

from nango_scripts.cli._common import project_folder


@click.command("serve")
@click.option("--host", default=None, help="Interface to listen on (default: [server] host).")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port to listen on (default: [server] port, 3003).",
)
@click.pass_context
def serve_cmd(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run the service: Nango's REST API, the scheduler and the actions.

    Every route but /health wants 'Authorization: Bearer <secret key>'. The key is
    NANGO_SECRET_KEY; without it, one is generated on the first start, kept in the
    database, and shown (again with 'nango-scripts secret-key show'). Stop with Ctrl-C
    (or SIGTERM).
    """
    import uvicorn

    from nango_scripts.cli._serving import announce_secret_key, serve_log_config
    from nango_scripts.engine import Service
    from nango_scripts.server import create_app
    from nango_scripts.settings import load_settings

    settings = load_settings(project_folder(ctx))
    service = Service.open(settings)
    announce_secret_key(service)
    host = host or settings.server_host
    port = port or settings.server_port
    click.echo(f"nango-scripts: serving {settings.project_dir} on http://{host}:{port}", err=True)
    app = create_app(service)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        lifespan="on",
        access_log=False,  # the app writes its own access line, secrets masked
        log_config=serve_log_config(),
    )
    # What is loaded now lives as long as the process: out of the collector's sight, so
    # that the collections a long sync run triggers stay cheap (as in `run`).
    gc.collect()
    gc.freeze()
    try:
        uvicorn.Server(config).run()
    except KeyboardInterrupt:
        # uvicorn has shut down cleanly and re-raised Ctrl-C: a normal stop, exit 0
        # (click would print "Aborted!" and exit 1).
        pass
    finally:
        service.close()
