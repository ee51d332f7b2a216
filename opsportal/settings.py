"""Ops Portal settings.

Every knob comes from the environment (or a `.env` file beside manage.py) through
django-environ; `.env.example` documents each one with its default. The defaults run
on one machine with nothing installed: SQLite and the Celery filesystem broker under
`var/`, local-memory cache. Setting `DATABASE_URL` and `REDIS_URL` moves the same code
onto PostgreSQL and Redis.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import secrets
import string
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from core.targets import TargetConfigError, parse_targets
from opsportal.sso_config import sso_settings

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("OPSPORTAL_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")


def _bool(name: str, default: bool) -> bool:
    """Read a boolean strictly: a typo such as `ture` must stop start-up, not mean False."""
    raw = env.str(name, default="")
    if raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false).")


def _int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.str(name, default="")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def _generated_once(path: Path, make: Callable[[], bytes]) -> bytes:
    """A key made on first start and kept under VAR_DIR. Web, worker and beat may start at
    once on one volume: the file appears whole (linked from a private temporary file) and
    the first one made wins, so every process reads the same key."""
    if not path.exists():
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_bytes(make())
        partial.chmod(0o600)
        with contextlib.suppress(FileExistsError):
            os.link(partial, path)
        partial.unlink()
    return path.read_bytes()


DEBUG = _bool("DJANGO_DEBUG", False)
# HTTPS-only cookies, HSTS and the SSL redirect. On by default; `make demo` and the
# test suite serve plain HTTP on 127.0.0.1 and turn it off.
SECURE = _bool("OPSPORTAL_SECURE", True)


def _secret_key() -> str:
    """The signing key: required in secure (production) mode, generated once per machine
    otherwise so that a demo keeps its sessions across restarts without a key in code."""
    key = env.str("DJANGO_SECRET_KEY", default="")
    if key:
        return key
    if SECURE:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when OPSPORTAL_SECURE is on "
            '(generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))").'
        )
    key = _generated_once(VAR_DIR / "secret_key", lambda: secrets.token_urlsafe(50).encode())
    return key.decode().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "core",
    "audit",
    "endpoints",
    "monitoring",
    "shifts",
    "transforms",
    "apihistory",
    "triage",
    "tokens",
    "ninja",
    "opsportal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestIdMiddleware",
    "core.middleware.RequestMetricsMiddleware",
    "core.middleware.AwsPageBudgetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "core.middleware.PortalErrorMiddleware",
]

ROOT_URLCONF = "opsportal.urls"
WSGI_APPLICATION = "opsportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "opsportal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'opsportal.sqlite3'}")
}
DATABASES["default"]["CONN_MAX_AGE"] = _int("DATABASE_CONN_MAX_AGE", 60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so the Celery worker started by integration tests shares it;
    # WAL lets the web server read while a worker writes.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "opsportal",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

# Behind a TLS-terminating proxy (load balancer) of the portal's own: trust its
# X-Forwarded-Proto, and take the client's address from X-Forwarded-For, this many entries
# from the right (one per proxy of ours in front of the portal).
OPSPORTAL_BEHIND_PROXY = _bool("OPSPORTAL_BEHIND_PROXY", False)
OPSPORTAL_PROXY_HOPS = _int("OPSPORTAL_PROXY_HOPS", 1, minimum=1)

# Login throttling (django-axes; the limits are core.login_limits). Failed sign-ins within
# the cool-off are counted three ways, each with its own limit: an account from one address
# (locks quickly; the same person still signs in from anywhere else), one address whatever
# usernames it tries (stops a password spray), and an account from every address together
# (high, so that a few addresses cannot lock every Approver out, while a brute force spread
# over many addresses still stops). Every lock lasts the same cool-off. README: Signing in.
OPSPORTAL_LOGIN_FAILURE_LIMIT = _int("OPSPORTAL_LOGIN_FAILURE_LIMIT", 5, minimum=1)
OPSPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT = _int("OPSPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT", 30, minimum=1)
OPSPORTAL_LOGIN_ACCOUNT_FAILURE_LIMIT = _int(
    "OPSPORTAL_LOGIN_ACCOUNT_FAILURE_LIMIT", 100, minimum=1
)
for _name, _limit in (
    ("OPSPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT", OPSPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT),
    ("OPSPORTAL_LOGIN_ACCOUNT_FAILURE_LIMIT", OPSPORTAL_LOGIN_ACCOUNT_FAILURE_LIMIT),
):
    if _limit < OPSPORTAL_LOGIN_FAILURE_LIMIT:
        raise ImproperlyConfigured(
            f"{_name}={_limit} must be at least OPSPORTAL_LOGIN_FAILURE_LIMIT "
            f"({OPSPORTAL_LOGIN_FAILURE_LIMIT}): the wider limits are the higher ones."
        )
AXES_COOLOFF_TIME = timedelta(minutes=_int("OPSPORTAL_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
# axes counts the failures of the (account, address) pair and compares them with one limit;
# the callable makes that limit 0 while the address or the account is at its own limit.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = "core.login_limits.pair_failure_limit"
# Refused attempts are not counted: otherwise one locked address that keeps trying would
# push the account-wide count to its limit on its own and keep every lock from ending.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "opsportal.views.locked_out"
AXES_VERBOSE = False
# The client's address (core.client_address): the connection's, or behind the portal's own
# proxies the one the outermost of them appended to X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "core.client_address.client_address"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
MANIFEST_STATIC = _bool("OPSPORTAL_MANIFEST_STATIC", not DEBUG and SECURE)
# Without collected, hashed files (demo, tests) whitenoise serves straight from static/.
WHITENOISE_USE_FINDERS = not MANIFEST_STATIC
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if MANIFEST_STATIC
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Security baseline. `manage.py check --deploy` is clean when OPSPORTAL_SECURE is on.
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = _int("OPSPORTAL_SESSION_SECONDS", 12 * 3600, minimum=60)
SECURE_SSL_REDIRECT = SECURE and _bool("OPSPORTAL_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if OPSPORTAL_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy: scripts and styles only from our own static files; htmx and
# plotly.js are vendored under static/vendor, and no template carries inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# --- Single sign-on (README "Single sign-on") --------------------------------------------
# OpenID Connect beside local accounts, or instead of them with OPSPORTAL_LOCAL_LOGIN=false.
# opsportal.sso_config checks every OPSPORTAL_OIDC_* variable and adds the backend and the
# provider's origin to the CSP's form-action (signing out redirects there).
vars().update(
    sso_settings(
        os.environ,
        secure=SECURE,
        local_login=_bool("OPSPORTAL_LOCAL_LOGIN", True),
        backends=AUTHENTICATION_BACKENDS,
        csp=CONTENT_SECURITY_POLICY,
    )
)

# Log lines: `plain` text, or `json`, one object a line with time, level, logger, message
# and the request id (core.log_context), for a log pipeline to parse.
OPSPORTAL_LOG_FORMAT = env.str("OPSPORTAL_LOG_FORMAT", default="plain").strip().lower()
if OPSPORTAL_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(
        f"OPSPORTAL_LOG_FORMAT={OPSPORTAL_LOG_FORMAT!r} is not a log format (use plain or json)."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.log_context.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "core.log_context.JsonLogFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": OPSPORTAL_LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("OPSPORTAL_LOG_LEVEL", default="INFO")},
    "loggers": {
        # botocore logs request bodies and signing details at DEBUG: never let it through.
        "botocore": {"level": "WARNING"},
        "boto3": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# --- The portal's own metrics (README "Metrics and logs") -------------------------------
# /metrics answers a scrape with `Authorization: Bearer <token>`, or from an address in one
# of the networks (CIDRs, comma-separated); with neither set it is off (404).
OPSPORTAL_METRICS_TOKEN = env.str("OPSPORTAL_METRICS_TOKEN", default="").strip()
if OPSPORTAL_METRICS_TOKEN and not re.fullmatch(
    r"[\w.~+/=-]{24,256}", OPSPORTAL_METRICS_TOKEN, re.ASCII
):
    raise ImproperlyConfigured(
        "OPSPORTAL_METRICS_TOKEN must be 24 to 256 letters, digits or _.~+/=- "
        '(generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))").'
    )


def _networks(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for raw in env.list(name, default=[]):
        if not raw.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(raw.strip()))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name}: {raw.strip()!r} is not a network in CIDR form, e.g. 10.0.0.0/8 or "
                f"127.0.0.1/32 ({exc})."
            ) from None
    return tuple(networks)


OPSPORTAL_METRICS_ALLOWED_NETWORKS = _networks("OPSPORTAL_METRICS_ALLOWED_NETWORKS")
# Where every process (web workers, Celery worker, beat) writes its counts for /metrics to
# add up (core.metrics): PROMETHEUS_MULTIPROC_DIR, the client library's own variable, if set.
OPSPORTAL_METRICS_DIR = Path(env.str("PROMETHEUS_MULTIPROC_DIR", default="") or VAR_DIR / "metrics")
if not OPSPORTAL_METRICS_DIR.is_absolute():
    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR={str(OPSPORTAL_METRICS_DIR)!r} must be an absolute path."
    )
try:
    OPSPORTAL_METRICS_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR={str(OPSPORTAL_METRICS_DIR)!r} cannot be created ({exc})."
    ) from None

# --- AWS -------------------------------------------------------------------------------
try:
    OPSPORTAL_TARGETS = parse_targets(
        env.str("OPSPORTAL_TARGETS", default="sandbox=123456789012:us-east-1,eu-west-1")
    )
except TargetConfigError as exc:
    raise ImproperlyConfigured(f"OPSPORTAL_TARGETS: {exc}") from None
# The principals the portal's own AWS calls are recorded as (IAM user or role names, or
# ARNs), so API history can hide them; each target's role counts too. The default is the
# role the sandbox's demo key stands for.
_PRINCIPAL = re.compile(
    r"^(?:[\w+=,.@-]{1,128}|arn:aws[a-z-]*:(?:iam|sts)::\d{12}:[\w+=,.@/-]{1,512})$",
    re.ASCII,
)
OPSPORTAL_AWS_PRINCIPALS = tuple(
    p for p in re.split(r"[,\s]+", env.str("OPSPORTAL_AWS_PRINCIPALS", default="OpsPortal")) if p
)
for _principal in OPSPORTAL_AWS_PRINCIPALS:
    if not _PRINCIPAL.match(_principal):
        raise ImproperlyConfigured(
            f"OPSPORTAL_AWS_PRINCIPALS: {_principal!r} is neither an IAM user or role name "
            "nor an IAM or STS ARN."
        )
AWS_CONNECT_TIMEOUT = _int("OPSPORTAL_AWS_CONNECT_TIMEOUT", 3, minimum=1)
AWS_READ_TIMEOUT = _int("OPSPORTAL_AWS_READ_TIMEOUT", 10, minimum=1)
AWS_MAX_ATTEMPTS = _int("OPSPORTAL_AWS_MAX_ATTEMPTS", 3, minimum=1)
# AWS reads made while serving a web request: one attempt each, all of them together
# within the budget (a call that could not finish in what is left is not made).
OPSPORTAL_AWS_PAGE_BUDGET_SECONDS = _int("OPSPORTAL_AWS_PAGE_BUDGET_SECONDS", 3, minimum=2)
OPSPORTAL_AWS_PAGE_CONNECT_TIMEOUT = 1
OPSPORTAL_AWS_PAGE_READ_TIMEOUT = 2
# A service failing this many page or background calls in a row is not asked by pages for
# this many seconds (then one page read probes it); pages show their last good data.
OPSPORTAL_AWS_BREAKER_FAILURES = _int("OPSPORTAL_AWS_BREAKER_FAILURES", 3, minimum=1)
OPSPORTAL_AWS_BREAKER_SECONDS = _int("OPSPORTAL_AWS_BREAKER_SECONDS", 30, minimum=1)
# Seconds after which an endpoint stuck in Creating/Updating is listed as needing attention.
OPSPORTAL_STUCK_AFTER_SECONDS = _int("OPSPORTAL_STUCK_AFTER_SECONDS", 30 * 60, minimum=60)
OPSPORTAL_SYNC_INTERVAL_SECONDS = _int("OPSPORTAL_SYNC_INTERVAL_SECONDS", 60, minimum=5)

# --- Celery ----------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    _broker_dir = VAR_DIR / "celery-broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery-processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(VAR_DIR / "celery-processed"),
        "control_folder": str(VAR_DIR / "celery-control"),
        "store_processed": False,
    }
    # The filesystem transport cannot be polled, so Celery's prefork pool would run without
    # its event loop: the children then share one job pipe guarded by a lock, and a child
    # killed while holding it (an OOM kill of an idle child) leaves every new child waiting
    # on that lock for good. Threads share no such lock. They do not enforce the task time
    # limits below; every AWS call still has its own timeouts.
    CELERY_WORKER_POOL = "threads"
else:
    # Longer than the longest task plus its longest countdown, so Redis never hands a
    # running (acks_late) task to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_TASK_ALWAYS_EAGER = _bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "inventory-sync-all": {
        "task": "endpoints.tasks.inventory_sync_all",
        "schedule": float(OPSPORTAL_SYNC_INTERVAL_SECONDS),
    },
    "alarm-sync-all": {
        "task": "monitoring.tasks.alarm_sync_all",
        "schedule": float(OPSPORTAL_SYNC_INTERVAL_SECONDS),
    },
}
# The worker heartbeat: a beat task any worker runs. No heartbeat for STALE seconds means
# no background work is running (banner on every page, /readyz not ready). A heartbeat
# still queued after one interval is dropped, so a backlog never fills with them.
OPSPORTAL_HEARTBEAT_SECONDS = _int("OPSPORTAL_HEARTBEAT_SECONDS", 30, minimum=5)
OPSPORTAL_WORKER_STALE_SECONDS = _int("OPSPORTAL_WORKER_STALE_SECONDS", 180, minimum=10)
if OPSPORTAL_WORKER_STALE_SECONDS < 2 * OPSPORTAL_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        f"OPSPORTAL_WORKER_STALE_SECONDS={OPSPORTAL_WORKER_STALE_SECONDS} must be at least twice "
        f"OPSPORTAL_HEARTBEAT_SECONDS ({OPSPORTAL_HEARTBEAT_SECONDS}), or one late heartbeat "
        "would report the worker as gone."
    )
CELERY_BEAT_SCHEDULE["worker-heartbeat"] = {
    "task": "core.tasks.worker_heartbeat",
    "schedule": float(OPSPORTAL_HEARTBEAT_SECONDS),
    "options": {"expires": OPSPORTAL_HEARTBEAT_SECONDS},
}
# Each login lock's refused attempts are written to the audit log as one total once the
# lock has ended (audit.login_refusals); a minute late at most.
CELERY_BEAT_SCHEDULE["login-lock-tallies-close"] = {
    "task": "audit.tasks.login_lock_tallies_close",
    "schedule": 60.0,
}

# --- Audit log integrity (README "Audit log integrity") --------------------------------
# Neither key is ever stored in the database: that is what makes a rewrite by someone who
# can write the database detectable. Both are required in secure mode (deploy checks);
# otherwise, like the secret key, they are generated once per machine under VAR_DIR.


def _audit_hmac_key() -> str:
    key = env.str("OPSPORTAL_AUDIT_HMAC_KEY", default="")
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured(
                "OPSPORTAL_AUDIT_HMAC_KEY must be at least 32 characters "
                '(generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))").'
            )
        return key
    if SECURE:
        return ""
    key = _generated_once(VAR_DIR / "audit_hmac_key", lambda: secrets.token_urlsafe(48).encode())
    return key.decode().strip()


def _audit_signing_key_file() -> str:
    """The Ed25519 private key (PEM) that signs chain-head digests, checked at start-up."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = env.str("OPSPORTAL_AUDIT_SIGNING_KEY_FILE", default="")
    if not path:
        if SECURE:
            return ""
        key_file = VAR_DIR / "audit_signing_key.pem"
        _generated_once(
            key_file,
            lambda: Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        return str(key_file)
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"OPSPORTAL_AUDIT_SIGNING_KEY_FILE={path!r} is not a readable, unencrypted PEM "
            f"private key ({exc})."
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(
            f"OPSPORTAL_AUDIT_SIGNING_KEY_FILE={path!r} is not an Ed25519 key "
            "(generate one with: openssl genpkey -algorithm ed25519)."
        )
    return path


def _audit_digest_target() -> tuple[str, str]:
    """Whose credentials write digests to S3: `target/region`, by default the first."""
    raw = env.str("OPSPORTAL_AUDIT_DIGEST_TARGET", default="")
    first = OPSPORTAL_TARGETS[0]
    if not raw:
        return first.name, first.regions[0]
    name, _, region = raw.partition("/")
    for target in OPSPORTAL_TARGETS:
        if target.name == name and (region or target.regions[0]) in target.regions:
            return name, region or target.regions[0]
    raise ImproperlyConfigured(
        f"OPSPORTAL_AUDIT_DIGEST_TARGET={raw!r} is not a target/region of OPSPORTAL_TARGETS."
    )


OPSPORTAL_AUDIT_HMAC_KEY = _audit_hmac_key()
OPSPORTAL_AUDIT_SIGNING_KEY_FILE = _audit_signing_key_file()
# Where signed digests of the chain head go: s3://bucket/prefix/ or a directory; empty
# writes none.
OPSPORTAL_AUDIT_DIGESTS = env.str(
    "OPSPORTAL_AUDIT_DIGESTS", default="" if SECURE else str(VAR_DIR / "audit-digests")
)
_digests_is_s3 = OPSPORTAL_AUDIT_DIGESTS.startswith("s3://")
if (
    OPSPORTAL_AUDIT_DIGESTS
    and not _digests_is_s3
    and not Path(OPSPORTAL_AUDIT_DIGESTS).is_absolute()
):
    raise ImproperlyConfigured(
        f"OPSPORTAL_AUDIT_DIGESTS={OPSPORTAL_AUDIT_DIGESTS!r} must be s3://bucket/prefix/ "
        "or an absolute directory path."
    )
OPSPORTAL_AUDIT_DIGEST_TARGET = _audit_digest_target()
# How often a digest is signed (when the log has grown): the most recent entries a person
# could delete unnoticed are those written since the last one.
OPSPORTAL_AUDIT_DIGEST_SECONDS = _int("OPSPORTAL_AUDIT_DIGEST_SECONDS", 300, minimum=60)
CELERY_BEAT_SCHEDULE["audit-digest"] = {
    "task": "audit.tasks.audit_digest_write",
    "schedule": float(OPSPORTAL_AUDIT_DIGEST_SECONDS),
    "options": {"expires": OPSPORTAL_AUDIT_DIGEST_SECONDS},
}
# Seconds a metrics panel is served from cache before CloudWatch is asked again.
OPSPORTAL_METRICS_CACHE_SECONDS = _int("OPSPORTAL_METRICS_CACHE_SECONDS", 60, minimum=0)

# REST API: requests per personal token per window (/api/v1/), e.g. "120/min".
OPSPORTAL_API_RATE = env.str("OPSPORTAL_API_RATE", default="120/min").strip()
try:
    from core.api.rate_limit import parse_rate

    parse_rate(OPSPORTAL_API_RATE)
except ValueError as exc:
    raise ImproperlyConfigured(f"OPSPORTAL_API_RATE: {exc}") from None

# --- Traffic shifts --------------------------------------------------------------------
# Two-person rule: approvals by people other than the proposer needed before a shift is
# applied, and how long each approval counts. A pending proposal that has not reached the
# quorum within the TTL of being proposed expires; an approved one whose approvals are older
# than the TTL when the apply task finally runs (broker outage) expires instead of applying.
OPSPORTAL_SHIFT_APPROVALS_REQUIRED = _int("OPSPORTAL_SHIFT_APPROVALS_REQUIRED", 1, minimum=1)
OPSPORTAL_SHIFT_APPROVAL_TTL_HOURS = _int("OPSPORTAL_SHIFT_APPROVAL_TTL_HOURS", 4, minimum=1)
# Emergency shifts (applied at once, acknowledged afterwards) are for Admins; this lets
# Operators (and so Approvers) make them too.
OPSPORTAL_OPERATOR_EMERGENCY = _bool("OPSPORTAL_OPERATOR_EMERGENCY", False)
# The apply task re-reads the endpoint every POLL seconds: before sending the update it waits
# up to APPLY_DEADLINE for InService (then fails); after sending it waits up to
# VERIFY_DEADLINE for InService with the new weights (then fails).
OPSPORTAL_SHIFT_POLL_SECONDS = _int("OPSPORTAL_SHIFT_POLL_SECONDS", 10, minimum=1)
OPSPORTAL_SHIFT_APPLY_DEADLINE_SECONDS = _int(
    "OPSPORTAL_SHIFT_APPLY_DEADLINE_SECONDS", 900, minimum=10
)
OPSPORTAL_SHIFT_VERIFY_DEADLINE_SECONDS = _int(
    "OPSPORTAL_SHIFT_VERIFY_DEADLINE_SECONDS", 1800, minimum=10
)
# A proposal left approved/applying this long without progress (its task was lost, e.g.
# the broker was down at enqueue time) is re-enqueued by the beat sweeper.
OPSPORTAL_SHIFT_STUCK_SECONDS = _int("OPSPORTAL_SHIFT_STUCK_SECONDS", 120, minimum=30)
OPSPORTAL_SHIFT_SWEEP_SECONDS = _int("OPSPORTAL_SHIFT_SWEEP_SECONDS", 60, minimum=5)
# Notifications: email through Django's backend (EMAIL_URL, e.g. smtp+tls://user:pw@host:587;
# the console by default) and an optional Slack-compatible webhook ({"text": ...}).
OPSPORTAL_WEBHOOK_URL = env.str("OPSPORTAL_WEBHOOK_URL", default="")
if OPSPORTAL_WEBHOOK_URL and not OPSPORTAL_WEBHOOK_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("OPSPORTAL_WEBHOOK_URL must be an http(s) URL.")
OPSPORTAL_WEBHOOK_TIMEOUT_SECONDS = _int("OPSPORTAL_WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
# Base of the links in notifications, e.g. https://opsportal.example.com (paths only if unset).
OPSPORTAL_PUBLIC_URL = env.str("OPSPORTAL_PUBLIC_URL", default="").rstrip("/")
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="opsportal@localhost")
EMAIL_TIMEOUT = OPSPORTAL_WEBHOOK_TIMEOUT_SECONDS
CELERY_BEAT_SCHEDULE["shift-expire-sweep"] = {
    "task": "shifts.tasks.shift_expire_sweep",
    "schedule": float(OPSPORTAL_SHIFT_SWEEP_SECONDS),
}
CELERY_BEAT_SCHEDULE["shift-resume-sweep"] = {
    "task": "shifts.tasks.shift_resume_sweep",
    "schedule": float(OPSPORTAL_SHIFT_SWEEP_SECONDS),
}
# Staged shifts: beat looks at every running plan each TICK seconds (a lost task, a killed
# worker or a broker outage costs at most one tick); the gates are evaluated every EVALUATE
# seconds during a bake (CloudWatch's periods are one minute, so every 30 s sees each new
# minute within half a minute) and at its end. A step sent but still showing the weights
# before it, InService, after SETTLE seconds did not take: the plan pauses, never resends.
OPSPORTAL_PLAN_TICK_SECONDS = _int("OPSPORTAL_PLAN_TICK_SECONDS", 10, minimum=1)
OPSPORTAL_PLAN_EVALUATE_SECONDS = _int("OPSPORTAL_PLAN_EVALUATE_SECONDS", 30, minimum=5)
OPSPORTAL_PLAN_SETTLE_SECONDS = _int("OPSPORTAL_PLAN_SETTLE_SECONDS", 120, minimum=10)
CELERY_BEAT_SCHEDULE["plan-tick"] = {
    "task": "shifts.tasks.plan_tick_all",
    "schedule": float(OPSPORTAL_PLAN_TICK_SECONDS),
}

# --- Batch transform jobs ---------------------------------------------------------------
# The poll task re-reads a running job after POLL seconds, doubling up to POLL_MAX. A job left
# Pending (never created: broker down at launch) or not polled for STUCK seconds is
# re-enqueued by the sweeper, which runs every SWEEP seconds; ListTransformJobs is synced
# (jobs created elsewhere) every OPSPORTAL_SYNC_INTERVAL_SECONDS.
OPSPORTAL_TRANSFORM_POLL_SECONDS = _int("OPSPORTAL_TRANSFORM_POLL_SECONDS", 15, minimum=1)
OPSPORTAL_TRANSFORM_POLL_MAX_SECONDS = _int("OPSPORTAL_TRANSFORM_POLL_MAX_SECONDS", 300, minimum=1)
OPSPORTAL_TRANSFORM_STUCK_SECONDS = _int("OPSPORTAL_TRANSFORM_STUCK_SECONDS", 600, minimum=10)
OPSPORTAL_TRANSFORM_SWEEP_SECONDS = _int("OPSPORTAL_TRANSFORM_SWEEP_SECONDS", 60, minimum=5)
CELERY_BEAT_SCHEDULE["transform-sync-all"] = {
    "task": "transforms.tasks.transform_jobs_sync_all",
    "schedule": float(OPSPORTAL_SYNC_INTERVAL_SECONDS),
}
CELERY_BEAT_SCHEDULE["transform-sweep"] = {
    "task": "transforms.tasks.transform_jobs_sweep",
    "schedule": float(OPSPORTAL_TRANSFORM_SWEEP_SECONDS),
}

# --- CloudTrail ingestion ----------------------------------------------------------------
# Beat reads each target-region's new SageMaker events every INTERVAL seconds. LookupEvents
# allows 2 calls a second per account and region, shared by every caller: LOOKUP_RATE is
# our share (all workers together). A run re-reads OVERLAP seconds before the newest event
# stored, because CloudTrail delivers events minutes late; a first run reads INITIAL_DAYS
# back (older history: `manage.py ingest_cloudtrail --since 30d` or `--from-s3`). A run
# stops after RUN_SECONDS and leaves the rest for the next one, so it never meets the task
# time limit.
OPSPORTAL_CLOUDTRAIL_INTERVAL_SECONDS = _int("OPSPORTAL_CLOUDTRAIL_INTERVAL_SECONDS", 60, minimum=5)
OPSPORTAL_CLOUDTRAIL_LOOKUP_RATE = _int("OPSPORTAL_CLOUDTRAIL_LOOKUP_RATE", 2, minimum=1)
OPSPORTAL_CLOUDTRAIL_OVERLAP_SECONDS = _int("OPSPORTAL_CLOUDTRAIL_OVERLAP_SECONDS", 900, minimum=0)
OPSPORTAL_CLOUDTRAIL_INITIAL_DAYS = _int("OPSPORTAL_CLOUDTRAIL_INITIAL_DAYS", 1, minimum=1)
if OPSPORTAL_CLOUDTRAIL_INITIAL_DAYS > 90:
    raise ImproperlyConfigured(
        "OPSPORTAL_CLOUDTRAIL_INITIAL_DAYS must be at most 90 (CloudTrail keeps 90 days)."
    )
OPSPORTAL_CLOUDTRAIL_RUN_SECONDS = _int("OPSPORTAL_CLOUDTRAIL_RUN_SECONDS", 240, minimum=10)
if OPSPORTAL_CLOUDTRAIL_RUN_SECONDS > CELERY_TASK_SOFT_TIME_LIMIT - 60:
    raise ImproperlyConfigured(
        "OPSPORTAL_CLOUDTRAIL_RUN_SECONDS must leave a minute below the task time limit "
        f"({CELERY_TASK_SOFT_TIME_LIMIT} s): at most {CELERY_TASK_SOFT_TIME_LIMIT - 60}."
    )
CELERY_BEAT_SCHEDULE["cloudtrail-ingest-all"] = {
    "task": "apihistory.tasks.cloudtrail_ingest_all",
    "schedule": float(OPSPORTAL_CLOUDTRAIL_INTERVAL_SECONDS),
}

# --- Model Monitor ------------------------------------------------------------------------
# Beat syncs each target-region's monitoring schedules and executions every INTERVAL seconds.
# A first run lists INITIAL_DAYS of executions; later runs re-list from OVERLAP seconds before
# the newest stored one (or the oldest still running), so late status changes are seen. A run
# reads at most REPORTS_PER_SYNC new reports from S3; the rest wait for the next run.
OPSPORTAL_MONITOR_SYNC_INTERVAL_SECONDS = _int(
    "OPSPORTAL_MONITOR_SYNC_INTERVAL_SECONDS", 300, minimum=5
)
OPSPORTAL_MONITOR_INITIAL_DAYS = _int("OPSPORTAL_MONITOR_INITIAL_DAYS", 7, minimum=1)
OPSPORTAL_MONITOR_OVERLAP_SECONDS = _int("OPSPORTAL_MONITOR_OVERLAP_SECONDS", 3600, minimum=0)
OPSPORTAL_MONITOR_REPORTS_PER_SYNC = _int("OPSPORTAL_MONITOR_REPORTS_PER_SYNC", 50, minimum=1)
# Check now: the longest window (hours) and the most capture objects one check reads; a check
# left pending this long (its task was lost) is re-enqueued by the sweeper.
OPSPORTAL_CHECK_MAX_WINDOW_HOURS = _int("OPSPORTAL_CHECK_MAX_WINDOW_HOURS", 168, minimum=1)
OPSPORTAL_CHECK_MAX_OBJECTS = _int("OPSPORTAL_CHECK_MAX_OBJECTS", 5000, minimum=1)
OPSPORTAL_CHECK_STUCK_SECONDS = _int("OPSPORTAL_CHECK_STUCK_SECONDS", 600, minimum=30)
CELERY_BEAT_SCHEDULE["monitor-sync-all"] = {
    "task": "monitoring.tasks.monitor_sync_all",
    "schedule": float(OPSPORTAL_MONITOR_SYNC_INTERVAL_SECONDS),
}
CELERY_BEAT_SCHEDULE["check-run-sweep"] = {
    "task": "monitoring.tasks.check_run_sweep",
    "schedule": 60.0,
}


# --- On-call triage -------------------------------------------------------------------------
# The incident board's likely cause: the last change to the endpoint at most this many
# minutes before its first symptom (older changes are not blamed: the endpoint ran fine).
OPSPORTAL_CAUSE_WINDOW_MINUTES = _int("OPSPORTAL_CAUSE_WINDOW_MINUTES", 60, minimum=1)
# ... and a change the endpoint served at least this many minutes without a 5XX error
# after is not blamed either: whatever broke it came later (one cached GetMetricData).
OPSPORTAL_CAUSE_HEALTHY_MINUTES = _int("OPSPORTAL_CAUSE_HEALTHY_MINUTES", 10, minimum=1)
# An asynchronous endpoint's queue is a symptom on the board when it has grown over the last
# 15 minutes and its oldest request has waited at least this many minutes (or when requests
# wait with no instance running, whatever their age).
OPSPORTAL_BACKLOG_OLDEST_MINUTES = _int("OPSPORTAL_BACKLOG_OLDEST_MINUTES", 5, minimum=1)
# Live pages (the board, the overview) refresh themselves this often.
OPSPORTAL_LIVE_REFRESH_SECONDS = _int("OPSPORTAL_LIVE_REFRESH_SECONDS", 10, minimum=2)
# Paging: incidents opening, changing state, or without an owner for UNOWNED minutes are
# sent by email (to OPSPORTAL_ONCALL_EMAILS, else every Operator and above with an address),
# to OPSPORTAL_WEBHOOK_URL, and to PagerDuty's Events API v2 when a routing key is set
# (trigger, acknowledge and resolve, one dedup key per incident).
OPSPORTAL_ONCALL_EMAILS = tuple(
    a for a in env.list("OPSPORTAL_ONCALL_EMAILS", default=[]) if a.strip()
)
OPSPORTAL_PAGERDUTY_ROUTING_KEY = env.str("OPSPORTAL_PAGERDUTY_ROUTING_KEY", default="")
OPSPORTAL_PAGERDUTY_URL = env.str(
    "OPSPORTAL_PAGERDUTY_URL", default="https://events.pagerduty.com/v2/enqueue"
)
if not OPSPORTAL_PAGERDUTY_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("OPSPORTAL_PAGERDUTY_URL must be an http(s) URL.")
OPSPORTAL_PAGE_UNOWNED_MINUTES = _int("OPSPORTAL_PAGE_UNOWNED_MINUTES", 15, minimum=1)
# Incident records follow the board this often (open at the first symptom, mark cleared).
OPSPORTAL_INCIDENT_SYNC_SECONDS = _int("OPSPORTAL_INCIDENT_SYNC_SECONDS", 30, minimum=5)
CELERY_BEAT_SCHEDULE["incidents-sync"] = {
    "task": "triage.tasks.incidents_sync",
    "schedule": float(OPSPORTAL_INCIDENT_SYNC_SECONDS),
}


# Each endpoint's runbook: its `runbook` tag wins; else OPSPORTAL_RUNBOOK_URLS, a JSON object
# of endpoint name → URL; else OPSPORTAL_RUNBOOK_URL_TEMPLATE with {endpoint} and {region}.
def _runbook_urls() -> dict[str, str]:
    raw = os.environ.get("OPSPORTAL_RUNBOOK_URLS", "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"OPSPORTAL_RUNBOOK_URLS is not valid JSON: {exc}") from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.startswith(("https://", "http://"))
        for k, v in value.items()
    ):
        raise ImproperlyConfigured(
            "OPSPORTAL_RUNBOOK_URLS must map endpoint names to http(s) URLs, e.g. "
            '{"fraud-detection": "https://wiki.example.com/runbooks/fraud"}.'
        )
    return value


OPSPORTAL_RUNBOOK_URLS = _runbook_urls()


def _runbook_url_template() -> str:
    """An http(s) URL with at most the plain fields {endpoint} and {region}: no attribute or
    index access ({endpoint.__class__}), no conversions, no format specs."""
    template = os.environ.get("OPSPORTAL_RUNBOOK_URL_TEMPLATE", "").strip()
    if not template:
        return ""
    problem = ""
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(template)
            if name is not None
        ]
    except ValueError as exc:
        problem = str(exc)
    else:
        if any(
            name not in ("endpoint", "region") or spec or conversion
            for name, spec, conversion in fields
        ):
            problem = "only the fields {endpoint} and {region} may appear, as they are"
    if not problem and not template.lower().startswith(("https://", "http://")):
        problem = "it must be an http(s) URL"
    if problem:
        raise ImproperlyConfigured(f"OPSPORTAL_RUNBOOK_URL_TEMPLATE: {problem}.")
    return template


OPSPORTAL_RUNBOOK_URL_TEMPLATE = _runbook_url_template()
