"""The built-in task apps 文章生成・要約・校正・翻訳: apps of the ``hiraga.apps`` extension point
(``definition`` and ``run``), declared in pyproject like any plugin, usable from the portal, the
portal API and the Gennai AI-app protocol alike."""
