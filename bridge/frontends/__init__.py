"""The frontends: the CLI, the OSC server and the daemon that composes them. They only translate to
``bridge.core.BridgeService``; the MCP adapter is the top-level ``mcp_server`` package."""
