# The image behind docker-compose.yml's api and worker services (not built on the development machines,
# which run no Docker engine).
FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap acl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home --shell /usr/sbin/nologin tfgrade-sandbox
WORKDIR /srv/tfgrade
COPY pyproject.toml ./
COPY requirements requirements
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements/runtime.lock
COPY grader grader
COPY app app
COPY workers workers
COPY migrations migrations
COPY assignments assignments
RUN pip install --no-cache-dir --no-deps -e .
EXPOSE 8000
CMD ["tfgrade", "api", "--host", "0.0.0.0", "--port", "8000"]
