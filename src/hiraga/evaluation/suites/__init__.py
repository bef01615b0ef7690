"""The built-in evaluation suites (registered in pyproject like any plugin)."""
