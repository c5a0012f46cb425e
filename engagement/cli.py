"""The ``engagement`` command line: serve, worker, run (both, on embedded servers when no
URLs are configured), migrate, demo, merchant create, staff create."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from engagement.kit.config import Settings, get_settings
from engagement.kit.embedded import EmbeddedServers
from engagement.kit.logging import configure_logging
from engagement.kit.multiproc import multiproc_dir

log = logging.getLogger("engagement.cli")


@contextmanager
def servers(settings: Settings, *, redis: bool = True) -> Iterator[Settings]:
    """Yield settings whose URLs point at real servers: the configured ones, or embedded
    servers started (and stopped again) here when a URL is missing."""
    need_pg = not settings.database_url
    need_redis = redis and not settings.redis_url
    if not (need_pg or need_redis):
        yield settings
        return
    embedded = EmbeddedServers(settings.data_dir)
    try:
        embedded.start(postgres=need_pg, redis=need_redis)
        embedded.export()
        yield settings.model_copy(update={
            "database_url": settings.database_url or embedded.database_url,
            "redis_url": settings.redis_url or embedded.redis_url,
        })
    finally:
        embedded.stop()


def cmd_migrate(args: argparse.Namespace) -> int:
    from engagement.kit.migrate import apply_migrations

    with servers(get_settings(), redis=False) as settings:
        assert settings.database_url
        applied = apply_migrations(settings.database_url)
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    base = get_settings()
    workers = args.workers or base.web_concurrency
    # Before the app (and prometheus-client) is imported: N processes share one directory.
    with multiproc_dir(temporary=workers > 1), servers(base) as settings:
        from engagement.app import create_app

        if args.host:
            settings = settings.model_copy(update={"host": args.host})
        if args.port:
            settings = settings.model_copy(update={"port": args.port})
        # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1 whatever
        # ENGAGEMENT_TRUSTED_PROXIES says; the app applies that setting itself (proxies.py).
        if workers > 1:  # each process builds its app from the environment (URLs exported)
            uvicorn.run("engagement.app:create_app", factory=True, workers=workers,
                        host=settings.host, port=settings.port, log_level="warning",
                        access_log=False, lifespan="on", proxy_headers=False)
        else:
            uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                        log_level="warning", access_log=False, lifespan="on",
                        proxy_headers=False)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from workers.settings import make_worker

    # No directory configured: the worker's counts stay in its memory, which nobody scrapes.
    with multiproc_dir(temporary=False), servers(get_settings()) as settings:
        os.nice(settings.worker_nice)  # after the embedded servers, which keep their own
        worker = make_worker(settings)
        worker.run()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """App and worker together: what a newcomer runs first."""
    from engagement.kit.migrate import apply_migrations

    base = get_settings()
    # The web process and the worker report their metrics together, through a directory of
    # their own (a temporary one unless PROMETHEUS_MULTIPROC_DIR names one).
    with multiproc_dir(temporary=True), servers(base) as settings:
        assert settings.database_url
        apply_migrations(settings.database_url)
        env = dict(os.environ, ENGAGEMENT_DATABASE_URL=settings.database_url,
                   ENGAGEMENT_REDIS_URL=settings.redis_url or "")
        host, port = args.host or settings.host, args.port or settings.port
        exe = [sys.executable, "-m", "engagement.cli"]
        children = [
            subprocess.Popen([*exe, "serve", "--host", host, "--port", str(port)], env=env),  # noqa: S603
            subprocess.Popen([*exe, "worker"], env=env),  # noqa: S603
        ]
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        shown = host if host not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
        base_url = f"http://{shown}:{port}"
        # The command as this shell can run it (.venv/bin/engagement under `make run`):
        # a new shell has no virtualenv on its PATH.
        demo = f"{shlex.quote(os.path.relpath(sys.argv[0]))} demo" \
            if os.path.basename(sys.argv[0]) == "engagement" else "engagement demo"
        print(f"\n  Engagement is running: {base_url}/console  (merchant console)\n"
              f"  Till: {base_url}/till   API docs: {base_url}/docs   Health: {base_url}/readyz\n"
              f"  Seed a demo (logins and links to open), in another terminal: {demo}\n"
              f"  Ctrl-C stops the app, the worker and any embedded servers.\n", flush=True)
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.2)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        failed = [c.returncode for c in children if c.returncode not in (0, -signal.SIGTERM)]
        return 0 if stopping or not failed else 1


def cmd_merchant_create(args: argparse.Namespace) -> int:
    from engagement.kit.db import create_pool, transaction
    from engagement.kit.migrate import apply_migrations
    from engagement.merchants.schemas import MerchantCreate
    from engagement.merchants.service import create_merchant

    data = MerchantCreate(name=args.name, slug=args.slug, currency=args.currency,
                          time_zone=args.time_zone)
    user = None
    if args.email:  # a console login, created with the merchant (same transaction)
        from engagement.console.schemas import UserCreate

        password = args.password
        if password is None:
            import getpass

            password = getpass.getpass("Console password: ")
        user = UserCreate(email=args.email, password=password, role="owner")

    async def create(dsn: str) -> dict[str, str]:
        from engagement.console.service import create_user
        from engagement.kit.clock import Clock

        pool = await create_pool(dsn, min_size=1, max_size=1)
        try:
            async with transaction(pool) as conn:
                merchant, key = await create_merchant(conn, data)
                if user is not None:
                    await create_user(conn, merchant.id, user, Clock().now())
        finally:
            await pool.close()
        return {"id": merchant.id, "slug": merchant.slug, "api_key": key}

    with servers(get_settings(), redis=False) as settings:
        assert settings.database_url
        apply_migrations(settings.database_url)
        from engagement.kit.errors import AppError

        try:
            created = asyncio.run(create(settings.database_url))
        except AppError as exc:  # the slug or the email is taken
            print(f"error: {exc.code}: {exc.detail_message}", file=sys.stderr)
            return 1
        print(json.dumps(created, ensure_ascii=False))
    return 0


def cmd_staff_create(args: argparse.Namespace) -> int:
    """A console login for a merchant's staff. Every refusal (unknown merchant or store, a
    taken email, a bad password) is exit code 2 and one line saying why."""
    from pydantic import ValidationError

    from engagement.console.schemas import UserCreate
    from engagement.kit.db import create_pool, transaction
    from engagement.kit.errors import AppError
    from engagement.kit.migrate import apply_migrations

    password = args.password
    if password is None:
        import getpass

        password = getpass.getpass("Console password: ")
    try:
        user = UserCreate(email=args.email, password=password, role=args.role,
                          store_id=args.store)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors(include_url=False, include_input=False))
        print(f"error: validation_error: {problems}", file=sys.stderr)
        return 2

    async def create(dsn: str) -> dict[str, str] | None:
        from engagement.console.service import add_staff
        from engagement.kit.clock import Clock
        from engagement.merchants.queries import merchant_by_slug

        pool = await create_pool(dsn, min_size=1, max_size=1)
        try:
            async with transaction(pool) as conn:
                merchant = await merchant_by_slug(conn, args.merchant)
                if merchant is None:
                    return None
                row = await add_staff(conn, merchant.id, user, Clock().now())
        finally:
            await pool.close()
        return {"id": row["id"], "email": row["email"], "role": row["role"]}

    with servers(get_settings(), redis=False) as settings:
        assert settings.database_url
        apply_migrations(settings.database_url)
        try:
            created = asyncio.run(create(settings.database_url))
        except AppError as exc:  # the store is not the merchant's, or the email is taken
            print(f"error: {exc.code}: {exc.detail_message}", file=sys.stderr)
            return 2
        if created is None:
            print(f"error: unknown_merchant: no merchant has the slug {args.merchant!r}",
                  file=sys.stderr)
            return 2
        print(json.dumps(created, ensure_ascii=False))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from engagement.demo import seed_demo
    from engagement.domains import DOMAINS, install
    from engagement.kit.migrate import apply_migrations

    with servers(get_settings()) as settings:
        assert settings.database_url
        apply_migrations(settings.database_url)
        # The demo's orders must reach the points and commission ledgers, as in the app.
        install()
        print(asyncio.run(seed_demo(settings, [d.demo for d in DOMAINS if d.demo])))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from engagement.console.schemas import ROLES

    parser = argparse.ArgumentParser(prog="engagement", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, fn, text in [("serve", cmd_serve, "run the web app"),
                           ("run", cmd_run, "run app and worker (embedded servers if no URLs)")]:
        p = sub.add_parser(name, help=text)
        p.add_argument("--host")
        p.add_argument("--port", type=int)
        p.add_argument("--workers", type=int, help="web processes (ENGAGEMENT_WEB_CONCURRENCY)")
        p.set_defaults(fn=fn)
    sub.add_parser("worker", help="run the arq worker").set_defaults(fn=cmd_worker)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(fn=cmd_migrate)
    sub.add_parser("demo", help="seed a demo merchant and print what to open").set_defaults(
        fn=cmd_demo)
    merchant = sub.add_parser("merchant", help="merchant administration")
    msub = merchant.add_subparsers(dest="merchant_command", required=True)
    create = msub.add_parser("create", help="create a merchant and print its API key once")
    create.add_argument("--name", required=True)
    create.add_argument("--slug")
    create.add_argument("--currency", default="CNY")
    create.add_argument("--time-zone", default="Asia/Shanghai")
    create.add_argument("--email", help="also create a console login with this email")
    create.add_argument("--password", help="its password (asked for when omitted)")
    create.set_defaults(fn=cmd_merchant_create)
    staff = sub.add_parser("staff", help="console logins of a merchant's staff")
    ssub = staff.add_subparsers(dest="staff_command", required=True)
    add = ssub.add_parser("create", help="add a console login (owner, manager or cashier)")
    add.add_argument("--merchant", required=True, metavar="SLUG", help="the merchant's slug")
    add.add_argument("--email", required=True)
    add.add_argument("--role", required=True, choices=list(ROLES))
    add.add_argument("--store", metavar="STORE_ID", help="the store they work in")
    add.add_argument("--password", help="their password (asked for when omitted)")
    add.set_defaults(fn=cmd_staff_create)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(get_settings().log_level)
    from pydantic import ValidationError

    try:
        return int(args.fn(args))
    except ValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
