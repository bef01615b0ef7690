"""SCIM 2.0 provisioning (RFC 7643/7644) on scim2-server and scim2-models: bearer tokens (``tokens``),
the directory as SCIM storage (``storage``) and the service that ties them together (``service``)."""
