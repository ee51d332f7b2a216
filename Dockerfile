# Two images: `portal` (the default: web with gunicorn, worker and beat; the production
# runtime only) and `sandbox` (the local AWS stand-in: docker build --target sandbox).
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock \
    && useradd --system --home /app opsportal
# The pure packages both images use.
COPY dataquality ./dataquality
COPY dataprocessing ./dataprocessing
RUN pip install --no-cache-dir --no-deps ./dataquality ./dataprocessing


FROM base AS sandbox

COPY requirements-sandbox.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements-sandbox.lock
COPY sandbox ./sandbox
RUN pip install --no-cache-dir --no-deps ./sandbox

USER opsportal
EXPOSE 5005
CMD ["python", "-m", "sandbox", "serve", "--host", "0.0.0.0", "--port", "5005", "--seed", "demo"]


# The portal's source without the sandbox's: the production image never carries it.
FROM base AS portal-source
COPY . /source
RUN rm -rf /source/sandbox /source/requirements-sandbox.*


FROM base AS portal

ENV OPSPORTAL_VAR_DIR=/var/lib/opsportal
RUN mkdir -p /var/lib/opsportal && chown opsportal /var/lib/opsportal

COPY --from=portal-source /source ./
RUN DJANGO_SECRET_KEY=collectstatic-only OPSPORTAL_SECURE=false \
    python manage.py collectstatic --noinput -v 0

USER opsportal
EXPOSE 8000
CMD ["gunicorn", "opsportal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--access-logfile", "-"]
