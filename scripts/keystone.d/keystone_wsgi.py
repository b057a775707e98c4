"""Keystone's public WSGI application for gunicorn: oslo.config in Keystone parses sys.argv, which holds
gunicorn's arguments, so they are hidden from it."""
import sys

sys.argv = sys.argv[:1]

from keystone.server.wsgi import initialize_public_application  # noqa: E402

application = initialize_public_application()
