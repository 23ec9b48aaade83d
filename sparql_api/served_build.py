"""Taking up a new build while serving: ``kimgraph build`` beside a running ``kimgraph serve``.

A store path such as ``var/store`` is a link to one build directory (``store.versions``). ``ServedBuilds``
keeps the services of the build now served and, every ``POLL_SECONDS``, looks where the link points. When
a new build appears it opens it and starts its query workers beside the old ones, then swaps the two in
one assignment: a request is pinned to the services current when it arrives (``PinServices``), so
requests in flight finish on the old build and every later one gets the new build. The old services are
closed once their last request has ended (or after ``RETIRE_AFTER`` seconds), and each build directory
carries a ``VersionHold`` while it is open here, so a build run meanwhile does not delete it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from pathlib import Path

from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Receive, Scope, Send

from sparql_api.authorization import writes_enabled
from sparql_api.named_queries import NamedQuery
from sparql_api.observability import Metrics
from sparql_api.services import PINNED, Services, open_services
from sparql_api.settings import Settings
from sparql_api.workers import QueryPool
from store.connect import open_for_service
from store.embedded import Store
from store.errors import StoreLocked
from store.remote import RemoteStore
from store.versions import VersionHold

log = logging.getLogger("kimgraph.builds")
POLL_SECONDS = 1.0
RETIRE_AFTER = 600.0
"""Seconds an old build's services wait for their last requests (a long download) before being closed."""
WRITER_WAIT = 15.0
"""Seconds a new build is waited for while another process (the build just ending) still holds it for
writing, before a service with writes enabled takes it up read-only."""


class Generation:
    """The services of one build, with the requests that use them."""

    def __init__(self, services: Services, stack: AsyncExitStack, hold: VersionHold | None):
        self.services, self.stack, self.hold = services, stack, hold
        self.users = 0
        self.directory = _directory(services.store)

    async def close(self) -> None:
        try:
            await self.stack.aclose()
        finally:
            if self.hold is not None:
                self.hold.release()


class CurrentStoreSize(Collector):
    """``kimgraph_store_triples`` of whichever build is served (one collector for the app's lifetime)."""

    def __init__(self, builds: ServedBuilds):
        self.builds = builds

    def describe(self):
        return self.builds.current.services.store_size.describe()

    def collect(self):
        return self.builds.current.services.store_size.collect()


class ServedBuilds:
    """The services of the build served now, swapped for those of a new build when one appears."""

    def __init__(self, settings: Settings, metrics: Metrics, queries: Mapping[str, NamedQuery]):
        self.settings, self.metrics, self.queries = settings, metrics, queries
        self.current: Generation | None = None
        self.link: Path | None = None
        self._retiring: set[asyncio.Task] = set()
        self._old: set[Generation] = set()  # swapped out, not yet closed
        self._watcher: asyncio.Task | None = None
        self._collector: CurrentStoreSize | None = None

    async def start(self, store: Store | RemoteStore | None, on_swap) -> Services:
        """Open the first services (over ``store``, or the one the settings name) and start following the
        store's link when it has one; ``on_swap(services)`` is called after each swap."""
        self.current = await self._open(store)
        self._collector = CurrentStoreSize(self)
        self.metrics.registry.register(self._collector)
        opened = self.current.services.store
        if isinstance(opened, Store) and opened.path is not None and Path(opened.path).is_symlink():
            self.link = Path(opened.path)
            self._watcher = asyncio.create_task(self._follow(self.link, self.current, on_swap),
                                                name="kimgraph-follow-builds")
        return self.current.services

    async def _open(self, store: Store | RemoteStore | None) -> Generation:
        stack = AsyncExitStack()
        services = await stack.enter_async_context(open_services(self.settings, self.metrics, self.queries, store))
        directory = _directory(services.store)
        hold = VersionHold(directory) if directory is not None else None
        return Generation(services, stack, hold)

    async def _follow(self, link: Path, current: Generation, on_swap) -> None:
        """Poll ``link``; take up each new build it points to (``current``: the generation served first)."""
        locked_since: dict[Path, float] = {}
        failed: dict[Path, float] = {}
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                target = link.resolve(strict=True)
            except OSError:
                continue  # the link is being replaced, or the store was removed: keep serving what is open
            if target == current.directory or time.monotonic() - failed.get(target, -60.0) < 30.0:
                continue
            try:
                generation = await self._open_build(target, locked_since)
            except Exception as e:  # keep serving the old build, and say why
                log.warning("could not take up the new build %s: %s", target.name, e)
                failed[target] = time.monotonic()
                continue
            if generation is None:
                continue
            runner = generation.services.runner
            if isinstance(runner, QueryPool) and not await runner.started():  # ready before it is served
                log.warning("the query workers of the new build %s did not start; keeping the old build",
                            target.name)
                await generation.close()
                failed[target] = time.monotonic()
                continue
            old, current = current, generation
            self.current = generation
            self._old.add(old)
            on_swap(generation.services)
            log.info("serving build %s (was %s)", target.name, old.directory.name if old.directory else "?")
            task = asyncio.create_task(self._retire(old))
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)

    async def _open_build(self, target: Path, locked_since: dict[Path, float]) -> Generation | None:
        """The services over the build at ``target``, or None to try again at the next poll (the build that
        made it still holds it for writing, and this service takes writes)."""
        writable = writes_enabled(self.settings)
        try:
            store = await asyncio.to_thread(open_for_service, target, writable, require_writable=True)
        except StoreLocked:
            first = locked_since.setdefault(target, time.monotonic())
            if time.monotonic() - first < WRITER_WAIT:
                return None
            store = await asyncio.to_thread(open_for_service, target, writable)
        return await self._open(store)

    def pin(self) -> Generation:
        """The generation a request starting now is served by, counted as in use until ``unpin``."""
        generation = self.current
        assert generation is not None, "pinned before the services were opened"
        generation.users += 1
        return generation

    @staticmethod
    def unpin(generation: Generation) -> None:
        generation.users -= 1

    async def _retire(self, generation: Generation) -> None:
        deadline = time.monotonic() + RETIRE_AFTER
        while generation.users > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        self._old.discard(generation)
        try:
            await generation.close()
        except Exception:
            log.exception("closing the services of build %s failed", generation.directory)

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        for task in list(self._retiring):
            task.cancel()
        await asyncio.gather(*self._retiring, return_exceptions=True)
        for generation in list(self._old):  # the app is ending: their requests have ended too
            self._old.discard(generation)
            await generation.close()
        if self._collector is not None:
            self.metrics.registry.unregister(self._collector)
        if self.current is not None:
            await self.current.close()


class PinServices:
    """Pins each HTTP request to the services of the build served when it arrives (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        builds: ServedBuilds | None = getattr(scope["app"].state, "builds", None) if "app" in scope else None
        if scope["type"] != "http" or builds is None or builds.current is None:
            await self.app(scope, receive, send)
            return
        generation = builds.pin()
        scope[PINNED] = generation.services
        try:
            await self.app(scope, receive, send)
        finally:
            builds.unpin(generation)


def _directory(store: Store | RemoteStore) -> Path | None:
    """The build directory an embedded store was opened from."""
    if isinstance(store, Store) and store.path is not None:
        return Path(store.path).resolve()
    return None
