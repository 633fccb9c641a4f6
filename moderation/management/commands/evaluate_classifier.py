"""Evaluate a classifier model on the held-out test split: ``manage.py evaluate_classifier``."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    # Must run without a loadable default model (the system check would refuse to start).
    requires_system_checks = []
    help = (
        "ROC-AUC, precision, recall and F1 at the stored thresholds per language and per "
        "source on the test split of --data, alt-profanity-check side by side, and the "
        "behaviour sets."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data", help="data directory (default: env VIGIE_DATA_DIR)")
        parser.add_argument("--model", help="model directory (default: the shipped model)")
        parser.add_argument("--json", dest="json_out", help="also write the full report here")
        parser.add_argument("--no-baseline", action="store_true",
                            help="skip alt-profanity-check")

    def handle(self, *args, **options):
        from moderation.classifier import ModelError, data, load_model
        from moderation.classifier.cli import evaluate, format_report

        try:
            model = load_model(options["model"])
            report = evaluate(model, options["data"], with_baseline=not options["no_baseline"],
                              log=lambda msg: self.stderr.write(msg))
        except (ModelError, data.DataError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(format_report(report))
        if options["json_out"]:
            Path(options["json_out"]).write_text(json.dumps(report, indent=2,
                                                            ensure_ascii=False))
            self.stdout.write(f"full report written to {options['json_out']}")
