# One image for every Hookboard process: web (dashboard + API), ticker, worker
# and the `hookboard` CLI. The command picks the role (see docker-compose.yml).
# Not built by the test suite (no registry access there); see docs/deployment.md.
FROM python:3.11-slim-bookworm

# npm fetches Node 22 and bun, which Reflex needs to build the dashboard; curl
# serves the health checks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends npm curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 hookboard

WORKDIR /app
COPY requirements.txt constraints.txt ./
RUN python -m venv .venv \
    && .venv/bin/pip install --no-cache-dir -r requirements.txt -c constraints.txt
RUN npm install --prefix .tools --no-audit --no-fund node@22 bun@1.4.5 \
    && npm cache clean --force
COPY --chown=hookboard:hookboard . .
RUN chown hookboard:hookboard /app

ENV PATH=/app/.tools/node_modules/.bin:/app/.venv/bin:$PATH \
    REFLEX_USE_SYSTEM_BUN=1 \
    TELEMETRY_ENABLED=false \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    DATA_DIR=/app/data
USER hookboard
EXPOSE 3000

# The web app; the first start compiles the dashboard (a minute or so).
CMD ["python", "-m", "reflex", "run", "--env", "prod", "--single-port", \
     "--frontend-port", "3000", "--backend-host", "0.0.0.0"]
