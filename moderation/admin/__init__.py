"""The moderators' workbench. Actions call the same services as the API; nothing edits status.

Reads go through ``moderation.selectors``; every decision (one click on a comment's page,
or a bulk action in a queue) goes through ``moderation.services``, which writes the audit
trail. Comment bodies are untrusted: everything shown from them is escaped.

One module per page or model: ``comments`` (the workbench), ``dashboard`` and ``charts``,
``authors``, ``sites`` (sites and articles), ``events`` (the audit trail); ``common`` holds
the labels and the site scoping they share, ``highlight`` the highlighted body.
"""

from moderation.admin import (  # noqa: F401 - registers the admins
    authors,
    comments,
    compliance,
    events,
    reporters,
    sites,
    webhooks,
)
from moderation.admin.dashboard import dashboard_view  # noqa: F401 - project.urls mounts it
from moderation.admin.transparency import transparency_view  # noqa: F401 - project.urls mounts it
