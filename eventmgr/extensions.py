"""Extension objects, created here and bound to the app in create_app()."""

from __future__ import annotations

import math
import time

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from limits import parse

from eventmgr.database import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


class AppLimiter(Limiter):
    """Flask-Limiter, switched on and off by each app's RATELIMIT_ENABLED at every request.

    Flask-Limiter reads its switch once, into the shared extension object, so the last app created
    in a process would decide for all of them (tests build many apps with different settings).
    """

    def init_app(self, app: Flask) -> None:
        """Set up storage and hooks always; _is_switched_off() then skips the checks per app."""
        switched_on = app.config.get("RATELIMIT_ENABLED", True)
        app.config["RATELIMIT_ENABLED"] = True
        try:
            super().init_app(app)
        finally:
            app.config["RATELIMIT_ENABLED"] = switched_on

    def count(self, limit: str, *key: str) -> int:
        """Count one hit of `limit` (e.g. "3 per hour") against `key` in the shared store, for a
        limit a view applies itself; 0 when it is allowed, else the seconds to wait (nothing
        counted). Atomic in the store, so parallel requests in any worker cannot all slip in."""
        if not current_app.config.get("RATELIMIT_ENABLED", True):
            return 0
        item = parse(limit)
        identity = (current_app.config["RATELIMIT_KEY_PREFIX"], "count", *key)
        if self.limiter.hit(item, *identity):
            return 0
        reset_at = self.limiter.get_window_stats(item, *identity).reset_time
        return max(math.ceil(reset_at - time.time()), 1)


#: No default limits: views opt in (log-in, password reset). Storage and switches come from the
#: RATELIMIT_* settings; the client address is request.remote_addr, as corrected by ProxyFix.
limiter = AppLimiter(key_func=get_remote_address)


@limiter.request_filter
def _is_switched_off() -> bool:
    return not current_app.config.get("RATELIMIT_ENABLED", True)
