"""The merchant console: server-rendered pages (jinja2, htmx, Alpine.js) over the same
services as the API. This package holds the shell (sign-in, sessions, CSRF, navigation) and
the core's pages (coupon templates, members); the games and referral domains add their own
pages and register them with the shell (``engagement.console.shell``)."""
