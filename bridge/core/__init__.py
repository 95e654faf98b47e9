"""The core: ``BridgeService`` (the one application API) over one part per concern: sessions, jobs,
delivery, settings, events. Frontends import only this package (and ``bridge.errors``/``bridge.roles``)."""
