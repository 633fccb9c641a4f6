"""Vigie's vocabulary: sites, articles, authors, comments and what happened to them.

Every change of ``Comment.status`` goes through ``moderation.services`` and is checked
against ``Comment.TRANSITIONS``; nothing here has business logic in ``save()``.
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from moderation import reasons

unit_interval = [MinValueValidator(0.0), MaxValueValidator(1.0)]


def hash_api_key(key: str) -> str:
    # Keys are 256-bit random tokens, so a plain SHA-256 is enough (no password stretching).
    return hashlib.sha256(key.encode()).hexdigest()


# French, as the sites are; a site replaces it with its own charter's words.
DEFAULT_CHARTER_CLAUSE = (
    "Charte de participation : les commentaires injurieux, haineux, menaçants, diffamatoires, "
    "publicitaires, hors sujet ou qui divulguent des données personnelles ne sont pas publiés."
)


class ModerationMode(models.TextChoices):
    POST = "post", _("post-moderation")
    PRE = "pre", _("pre-moderation")


class Site(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    api_key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    api_key_prefix = models.CharField(
        _("key prefix"),
        max_length=12,
        editable=False,
        help_text=_("First characters of the key, to tell keys apart"),
    )
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Inactive: key revoked"))
    default_moderation_mode = models.CharField(
        _("default moderation"), max_length=4, choices=ModerationMode.choices, default=ModerationMode.POST
    )
    # Empty thresholds fall back to the ones chosen on dev data and stored with the model.
    toxicity_hold = models.FloatField(
        _("toxicity: hold from"), null=True, blank=True, validators=unit_interval
    )
    toxicity_reject = models.FloatField(
        _("toxicity: reject from"), null=True, blank=True, validators=unit_interval
    )
    spam_hold = models.FloatField(_("spam: hold from"), null=True, blank=True, validators=unit_interval)
    spam_reject = models.FloatField(_("spam: reject from"), null=True, blank=True, validators=unit_interval)
    reports_to_hold = models.PositiveIntegerField(
        _("reports that hold a comment"), default=3, validators=[MinValueValidator(1)]
    )
    banned_words = models.TextField(
        _("banned words"), blank=True, help_text=_("One per line: a comment containing one is rejected")
    )
    suspect_words = models.TextField(
        _("suspect words"), blank=True, help_text=_("One per line: a comment containing one is held")
    )
    detect_personal_data = models.BooleanField(
        _("detect personal data"),
        default=True,
        help_text=_("Hold comments that expose a phone number, e-mail address, IBAN or street address"),
    )
    moderators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("moderators"), blank=True, related_name="moderated_sites"
    )
    # Statements of reasons (DSA art. 17): the ground a restriction rests on, in the site's words.
    charter_clause = models.TextField(
        _("charter clause"),
        default=DEFAULT_CHARTER_CLAUSE,
        help_text=_("Quoted as the ground of every restriction not made on a notice of illegal content"),
    )
    statement_after_hours = models.PositiveIntegerField(
        _("statement after (hours)"),
        default=24,
        help_text=_("A comment held longer than this gets a statement of reasons"),
    )
    # Trust rules: who waits for a moderator before anything they post is published.
    premoderate_first_comments = models.PositiveIntegerField(
        _("pre-moderated first comments"),
        default=0,
        help_text=_("A new author's first comments wait for a moderator (0: off)"),
    )
    premoderate_reject_rate = models.FloatField(
        _("reject rate that pre-moderates"),
        null=True,
        blank=True,
        validators=unit_interval,
        help_text=_(
            "An author whose share of rejected comments over the last 30 days passes this is "
            "pre-moderated automatically (empty: off)"
        ),
    )
    edit_window_minutes = models.PositiveIntegerField(
        _("edit window (minutes)"),
        default=10,
        help_text=_("How long after posting an author may edit their comment (0: never)"),
    )
    language = models.CharField(
        _("language of statements"),
        max_length=8,
        choices=[("fr", "français"), ("en", "English")],
        default="fr",
    )
    close_after_days = models.PositiveIntegerField(
        _("close articles after (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("An article refuses new comments this many days after it was created (empty: never)"),
    )
    retention_days = models.PositiveIntegerField(
        _("keep personal data (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_(
            "The bodies of rejected comments and the reporters' ids are purged after this many days "
            "(manage.py purge_expired; empty: kept)"
        ),
    )
    # Readers' lists may be cached by shared caches (a CDN) for this long; 0: by the
    # reader's browser only, revalidated every time (ETag).
    public_cache_seconds = models.PositiveIntegerField(
        _("public cache (seconds)"),
        default=0,
        validators=[MaxValueValidator(86400)],
        help_text=_(
            "How long a CDN or shared cache may serve an article's comments without asking "
            "(0: off, every reader revalidates)"
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        # A moderator who may also tune their own sites (thresholds, word lists) in the admin.
        permissions = [("manage_site", "Can tune the sites they moderate")]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="articles")
    external_id = models.CharField(_("identifier"), max_length=200)
    url = models.URLField(_("address"), max_length=2000, blank=True)
    title = models.CharField(_("title"), max_length=300, blank=True)
    language = models.CharField(_("language"), max_length=8, default="fr")
    moderation_mode = models.CharField(
        _("moderation"), max_length=4, choices=ModerationMode.choices, default=ModerationMode.POST
    )
    closed = models.BooleanField(_("closed to comments"), default=False)
    close_after_days = models.PositiveIntegerField(
        _("close after (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("Empty: the site's setting"),
    )

    # The site's section ("politique", "sport"): a SectionPolicy may give it its own thresholds.
    section = models.CharField(_("section"), max_length=100, blank=True, default="")
    # Bumped (services.articles_visible_bump) in the transaction of every change to what
    # readers see under the article: the ETag of its comments list.
    visible_version = models.PositiveBigIntegerField(_("visible version"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        constraints = [
            # The site API addresses articles by (site, external_id).
            models.UniqueConstraint(fields=["site", "external_id"], name="article_unique_external_id"),
        ]

    def __str__(self) -> str:
        return self.title or self.external_id

    @property
    def closes_at(self):
        """When the article stops taking comments by age (None: never), `closed` aside.

        The article's own close_after_days, else its site's, counted from its creation.
        """
        days = self.close_after_days or self.site.close_after_days
        return self.created_at + timedelta(days=days) if days else None

    def is_closed(self, now=None) -> bool:
        closes_at = self.closes_at
        return self.closed or (closes_at is not None and (now or timezone.now()) >= closes_at)


class SectionPolicy(models.Model):
    """A section's own thresholds on a site (a sensitive section holds sooner); an empty
    threshold is the site's (and, where the site has none, the model's)."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="section_policies"
    )
    section = models.CharField(_("section"), max_length=100)
    toxicity_hold = models.FloatField(
        _("toxicity: hold from"), null=True, blank=True, validators=unit_interval
    )
    toxicity_reject = models.FloatField(
        _("toxicity: reject from"), null=True, blank=True, validators=unit_interval
    )
    spam_hold = models.FloatField(_("spam: hold from"), null=True, blank=True, validators=unit_interval)
    spam_reject = models.FloatField(_("spam: reject from"), null=True, blank=True, validators=unit_interval)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("section thresholds")
        verbose_name_plural = _("section thresholds")
        constraints = [
            models.UniqueConstraint(fields=["site", "section"], name="section_policy_unique_section"),
        ]

    def __str__(self) -> str:
        return f"{self.site} · {self.section}"


class Author(models.Model):
    class Status(models.TextChoices):
        NORMAL = "normal", _("normal")
        PREMODERATED = "premoderated", _("pre-moderated")
        BANNED = "banned", _("banned")

    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="authors")
    external_id = models.CharField(_("identifier"), max_length=200)
    name = models.CharField(_("name"), max_length=100)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NORMAL)
    approved_count = models.PositiveIntegerField(_("comments approved"), default=0)
    rejected_count = models.PositiveIntegerField(_("comments rejected"), default=0)
    # Set by services.authors_erase (GDPR): the row stays for the audit trail, its external id
    # is replaced by a random one and its name blanked, so nothing links it to the reader.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("author")
        verbose_name_plural = _("authors")
        constraints = [
            models.UniqueConstraint(fields=["site", "external_id"], name="author_unique_external_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"


class Comment(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        # Scored by the fast model, which was unsure: waiting for the encoder's opinion. Still
        # not visible; the site sees "received" (the comment is not decided yet).
        SCREENING = "screening", _("second opinion")
        PUBLISHED = "published", _("published")
        HELD = "held", _("held")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    # The only moves a comment can make. Moderators may revisit their own decisions;
    # nothing ever returns to `received` or `screening`.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.RECEIVED: frozenset(
            {Status.SCREENING, Status.PUBLISHED, Status.HELD, Status.APPROVED, Status.REJECTED}
        ),
        Status.SCREENING: frozenset({Status.PUBLISHED, Status.HELD, Status.APPROVED, Status.REJECTED}),
        Status.PUBLISHED: frozenset({Status.HELD, Status.APPROVED, Status.REJECTED}),
        # held -> published only when moderators dismiss the reader reports that held it.
        Status.HELD: frozenset({Status.APPROVED, Status.REJECTED, Status.PUBLISHED}),
        # An author's edit is not a move of this table: its text is moderated as a new comment's,
        # and its verdict applies to a published, approved or held comment (services.revisions).
        Status.APPROVED: frozenset({Status.REJECTED}),
        Status.REJECTED: frozenset({Status.APPROVED}),
    }
    VISIBLE = (Status.PUBLISHED, Status.APPROVED)
    WAITING = (Status.RECEIVED, Status.SCREENING)  # not decided yet, at either stage

    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="comments")
    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        Author, verbose_name=_("author"), on_delete=models.CASCADE, related_name="comments"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("reply to"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replies",
    )
    # The top of the thread, so one query fetches every reply under a page of threads.
    root = models.ForeignKey(
        "self", verbose_name=_("thread"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    body = models.TextField(_("text"))
    # The display name as posted with this comment (the Author's name is the latest accepted one).
    author_name = models.CharField(_("display name"), max_length=100, blank=True)
    # 0 for a root; a reply is one deeper than its parent, at most VIGIE_MAX_REPLY_DEPTH.
    depth = models.PositiveIntegerField(_("depth"), default=0)
    # Set when the author deletes it: body and name erased, kept as a tombstone in its thread.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    # When an edit of the author's last replaced the text readers see.
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=False
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    # Latest scores, copied from the Classification so queues can sort on them.
    toxicity = models.FloatField(_("toxicity"), null=True, blank=True)
    spam = models.FloatField(_("spam"), null=True, blank=True)
    priority = models.FloatField(
        _("score"),
        default=0.0,
        help_text=_("max(toxicity, spam) + report_weight / reports_to_hold: held and reported queue order"),
    )
    open_reports = models.PositiveIntegerField(_("open reports"), default=0)
    # The sum of the open reports' weights: what holds a published comment, and orders the queue.
    report_weight = models.FloatField(_("weight of the open reports"), default=0.0)
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=200, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        permissions = [("moderate_comment", "Can moderate comments")]
        indexes = [
            # selectors.visible_roots / ThreadPage: an article's visible threads, cursor on id.
            models.Index(
                fields=["article", "id"],
                condition=models.Q(parent__isnull=True, status__in=["published", "approved"]),
                name="comment_visible_roots",
            ),
            # selectors.articles_comment_counts: the visible comments of a set of articles.
            models.Index(
                fields=["article"],
                condition=models.Q(status__in=["published", "approved"]),
                name="comment_article_visible",
            ),
            # selectors.visible_replies: the replies under a page of roots.
            models.Index(fields=["root", "created_at"], name="comment_root_created"),
            # selectors.visible_replies / root_replies / ThreadPage (its LATERAL join, and the
            # EXISTS for a deleted root): a root's replies in id order, by page.
            models.Index(fields=["root", "id"], name="comment_root_id"),
            # selectors.review_queue / QueuePage: a queue ordered by score or by age.
            models.Index(fields=["status", "priority", "id"], name="comment_status_priority"),
            models.Index(fields=["status", "created_at", "id"], name="comment_status_created"),
            # selectors.review_queue(queue="reported").
            models.Index(
                fields=["open_reports", "created_at"],
                condition=models.Q(open_reports__gt=0),
                name="comment_reported",
            ),
            # services.comments_sweep_received / classify claim: oldest waiting first.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="received"),
                name="comment_waiting",
            ),
            # services.comments_second_opinion claim / the sweep: oldest screened first.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="screening"),
                name="comment_screening",
            ),
            # author history in the moderator detail.
            models.Index(fields=["author", "created_at"], name="comment_author_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="comment_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.body[:40]}"

    @property
    def is_visible(self) -> bool:
        return self.status in self.VISIBLE and self.deleted_at is None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def site_status(self) -> str:
        """The status as the site sees it: both stages of classification are `received`."""
        return self.Status.RECEIVED if self.status == self.Status.SCREENING else self.status


class Revision(models.Model):
    """One text of a comment: the original, kept at its first edit, then each edit.

    An edit is moderated again (services.revisions_classify) while the comment keeps showing
    its current text; the revision's verdict then replaces it (published) or moves the comment
    out of readers' sight (held, rejected).
    """

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        SCREENING = "screening", _("second opinion")
        PUBLISHED = "published", _("published")
        HELD = "held", _("held")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        # A newer edit came before this one was decided: never decided.
        SUPERSEDED = "superseded", _("superseded by a newer edit")

    WAITING = (Status.RECEIVED, Status.SCREENING)

    comment = models.ForeignKey(
        Comment, verbose_name=_("comment"), on_delete=models.CASCADE, related_name="revisions"
    )
    number = models.PositiveIntegerField(_("revision"))
    body = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    toxicity = models.FloatField(_("toxicity"), null=True, blank=True)
    spam = models.FloatField(_("spam"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    model_version = models.CharField(_("model version"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["comment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["comment", "number"], name="revision_unique_number"),
        ]
        indexes = [
            # services.revisions_sweep: edits waiting for the classifier, oldest first.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status__in=["received", "screening"]),
                name="revision_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.comment_id} r{self.number}"


class Classification(models.Model):
    comment = models.ForeignKey(
        Comment, verbose_name=_("comment"), on_delete=models.CASCADE, related_name="classifications"
    )
    model_version = models.CharField(_("model version"), max_length=64)
    toxicity = models.FloatField(_("toxicity"))
    spam = models.FloatField(_("spam"))
    language = models.CharField(_("language"), max_length=8, blank=True)
    labels = models.JSONField(_("sub-labels"), default=dict, blank=True)
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("classification")
        verbose_name_plural = _("classifications")

    def __str__(self) -> str:
        return gettext("model %(version)s: toxicity %(toxicity)s, spam %(spam)s") % {
            "version": self.model_version,
            "toxicity": reasons.score(self.toxicity),
            "spam": reasons.score(self.spam),
        }


class Reporter(models.Model):
    """A reader who reports, per site: how far their reports are trusted.

    Every identified reporter starts at weight 1; each report a moderator dismisses lowers it,
    each one upheld brings it back: weight = (upheld + 1) / (upheld + dismissed + 1).
    """

    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="reporters")
    reporter_id = models.CharField(_("reader"), max_length=200)
    dismissed_count = models.PositiveIntegerField(_("dismissed reports"), default=0)
    upheld_count = models.PositiveIntegerField(_("upheld reports"), default=0)
    weight = models.FloatField(_("weight"), default=1.0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reporter")
        constraints = [
            # services.report_create looks a reporter up by (site, reporter_id).
            models.UniqueConstraint(fields=["site", "reporter_id"], name="reporter_unique_id"),
        ]

    def __str__(self) -> str:
        return f"{self.reporter_id} ({self.weight:.2f})"

    @staticmethod
    def weight_for(*, upheld: int, dismissed: int) -> float:
        return round((upheld + 1) / (upheld + dismissed + 1), 6)


class Report(models.Model):
    class Outcome(models.TextChoices):
        OPEN = "", _("open")
        UPHELD = "upheld", _("upheld")
        DISMISSED = "dismissed", _("dismissed")

    class Reason(models.TextChoices):
        SPAM = "spam", _("spam or advertising")
        ABUSE = "abuse", _("insult or abuse")
        HATE = "hate", _("hate speech")
        HARASSMENT = "harassment", _("harassment")
        MISINFORMATION = "misinformation", _("misinformation")
        PERSONAL_DATA = "personal_data", _("personal data")
        OFF_TOPIC = "off_topic", _("off topic")
        OTHER = "other", _("other")

    comment = models.ForeignKey(
        Comment, verbose_name=_("comment"), on_delete=models.CASCADE, related_name="reports"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    text = models.CharField(_("text"), max_length=1000, blank=True)
    reporter_id = models.CharField(_("reader"), max_length=200, blank=True)
    # No reporter id, or one the site marked anonymous: recorded, never counted (weight 0).
    anonymous = models.BooleanField(_("anonymous"), default=False)
    reader = models.ForeignKey(
        Reporter,
        verbose_name=_("reporter"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    # The reporter's weight when they reported: what this report adds to Comment.report_weight.
    weight = models.FloatField(_("weight"), default=0.0)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            # One reader reports one comment once; anonymous reports are not deduplicated.
            models.UniqueConstraint(
                fields=["comment", "reporter_id"],
                condition=~models.Q(reporter_id=""),
                name="report_once_per_reader",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(reason)s on #%(comment)s") % {
            "reason": self.get_reason_display(),
            "comment": self.comment_id,
        }


class RejectReason(models.TextChoices):
    """Why a comment was rejected; these become labels for retraining."""

    TOXIC = "toxic", _("toxic or insulting")
    HATE = "hate", _("hate speech")
    THREAT = "threat", _("threat")
    SPAM = "spam", _("spam or advertising")
    OFF_TOPIC = "off_topic", _("off topic")
    PERSONAL_DATA = "personal_data", _("personal data")
    OTHER = "other", _("other")


# An event's from/to: a comment's status, or an author's for author actions.
STATUS_CHOICES = [*Comment.Status.choices, *Author.Status.choices]


class ModerationEvent(models.Model):
    """The audit trail: one row per change, written in the same transaction as the change."""

    class Actor(models.TextChoices):
        SYSTEM = "system", _("system")
        CLASSIFIER = "classifier", _("classifier")
        MODERATOR = "moderator", _("moderator")
        READERS = "readers", _("reader reports")
        NOTIFIER = "notifier", _("notifier")
        AUTHOR = "author", _("author")

    class Action(models.TextChoices):
        CLASSIFY = "classify", _("classified")
        APPROVE = "approve", _("approved")
        REJECT = "reject", _("rejected")
        HOLD = "hold", _("held")
        BAN = "ban", _("author banned")
        PREMODERATE = "premoderate", _("author pre-moderated")
        RESTORE = "restore", _("author restored")
        DISMISS_REPORTS = "dismiss", _("reports dismissed")
        NOTICE = "notice", _("notice received")
        APPEAL = "appeal", _("appeal lodged")
        NOTE = "note", _("note on the author")
        EDIT = "edit", _("edited by the author")
        REVISE = "revise", _("edit moderated")
        DELETE = "delete", _("deleted by the author")
        THRESHOLDS = "thresholds", _("thresholds changed")

    comment = models.ForeignKey(
        Comment,
        verbose_name=_("comment"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
    )
    author = models.ForeignKey(
        Author,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
    )
    # For a change to a site itself (its thresholds), with neither comment nor author.
    site = models.ForeignKey(
        Site,
        verbose_name=_("site"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
    )
    actor = models.CharField(_("actor"), max_length=12, choices=Actor.choices)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moderator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=12, blank=True, choices=STATUS_CHOICES)
    to_status = models.CharField(_("to"), max_length=12, blank=True, choices=STATUS_CHOICES)
    # A code (moderation.reasons) or a moderator's words; reason_params holds the code's
    # numbers and words, so the trail is rendered in whichever language reads it.
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    reason_params = models.JSONField(_("reason details"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("moderation event")
        verbose_name_plural = _("moderation events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        if self.from_status or self.to_status:
            return gettext("%(action)s: %(from)s → %(to)s") % {  # noqa: RUF001 - an arrow
                "action": self.get_action_display(),
                "from": self.get_from_status_display(),
                "to": self.get_to_status_display(),
            }
        return str(self.get_action_display())


# --- webhooks: the site's endpoints and the outbox of deliveries to them ----------------------


class WebhookEventType(models.TextChoices):
    COMMENT_PUBLISHED = "comment.published", "comment.published"
    COMMENT_HELD = "comment.held", "comment.held"
    COMMENT_REJECTED = "comment.rejected", "comment.rejected"
    COMMENT_APPROVED = "comment.approved", "comment.approved"
    COMMENT_EDITED = "comment.edited", "comment.edited"
    COMMENT_DELETED = "comment.deleted", "comment.deleted"
    REPORT_CREATED = "report.created", "report.created"
    AUTHOR_STATUS_CHANGED = "author.status_changed", "author.status_changed"
    NOTICE_DECIDED = "notice.decided", "notice.decided"
    APPEAL_DECIDED = "appeal.decided", "appeal.decided"


class WebhookEndpoint(models.Model):
    """A URL of the site's that receives the events it subscribed to, signed with its secret."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.CharField(_("URL"), max_length=2000)
    events = models.JSONField(_("events"), default=list)
    # Kept as given (whsec_...): signing needs the secret itself, so it cannot be hashed.
    secret = models.CharField(max_length=100, editable=False)
    # Set at the first failed attempt after a success; an endpoint still failing
    # VIGIE_WEBHOOK_RETRY_HOURS later is disabled.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        indexes = [
            # services.webhooks: a site's enabled endpoints, asked once per change or batch.
            models.Index(
                fields=["site"], condition=models.Q(disabled_at__isnull=True), name="webhook_endpoint_enabled"
            ),
        ]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: the outbox row, written in the transaction of the change.

    The body is serialised once, so every retry sends the same bytes under the same
    ``message_id`` (the ``webhook-id`` header); only the timestamp and signature are new.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(_("event"), max_length=40, choices=WebhookEventType.choices)
    message_id = models.CharField(_("webhook-id"), max_length=40, unique=True)
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # When the sweep (re)sends it: the next retry, or when a lost task is given up for lost.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # Set while a worker sends it: no other worker claims it before then.
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    retry_until = models.DateTimeField(_("retry until"))
    created_at = models.DateTimeField(_("created at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            # services.webhooks_sweep: pending deliveries due, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due",
            ),
            # admin: an endpoint's deliveries, newest first.
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id}"


class WebhookEventBatch(models.Model):
    """A batch of events from one batch of verdicts, written in its transaction.

    The classifier writes this one row instead of one delivery per event and endpoint, so
    that webhooks cost its drain almost nothing; a webhook worker expands it into
    deliveries after commit (and the sweep, if that task was lost), then deletes it.
    """

    # [{"type", "data", "endpoints": [ids subscribed when the change happened]}, ...]
    events = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            # services.webhooks_sweep: batches a lost task left unexpanded, oldest first.
            models.Index(fields=["created_at"], name="webhook_batch_created"),
        ]

    def __str__(self) -> str:
        return f"{len(self.events)} events of {self.created_at}"


class WebhookAttempt(models.Model):
    """One HTTP call of a delivery: what the receiver answered, or why there was no answer."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(_("started at"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    error = models.CharField(_("error"), max_length=300, blank=True)
    # A short excerpt only: a receiver's answer is not ours to keep.
    response_excerpt = models.CharField(_("response"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error}"


class Notice(models.Model):
    """A notice of illegal content (DSA art. 16): someone says a comment breaks the law."""

    class Ground(models.TextChoices):
        HATE = "hate", _("incitement to hatred")
        HARASSMENT = "harassment", _("harassment")
        THREAT = "threat", _("threat")
        DEFAMATION = "defamation", _("defamation")
        PERSONAL_DATA = "personal_data", _("personal data")
        COUNTERFEIT = "counterfeit", _("counterfeiting")
        TERRORISM = "terrorism", _("terrorism")
        OTHER = "other", _("other illegal content")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        UPHELD = "upheld", _("upheld: the comment was removed")
        REJECTED = "rejected", _("rejected: the comment stays")

    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="notices")
    comment = models.ForeignKey(
        Comment, verbose_name=_("comment"), on_delete=models.CASCADE, related_name="notices"
    )
    ground = models.CharField(_("ground"), max_length=20, choices=Ground.choices)
    explanation = models.TextField(_("explanation"))
    notifier_name = models.CharField(_("notifier"), max_length=200, blank=True)
    notifier_email = models.EmailField(_("notifier's e-mail"), max_length=254, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices of illegal content")
        indexes = [
            # selectors.in_queue(queue="notices"): comments with an open notice.
            models.Index(fields=["comment"], condition=models.Q(status="open"), name="notice_open"),
            # selectors.transparency_report: notices received in a period.
            models.Index(fields=["site", "received_at"], name="notice_site_received"),
        ]

    def __str__(self) -> str:
        return f"{self.get_ground_display()} on #{self.comment_id}"


class Appeal(models.Model):
    """The author contests a restriction; another moderator than the first decides."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        UPHELD = "upheld", _("upheld: the comment was restored")
        DISMISSED = "dismissed", _("dismissed: the decision stands")

    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="appeals")
    comment = models.ForeignKey(
        Comment, verbose_name=_("comment"), on_delete=models.CASCADE, related_name="appeals"
    )
    text = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    # The restriction contested, and who made it (None: the classifier or the readers).
    contested_event = models.ForeignKey(
        ModerationEvent,
        verbose_name=_("contested decision"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("contested decision by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        constraints = [
            # One open appeal per comment (services.appeal_create answers 409 for a second).
            models.UniqueConstraint(
                fields=["comment"], condition=models.Q(status="open"), name="appeal_one_open_per_comment"
            ),
        ]
        indexes = [
            # selectors.transparency_report: appeals lodged in a period.
            models.Index(fields=["site", "created_at"], name="appeal_site_created"),
        ]

    def __str__(self) -> str:
        return f"appeal on #{self.comment_id} ({self.status})"


class AuthorNote(models.Model):
    """What a moderator wants the next one to know about an author, shown beside their comments."""

    author = models.ForeignKey(
        Author, verbose_name=_("author"), on_delete=models.CASCADE, related_name="notes"
    )
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moderator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("note on an author")
        verbose_name_plural = _("notes on authors")
        # selectors.author_notes: an author's notes, newest first.
        indexes = [models.Index(fields=["author", "-created_at"], name="authornote_author_created")]

    def __str__(self) -> str:
        return self.text[:60]
