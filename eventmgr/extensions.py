"""Extension objects, created here and bound to the app in create_app()."""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

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


#: No default limits: views opt in (log-in, password reset). Storage and switches come from the
#: RATELIMIT_* settings; the client address is request.remote_addr, as corrected by ProxyFix.
limiter = AppLimiter(key_func=get_remote_address)


@limiter.request_filter
def _is_switched_off() -> bool:
    return not current_app.config.get("RATELIMIT_ENABLED", True)
