"""行政実務適性評価: evaluation suites (plugins), private test sets, the runner, leaderboard, arena
and reports. Framework-free; the web layer (web/api/evaluation.py, web/pages/evaluation.py) is thin."""
