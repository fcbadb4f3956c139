"""`tunelab-serve`: an exported model behind an HTTP JSON API and a web page.

    tunelab-serve model_dir=RUN/model [host=127.0.0.1 port=8000]

uvicorn runs the app in this process; on SIGTERM or Ctrl-C it stops accepting connections and
lets the requests in flight finish (at most `shutdown_timeout_s`).
"""

from __future__ import annotations

import logging

import hydra
import uvicorn
from omegaconf import DictConfig

from tunelab.config import CONFIG_DIR, exit_on_user_error
from tunelab.predictor import Predictor
from tunelab.serving.app import Limits, create_app

log = logging.getLogger("tunelab")


def build_app(cfg: DictConfig):
    """The ASGI app for `cfg` (serve.yaml): the model loaded, batching and limits set."""
    predictor = Predictor(
        cfg.model_dir,
        precision=cfg.precision,
        batch_size=cfg.batch_size,
        max_tokens=cfg.max_tokens,
        reading=cfg,
        task=cfg.get("task"),
        trust_remote_code=cfg.trust_remote_code,
        backend=cfg.get("backend", "torch"),
        onnx_model=cfg.get("onnx_model"),
    )
    limits = Limits(**cfg.limits)
    return create_app(predictor, limits, cfg.max_batch, cfg.max_wait_ms), predictor


def serve(cfg: DictConfig) -> None:
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
        http=cfg.http,
    )


@hydra.main(config_path=CONFIG_DIR, config_name="serve", version_base="1.3")
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    serve(cfg)


if __name__ == "__main__":
    main()
