"""PostgreSQL access: the pool, migrations and one module of queries per aggregate."""
