from django.urls import path

from moderation.api import views

urlpatterns = [
    path("articles", views.ArticlesView.as_view(), name="articles"),
    path("articles/<str:external_id>", views.ArticleView.as_view(), name="article"),
    path("articles/<str:external_id>/comments", views.ArticleCommentsView.as_view(), name="article-comments"),
    path("comments/<int:comment_id>", views.CommentView.as_view(), name="comment"),
    path("comments/<int:comment_id>/replies", views.CommentRepliesView.as_view(), name="comment-replies"),
    path("comments/<int:comment_id>/reports", views.CommentReportsView.as_view(), name="comment-reports"),
    path("check", views.CheckView.as_view(), name="check"),
    path("authors/<str:external_id>", views.AuthorView.as_view(), name="author"),
    path("authors/<str:external_id>/export", views.AuthorExportView.as_view(), name="author-export"),
    path("webhooks", views.WebhooksView.as_view(), name="webhooks"),
    path("webhooks/<int:webhook_id>", views.WebhookView.as_view(), name="webhook"),
    path("comments/<int:comment_id>/appeals", views.CommentAppealsView.as_view(), name="comment-appeals"),
    path("notices", views.NoticesView.as_view(), name="notices"),
    path("moderation/comments", views.ModerationQueueView.as_view(), name="moderation-queue"),
    path("moderation/comments/bulk", views.BulkView.as_view(), name="moderation-bulk"),
    path(
        "moderation/comments/<int:comment_id>",
        views.ModerationCommentView.as_view(),
        name="moderation-comment",
    ),
    path(
        "moderation/comments/<int:comment_id>/approve", views.ApproveView.as_view(), name="moderation-approve"
    ),
    path("moderation/comments/<int:comment_id>/reject", views.RejectView.as_view(), name="moderation-reject"),
    path(
        "moderation/comments/<int:comment_id>/dismiss_reports",
        views.DismissReportsView.as_view(),
        name="moderation-dismiss-reports",
    ),
    path(
        "moderation/authors/<int:author_id>/ban",
        views.AuthorActionView.as_view(action="ban"),
        name="moderation-author-ban",
    ),
    path(
        "moderation/authors/<int:author_id>/premoderate",
        views.AuthorActionView.as_view(action="premoderate"),
        name="moderation-author-premoderate",
    ),
    path(
        "moderation/authors/<int:author_id>/restore",
        views.AuthorActionView.as_view(action="restore"),
        name="moderation-author-restore",
    ),
    path(
        "moderation/authors/<int:author_id>/notes",
        views.AuthorNotesView.as_view(),
        name="moderation-author-notes",
    ),
    path("moderation/stats", views.StatsView.as_view(), name="moderation-stats"),
    path("moderation/simulate", views.SimulateView.as_view(), name="moderation-simulate"),
    path("moderation/transparency", views.TransparencyView.as_view(), name="moderation-transparency"),
]
