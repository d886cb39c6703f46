# factstore: one image for every service of docker-compose.yml (api, migrate, scheduler,
# projector); the command chooses the role. Configuration comes from the environment only.

# Build stage: wheels for factstore and every dependency. Whatever a wheel build might need
# stays here; the runtime stage gets the wheels alone.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY factstore ./factstore
COPY api ./api
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Runtime stage: slim Python, the installed wheels, a non-root user. No compiler, no pip cache,
# no wheels left behind (they are bind-mounted from the build stage for the install only).
FROM python:3.12-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin factstore
WORKDIR /app
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels factstore
# `alembic upgrade head` (the migrate service) runs from here.
COPY alembic.ini ./
COPY migrations ./migrations
# The default source of a fresh install (the scheduler reads it when no sources file is given).
COPY seeds ./seeds
USER factstore
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/v1/health', timeout=4)"]
CMD ["factstore", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
