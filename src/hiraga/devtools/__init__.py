"""Tools for trying hiraga out and for operators' checks; nothing here is used while serving."""
