"""An HTTP endpoint that predicts with the current champion.

A small FastAPI app rather than ``mlflow models serve``: MLflow's scoring
server returns only the labels of one fixed model version, while this app
returns each text's label and confidence and follows the champion alias, so a
promotion reaches it without a restart.

The event loop only moves bytes: parsing and scoring run in the threadpool,
and the registry is read by a background thread (``champion.py``), never by a
request, so a slow or dead MLflow cannot stall an answer.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from {{ cookiecutter.package_name }}.model.scoring import predict_texts_with_probabilities
from {{ cookiecutter.package_name }}.serving.champion import (
    ChampionRefresher,
    bounded_mlflow_requests,
)
from {{ cookiecutter.package_name }}.serving.middleware import (
    BodyDeadline,
    BodySizeLimit,
    InflightBodies,
    UnexpectedErrors,
)
from {{ cookiecutter.package_name }}.serving.payload import (
    MAX_BODY_BYTES,
    PAYLOAD_FORM,
    BadPayload,
    parse_request,
)
from {{ cookiecutter.package_name }}.settings import PROJECT_SLUG, Settings
from {{ cookiecutter.package_name }}.tracking.registry import Champion


def _answer(champion: Champion, body: bytes) -> Response:
    """Parse, score and encode one request (in a worker thread: all of it is CPU)."""
    try:
        texts, with_probabilities = parse_request(body)
    except BadPayload as error:
        return JSONResponse({"error": f"{error}; send {PAYLOAD_FORM}"}, status_code=400)
    labels, confidences, probabilities = predict_texts_with_probabilities(champion.model, texts)
    predictions = [
        {"label": label, "confidence": confidence}
        for label, confidence in zip(labels, confidences, strict=True)
    ]
    if with_probabilities:
        classes = [str(label) for label in champion.model.classes_]
        for prediction, row in zip(predictions, probabilities.tolist(), strict=True):
            prediction["probabilities"] = dict(zip(classes, row, strict=True))
    content = json.dumps({"model_version": champion.version, "predictions": predictions})
    return Response(content, media_type="application/json")


def create_app(
    settings: Settings, *, refresh_seconds: float = 30.0, max_body_bytes: int = MAX_BODY_BYTES
) -> FastAPI:
    champions = ChampionRefresher(settings, refresh_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        with bounded_mlflow_requests():
            # The first load before the port opens: the first request finds a model.
            await anyio.to_thread.run_sync(champions.refresh)
            champions.start()
            try:
                yield
            finally:
                await anyio.to_thread.run_sync(champions.stop)

    app = FastAPI(title=f"{PROJECT_SLUG} predictions", lifespan=lifespan)
    # The last added runs first: errors of the size limit are caught too.
    serving = settings.serving
    app.add_middleware(BodyDeadline, seconds=serving.serve_body_timeout_seconds)
    app.add_middleware(
        InflightBodies,
        max_bytes=serving.serve_inflight_body_mib * 2**20,
        wait_seconds=serving.serve_inflight_wait_seconds,
    )
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_middleware(UnexpectedErrors)

    @app.get("/health")
    async def health() -> JSONResponse:
        state = champions.health()
        return JSONResponse(state.body, status_code=503 if state.status == "no model" else 200)

    @app.post("/predict")
    async def predict(request: Request) -> Response:
        body = await request.body()  # at most max_bytes: BodySizeLimit
        champion = champions.champion
        if champion is None:
            return JSONResponse({"error": champions.health().body["reason"]}, status_code=503)
        return await anyio.to_thread.run_sync(_answer, champion, body)

    return app
