# Production image: build wheels in one stage, run as a non-root user in a slim second stage.
# The official python images' sqlite3 can load extensions, so SpatiaLite works out of the box.
# The web apps' third-party browser code comes from npm (pinned by the lockfile), never a CDN.
FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY api ./api
COPY models ./models
COPY geo ./geo
COPY migrations ./migrations
# Only safewalk's own wheel: its dependencies come from the lock in the image below.
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-mod-spatialite fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 safewalk \
    && mkdir -p /data && chown safewalk:safewalk /data
# The dependencies at the versions and hashes of requirements-runtime.txt (requirements.txt
# without the dev tools; `make lock` writes both), then safewalk itself on top of them.
COPY requirements-runtime.txt /tmp/requirements-runtime.txt
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements-runtime.txt \
    && rm /tmp/requirements-runtime.txt
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-deps /wheels/*.whl && pip check && rm -rf /wheels
# The field app, the staff web, and only the npm files they serve: MapLibre and Swagger UI for
# /docs (the package itself is installed as a wheel, so SAFEWALK_WEB_DIR says where they are).
COPY web/field /opt/safewalk/web/field
COPY web/staff /opt/safewalk/web/staff
COPY web/shared /opt/safewalk/web/shared
COPY --from=web /src/web/node_modules/maplibre-gl/dist /opt/safewalk/web/node_modules/maplibre-gl/dist
COPY --from=web /src/web/node_modules/swagger-ui-dist /opt/safewalk/web/node_modules/swagger-ui-dist
ENV SAFEWALK_WEB_DIR=/opt/safewalk/web
# The gettext catalogues: read by the server, and compiled here into the web apps' JSON.
COPY locale /opt/safewalk/locale
ENV SAFEWALK_LOCALE_DIR=/opt/safewalk/locale
RUN python -m api.core.i18n --locale /opt/safewalk/locale --web /opt/safewalk/web
USER safewalk
WORKDIR /home/safewalk
# Configure by environment (docs/configuration.md). Data (SQLite file, media, generated secret)
# under /data.
ENV SAFEWALK_DATA_DIR=/data \
    SAFEWALK_ENVIRONMENT=production \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status == 200 else 1)"
# `serve` upgrades the schema (alembic upgrade head) before it starts listening, as
# SAFEWALK_OWNER_DATABASE_URL when set; on PostgreSQL serve as the app role, which owns no
# table (docs/operations.md, "Database roles"; docker-compose.yml migrates in a one-shot
# service instead).
# Behind a load balancer, name it so that throttles see clients' addresses, not the balancer's:
#   docker run -e SAFEWALK_TRUSTED_PROXIES=10.0.0.0/8 ...   (or: serve --trusted-proxies 10.0.0.0/8)
# Left empty, X-Forwarded-For is ignored and the socket's address counts.
ENV SAFEWALK_TRUSTED_PROXIES=""
CMD ["safewalk", "serve", "--host", "0.0.0.0", "--port", "8000"]
