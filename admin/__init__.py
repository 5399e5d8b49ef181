"""The admin service: a JSON API under /api and a server-rendered dashboard, behind the admin token.

Its own process (`fleet admin`), so the ingress stays thin and never queries PostgreSQL on a request.
"""
