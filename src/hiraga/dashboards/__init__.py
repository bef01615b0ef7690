"""Usage and adoption dashboards: framework-free aggregations over usage records, memberships,
limits and audit records, and server-side SVG charts. Pages render them; nothing here knows HTTP."""
