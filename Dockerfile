# trialwatch as a service: `trialwatch run` (scheduled polls, Slack alerts and /status, the daily
# email digest, GET /healthz on port 8080).
#
#   docker build -t trialwatch .
#   docker run -d --name trialwatch -p 8080:8080 \
#     -e SLACK_BOT_TOKEN -e SLACK_SIGNING_SECRET -e SMTP_USERNAME -e SMTP_PASSWORD \
#     -v "$PWD/trialwatch.toml:/config/trialwatch.toml:ro" -v trialwatch-data:/data trialwatch
#
# The mounted config must say `[storage].url = "sqlite:////data/trialwatch.db"` (or a PostgreSQL
# URL) and `[server].host = "0.0.0.0"`: 127.0.0.1 inside a container is unreachable from outside.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed, unprivileged uid: a bind-mounted /data must be writable by uid 10001.
RUN useradd --create-home --uid 10001 --user-group trialwatch \
    && mkdir -p /data /config \
    && chown trialwatch:trialwatch /data

# Installed (not editable) from the checkout; .dockerignore keeps tests, .venv and .git out.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY state ./state
COPY watchers ./watchers
RUN pip install . && cd / && rm -rf /src

USER trialwatch
WORKDIR /data
ENV TRIALWATCH_CONFIG=/config/trialwatch.toml
VOLUME ["/data"]
EXPOSE 8080

# slim has no curl: ask /healthz with Python's urllib. A 503 (database unreachable) or no
# answer raises, so the check fails. Another [server].port: set TRIALWATCH_HEALTHZ_URL.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ.get('TRIALWATCH_HEALTHZ_URL', 'http://127.0.0.1:8080/healthz'), timeout=4)"]

# `docker stop` sends SIGTERM and waits 10 s: `trialwatch run` stops cleanly within 8 s.
ENTRYPOINT ["trialwatch"]
CMD ["run"]
