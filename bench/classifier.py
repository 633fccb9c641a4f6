"""Classifier speed: Vigie's model vs alt-profanity-check, timed in the same run.

    python bench/classifier.py [--data DIR] [--n 5000] [--model PATH]

Throughput in batches of 256 and 1000 and single-comment latency (median, p99), each for
Vigie (scores only, and scores + explanation, as the worker runs it) and for
alt-profanity-check. Texts: the test split of --data / VIGIE_DATA_DIR / ../shared/data when
present, else generated comments. ``main(argv)`` returns the figures as a dict.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _texts(data: str | None, n: int) -> tuple[list[str], str]:
    from moderation.classifier import data as datamod

    candidates = [data, os.environ.get("VIGIE_DATA_DIR"), str(REPO.parent / "shared" / "data")]
    for candidate in candidates:
        if candidate and Path(candidate, "davidson", "labeled_data.csv").is_file():
            rows = datamod.split(datamod.load_all(Path(candidate)))["test"]
            texts = [r.text for r in rows]
            random.Random(0).shuffle(texts)
            texts = (texts * (n // max(len(texts), 1) + 1))[:n]
            return texts, f"test split of {candidate}"
    rng = random.Random(0)
    words = [
        "le",
        "gouvernement",
        "article",
        "merci",
        "vraiment",
        "je",
        "pense",
        "que",
        "les",
        "élus",
        "ont",
        "tort",
        "idiot",
        "super",
        "analyse",
        "you",
        "are",
        "right",
        "this",
        "is",
        "great",
        "connard",
        "check",
        "my",
        "channel",
    ]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(5, 40))) for _ in range(n)]
    return texts, "generated comments"


def _throughput(fn, texts: list[str], batch: int) -> tuple[float, float]:
    """Texts per wall-clock second, and per CPU second of this process (all its threads):
    the second stays meaningful when other work shares the machine."""
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(texts), batch):
        fn(texts[i : i + batch])
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return len(texts) / wall, len(texts) / max(cpu, 1e-9)


def _latency(fn, texts: list[str]) -> tuple[float, float]:
    times = []
    for text in texts:
        start = time.perf_counter()
        fn([text])
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="data directory for realistic texts")
    parser.add_argument("--model", help="model directory (default: the shipped model)")
    parser.add_argument("--n", type=int, default=5000, help="texts per throughput run")
    parser.add_argument("--single", type=int, default=1000, help="texts for latency")
    args = parser.parse_args(argv)

    from moderation.classifier import load_model

    texts, origin = _texts(args.data, args.n)
    print(
        f"{len(texts)} texts ({origin}), mean {statistics.mean(map(len, texts)):.0f} chars; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    t0 = time.perf_counter()
    model = load_model(args.model)
    model.score(["warm up", "chauffe"])  # builds the language detector once
    print(f"model {model.version} loaded and warmed in {time.perf_counter() - t0:.2f}s", flush=True)

    scorers = {
        "vigie": lambda batch: model.score(batch, explain=False),
        "vigie+explain": lambda batch: model.score(batch, explain=True),
    }
    try:
        from profanity_check import predict_prob

        predict_prob(["warm up"])
        scorers["alt-profanity-check"] = lambda batch: predict_prob(batch)
    except ImportError:
        print("alt-profanity-check not installed: no baseline", flush=True)

    results: dict = {
        "texts": len(texts),
        "origin": origin,
        "model": model.version,
        "load_average": os.getloadavg()[0],
        "scorers": {},
    }
    for name, fn in scorers.items():
        r: dict = {}
        for batch in (256, 1000):
            wall, cpu = _throughput(fn, texts, batch)
            r[f"per_s_batch_{batch}"] = round(wall, 1)
            r[f"per_cpu_s_batch_{batch}"] = round(cpu, 1)
            print(
                f"  {name:<20} batch {batch:>4}: {wall:>9.0f} texts/s ({cpu:.0f} per CPU-second)", flush=True
            )
        median, p99 = _latency(fn, texts[: args.single])
        r["single_median_ms"], r["single_p99_ms"] = round(median, 4), round(p99, 4)
        print(f"  {name:<20} single: median {median:.3f} ms, p99 {p99:.3f} ms", flush=True)
        results["scorers"][name] = r

    base = results["scorers"].get("alt-profanity-check")
    if base:
        results["ratios_vs_alt_profanity_check"] = {
            name: {
                "throughput_batch_1000": round(r["per_s_batch_1000"] / base["per_s_batch_1000"], 3),
                "single_median": round(r["single_median_ms"] / base["single_median_ms"], 3),
            }
            for name, r in results["scorers"].items()
            if name != "alt-profanity-check"
        }
        for name, ratio in results["ratios_vs_alt_profanity_check"].items():
            print(
                f"  {name}: {ratio['throughput_batch_1000']:.2f}x the baseline's throughput, "
                f"{ratio['single_median']:.2f}x its single-comment median latency",
                flush=True,
            )
    vigie = results["scorers"]["vigie"]
    results["bars"] = {
        "throughput_3000_per_s": vigie["per_s_batch_1000"] >= 3000,
        "single_median_under_1ms": vigie["single_median_ms"] < 1.0,
    }
    print(f"bars: {results['bars']}", flush=True)
    return results


if __name__ == "__main__":
    main()
