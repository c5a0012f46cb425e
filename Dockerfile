FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY engagement engagement
COPY games games
COPY referrals referrals
COPY workers workers
COPY static static
RUN pip install --no-cache-dir .
ENV ENGAGEMENT_HOST=0.0.0.0
EXPOSE 8000
CMD ["engagement", "serve"]
