"""The network edge: outgoing calls to URLs that users registered (apps, webhooks; see ``outbound``),
and where an incoming request came from (``client_address``)."""
