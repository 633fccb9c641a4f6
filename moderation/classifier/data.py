"""Loaders for the labelled sets in ``../shared/data`` and the fixed train/dev/test split.

Every set is read from its original file and mapped to :class:`Row`. The label mapping is
documented here and in ``docs/model_card.md``; ``None`` means "this set says nothing about
that head" and such rows are skipped for that head (never silently counted as negatives).
"""

from __future__ import annotations

import csv
import hashlib
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

SPLIT_SEED = 20251125
SPLIT_FRACTIONS = (0.70, 0.15, 0.15)  # train, dev, test

csv.field_size_limit(1 << 30)


@dataclass(frozen=True)
class Row:
    text: str
    language: str  # "fr" | "en"
    toxic: int | None
    spam: int | None
    source: str
    group: str  # rows sharing a group (e.g. a text and its translation) share a split
    hate: int | None = None  # identity-directed hate, where the set separates it


class DataError(Exception):
    pass


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data directory: the explicit argument, else env ``VIGIE_DATA_DIR``."""
    value = explicit or os.environ.get("VIGIE_DATA_DIR")
    if not value:
        raise DataError("no data directory: pass --data DIR or set VIGIE_DATA_DIR")
    path = Path(value).expanduser().resolve()
    if not path.is_dir():
        raise DataError(f"data directory {path} does not exist")
    return path


def _read_csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def _clean(text: str) -> str:
    return (text or "").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").strip()


# Each loader: (relative paths it reads, function(root) -> rows).


def load_davidson(root: Path) -> Iterator[Row]:
    # class 0 hate speech, 1 offensive, 2 neither. Toxic = 0 or 1; hate = class 0 only.
    for i, r in enumerate(_read_csv(root / "davidson" / "labeled_data.csv")):
        cls = int(r["class"])
        yield Row(
            _clean(r["tweet"]), "en", int(cls in (0, 1)), None, "davidson",
            f"davidson:{i}", hate=int(cls == 0),
        )


_MLMA_HOSTILE = {"offensive", "abusive", "hateful", "disrespectful", "fearful"}


def _load_mlma(root: Path, lang: str) -> Iterator[Row]:
    # `sentiment` joins the annotators' hostility types. "normal" alone = not toxic; only
    # hostile types = toxic; a mix of "normal" and hostile types means the annotators
    # disagreed: no toxicity label (row skipped for that head). hate = "hateful" present.
    for r in _read_csv(root / "mlma" / f"{lang}_dataset.csv"):
        parts = set(r["sentiment"].split("_"))
        if parts == {"normal"}:
            toxic: int | None = 0
        elif "normal" in parts:
            toxic = None
        elif parts & _MLMA_HOSTILE:
            toxic = 1
        else:
            toxic = None
        hate = None if toxic is None else int("hateful" in parts)
        yield Row(
            _clean(r["tweet"]), lang, toxic, None, f"mlma_{lang}",
            f"mlma_{lang}:{r['HITId']}", hate=hate,
        )


def load_mlma_en(root: Path) -> Iterator[Row]:
    return _load_mlma(root, "en")


def load_mlma_fr(root: Path) -> Iterator[Row]:
    return _load_mlma(root, "fr")


def load_toxifrench_balanced(root: Path) -> Iterator[Row]:
    for r in _read_csv(root / "toxifrench" / "ToxiFrenchBalanced.csv"):
        yield Row(_clean(r["content"]), "fr", int(r["label"]), None, "toxifrench_balanced",
                  f"toxifrench:{r['msg_id']}")


def load_rtp_lx(root: Path) -> Iterator[Row]:
    for i, r in enumerate(_read_csv(root / "toxifrench" / "RTP-LX-french.csv")):
        yield Row(_clean(r["content"]), "fr", int(r["label"]), None, "rtp_lx_fr", f"rtplx:{i}")


def load_jigsaw_subset(root: Path) -> Iterator[Row]:
    # Jigsaw rows with their French translation: both texts keep the row's labels and share
    # one split group so a translation never leaks across train/test.
    for r in _read_csv(root / "toxifrench" / "subset_jigsaw.csv"):
        toxic = int(r["toxic"])
        hate = int(r["identity_hate"])
        group = f"jigsaw:{r['msg_id']}"
        yield Row(_clean(r["original_text"]), "en", toxic, None, "jigsaw_en", group, hate=hate)
        yield Row(_clean(r["content"]), "fr", toxic, None, "jigsaw_fr", group, hate=hate)


def load_agreement(root: Path) -> Iterator[Row]:
    # The human annotator's conclusion (0/1), not the second (model) annotation nor the
    # forum's deletion / ban flags.
    for r in _read_csv(root / "toxifrench" / "agreement_checking.csv"):
        value = (r.get("annotator's conclusion") or "").strip()
        if value not in ("0.0", "1.0", "0", "1"):
            continue
        yield Row(_clean(r["content"]), "fr", int(float(value)), None, "toxifrench_agreement",
                  f"toxifrench:{r['msg_id']}")


def load_youtube(root: Path) -> Iterator[Row]:
    for path in sorted((root / "youtube_spam").glob("*.csv")):
        for r in _read_csv(path):
            yield Row(_clean(r["CONTENT"]), "en", None, int(r["CLASS"]), "youtube_spam",
                      f"youtube:{r['COMMENT_ID']}")


def load_sms(root: Path) -> Iterator[Row]:
    path = root / "sms_spam" / "SMSSpamCollection.tsv"
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        for i, r in enumerate(reader):
            if len(r) < 2:
                continue
            yield Row(_clean(r[1]), "en", None, int(r[0] == "spam"), "sms_spam", f"sms:{i}")


LOADERS = {
    "davidson": (("davidson/labeled_data.csv",), load_davidson),
    "mlma_en": (("mlma/en_dataset.csv",), load_mlma_en),
    "mlma_fr": (("mlma/fr_dataset.csv",), load_mlma_fr),
    "toxifrench_balanced": (("toxifrench/ToxiFrenchBalanced.csv",), load_toxifrench_balanced),
    "rtp_lx_fr": (("toxifrench/RTP-LX-french.csv",), load_rtp_lx),
    "jigsaw": (("toxifrench/subset_jigsaw.csv",), load_jigsaw_subset),
    "toxifrench_agreement": (("toxifrench/agreement_checking.csv",), load_agreement),
    "youtube_spam": (("youtube_spam/*.csv",), load_youtube),
    "sms_spam": (("sms_spam/SMSSpamCollection.tsv",), load_sms),
}


def input_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for patterns, _ in LOADERS.values():
        for pattern in patterns:
            files.extend(sorted(root.glob(pattern)))
    return files


def fingerprint(root: Path) -> dict:
    """sha256 of every input file (relative path -> digest) and one digest over them all."""
    per_file = {}
    total = hashlib.sha256()
    for path in input_files(root):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        rel = path.relative_to(root).as_posix()
        per_file[rel] = digest
        total.update(f"{rel}:{digest}\n".encode())
    return {"sha256": total.hexdigest(), "files": per_file}


def load_all(root: Path, *, log=None) -> list[Row]:
    """Every set, deduplicated on (source, text); rows with empty text dropped."""
    rows: list[Row] = []
    for name, (patterns, loader) in LOADERS.items():
        if not all(list(root.glob(p)) for p in patterns):
            raise DataError(f"{root}: missing {', '.join(patterns)} for set {name!r}")
        seen: set[tuple[str, str]] = set()
        n = 0
        for row in loader(root):
            key = (row.source, row.text)
            if not row.text or key in seen:
                continue
            seen.add(key)
            rows.append(row)
            n += 1
        if log:
            log(f"  loaded {name}: {n} rows")
    return rows


def _unit(seed: int, key: str) -> float:
    return zlib.crc32(f"{seed}:{key}".encode()) / 2**32


def split(rows: Iterable[Row], seed: int = SPLIT_SEED) -> dict[str, list[Row]]:
    """A fixed, seeded split stratified by source and label, by group.

    Within each (source, toxic, spam) stratum, groups are ordered by a seeded hash of their key
    and cut at 70% / 85%. A group that spans strata (a Jigsaw row and its translation) goes to
    the split of its first member's stratum. Row order inside each split follows input order.
    """
    rows = list(rows)
    strata: dict[tuple, list[str]] = {}
    seen_groups: set[str] = set()
    for row in rows:
        if row.group in seen_groups:
            continue
        seen_groups.add(row.group)
        strata.setdefault((row.source, row.toxic, row.spam), []).append(row.group)
    assignment: dict[str, str] = {}
    train_f, dev_f, _ = SPLIT_FRACTIONS
    for groups in strata.values():
        ordered = sorted(groups, key=lambda g: (_unit(seed, g), g))
        n = len(ordered)
        n_train = round(n * train_f)
        n_dev = round(n * (train_f + dev_f)) - n_train
        for i, g in enumerate(ordered):
            assignment[g] = "train" if i < n_train else "dev" if i < n_train + n_dev else "test"
    out: dict[str, list[Row]] = {"train": [], "dev": [], "test": []}
    for row in rows:
        out[assignment[row.group]].append(row)
    return out
