# The bot's image: `serve` by default; the same image runs `worker` and `db upgrade` (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Graphviz draws the flow graphs served at /flows/graph.
RUN apt-get update \
    && apt-get install -y --no-install-recommends graphviz \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY main.py flows.yaml ./
COPY flows ./flows
COPY engine ./engine
COPY adapters ./adapters
COPY app ./app
COPY tooling ./tooling
RUN pip install ".[staff]"

RUN useradd --create-home --uid 10001 bot && mkdir -p /data && chown bot /data
USER bot
ENV FLOWS_PATH=/app/flows.yaml \
    DATABASE_URL=sqlite:////data/inspector-bot.db

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"
CMD ["python", "main.py", "serve", "--host", "0.0.0.0", "--port", "8000"]
