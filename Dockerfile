# One image for web (gunicorn), worker, beat and the sandbox.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 OPSPORTAL_VAR_DIR=/var/lib/opsportal
WORKDIR /app

COPY requirements.lock requirements-sandbox.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock -r requirements-sandbox.lock \
    && useradd --system --home /app opsportal \
    && mkdir -p /var/lib/opsportal && chown opsportal /var/lib/opsportal

COPY . .
RUN pip install --no-cache-dir --no-deps ./dataquality ./dataprocessing ./sandbox
RUN DJANGO_SECRET_KEY=collectstatic-only OPSPORTAL_SECURE=false \
    python manage.py collectstatic --noinput -v 0

USER opsportal
EXPOSE 8000
CMD ["gunicorn", "opsportal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--access-logfile", "-"]
