"""nova-api paste filter, after noauth2: keep the caller's X-Auth-Token in the request context.

noauth2 builds a RequestContext without auth_token, and nova-api then cannot call Glance or Neutron on the
user's behalf ("No valid authentication is available", HTTP 500 on POST /servers).
"""


def filter_factory(global_conf, **local_conf):
    def token_context(app):
        def middleware(environ, start_response):
            context = environ.get('nova.context')
            if context is not None:
                context.auth_token = environ.get('HTTP_X_AUTH_TOKEN')
            return app(environ, start_response)
        return middleware
    return token_context
