"""MCP both ways: hiraga's own tools served to MCP clients at ``/mcp`` (``server``, ``server_tools``),
and MCP servers registered by administrators as tools a model may call in chat (``registry``,
``client``, ``calls``, ``chat_tools``). Every call, either way, is an audit record (``record``)."""
