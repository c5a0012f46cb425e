# Build stage: the wheel, built as tests/test_wheel.py builds it (and then runs it).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY engagement engagement
COPY games games
COPY referrals referrals
COPY workers workers
COPY static static
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Runtime: that wheel installed without extras, and no source tree beside it.
FROM python:3.11-slim
# Posters draw Chinese text with Noto Sans CJK (engagement/kit/posters.py); without it the
# poster pages answer 503 poster_font_missing.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl
RUN useradd --create-home engagement
USER engagement
# Writable: the relative data_dir (.engagement/) and an optional .env are looked for here.
WORKDIR /home/engagement
ENV ENGAGEMENT_HOST=0.0.0.0
EXPOSE 8000
CMD ["engagement", "serve"]
