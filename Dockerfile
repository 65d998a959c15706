# One image for web, worker, beat and the sandbox: the project installed with pip, run as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CLOUDROUTE_VAR_DIR=/app/var
WORKDIR /app

COPY pyproject.toml README.md ./
COPY cloudroute ./cloudroute
COPY intake ./intake
COPY matching ./matching
COPY bakeoff_jobs ./bakeoff_jobs
COPY templates ./templates
COPY static ./static
COPY demo ./demo
COPY manage.py ./
RUN pip install --no-cache-dir . \
    && python manage.py collectstatic --noinput \
    && mkdir -p /app/var/beat \
    && useradd --create-home cloudroute && chown -R cloudroute /app/var
USER cloudroute

EXPOSE 8000
CMD ["gunicorn", "cloudroute.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
