"""An example hiraga app (see docs/apps.md): meeting minutes in, action items out, as a CSV file."""
