# syntax=docker/dockerfile:1
# Hypobot. The build stage makes a wheel and installs it, with its dependencies, into a
# virtualenv; the runtime stage gets only that virtualenv, and runs `hypobot serve` as a
# non-root user.
#   docker build -t hypobot .
#   docker run -p 3000:3000 -e SLACK_BOT_TOKEN -e SLACK_SIGNING_SECRET -v hypobot:/data \
#     --stop-timeout 30 hypobot
# Both stages must use the same image: the virtualenv links to its interpreter.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY api api
COPY bets bets
COPY bot bot
COPY console console
COPY jobs jobs
COPY ops ops
COPY outbox outbox
COPY server server
COPY storage storage
COPY usecases usecases
# No pip inside the virtualenv: the build stage's pip installs into it (--python).
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv --without-pip /opt/hypobot \
 && pip --python /opt/hypobot/bin/python install /wheels/hypobot-*.whl

FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin hypobot \
 && mkdir /data \
 && chown hypobot:hypobot /data
COPY --from=build /opt/hypobot /opt/hypobot
ENV PATH=/opt/hypobot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    HOST=0.0.0.0 \
    PORT=3000
USER hypobot
# SQLite (hypobot.sqlite3) lives here unless DATABASE_URL is set.
WORKDIR /data
EXPOSE 3000
# Liveness: the process answers. (docker-compose.yml checks /readyz: the database answers too.)
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=2)"]
# On SIGTERM Hypobot stops taking requests and finishes what is under way in at most 25 s:
# give it a stop timeout of 30 s (docker run --stop-timeout 30; compose: stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["hypobot", "serve"]
