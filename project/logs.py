"""One time zone in every log line (UTC), and no access line per static file.

Django sets the process's TZ to TIME_ZONE (Europe/Paris) when its settings load, so the
worker and gunicorn's workers logged in Paris time while gunicorn's master, which never loads
them, logged in the machine's zone. Every formatter converts with time.gmtime instead: this
module is imported by settings.py and, as gunicorn's logger class, by gunicorn's master.
"""

import logging
import time

from gunicorn.glogging import Logger as _GunicornLogger

# Celery's and billiard's own formatters too (they are not configured from LOGGING).
logging.Formatter.converter = time.gmtime


class UTCFormatter(logging.Formatter):
    converter = time.gmtime
    default_time_format = "%Y-%m-%d %H:%M:%S"
    default_msec_format = "%s.%03dZ"


class GunicornLogger(_GunicornLogger):
    """gunicorn's logger (`--logger-class project.logs.GunicornLogger`): UTC, quieter access log."""

    # WhiteNoise serves /static/ from gunicorn: an admin page load is a dozen such lines.
    quiet_prefixes = ("/static/",)

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if handler.formatter is not None:
                    handler.formatter.converter = time.gmtime

    def access(self, resp, req, environ, request_time):
        if environ.get("PATH_INFO", "").startswith(self.quiet_prefixes):
            return
        super().access(resp, req, environ, request_time)

    def now(self):
        return time.strftime("[%d/%b/%Y:%H:%M:%S +0000]", time.gmtime())
