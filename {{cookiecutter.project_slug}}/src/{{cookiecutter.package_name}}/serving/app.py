"""An HTTP endpoint that predicts with the current champion.

A small FastAPI app rather than ``mlflow models serve``: MLflow's scoring
server returns only the labels of one fixed model version, while this app
returns each text's label and confidence and follows the champion alias, so a
promotion reaches it without a restart.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from {{ cookiecutter.package_name }}.data.schema import TEXT
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.model.scoring import predict_frame
from {{ cookiecutter.package_name }}.settings import PROJECT_SLUG, Settings
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.client import connect

PAYLOAD_FORM = 'a JSON object {"texts": ["first review", "second review"]}'
MAX_TEXTS = 10_000


class ChampionCache:
    """The champion model, re-resolved from the alias at most every ``refresh_seconds``."""

    def __init__(self, settings: Settings, refresh_seconds: float) -> None:
        self.settings = settings
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._champion: registry.Champion | None = None
        self._checked = float("-inf")

    def get(self) -> registry.Champion:
        with self._lock:
            if time.monotonic() - self._checked >= self.refresh_seconds:
                client = connect(self.settings)
                current = registry.champion_version(client, self.settings)
                if current is not None and (
                    self._champion is None or self._champion.version != str(current.version)
                ):
                    self._champion = registry.load_champion(self.settings)
                self._checked = time.monotonic()
            if self._champion is None:
                raise PipelineError(f"no champion model yet: run `{PROJECT_SLUG} train` first.")
            return self._champion


def _bad_request(detail: str) -> JSONResponse:
    return JSONResponse({"error": f"{detail}; send {PAYLOAD_FORM}"}, status_code=400)


def _texts(payload: Any) -> list[str] | str:
    """The texts of a valid payload, or the reason it is not valid."""
    if not isinstance(payload, dict) or "texts" not in payload:
        return "the body has no 'texts' field"
    texts = payload["texts"]
    if not isinstance(texts, list) or not texts:
        return "'texts' must be a non-empty list"
    if len(texts) > MAX_TEXTS:
        return f"'texts' holds {len(texts)} items, more than {MAX_TEXTS}"
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            return f"texts[{index}] is {type(text).__name__}, not a string"
    return texts


def create_app(settings: Settings, *, refresh_seconds: float = 30.0) -> FastAPI:
    app = FastAPI(title=f"{PROJECT_SLUG} predictions")
    champions = ChampionCache(settings, refresh_seconds)

    @app.get("/health")
    def health() -> JSONResponse:
        try:
            champion = champions.get()
        except PipelineError as error:
            return JSONResponse({"status": "no model", "error": str(error)}, status_code=503)
        return JSONResponse({"status": "ok", "model_version": champion.version})

    @app.post("/predict")
    async def predict(request: Request) -> JSONResponse:
        try:
            payload = await request.json()
        except ValueError:
            return _bad_request("the body is not JSON")
        texts = _texts(payload)
        if isinstance(texts, str):
            return _bad_request(texts)
        try:
            champion = champions.get()
        except PipelineError as error:
            return JSONResponse({"error": str(error)}, status_code=503)
        scored = predict_frame(champion.model, pd.DataFrame({TEXT: texts}))
        predictions = [
            {"label": str(label), "confidence": float(confidence)}
            for label, confidence in zip(scored["prediction"], scored["confidence"], strict=True)
        ]
        return JSONResponse({"model_version": champion.version, "predictions": predictions})

    return app
