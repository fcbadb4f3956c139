"""`tunelab-serve`: an exported model behind an HTTP JSON API and a web page.

    tunelab-serve model_dir=RUN/model [host=127.0.0.1 port=8000]

uvicorn runs the app in this process; on SIGTERM or Ctrl-C it stops accepting connections and
lets the requests in flight finish (at most `shutdown_timeout_s`).
"""

from __future__ import annotations

import logging
import socket
from dataclasses import fields

import uvicorn
from omegaconf import DictConfig
from uvicorn.config import HTTP_PROTOCOLS
from uvicorn.importer import import_from_string

from tunelab import schema
from tunelab.config import hydra_command
from tunelab.errors import TunelabError
from tunelab.inference.predictor import Predictor
from tunelab.serving.app import Limits, create_app
from tunelab.serving.limits import with_header_timeout

log = logging.getLogger("tunelab")


def build_app(cfg: DictConfig):
    """The ASGI app for `cfg` (serve.yaml): the model loaded, batching and limits set."""
    schema.check(cfg)
    unknown = set(cfg.limits) - {f.name for f in fields(Limits)}
    if unknown:
        raise TunelabError(
            f"limits.{sorted(unknown)[0]} is not a limit; limits are "
            f"{', '.join(f.name for f in fields(Limits))}"
        )
    predictor = Predictor.from_config(cfg, cfg.limits.max_chars)
    limits = Limits(**cfg.limits)
    app = create_app(predictor, limits, cfg.max_batch, cfg.max_wait_ms, cfg.get("chunk_texts", 16))
    return app, predictor


def check_address(host: str, port: int) -> None:
    """Stop with one line, before the model loads, when the address cannot be listened on."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as err:
        raise TunelabError(f"host={host!r} is not an address here ({err})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as err:
            raise TunelabError(f"cannot listen on {host}:{port} ({err.strerror})") from None


def serve(cfg: DictConfig) -> None:
    schema.check(cfg)
    check_address(str(cfg.host), cfg.port)
    if cfg.http not in HTTP_PROTOCOLS:
        raise TunelabError(f"http={cfg.http!r}; choose one of {', '.join(HTTP_PROTOCOLS)}")
    header_timeout = cfg.get("header_timeout_s", 10)
    app, predictor = build_app(cfg)
    log.info(
        "serving %s (%s) on http://%s:%d", cfg.model_dir, predictor.task.name, cfg.host, cfg.port
    )
    uvicorn.run(
        app,
        host=cfg.host,
        port=cfg.port,
        log_level=cfg.log_level,
        access_log=cfg.access_log,
        timeout_graceful_shutdown=cfg.shutdown_timeout_s,
        loop=cfg.loop,
        http=with_header_timeout(import_from_string(HTTP_PROTOCOLS[cfg.http]), header_timeout),
    )


main = hydra_command("serve", serve)


if __name__ == "__main__":
    main()
