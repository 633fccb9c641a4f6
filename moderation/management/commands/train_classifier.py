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

    def handle(self, *args, **options):
        from moderation.classifier import data
        from moderation.classifier.train import decision_rows, train_and_save

        extra = []
        if options["with_decisions"]:
            from moderation.selectors import decision_labels

            extra = decision_rows(decision_labels())
            self.stdout.write(f"{len(extra)} moderator decisions added to training")
        command = "manage.py train_classifier --data DATA_DIR --out OUT" + (
            " --with-decisions" if options["with_decisions"] else "")
        try:
            out = train_and_save(
                options["data"], Path(options["out"]), extra_rows=extra, command=command,
                log=lambda msg: self.stdout.write(msg),
            )
        except data.DataError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"model written to {out}"))
