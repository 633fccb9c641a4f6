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
        "source on the test split of --data, alt-profanity-check side by side, the "
        "behaviour sets, and the evasion suite per transformation."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data", help="data directory (default: env VIGIE_DATA_DIR)")
        parser.add_argument("--model", help="model directory (default: the shipped model)")
        parser.add_argument("--json", dest="json_out", help="also write the full report here")
        parser.add_argument("--no-baseline", action="store_true", help="skip alt-profanity-check")
        parser.add_argument(
            "--evasion",
            action="store_true",
            help="also list every case of the evasion suite that went the wrong "
            "way (its per-transformation table is always printed)",
        )
        parser.add_argument(
            "--evasion-only", action="store_true", help="only the evasion suite (no data needed)"
        )

    def handle(self, *args, **options):
        from moderation.classifier import ModelError, data, load_model
        from moderation.classifier.cli import evaluate, format_report

        if options["evasion_only"]:
            from moderation.classifier.evasion import evasion_report, format_evasion

            try:
                model = load_model(options["model"])
            except ModelError as exc:
                raise CommandError(str(exc)) from exc
            report = {"model": model.version, "evasion": evasion_report(model)}
            self.stdout.write(f"model {model.version}")
            self.stdout.write(format_evasion(report["evasion"], failures=options["evasion"]))
            if options["json_out"]:
                Path(options["json_out"]).write_text(json.dumps(report, indent=2, ensure_ascii=False))
            return
        try:
            model = load_model(options["model"])
            report = evaluate(
                model,
                options["data"],
                with_baseline=not options["no_baseline"],
                log=lambda msg: self.stderr.write(msg),
            )
        except (ModelError, data.DataError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(format_report(report, evasion_failures=options["evasion"]))
        if options["json_out"]:
            Path(options["json_out"]).write_text(json.dumps(report, indent=2, ensure_ascii=False))
            self.stdout.write(f"full report written to {options['json_out']}")
