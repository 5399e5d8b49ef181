"""`ApiFailure`: what the simulator answers as HTTP 200 `success:false` with `errorInfo.code`."""

from __future__ import annotations


class ApiFailure(Exception):
    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message or code
