"""HTTP: thin routers over framework-free services, the error mapper and middlewares."""
