"""A request's texts are refused by the rule batch inference applies to its rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.schema import EMPTY_TEXT, TEXT, split_rejects
from {{ cookiecutter.package_name }}.serving.payload import BadPayload, parse_texts

# Every code point Python counts as whitespace, neighbours it does not
# (zero-width space, BOM, Mongolian vowel separator), and mixes of both.
WHITESPACE = [chr(code) for code in range(0x3001) if chr(code).isspace()]
TEXTS = [
    "",
    "fine",
    "\u200b",
    "\ufeff",
    "\u180e",
    *WHITESPACE,
    *(f"{space}ok{space}" for space in WHITESPACE),
    "".join(WHITESPACE),
]


def body(texts: list[str]) -> bytes:
    return json.dumps({"texts": texts}).encode()


@pytest.mark.parametrize("dtype", ["str", object])
def test_serve_refuses_exactly_the_texts_batch_inference_rejects(dtype):
    _, rejected = split_rejects(pd.DataFrame({TEXT: pd.Series(TEXTS, dtype=dtype)}))
    refused = set()
    for index, text in enumerate(TEXTS):
        try:
            assert parse_texts(body([text])) == [text]
        except BadPayload as error:
            assert str(error).startswith(f"texts[0] is rejected as '{EMPTY_TEXT}'")
            refused.add(index)
    assert refused == set(rejected.index)
    assert set(rejected["reason"]) == {EMPTY_TEXT}


def test_the_first_refused_text_is_named_and_the_others_counted():
    with pytest.raises(BadPayload) as refused:
        parse_texts(body(["fine", " ", "good", "\u3000\n", ""]))
    assert str(refused.value) == (
        f"texts[1] is rejected as '{EMPTY_TEXT}', as batch inference rejects such rows "
        "(3 of 5 texts)"
    )


def test_a_wrong_type_is_named_before_a_blank_text():
    with pytest.raises(BadPayload, match=r"^texts\[2\] is int, not a string$"):
        parse_texts(body(["", "fine", 42]))
