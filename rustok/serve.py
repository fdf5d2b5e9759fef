"""HTTP servers of the local runtime: uvicorn in background threads, stopped cleanly."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn
from fastapi import FastAPI


class ServerThread:
    """One ASGI app served by uvicorn on ``host:port`` in a daemon thread.

    uvicorn installs signal handlers only in the main thread, so Ctrl-C stays with the
    caller, who calls :meth:`stop`.
    """

    def __init__(self, name: str, app: FastAPI, host: str, port: int) -> None:
        self.name = name
        self.host = host
        self.port = port if port else free_port(host)
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning", lifespan="on",
                                access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"http-{name}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, ready_path: str = "/health/live", timeout: float = 30.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._server.started:
                try:
                    if httpx.get(self.url + ready_path, timeout=2).status_code < 500:
                        return
                except httpx.HTTPError:
                    pass
            if not self._thread.is_alive():
                break
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start on {self.url}")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True
