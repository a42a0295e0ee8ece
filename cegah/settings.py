"""Django settings for Cegah, read from ``CEGAH_*`` environment variables (see docs/settings.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP  # type: ignore[attr-defined]
from django.utils.translation import gettext_lazy as _

from cegah.core.env import (
    ConfigurationError,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    local_secret,
    procurement_store,
    var_dir,
)

BASE_DIR = Path(__file__).resolve().parent.parent

VAR_DIR = var_dir()

CEGAH_ENV = env_choice(
    "CEGAH_ENV",
    "local",
    ("local", "production"),
    "local: embedded SQLite, generated secret, plain HTTP allowed. production: every secret must be "
    "given, HTTPS cookies and HSTS are on.",
)
PRODUCTION = CEGAH_ENV == "production"
TESTING = "pytest" in sys.modules
# Under pytest, ``procurement.services.store_path`` gives each process a temporary store unless a
# test sets this, so that no test writes the developer's store.
_PROCUREMENT_STORE = procurement_store(VAR_DIR)
PROCUREMENT_STORE = None if TESTING else _PROCUREMENT_STORE

DEBUG = env_bool("CEGAH_DEBUG", False, "Django debug pages. Never in production.")
if PRODUCTION and DEBUG:
    raise ConfigurationError("CEGAH_DEBUG must be false when CEGAH_ENV=production")

if PRODUCTION:
    SECRET_KEY = env_str(
        "CEGAH_SECRET_KEY", None, "Django secret key; generated into var/ for local runs."
    )
else:
    SECRET_KEY = env_str(
        "CEGAH_SECRET_KEY",
        local_secret(VAR_DIR / "secret_key"),
        "Django secret key; generated into var/ for local runs.",
    )

# Root of the server-side keys that are not Django's: the receipt lookup salt, the duplicate-detection
# key and the channels' inbound-content key are derived from it (HKDF). Separate from SECRET_KEY so
# that rotating Django's key does not orphan every receipt. Never rotate it without re-keying.
if PRODUCTION:
    DATA_SECRET = env_str(
        "CEGAH_DATA_SECRET",
        None,
        "Root secret for receipt lookup and keyed fingerprints; generated into var/ locally.",
    )
else:
    DATA_SECRET = env_str(
        "CEGAH_DATA_SECRET",
        local_secret(VAR_DIR / "data_secret"),
        "Root secret for receipt lookup and keyed fingerprints; generated into var/ locally.",
    )

ALLOWED_HOSTS = env_list(
    "CEGAH_ALLOWED_HOSTS",
    [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"],
    "Host names the site answers to, comma separated.",
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ConfigurationError("CEGAH_ALLOWED_HOSTS must be set when CEGAH_ENV=production")

CSRF_TRUSTED_ORIGINS = env_list(
    "CEGAH_CSRF_TRUSTED_ORIGINS", [], "Origins (https://host) allowed to POST, behind a proxy."
)

SITE_URL = env_str(
    "CEGAH_SITE_URL", "http://127.0.0.1:8000", "Public base URL, used in links sent by message."
)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_htmx",
    "django_tasks_db",
    "cegah.core",
    "cegah.orgs",
    "cegah.accounts",
    "cegah.channels",
    "cegah.wbs",
    "cegah.wbs.integration",
    "cegah.survey",
    "cegah.procurement",
    "cegah.monitoring",
    "cegah.insights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "cegah.core.middleware.IndonesianFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "cegah.core.middleware.SameOriginNullOriginMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cegah.accounts.middleware.TwoFactorRequiredMiddleware",
    "cegah.core.middleware.SensitivePageMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cegah.urls"
WSGI_APPLICATION = "cegah.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "cegah" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cegah.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str(
    "CEGAH_DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'cegah.sqlite3'}",
    "Database URL: sqlite:///path or postgresql://user:pass@host:5432/name.",
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0 if TESTING else 60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; IMMEDIATE transactions take the write
    # lock up front so two writers queue on the timeout instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
if PRODUCTION and DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    raise ConfigurationError(
        "CEGAH_DATABASE_URL must point at PostgreSQL when CEGAH_ENV=production"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Cache (rate limits and lockouts need a shared cache) --------------------------------------
CACHE_URL = env_str(
    "CEGAH_CACHE_URL",
    "db://cegah_cache",
    "Cache: db://table (default, shared by all processes) or redis://host:6379/0.",
)
if CACHE_URL.startswith("redis://"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
elif CACHE_URL.startswith("db://"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CACHE_URL.removeprefix("db://"),
        }
    }
else:
    raise ConfigurationError("CEGAH_CACHE_URL must start with db:// or redis://")

# --- Authentication ----------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2's memory-hard cost is the point in production and a waste in a test suite.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "core:home"

AXES_FAILURE_LIMIT = env_int("CEGAH_LOGIN_FAILURE_LIMIT", 5, "Failed logins before lockout.")
AXES_COOLOFF_TIME = (
    env_int("CEGAH_LOGIN_COOLOFF_MINUTES", 30, "Minutes a locked-out login waits.") / 60
)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# Staff logins are audited by our own audit log; axes must not keep client addresses. Its
# database handler stores every attempt's address and browser (and every login in its access
# log): failed logins are counted per username in the shared cache instead, where nothing else
# is kept (migration accounts 0002 deleted what the database handler had stored).
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_DISABLE_ACCESS_LOG = True
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_ENABLE_ACCESS_FAILURE_LOG = False

OTP_TOTP_ISSUER = "Cegah"
OTP_TOTP_TOLERANCE = 1

SESSION_COOKIE_AGE = (
    env_int("CEGAH_SESSION_MINUTES", 60 * 8, "Staff session lifetime in minutes.") * 60
)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
# The CSRF cookie ends with the browser session: Django's default keeps it a year, which on a
# reporter's shared or seized phone would show, long after, that the reporting site was visited.
CSRF_COOKIE_AGE = None

HTTPS = env_bool(
    "CEGAH_HTTPS", PRODUCTION, "Serve over HTTPS: secure cookies, HSTS, redirect to https."
)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
_SSL_REDIRECT = env_bool(
    "CEGAH_SSL_REDIRECT",
    True,
    "With CEGAH_HTTPS, redirect plain HTTP to HTTPS (off when the proxy does it).",
)
SECURE_SSL_REDIRECT = HTTPS and _SSL_REDIRECT
SECURE_HSTS_SECONDS = 63072000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
_BEHIND_PROXY = env_bool(
    "CEGAH_BEHIND_PROXY",
    False,
    "Behind a reverse proxy: trust its X-Forwarded-Proto, and take the client's address (for"
    " rate limits only, never stored) from X-Forwarded-For.",
)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _BEHIND_PROXY else None
CEGAH_PROXY_HOPS = env_int(
    "CEGAH_PROXY_HOPS",
    1,
    "With CEGAH_BEHIND_PROXY, how many trusted proxies append to X-Forwarded-For (a CDN in"
    " front of nginx: 2).",
)
if _BEHIND_PROXY:
    if CEGAH_PROXY_HOPS < 1:
        raise ConfigurationError("CEGAH_PROXY_HOPS must be at least 1")
    MIDDLEWARE.insert(0, "cegah.core.middleware.ProxyClientAddressMiddleware")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Strict CSP: same-origin only, scripts by nonce, nothing from a third party.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "cegah" / "locale"]
TIME_ZONE = env_str(
    "CEGAH_TIME_ZONE", "Asia/Jakarta", "Time zone for display; times are stored in UTC."
)
USE_I18N = True
USE_TZ = True

# --- Static and media --------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "cegah" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Tasks -------------------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend"
        if TESTING
        else "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
TASK_MAX_ATTEMPTS = env_int(
    "CEGAH_TASK_MAX_ATTEMPTS", 6, "Attempts before a failing task gives up."
)
SCHEDULER_TICK_SECONDS = env_int(
    "CEGAH_SCHEDULER_TICK_SECONDS", 30, "How often the scheduler looks for due jobs."
)

# --- Whistleblowing -----------------------------------------------------------------------------
WBS_ATTACHMENT_MAX_BYTES = (
    env_int(
        "CEGAH_WBS_ATTACHMENT_MAX_MB", 10, "Largest evidence file a reporter may attach, in MiB."
    )
    * 1024
    * 1024
)
WBS_ATTACHMENT_MAX_COUNT = env_int(
    "CEGAH_WBS_ATTACHMENT_MAX_COUNT", 5, "Most files per submission."
)
WBS_SESSION_MINUTES = env_int(
    "CEGAH_WBS_SESSION_MINUTES",
    30,
    "Lifetime of a reporter's follow-up session opened with the receipt.",
)
# Argon2id cost for keys derived from passwords and receipts. The test suite uses the minimum so it
# stays fast; production keeps OWASP's recommended floor or more.
WBS_ARGON2 = {
    "time_cost": env_int(
        "CEGAH_ARGON2_TIME_COST", 2, "Argon2id passes for receipt and password keys."
    ),
    "memory_kib": env_int(
        "CEGAH_ARGON2_MEMORY_KIB", 19456, "Argon2id memory (KiB) for receipt and password keys."
    ),
    "parallelism": 1,
}
if TESTING:
    WBS_ARGON2 = {"time_cost": 1, "memory_kib": 8, "parallelism": 1}
RATELIMIT_ENABLE = env_bool(
    "CEGAH_RATELIMIT", True, "Rate limits on anonymous endpoints (turn off only for benchmarks)."
)

# --- Channels (WhatsApp, SMS, email): every knob is declared in cegah/channels/conf.py ---------
from cegah.channels.conf import from_environment as _channels_config  # noqa: E402

CHANNELS_CONFIG = _channels_config(production=PRODUCTION)

# --- API ---------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50

# --- Logging: no request addresses, no bodies ---------------------------------------------------
LOG_LEVEL = env_choice(
    "CEGAH_LOG_LEVEL",
    "INFO",
    ("DEBUG", "INFO", "WARNING", "ERROR"),
    "Log level for Cegah's own loggers.",
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_paths": {"()": "cegah.core.logfilters.RedactPathsFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_paths"],
        }
    },
    "loggers": {
        "cegah": {"handlers": ["console"], "level": LOG_LEVEL},
        # django.request logs the request line of every 4xx/5xx; it carries paths, never bodies or
        # addresses, but we keep it at ERROR so that anonymous follow-up URLs are not logged.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": [], "level": "ERROR", "propagate": False},
    },
}

_MAIL_BACKEND = env_str(
    "CEGAH_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
    "Django email backend class (console locally, SMTP in production).",
)
_SMTP_OPTIONS: dict[str, object] = {
    "host": env_str("CEGAH_SMTP_HOST", "localhost", "SMTP server host."),
    "port": env_int("CEGAH_SMTP_PORT", 587, "SMTP server port."),
    "username": env_str("CEGAH_SMTP_USER", "", "SMTP user name."),
    "password": env_str("CEGAH_SMTP_PASSWORD", "", "SMTP password."),
    "use_tls": env_bool("CEGAH_SMTP_TLS", True, "Use STARTTLS to the SMTP server."),
}
_MAIL_OPTIONS = _SMTP_OPTIONS if _MAIL_BACKEND.endswith("smtp.EmailBackend") else {}
MAILERS = {"default": {"BACKEND": _MAIL_BACKEND, "OPTIONS": _MAIL_OPTIONS}}
if TESTING:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
DEFAULT_FROM_EMAIL = env_str(
    "CEGAH_FROM_EMAIL", "cegah@localhost", "Sender address for notifications."
)

DEMO_MODE = env_bool(
    "CEGAH_DEMO", not PRODUCTION, "Allow `cegah demo` (demo data, demo logins, demo TOTP codes)."
)
DEMO_PASSWORD = env_str("CEGAH_DEMO_PASSWORD", "cegah-demo-2026", "Password of every demo user.")
RATELIMIT_VIEW = "cegah.core.views.ratelimited"
# Lockout is per account on purpose (an office shares one NAT address); per-address throttling is
# django-ratelimit's job on the login view.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
