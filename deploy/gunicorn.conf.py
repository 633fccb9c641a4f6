"""gunicorn's settings in production: `gunicorn -c deploy/gunicorn.conf.py project.wsgi`.

Run behind the buffering proxy of deploy/nginx.conf: sync workers handle one request at a
time, so without a proxy that reads whole requests first, four clients that open a
connection and send nothing freeze four workers.
"""

import os

bind = os.environ.get("VIGIE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("VIGIE_WEB_WORKERS", "4"))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
# The proxy on this machine: its X-Forwarded-* headers are the ones to believe.
forwarded_allow_ips = "127.0.0.1,::1"
accesslog = "-"
# UTC like every other line, and no line per static file (project/logs.py).
logger_class = "project.logs.GunicornLogger"
# gunicorn 27's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl),
# shared by every gunicorn of that user; supervisorctl is the control here.
control_socket_disable = True
