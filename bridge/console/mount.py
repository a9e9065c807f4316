"""The console of one bridge app: builds its parts and mounts them (see bridge.console)."""

from __future__ import annotations

from litestar import Litestar

from bridge.console.auth import ConsoleAccess
from bridge.console.core_reader import CoreReader
from bridge.console.hints import SecretNames
from bridge.console.pages import ConsolePages
from bridge.console.parked import ParkedOutbox
from bridge.console.quarantined import QuarantineActions
from bridge.console.recorder import DeliveryRecorder, TimedEndpoint
from bridge.fastpath import ENDPOINT_STATE_KEY
from bridge.outbox import Outbox
from bridge.quarantine import Quarantine
from bridge.settings import BridgeSettings

__all__ = ["Console"]


class Console:
    """The console of one bridge app; inert (no recording, no routes) when turned off."""

    def __init__(self, settings: BridgeSettings, quarantine: Quarantine, outbox: Outbox) -> None:
        """Prepares the console from the settings; nothing opens until first use."""
        self.enabled = settings.console
        self._settings = settings
        self._quarantine = quarantine
        self._outbox = outbox
        self.recorder = DeliveryRecorder(settings.console_ring_size)

    def mount(self, app: Litestar) -> None:
        """Adds the /console routes to `app`, has the webhook endpoint the fast path serves
        record into the ring, and closes the console's resources on shutdown."""
        if not self.enabled:
            return
        endpoint = app.state.get(ENDPOINT_STATE_KEY)
        if endpoint is not None:
            app.state[ENDPOINT_STATE_KEY] = TimedEndpoint(endpoint, self.recorder)
        settings = self._settings
        core = CoreReader(settings.core, settings.publisher_token, settings.core_credentials())
        parked = ParkedOutbox(self._outbox)
        quarantine = QuarantineActions(self._quarantine, settings)
        pages = ConsolePages(
            settings=settings,
            recorder=self.recorder,
            access=ConsoleAccess(settings.console_token),
            names=SecretNames.of(settings),
            core=core,
            parked=parked,
            quarantine=quarantine,
        )
        app.register(pages.router())

        async def close() -> None:
            await core.close()
            quarantine.close()

        app.on_shutdown.append(close)
