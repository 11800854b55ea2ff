"""The HTTP edge: Host and cross-site checks, request checks, dependencies, the page and
its /api routes, the live event stream, and browser sign-in."""
