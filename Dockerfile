# The bot's image: `serve` by default; the same image runs `worker`, `db upgrade`, `metrics-reset` and the staff
# commands (`check`, `test`, `graph`, `diff`, `doctor`). Built in two stages from the pinned requirements.lock.
# It has not been built on the development machines (they have no Docker engine): build it where one runs.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
WORKDIR /src
# Dependencies first (cached until the lock changes), every one pinned and hash-checked.
COPY requirements.lock ./
RUN /venv/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md main.py ./
COPY flows ./flows
COPY engine ./engine
COPY adapters ./adapters
COPY app ./app
COPY tooling ./tooling
# The package itself; its dependencies (the staff extra included: `explore` needs hypothesis) are the lock's.
RUN /venv/bin/pip install --no-deps .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/venv/bin:$PATH
# Graphviz draws the flow graphs served at /flows/graph.
RUN apt-get update \
    && apt-get install -y --no-install-recommends graphviz \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 bot \
    && mkdir -p /data /metrics \
    && chown bot /data /metrics
COPY --from=build /venv /venv
WORKDIR /app
# The CLI, the flows staff edit with their translations, and their conversation tests (`python main.py test`).
COPY main.py flows.yaml flows.schema.json ./
COPY translations ./translations
COPY tests/conversations ./tests/conversations
USER bot
ENV FLOWS_PATH=/app/flows.yaml \
    DATABASE_URL=sqlite:////data/inspector-bot.db

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"]
CMD ["python", "main.py", "serve", "--host", "0.0.0.0", "--port", "8000"]
