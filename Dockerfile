# The gradtrace service: the Python package plus the page's browser libraries.
FROM node:20-slim AS frontend
WORKDIR /app/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend ./backend
RUN pip install --no-cache-dir .
COPY frontend ./frontend
COPY --from=frontend /app/frontend/node_modules ./frontend/node_modules
ENV GRADTRACE_FRONTEND_DIR=/app/frontend
# The lessons' SQLite file, unless GRADTRACE_DATABASE_URL names another database.
ENV GRADTRACE_DATA_DIR=/var/lib/gradtrace
RUN mkdir -p /var/lib/gradtrace && chown nobody /var/lib/gradtrace
VOLUME /var/lib/gradtrace
EXPOSE 8000
USER nobody
CMD ["gradtrace", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
