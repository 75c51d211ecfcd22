"""Running the service on uvicorn: the secret key notice, and a service in a thread beside
the ``dev`` loop (which keeps the main thread for the file watcher and its signals)."""

from __future__ import annotations

import asyncio
import copy
import socket
import threading
from typing import TYPE_CHECKING, Any

import click

from nango_scripts.errors import ConfigError, NangoScriptsError

if TYPE_CHECKING:
    import uvicorn

    from nango_scripts.dsl import Project
    from nango_scripts.engine import Service
    from nango_scripts.settings import Settings

__all__ = ["ServiceThread", "announce_secret_key", "serve_log_config"]

_SHUTDOWN_GRACE_S = 5
"""How long a stop waits for requests in flight (an action, say) before cancelling them."""


def announce_secret_key(service: Service) -> None:
    """Show a key this process generated, once (on stderr: stdout may carry JSON)."""
    if service.secret_key_created:
        click.echo(
            f"Created the API secret key: {service.secret_key}\n"
            "It is stored in the database: 'nango-scripts secret-key show' prints it again,"
            " 'secret-key rotate' replaces it (set NANGO_SECRET_KEY to use your own)."
            " Send it as 'Authorization: Bearer <key>'.",
            err=True,
        )


def serve_log_config() -> dict[str, Any]:
    """uvicorn's logging, its access line replaced by the service's own (logger
    ``nango_scripts.access``, same shape and stream), which masks secrets in the request
    target: run uvicorn with ``access_log=False`` beside it."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["nango_scripts.access"] = {
        "handlers": ["access"],
        "level": "INFO",
        "propagate": False,
    }
    return config


class ServiceThread:
    """``create_app(service)`` on uvicorn, in a thread with its own event loop.

    :meth:`start` returns once the API answers (or raises a clear error: the port is
    taken, the service could not start); :meth:`reload` hands a new project to the
    service inside that loop; :meth:`stop` shuts down as ``serve`` does on Ctrl-C (runs
    cancelled and marked, database closed). Signals stay with the main thread.
    """

    def __init__(self, service: Service, host: str, port: int) -> None:
        self.service = service
        self.host = host
        self.port = port
        """The port asked for; after :meth:`start`, the one listened on (0 picks one)."""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        import uvicorn

        from nango_scripts.server import create_app

        listener = self._bind()
        self.port = listener.getsockname()[1]
        config = uvicorn.Config(
            create_app(self.service),
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=_SHUTDOWN_GRACE_S,
        )
        server = self._server = uvicorn.Server(config)
        thread = self._thread = threading.Thread(
            target=self._main, args=(server, listener), name="nango-service", daemon=True
        )
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise NangoScriptsError(
                    f"the local service did not start on {self.url}"
                    + (f": {self._failure}" if self._failure else "")
                    + ".",
                    hint="The lines above say why; --no-serve runs dev without it.",
                )
            thread.join(0.02)

    def _bind(self) -> socket.socket:
        """Listen here, in the caller's thread, so that a taken port is a clear error."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self.port))
        except OSError as exc:
            listener.close()
            raise ConfigError(
                f"the local service cannot listen on {self.url}: {exc.strerror or exc}.",
                hint="Another process may use that port (nango-scripts serve?): pick another"
                " with --port (or NANGO_SCRIPTS_DEV_PORT), or run without the service"
                " (--no-serve).",
            ) from None
        return listener

    def _main(self, server: uvicorn.Server, listener: socket.socket) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            await server.serve(sockets=[listener])

        try:
            asyncio.run(serve())
        except SystemExit:  # how uvicorn ends a failed start, after logging why
            pass
        except BaseException as exc:
            self._failure = exc
        finally:
            listener.close()

    def reload(self, project: Project, settings: Settings | None) -> Project:
        """Serve ``project`` (and ``settings``' integrations) from now on; what is served."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            raise NangoScriptsError(
                "the local service has stopped" + (f": {self._failure}" if self._failure else "")
            )
        future = asyncio.run_coroutine_threadsafe(
            self.service.reload(project, settings=settings), loop
        )
        return future.result()

    def stop(self) -> None:
        """Shut down (idempotent); the service's stores are closed either way."""
        server, thread = self._server, self._thread
        try:
            if server is not None and thread is not None:
                server.should_exit = True
                thread.join()
        finally:
            self.service.close()
