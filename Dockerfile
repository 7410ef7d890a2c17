# Production image: slim Python, non-root user, gunicorn.
FROM python:3.11-slim AS base

ENV STATIC_ROOT=/app/static \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENVIRONMENT=PRODUCTION \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus

WORKDIR /app
RUN groupadd --system app && useradd --system --gid app --home-dir /app app

COPY requirements/ requirements/
RUN pip install --no-cache-dir --require-hashes -r requirements/production.txt

COPY --chown=app:app . .
# collectstatic needs settings but no secrets or services: build-time placeholders only.
RUN SECRET_KEY=build-only-not-used-at-runtime JWT_SIGNING_KEY=build-only ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput -v 0 \
    && chown -R app:app /app/static

USER app
EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:5000/health/live', timeout=3).status == 200 else 1)"
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
