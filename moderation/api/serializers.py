"""Serializers validate and shape; they never save (the services do)."""

import re

from django.conf import settings
from rest_framework import serializers

from moderation import reasons, services
from moderation.models import (
    Appeal,
    Article,
    Comment,
    ModerationMode,
    Notice,
    RejectReason,
    Report,
    WebhookEndpoint,
    WebhookEventType,
)

# C0/C1 control characters other than tab, newline and carriage return; NUL among them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise serializers.ValidationError("Control characters are not allowed.")
    return value


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo is an error and not silently ignored."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON object."]}, code="invalid"
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class Text(serializers.CharField):
    """A string, and only a string: 42 or true is a type error, not "42" or "True"."""

    default_error_messages = {"not_a_string": "Expected a string."}

    def __init__(self, **kwargs):
        kwargs.setdefault("validators", []).append(no_control_characters)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class ExternalId(Text):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)


# --- site API ---------------------------------------------------------------------------------


class WebhookInput(StrictSerializer):
    # The address checks (scheme, public host) are the service's: it resolves the host.
    url = Text(max_length=services.webhooks.MAX_URL_LENGTH)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.values),
        allow_empty=False,
        max_length=len(WebhookEventType.values),
    )


class WebhookOutput(serializers.ModelSerializer):
    disabled = serializers.SerializerMethodField()

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "disabled", "created_at"]

    def get_disabled(self, endpoint) -> bool:
        return endpoint.disabled_at is not None


class WebhookCreatedOutput(WebhookOutput):
    """The one answer that carries the secret: it is never shown again."""

    secret = serializers.CharField(source="_secret")

    class Meta(WebhookOutput.Meta):
        fields = [*WebhookOutput.Meta.fields, "secret"]


class ArticleInput(StrictSerializer):
    url = serializers.URLField(max_length=2000, required=False, allow_blank=True)
    title = Text(max_length=300, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=["fr", "en", "other"], required=False)
    moderation_mode = serializers.ChoiceField(choices=ModerationMode.choices, required=False)
    closed = serializers.BooleanField(required=False)
    # null: the site's setting. Counted from the article's creation in Vigie.
    close_after_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=3650)
    # The site's section: a section may carry its own thresholds (SectionPolicy, in the admin).
    section = Text(max_length=100, required=False, allow_blank=True)


class ArticleOutput(serializers.ModelSerializer):
    id = serializers.CharField(source="external_id")

    class Meta:
        model = Article
        fields = [
            "id",
            "url",
            "title",
            "language",
            "moderation_mode",
            "closed",
            "close_after_days",
            "section",
            "created_at",
            "updated_at",
        ]


class ArticleDetailOutput(ArticleOutput):
    """An article as its site reads it; the view sets `comment_count` and `site` on it."""

    closes_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When comments close by age (null: never)."
    )
    comment_count = serializers.IntegerField(
        read_only=True, help_text="Visible comments (published, approved)."
    )

    class Meta(ArticleOutput.Meta):
        fields = [*ArticleOutput.Meta.fields, "closes_at", "comment_count"]


class ArticleCountOutput(serializers.Serializer):
    id = serializers.CharField()
    comment_count = serializers.IntegerField()


class AuthorInput(StrictSerializer):
    id = ExternalId()
    name = Text(max_length=100)


class CheckAuthorInput(StrictSerializer):
    id = ExternalId()
    name = Text(max_length=100, required=False, allow_blank=True)


class CheckInput(StrictSerializer):
    body = Text(min_length=1, max_length=settings.VIGIE_MAX_BODY_CHARS, trim_whitespace=False)
    author = CheckAuthorInput(required=False)
    article_id = ExternalId(required=False)

    def validate_body(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("The comment is empty.")
        return value


class CheckReasonOutput(serializers.Serializer):
    code = serializers.CharField(help_text="A reason code, as in the comment's statement of reasons.")
    message = serializers.CharField(help_text="The reason in the request's language (French by default).")


class CheckSpanOutput(serializers.Serializer):
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    text = serializers.CharField(help_text="body[start:end]")
    label = serializers.CharField(help_text="toxicity, spam or personal_data:<kind>")


class CheckOutput(serializers.Serializer):
    toxicity = serializers.FloatField()
    spam = serializers.FloatField()
    would_be = serializers.ChoiceField(choices=["published", "held", "rejected"])
    reasons = CheckReasonOutput(many=True)
    spans = CheckSpanOutput(many=True)
    method = serializers.ChoiceField(
        choices=["fast", "cascade"],
        help_text="fast: the fast model decided; cascade: its score was in the band and the encoder's "
        "second opinion decided, as the workers would.",
    )
    model = serializers.CharField(help_text="The model version that scored it.")


class CommentInput(StrictSerializer):
    author = AuthorInput()
    body = Text(min_length=1, max_length=settings.VIGIE_MAX_BODY_CHARS, trim_whitespace=False)
    parent_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)

    def validate_body(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("The comment is empty.")
        return value


class CommentEditInput(StrictSerializer):
    body = Text(min_length=1, max_length=settings.VIGIE_MAX_BODY_CHARS, trim_whitespace=False)

    def validate_body(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("The comment is empty.")
        return value


class AuthorOutput(serializers.Serializer):
    id = serializers.CharField(source="external_id")
    name = serializers.CharField()


# The statuses a site sees: `screening` (waiting for the second opinion) reads as `received`.
SITE_STATUSES = [c for c in Comment.Status.choices if c[0] != Comment.Status.SCREENING]

class CommentAuthorOutput(serializers.Serializer):
    """A comment's author as readers see it: the name posted with this comment."""

    id = serializers.CharField(source="author.external_id")
    name = serializers.CharField(source="author_name")


class CommentStatusOutput(serializers.Serializer):
    """One comment as its site sees it, whatever its status (for the author's own view).

    A plain Serializer, not a ModelSerializer: every POST answers with one, and building a
    ModelSerializer's fields from the model on each response cost a tenth of the request.
    """

    id = serializers.IntegerField()
    article_id = serializers.CharField(source="article.external_id")
    parent_id = serializers.IntegerField(allow_null=True)
    author = CommentAuthorOutput(source="*")
    body = serializers.CharField()
    status = serializers.ChoiceField(choices=SITE_STATUSES, source="site_status")
    visible = serializers.BooleanField(source="is_visible")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    # The author deleted it: body and name are empty, and it is never visible again.
    deleted = serializers.BooleanField(source="is_deleted")
    # The newest edit's moderation while it is under way (`received`), else null.
    pending_edit = serializers.SerializerMethodField()

    def get_pending_edit(self, comment) -> str | None:
        return getattr(comment, "pending_edit", None)


class VisibleCommentOutput(serializers.Serializer):
    """The schema of a comment in the reader's thread (built as dicts by selectors.thread_forest,
    never by recursing serializers). A tombstone has only `id`, `parent_id`, `deleted` (true)
    and `replies`; a root also carries `replies_next`, the URL of its next replies or null."""

    id = serializers.IntegerField()
    parent_id = serializers.IntegerField(allow_null=True)
    author = AuthorOutput(required=False)
    body = serializers.CharField(required=False)
    created_at = serializers.DateTimeField(required=False)
    edited_at = serializers.DateTimeField(allow_null=True, required=False)
    deleted = serializers.BooleanField()
    replies = serializers.ListField(child=serializers.DictField())
    replies_next = serializers.URLField(allow_null=True, required=False)


class CommentDetailOutput(CommentStatusOutput):
    """GET /comments/{id}: the comment, and the statement of reasons for its restriction."""

    statement = serializers.SerializerMethodField()

    def get_statement(self, comment) -> dict | None:
        return self.context.get("statement")


class NotifierInput(StrictSerializer):
    name = Text(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")


class NoticeInput(StrictSerializer):
    comment_id = serializers.IntegerField(min_value=1, max_value=2**62)
    ground = serializers.ChoiceField(choices=Notice.Ground.choices)
    explanation = Text(min_length=1, max_length=5000)
    notifier = NotifierInput(required=False)


class NoticeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    received_at = serializers.DateTimeField()


class AppealInput(StrictSerializer):
    text = Text(min_length=1, max_length=5000)


class AppealOutput(serializers.Serializer):
    id = serializers.IntegerField()
    comment_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Appeal.Status.choices)
    created_at = serializers.DateTimeField()


class ReportInput(StrictSerializer):
    reason = serializers.ChoiceField(choices=Report.Reason.choices)
    text = Text(max_length=1000, required=False, allow_blank=True, default="")
    reporter_id = ExternalId(required=False, allow_blank=True, default="")
    # The site's reader chose not to be identified: recorded, never counted.
    anonymous = serializers.BooleanField(required=False, default=False)


class ReportOutput(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = [
            "id",
            "comment_id",
            "reason",
            "text",
            "reporter_id",
            "anonymous",
            "created_at",
            "resolved_at",
        ]


class ModeratorReportOutput(ReportOutput):
    class Meta(ReportOutput.Meta):
        fields = [*ReportOutput.Meta.fields, "weight", "outcome"]


# --- moderator API ----------------------------------------------------------------------------


class DecisionInput(StrictSerializer):
    reason = serializers.ChoiceField(
        choices=RejectReason.choices, required=False, allow_blank=True, default=""
    )
    note = Text(max_length=2000, required=False, allow_blank=True, default="")


class ApproveInput(StrictSerializer):
    reason = Text(max_length=200, required=False, allow_blank=True, default="")
    note = Text(max_length=2000, required=False, allow_blank=True, default="")


class DismissReportsInput(StrictSerializer):
    note = Text(max_length=2000, required=False, allow_blank=True, default="")


class BulkInput(StrictSerializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62), min_length=1, max_length=500
    )
    action = serializers.ChoiceField(choices=["approve", "reject"])
    reason = Text(max_length=200, required=False, allow_blank=True, default="")
    note = Text(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs["action"] == "reject" and attrs["reason"] and attrs["reason"] not in RejectReason.values:
            raise serializers.ValidationError({"reason": [f"Not one of {RejectReason.values}."]})
        return attrs


class AuthorActionInput(StrictSerializer):
    reason = Text(max_length=200, required=False, allow_blank=True, default="")
    note = Text(max_length=2000, required=False, allow_blank=True, default="")


class AuthorNoteInput(StrictSerializer):
    text = Text(min_length=1, max_length=2000)


class AuthorNoteOutput(serializers.Serializer):
    id = serializers.IntegerField()
    author_id = serializers.IntegerField()
    moderator = serializers.CharField(source="moderator.username", default=None, allow_null=True)
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class ModeratorAuthorOutput(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    approved_count = serializers.IntegerField()
    rejected_count = serializers.IntegerField()


class QueueItemOutput(serializers.ModelSerializer):
    site = serializers.CharField(source="site.name")
    article = ArticleOutput()
    author = ModeratorAuthorOutput()

    class Meta:
        model = Comment
        fields = [
            "id",
            "site",
            "article",
            "author",
            "parent_id",
            "body",
            "status",
            "language",
            "toxicity",
            "spam",
            "priority",
            "open_reports",
            "report_weight",
            "created_at",
            "decided_at",
        ]


class ClassificationOutput(serializers.Serializer):
    model_version = serializers.CharField()
    toxicity = serializers.FloatField()
    spam = serializers.FloatField()
    language = serializers.CharField()
    labels = serializers.DictField(child=serializers.FloatField())
    explanation = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_explanation(self, obj) -> dict:
        # Workers explain only held and rejected comments; others are explained on demand.
        return services.explanation_of(obj, obj.comment.body)


class EventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    actor = serializers.CharField()
    # None for the classifier's and the readers' events: declared so in the schema.
    moderator = serializers.CharField(source="moderator.username", default=None, allow_null=True)
    action = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    # A code (moderation.reasons) with its params, and the same as a sentence in the
    # request's language (Accept-Language).
    reason = serializers.CharField()
    reason_params = serializers.DictField()
    reason_text = serializers.SerializerMethodField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_reason_text(self, event) -> str:
        return reasons.describe(event.reason, event.reason_params)


class HistoryItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    body = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class ModeratorNoticeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    ground = serializers.CharField()
    explanation = serializers.CharField()
    notifier_name = serializers.CharField()
    notifier_email = serializers.CharField()
    status = serializers.CharField()
    received_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class ModeratorAppealOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    status = serializers.CharField()
    contested_by = serializers.CharField(source="contested_by.username", default=None, allow_null=True)
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class RevisionOutput(serializers.Serializer):
    number = serializers.IntegerField()
    body = serializers.CharField()
    status = serializers.CharField()
    toxicity = serializers.FloatField(allow_null=True)
    spam = serializers.FloatField(allow_null=True)
    reason = serializers.CharField()
    model_version = serializers.CharField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    # Against the revision before, word by word: [op, text] with op "=", "-" or "+".
    diff = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))


class ModeratorCommentOutput(QueueItemOutput):
    classifications = ClassificationOutput(many=True)
    reports = ModeratorReportOutput(many=True)
    notices = ModeratorNoticeOutput(many=True)
    appeals = ModeratorAppealOutput(many=True)
    events = EventOutput(many=True)
    author_history = serializers.SerializerMethodField()
    author_notes = serializers.SerializerMethodField()
    statement = serializers.SerializerMethodField()
    revisions = serializers.SerializerMethodField()

    class Meta(QueueItemOutput.Meta):
        fields = [
            *QueueItemOutput.Meta.fields,
            "author_name",
            "edited_at",
            "deleted_at",
            "revisions",
            "classifications",
            "reports",
            "notices",
            "appeals",
            "events",
            "author_history",
            "author_notes",
            "statement",
        ]

    def get_revisions(self, comment) -> list[dict]:
        revisions = list(comment.revisions.all())
        for revision, diff in zip(revisions, services.revision_diffs(revisions), strict=True):
            revision.diff = diff
        return RevisionOutput(revisions, many=True).data

    def get_author_notes(self, comment) -> list[dict]:
        return AuthorNoteOutput(self.context.get("author_notes", []), many=True).data

    def get_statement(self, comment) -> dict | None:
        return services.statement_for(comment)

    def get_author_history(self, comment) -> list[dict]:
        return HistoryItemOutput(self.context.get("author_history", []), many=True).data


class SimulationOutput(serializers.Serializer):
    site = serializers.IntegerField()
    days = serializers.IntegerField()
    thresholds = serializers.DictField(child=serializers.FloatField())
    comments = serializers.IntegerField()
    held = serializers.IntegerField()
    rejected = serializers.IntegerField()
    published = serializers.IntegerField()
    held_per_day = serializers.FloatField()
    decided = serializers.IntegerField()
    estimated_precision = serializers.FloatField(allow_null=True)
    estimated_recall = serializers.FloatField(allow_null=True)
    method = serializers.CharField()


class StatsOutput(serializers.Serializer):
    per_status = serializers.DictField(child=serializers.IntegerField())
    per_day = serializers.ListField(child=serializers.DictField())
    held_rate = serializers.FloatField()
    moderator_decisions = serializers.IntegerField()
    decided = serializers.IntegerField()
    time_to_decision_seconds = serializers.DictField(allow_null=True)
    days = serializers.IntegerField()
