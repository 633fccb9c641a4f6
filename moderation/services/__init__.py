"""Every write Vigie makes. Views, admin actions, tasks and commands only call these.

Each function takes keyword-only arguments, runs in one transaction, and writes a
ModerationEvent for each status change in that same transaction. One module per entity;
callers import from the package (``from moderation import services``).
"""

from django.db import transaction  # noqa: F401 - tests patch services.transaction.on_commit

from moderation.services.authors import (  # noqa: F401
    AUTHOR_ACTIONS,
    author_ban,
    author_note_add,
    author_premoderate,
    author_restore,
    author_set_status,
    authors_apply_reject_rate,
)
from moderation.services.classification import (  # noqa: F401
    comment_check,
    comments_classify,
    comments_second_opinion,
    comments_sweep_screening,
    enqueue_second_opinion,
    explanation_of,
    get_model,
    site_thresholds,
)
from moderation.services.comments import (  # noqa: F401
    comment_create,
    comments_sweep_received,
    enqueue_classification,
)
from moderation.services.compliance import (  # noqa: F401
    APPEAL_WINDOW,
    appeal_create,
    notice_create,
    reason_code,
    restriction_event,
    statement_for,
)
from moderation.services.decisions import (  # noqa: F401
    comment_approve,
    comment_reject,
    comments_bulk_decide,
)
from moderation.services.personal_data import (  # noqa: F401
    authors_erase,
    personal_data_purge_expired,
)
from moderation.services.reports import (  # noqa: F401
    comment_dismiss_reports,
    comments_dismiss_reports,
    queue_priority,
    report_create,
    reports_resolve,
)
from moderation.services.revisions import (  # noqa: F401
    _visible_changed,
    comment_delete,
    comment_edit,
    enqueue_revision_classification,
    revision_diffs,
    revisions_classify,
    revisions_second_opinion,
    revisions_sweep,
)
from moderation.services.sites import (  # noqa: F401
    THRESHOLD_NAMES,
    article_upsert,
    section_policy_save,
    site_apply_thresholds,
    site_create,
    site_rotate_key,
)
from moderation.services.visibility import (  # noqa: F401
    articles_visible_bump,
    visibility_changes,
)
from moderation.services.webhooks import (  # noqa: F401
    COMMENT_STATUS_EVENTS,
    check_webhook_url,
    enqueue_deliveries,
    webhook_batch_expand,
    webhook_comment_data,
    webhook_deliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_enable,
    webhook_event_record,
    webhook_events_record,
    webhooks_redeliver,
    webhooks_sweep,
)
