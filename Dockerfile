# Hypobot: `hypobot serve` as a non-root user. Build: docker build -t hypobot .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bets bets
COPY bot bot
COPY jobs jobs
COPY storage storage
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 hypobot && mkdir /data && chown hypobot /data
COPY --from=build /install /usr/local
USER hypobot
WORKDIR /data
ENV PORT=3000 HOST=0.0.0.0 PYTHONUNBUFFERED=1
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3000\")}/healthz', timeout=2)" || exit 1
CMD ["hypobot", "serve"]
