"""The model folder: every estimator works in the pipeline, and the accessors find its parts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.model.estimators import ESTIMATORS, build_classifier
from {{ cookiecutter.package_name }}.model.pipeline import (
    build_pipeline,
    fit,
    known_token_counts,
    vectorizer,
    vocabulary,
)
from {{ cookiecutter.package_name }}.settings import load_settings

TEXTS = pd.DataFrame({"text": ["great fun", "awful mess", "not good", "really great"] * 10})
LABELS = pd.Series(["positive", "negative", "negative", "positive"] * 10)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_every_estimator_gives_class_probabilities(estimator):
    model = load_settings().with_overrides(estimator=estimator).model
    pipeline = fit(build_pipeline(model), TEXTS, LABELS)
    probabilities = pipeline.predict_proba(TEXTS.head(4))
    assert probabilities.shape == (4, 2)
    assert probabilities.sum(axis=1) == pytest.approx([1, 1, 1, 1])


def test_an_unknown_estimator_names_the_choices():
    with pytest.raises(ValueError, match="logistic_regression"):
        build_classifier("random_forest", 0)


def test_negations_survive_the_vectorizer():
    pipeline = build_pipeline(load_settings().model)
    tfidf = vectorizer(pipeline).fit(["not good", "no way", "never again"])
    assert {"not", "no", "never"} <= set(tfidf.vocabulary_)


def test_a_fitted_vocabulary_holds_plain_ints_and_predicts_the_same():
    settings = load_settings().model
    compact = fit(build_pipeline(settings), TEXTS, LABELS)
    plain = build_pipeline(settings).fit(TEXTS, LABELS)
    assert {type(index) for index in vocabulary(compact).values()} == {int}
    assert getattr(vectorizer(compact), "stop_words_", None) is None
    assert np.array_equal(compact.predict_proba(TEXTS), plain.predict_proba(TEXTS))


def test_known_tokens_are_counted_through_the_accessor():
    pipeline = fit(build_pipeline(load_settings().model), TEXTS, LABELS)
    known, total = known_token_counts(pipeline, pd.Series(["great fun", "unheard words"]))
    assert (known, total) == (2, 4)


def _counted_text_by_text(pipeline, texts: list[str]) -> tuple[int, int]:
    fitted = vectorizer(pipeline)
    preprocess, tokenize = fitted.build_preprocessor(), fitted.build_tokenizer()
    tokens = [token for text in texts for token in tokenize(preprocess(text))]
    return sum(token in fitted.vocabulary_ for token in tokens), len(tokens)


# Final sigma, combining accents, ligatures, line breaks inside a text, texts
# without a token: lowercasing and accent stripping must not see a neighbour.
AWKWARD = [
    "\u039f\u0394\u039f\u03a3\n\u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3",  # Greek capitals
    "café ΣΑΣ",
    "x\u0301y",
    "great\u2028fun",
    "'Σ",
    "Σ'",
    "ﬁne",
    "",
    " ",
]


def test_known_tokens_of_joined_texts_are_those_of_each_text():
    pipeline = fit(build_pipeline(load_settings().model), TEXTS, LABELS)
    texts = [*AWKWARD, "really great fun", "GREAT\tnot good"]
    expected = _counted_text_by_text(pipeline, texts)
    assert expected[0] > 0 and expected[1] > expected[0]
    assert known_token_counts(pipeline, pd.Series(texts, dtype="str")) == expected
    assert known_token_counts(pipeline, pd.Series(texts, dtype=object)) == expected


def test_a_custom_token_pattern_is_counted_text_by_text():
    pipeline = fit(build_pipeline(load_settings().model), TEXTS, LABELS)
    # One-letter tokens and newlines as tokens: joining the texts would add tokens.
    vectorizer(pipeline).token_pattern = r"(?u)\w+|\n"
    texts = ["a great fun", "not good\n"]
    expected = _counted_text_by_text(pipeline, texts)
    assert expected == (4, 6)
    assert known_token_counts(pipeline, pd.Series(texts)) == expected
