"""gunicorn's settings for production: `gunicorn --config deploy/gunicorn.conf.py app:app`.

Behind a buffering reverse proxy (README, "Deploying"): the proxy reads each request whole before
gunicorn sees it, so slow clients wait on the proxy, not on a worker. These are the app's own
limits for whatever reaches it anyway. Every value can be overridden on the command line.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "") or multiprocessing.cpu_count() * 2 + 1)
# Sync workers whose reads of a request end at REQUEST_READ_TIMEOUT (default 10 s): a client that
# trickles its request holds a worker that long at most (eventmgr/web/serving.py).
worker_class = "eventmgr.web.serving.RequestDeadlineWorker"
# A worker busy longer than this is killed and replaced: above the database's statement timeout
# (DATABASE_STATEMENT_TIMEOUT_MS, 30 s), so a slow query ends as a 503, not a killed worker.
timeout = 40
graceful_timeout = 30
# Limits on the request line and headers (gunicorn's defaults, stated so they are reviewed).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# The proxy sets X-Forwarded-For/Proto; the app trusts them when PROXY_FIX_COUNT is 1.
accesslog = "-"
errorlog = "-"
