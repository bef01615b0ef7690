"""The request spine: authenticate → authorise → policy → route → provider → audit.

Each step is one module with one job. A step may use the steps before it only through the
values they hand down (a Principal, an AccessScope); nothing calls back up the chain.
"""
