# The RusToK image: every Python deployable (write API, search API, Faust worker, CLI).
# docker-compose.yml runs it with different commands.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY contracts contracts
COPY write_api write_api
COPY migrations migrations
COPY connectors connectors
COPY pipelines pipelines
COPY search_api search_api
COPY rustok rustok
RUN pip install --no-cache-dir . && useradd --system rustok && mkdir -p /data && chown rustok /data
USER rustok
ENV RUSTOK_STATE_DIR=/data
ENTRYPOINT ["rustok"]
