"""Score JSON lines from stdin: ``{"text": ...}`` in, ``{"toxicity", "spam", "language"}`` out.

This input/output contract is used by external evaluations: keep it stable.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    # Must run without a loadable default model (the system check would refuse to start).
    requires_system_checks = []
    help = (
        'Read JSON lines {"text": ...} on stdin; write one JSON line per input, in order: '
        '{"toxicity": float, "spam": float, "language": "fr"|"en"|"other"}.'
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument(
            "--model", help="model directory (default: VIGIE_MODEL_PATH, else the shipped model)"
        )
        parser.add_argument("--batch-size", type=int, default=256)

    def handle(self, *args, **options):
        from django.conf import settings

        from moderation.classifier import ModelError, load_model
        from moderation.classifier.cli import score_stream

        try:
            model = load_model(options["model"] or settings.VIGIE_MODEL_PATH)
        except ModelError as exc:
            raise CommandError(str(exc)) from exc
        stdin = options.get("stdin") or sys.stdin
        score_stream(model, stdin, self.stdout, batch_size=max(1, options["batch_size"]))
