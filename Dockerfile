# trialwatch: a first working image. `docker run` runs `trialwatch check` on the mounted config.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 trialwatch && mkdir -p /data /config \
    && chown trialwatch /data /config

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY watchers ./watchers
COPY state ./state
RUN pip install .

USER trialwatch
WORKDIR /data
# The config is mounted at /config/trialwatch.toml; its [storage].url should point into /data.
ENV TRIALWATCH_CONFIG=/config/trialwatch.toml
VOLUME ["/data"]
ENTRYPOINT ["trialwatch"]
CMD ["check"]
