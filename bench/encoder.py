"""The cascade's cost, in process on one core: the fast stage, the encoder stage, the band.

For the shipped model: comments/s of the fast stage (batches of 128, the worker's batch)
and of the second opinion (batches of 64, one BLAS thread: an encoder worker's process),
measured back to back and alternated; what share of comments the band sends to the encoder
(the held-out test split's French comments, all its comments, and bench's mix of bodies);
and from these, how many encoder cores 1,000 comments/s need.

    python bench/encoder.py [--data ../shared/data] [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import say  # noqa: E402


def _rate(fn, texts, batch: int, seconds: float) -> float:
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for start in range(0, len(texts), batch):
            fn(texts[start : start + batch])
            done += min(batch, len(texts) - start)
            if time.perf_counter() - t0 >= seconds:
                break
    return done / (time.perf_counter() - t0)


def main(*, data_dir: str | None, quick: bool = False) -> dict:
    from moderation.classifier import data, load_model
    from moderation.classifier.encoder import load_encoder

    model = load_model(common.model_path())
    if not model.has_second_opinion:
        raise SystemExit("this model has no second opinion")
    encoder = load_encoder()
    rows = []
    if data_dir:
        rows = data.split(data.load_all(data.data_dir(data_dir)))["test"]
    texts = [r.text for r in rows if r.toxic is not None][:2000] or [common.body(i) for i in range(512)]
    seconds = 3 if quick else 8
    fast_rates, second_rates = [], []

    def fast(batch):
        return model.score(batch, explain=False)

    def second(batch):
        return model.second_opinion(batch, model.score(batch, explain=False), encode=encoder.encode)

    for i in range(1 if quick else 3):
        order = [("fast", fast, 128, fast_rates), ("second", second, 64, second_rates)]
        for _name, fn, batch, out in order if i % 2 == 0 else reversed(order):
            out.append(_rate(fn, texts, batch, seconds))
    fast_rate, second_rate = common.median(fast_rates), common.median(second_rates)

    def share(sample) -> float:
        if not sample:
            return 0.0
        scores = model.score(sample, explain=False)
        return sum(model.needs_second_opinion(s.toxicity) for s in scores) / len(sample)

    shares = {
        "bench bodies": share([common.body(i)
                               for i in range(common.SCREENED_EVERY * len(common.BODIES) * 2)]),
        "test split, French": share([r.text for r in rows if r.language == "fr" and r.toxic is not None]),
        "test split, French non-toxic": share([r.text for r in rows if r.language == "fr" and r.toxic == 0]),
        "test split, all": share([r.text for r in rows if r.toxic is not None]),
    }
    say(f"== cascade on one core, model {model.version}")
    say(f"  fast stage      {fast_rate:,.0f} comments/s (runs {[round(r) for r in fast_rates]})")
    runs = [round(r) for r in second_rates]
    say(f"  second opinion  {second_rate:,.0f} comments/s per encoder core (runs {runs})")
    for name, value in shares.items():
        cores = 1000 * value / second_rate if second_rate else None
        say(f"  band share, {name}: {value:.1%} -> 1,000 comments/s need {cores:.2f} encoder cores")
    return {
        "cascade": {
            "name": "Second opinion throughput (comments/s per encoder core)",
            "value": second_rate,
            "baseline": fast_rate,
            "baseline_name": "the fast stage on the same core",
            "ratio": second_rate / fast_rate if fast_rate else None,
            "band_share": shares,
            "encoder_cores_for_1000_per_s": {k: 1000 * v / second_rate for k, v in shares.items()},
        }
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.environ.get("VIGIE_DATA_DIR"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    common.setup_django()
    main(data_dir=args.data, quick=args.quick)
