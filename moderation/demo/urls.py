from django.urls import path

from moderation.demo import views

app_name = "demo"

urlpatterns = [
    path("", views.article_page, name="article"),
    path("comments", views.comments, name="comments"),
    path("check", views.comment_check, name="check"),
    path("comments/<int:comment_id>", views.comment_status, name="comment-status"),
    path("comments/<int:comment_id>/report", views.comment_report, name="comment-report"),
]
