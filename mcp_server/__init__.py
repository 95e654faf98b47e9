"""The MCP adapter of the bridge (issue 7): tools, resources and prompts over BridgeService."""
