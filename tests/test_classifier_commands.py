"""The classifier's management commands: score_texts' stdin/stdout contract, errors."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from moderation.classifier import load_model


def _score(lines: list[str], **options) -> list[dict]:
    out = io.StringIO()
    call_command("score_texts", stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out,
                 **options)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_it_writes_one_line_per_input_in_order():
    texts = ["Espèce de connard", "Merci pour cet article très clair",
             "Check out my channel and subscribe!!! http://example.com", "You are an idiot"]
    out = _score([json.dumps({"text": t}) for t in texts])
    assert len(out) == len(texts)
    for row in out:
        assert set(row) == {"toxicity", "spam", "language"}
        assert 0.0 <= row["toxicity"] <= 1.0 and 0.0 <= row["spam"] <= 1.0
        assert row["language"] in ("fr", "en", "other")
    assert out[0]["toxicity"] > out[1]["toxicity"]
    assert out[2]["spam"] > out[1]["spam"]
    assert out[1]["language"] == "fr" and out[3]["language"] == "en"
    expected = load_model().score(texts, explain=False)
    assert [round(s.toxicity, 6) for s in expected] == [r["toxicity"] for r in out]


def test_it_batches_without_changing_order_or_scores():
    texts = [f"commentaire numéro {i} {'connard' if i % 3 == 0 else 'merci'}" for i in range(23)]
    lines = [json.dumps({"text": t}) for t in texts]
    small = _score(lines, batch_size=4)
    large = _score(lines, batch_size=1000)
    assert small == large and len(small) == 23


def test_it_keeps_alignment_on_a_bad_line():
    out = _score([json.dumps({"text": "bonjour"}), "not json", json.dumps({"nope": 1}),
                  "", json.dumps({"text": "salut"})])
    assert len(out) == 4
    assert "toxicity" in out[0] and "toxicity" in out[3]
    assert "error" in out[1] and "error" in out[2]


def test_it_refuses_a_missing_model(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        _score([json.dumps({"text": "x"})], model=str(tmp_path / "missing"))
