"""The gateway's command line: its service (`service.py`) and the commands over its API."""
