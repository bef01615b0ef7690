"""Single sign-on: OpenID Connect providers (``oidc``, ``signin``), claim-mapping rules (``mapping``),
provider administration (``providers``), local-password policy (``local_login``), logout (``logout``) and
SCIM 2.0 provisioning (``scim``). Framework-free; the HTTP layer is ``web/pages/sso.py`` and ``web/scim.py``."""
