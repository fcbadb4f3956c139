"""The HTTP API: POST /v1/predict, POST /v1/search (assistants), POST /v1/rank (pair models),
GET /v1/model, GET /health, the page at /, OpenAPI at /docs."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from starlette.exceptions import HTTPException

from tunelab import __version__
from tunelab.errors import TunelabError
from tunelab.inference.predictor import Predictor, checked_texts
from tunelab.serving.batcher import MicroBatcher, ShuttingDown, TextFailed
from tunelab.serving.limits import BodyLimit

log = logging.getLogger("tunelab")


@dataclass(frozen=True)
class Limits:
    """What one request may hold; more gets a 4xx JSON error, never a crash."""

    max_texts: int = 1000
    max_chars: int = 20000
    max_body_bytes: int = 2_000_000
    body_timeout_s: float = 10.0  # between two parts of a body (a client that stops sending)


class PredictRequest(BaseModel):
    """Texts, or text pairs for a model trained on pairs; nothing else."""

    model_config = ConfigDict(extra="forbid")
    texts: list[StrictStr] | None = Field(None, examples=[["Anna lives in Berlin."]])
    pairs: list[tuple[StrictStr, StrictStr]] | None = None
    # each record gains `explanation`: every word's attribution (Integrated Gradients) to the
    # label, or to each entity; costs about a hundred forward and backward passes a decision
    explain: bool = False


EXPLAINED_TEXTS = 20  # texts explained in one request at most: each takes a second or more


class PredictResponse(BaseModel):
    """One record per text, in order: `tunelab-predict`'s records."""

    predictions: list[dict] = Field(
        examples=[
            [
                {
                    "text": "Anna lives in Berlin.",
                    "entities": [
                        {"text": "Anna", "type": "PER", "start": 0, "end": 4, "score": 0.99},
                        {"text": "Berlin", "type": "LOC", "start": 14, "end": 20, "score": 0.98},
                    ],
                }
            ]
        ]
    )


class SearchRequest(BaseModel):
    """Questions to find past ones for (a model with an index: `tunelab assistant`)."""

    model_config = ConfigDict(extra="forbid")
    texts: list[StrictStr] = Field(examples=[["my card has not arrived"]])
    k: int = Field(5, ge=1, le=100)


class RankRequest(BaseModel):
    """One first text and the second texts to rank for it (a pair model, e.g. data=movielens:
    a user's liked movies and candidate movies), by the probability of `label`."""

    model_config = ConfigDict(extra="forbid")
    text: StrictStr = Field(examples=["Toy Story (1995): Animation Children's Comedy"])
    candidates: list[StrictStr] = Field(examples=[["Heat (1995): Action Crime Thriller"]])
    label: StrictStr = Field(examples=["liked"])


class ServeError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def one_line(errors: list[dict]) -> str:
    """The first validation problem, where it is and what it is."""
    first = errors[0]
    loc = [part for part in first.get("loc", ()) if part != "body"]
    if first.get("type") == "json_invalid":
        return f"the body is not valid JSON (at character {loc[0] if loc else '?'})"
    if first.get("type") == "model_attributes_type":
        return 'the body must be a JSON object, {"texts": [...]}, sent as application/json'
    return f"{'.'.join(str(part) for part in loc) or 'body'}: {first.get('msg', 'invalid')}"


def check(
    request: PredictRequest, predictor: Predictor, limits: Limits
) -> tuple[list, list | None]:
    """The request's texts (and second texts), or a ServeError naming the problem."""
    if (request.texts is None) == (request.pairs is None):
        raise ServeError(422, 'give "texts": [...] or "pairs": [[a, b], ...], not both or neither')
    wants_pairs = bool(predictor.settings.get("text_pair_column"))
    if (request.pairs is not None) != wants_pairs:
        kind = '"pairs"' if wants_pairs else '"texts"'
        raise ServeError(422, f"this model reads {kind}")
    items = request.texts if request.texts is not None else request.pairs
    if not items:
        raise ServeError(422, "the list of texts is empty")
    if len(items) > limits.max_texts:
        raise ServeError(
            413, f"{len(items)} texts in one request; at most {limits.max_texts} (max_texts)"
        )
    texts = request.texts or [a for a, _ in request.pairs]
    pairs = None if request.texts is not None else [b for _, b in request.pairs]
    for index, text in enumerate(texts + (pairs or [])):
        if len(text) > limits.max_chars:
            raise ServeError(
                413,
                f"text {index % len(texts)} has {len(text)} characters; at most "
                f"{limits.max_chars} (max_chars)",
            )
    for name, given in (("texts", texts), ("pairs", pairs)):
        if given is not None:
            try:
                checked_texts(given, name, None)
            except TunelabError as err:  # a lone surrogate, sent as an escape (\ud800)
                raise ServeError(400, str(err)) from None
    return texts, pairs


async def client_left(request: Request) -> None:
    """Returns when the client closes the connection (the body is read by then)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


def create_app(
    predictor: Predictor,
    limits: Limits = Limits(),
    max_batch: int = 64,
    max_wait_ms: float = 5,
    chunk_texts: int = 16,
):
    """The ASGI application (FastAPI wrapped in the body checks)."""
    batcher = MicroBatcher(predictor.predict, max_batch, max_wait_ms, chunk_texts)
    started = time.time()
    in_flight = 0

    @asynccontextmanager
    async def lifespan(_app):
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(
        title="tunelab",
        version=__version__,
        lifespan=lifespan,
        summary=f"{predictor.task.name} model: POST /v1/predict",
    )

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, err: RequestValidationError):
        errors = err.errors()
        return JSONResponse(
            {"error": one_line(errors), "detail": jsonable(errors)}, status_code=422
        )

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, err: HTTPException):
        return JSONResponse({"error": str(err.detail)}, status_code=err.status_code)

    @app.exception_handler(ServeError)
    async def serve_error(_request: Request, err: ServeError):
        return JSONResponse({"error": str(err)}, status_code=err.status)

    @app.exception_handler(TunelabError)
    async def user_error(_request: Request, err: TunelabError):
        return JSONResponse({"error": str(err)}, status_code=422)

    @app.exception_handler(Exception)
    async def failed(_request: Request, err: Exception):
        log.exception("request failed")
        return JSONResponse({"error": f"internal error ({type(err).__name__})"}, status_code=500)

    @app.exception_handler(TextFailed)
    async def text_failed(_request: Request, err: TextFailed):
        return JSONResponse({"error": str(err), "index": err.index}, status_code=422)

    @app.exception_handler(ShuttingDown)
    async def shutting_down(_request: Request, err: ShuttingDown):
        return JSONResponse({"error": str(err)}, status_code=503)

    @app.post("/v1/predict", response_model=PredictResponse)
    async def predict(request: PredictRequest, raw: Request) -> Response:
        """Label texts: NER entities (type, character offsets, score), or a label and every
        label's probability (multi-label: the labels over the threshold); with `"explain":
        true`, each word's attribution to the decisions too."""
        nonlocal in_flight
        texts, pairs = check(request, predictor, limits)
        if request.explain and len(texts) > EXPLAINED_TEXTS:
            raise ServeError(413, f"explain: at most {EXPLAINED_TEXTS} texts a request")
        in_flight += 1
        work = asyncio.ensure_future(batcher.submit(texts, pairs))
        left = asyncio.ensure_future(client_left(raw))
        try:
            await asyncio.wait({work, left}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            # uvicorn cancels what is still running when shutdown_timeout_s is over: drop the
            # texts not yet run and say so, rather than uvicorn's plain-text 500
            work.cancel()
            return JSONResponse(
                {"error": "the service stopped before this request finished (shutdown_timeout_s)"},
                status_code=503,
            )
        finally:
            in_flight -= 1
            left.cancel()
        if not work.done():  # the client left: its texts not yet run are dropped
            work.cancel()
            return Response(status_code=499)
        records = work.result()
        if request.explain:
            records = await asyncio.to_thread(explained, predictor, records)
        # The records are JSON-ready already: a JSONResponse skips FastAPI's walk over them
        # (jsonable_encoder), which costs about as much per request as the rest of the answer.
        return JSONResponse({"predictions": records})

    @app.post("/v1/search")
    async def search(request: SearchRequest) -> Response:
        """The `k` past questions nearest each text: text, intent and cosine score."""
        texts, _ = check(PredictRequest(texts=request.texts), predictor, limits)
        found = await asyncio.to_thread(predictor.search, texts, request.k)
        results = [{"text": t, "similar": f} for t, f in zip(texts, found, strict=True)]
        return JSONResponse({"results": results})

    @app.post("/v1/rank")
    async def rank(request: RankRequest) -> Response:
        """The candidates, most likely first, each with the probability of `label`."""
        check(
            PredictRequest(pairs=[(request.text, c) for c in request.candidates]), predictor, limits
        )
        ranked = await asyncio.to_thread(
            predictor.rank, request.text, list(request.candidates), request.label
        )
        return JSONResponse({"ranking": ranked})

    @app.get("/v1/model")
    async def model() -> dict:
        """The task, the labels, how the model reads input, and this service's limits."""
        return model_info(predictor, limits, max_batch, max_wait_ms)

    @app.get("/health")
    async def health() -> dict:
        return {
            "status": "ok",
            "uptime_s": round(time.time() - started, 1),
            "in_flight": in_flight,  # requests being answered now
            "batches": batcher.batches,  # batches run so far
            "queued_texts": batcher.queued_texts,  # texts waiting for their batch
        }

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> str:
        return files("tunelab.serving").joinpath("page.html").read_text(encoding="utf-8")

    return BodyLimit(app, limits.max_body_bytes, limits.body_timeout_s)


def explained(predictor: Predictor, records: list[dict]) -> list[dict]:
    """The records, each with its `explanation` (`Predictor.explain`'s record but the text)."""
    explanations = predictor.explain([record["text"] for record in records])
    for record, explanation in zip(records, explanations, strict=True):
        record["explanation"] = {k: v for k, v in explanation.items() if k != "text"}
    return records


def jsonable(errors: list[dict]) -> list[dict]:
    """Pydantic's error list without values JSON cannot hold (bytes of invalid UTF-8)."""
    keep = ("type", "loc", "msg")
    return [{key: error[key] for key in keep if key in error} for error in errors]


def model_info(predictor: Predictor, limits: Limits, max_batch: int, max_wait_ms: float) -> dict:
    reading = {k: v for k, v in predictor.settings.items() if k not in ("datamodule", "dir")}
    return {
        "task": predictor.task.name,
        "labels": predictor.labels,
        "pairs": bool(predictor.settings.get("text_pair_column")),
        "reading": reading,
        "precision": predictor.precision,
        "assistant": assistant_info(predictor),
        "batching": {"max_batch": max_batch, "max_wait_ms": max_wait_ms},
        "limits": asdict(limits),
    }


def assistant_info(predictor: Predictor) -> dict | None:
    """What the model's assistant adds (`tunelab assistant`), or None."""
    found = predictor.assistant
    if found is None:
        return None
    questions = len(found.index.texts) if found.index else 0
    return {"threshold": found.threshold, "answers": len(found.answers), "questions": questions}
