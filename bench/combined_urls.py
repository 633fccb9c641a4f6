"""The URL map of the in-process profiles (post_profile, reads_profile): Vigie's URLs and the
raw-SQL / bare-DRF baselines' in one process. Imported by Django at the first request, after
the profile has set Django up."""

from bench import baseline_urls
from project import urls

urlpatterns = [*urls.urlpatterns, *baseline_urls.urlpatterns]
