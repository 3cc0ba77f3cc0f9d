"""What ``POST /predict`` accepts, and the one-line reason a body is refused.

A text is refused by the same rule, and with the same reason, as a batch row
(``data/schema.py``'s ``is_blank``, the rule ``split_rejects`` applies to a
column), so the server never scores what batch inference sets aside. It is
checked text by text: on a pandas frame, the check took a quarter of a
one-text request.
"""

from __future__ import annotations

import json

from {{ cookiecutter.package_name }}.data.schema import EMPTY_TEXT, is_blank

PAYLOAD_FORM = (
    'a JSON object {"texts": ["first review", "second review"]}, with "probabilities": true '
    "for every class's probability"
)
MAX_TEXTS = 10_000
# 10,000 texts of 1 KiB on average is 10 MiB; quotes and commas add 3 bytes a
# text, and a client that escapes non-ASCII (Python's json.dumps does) sends 6
# bytes for each such character. 16 MiB leaves room for both, and bounds what
# one request can make the server hold (the body, its text and the strings:
# about 100 MB at worst).
MAX_BODY_BYTES = 16 * 1024 * 1024


class BadPayload(ValueError):
    """A body ``/predict`` cannot score; the message says what is wrong with it."""


def parse_texts(body: bytes) -> list[str]:
    """The body's texts, each one fit to score, or BadPayload."""
    return parse_request(body)[0]


def parse_request(body: bytes) -> tuple[list[str], bool]:
    """The body's texts, each one fit to score, and whether it asks for every class's
    probability (``"probabilities": true``); or BadPayload."""
    try:
        document = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadPayload(f"the body is not UTF-8 (byte {error.start} is invalid)") from None
    try:
        payload = json.loads(document)
    except RecursionError:
        raise BadPayload("the body nests arrays or objects too deeply to parse") from None
    except ValueError:
        raise BadPayload("the body is not JSON") from None
    if not isinstance(payload, dict) or "texts" not in payload:
        raise BadPayload("the body has no 'texts' field")
    texts = payload["texts"]
    probabilities = payload.get("probabilities", False)
    if not isinstance(probabilities, bool):
        raise BadPayload("'probabilities' must be true or false")
    if not isinstance(texts, list) or not texts:
        raise BadPayload("'texts' must be a non-empty list")
    if len(texts) > MAX_TEXTS:
        raise BadPayload(f"'texts' holds {len(texts)} items, more than {MAX_TEXTS}")
    blank = []
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise BadPayload(f"texts[{index}] is {type(text).__name__}, not a string")
        # JSON's \ud800 escapes decode to lone surrogates, which no encoder
        # (the response's, Parquet's) accepts.
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as error:
                raise BadPayload(
                    f"texts[{index}] is not valid Unicode (a lone surrogate at character "
                    f"{error.start})"
                ) from None
        if is_blank(text):
            blank.append(index)
    if blank:
        raise BadPayload(
            f"texts[{blank[0]}] is rejected as '{EMPTY_TEXT}', as batch inference rejects such "
            f"rows ({len(blank)} of {len(texts)} texts)"
        )
    return texts, probabilities
