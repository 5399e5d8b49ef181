"""A small keep-alive HTTP/1.1 load generator (asyncio streams), run in its own process.

Each of `connections` connections sends signed, distinct ~2 KB webhook bodies back to back for a fixed
duration after a warm-up, and records every latency.
"""

from __future__ import annotations

import asyncio
import json
import time

from shared.signatures import ashby_signature

PADDING = "x" * 1400  # brings the sample schedule webhook to about 2 KB


def webhook_body(n: int) -> bytes:
    event = {
        "id": f"bench-event-{n}",
        "interviewId": "bench-interview",
        "interviewScheduleId": f"bench-schedule-{n}",
        "startTime": "2026-12-01T15:00:00.000Z",
        "endTime": "2026-12-01T16:00:00.000Z",
        "createdAt": "2026-11-01T00:00:00.000Z",
        "updatedAt": "2026-11-01T00:00:00.000Z",
        "feedbackLink": "https://app.ashbyhq.com/interview-feedback/x",
        "hasSubmittedFeedback": False,
        "interviewers": [
            {
                "id": "u1",
                "firstName": "A",
                "lastName": "B",
                "email": "a@example.com",
                "globalRole": "Limited Access",
                "isEnabled": True,
                "updatedAt": "2026-11-01T00:00:00Z",
                "trainingRole": None,
                "isFeedbackRequired": True,
            }
        ],
        "extraData": {"note": PADDING},
    }
    schedule = {
        "id": f"bench-schedule-{n}",
        "status": "Scheduled",
        "applicationId": "bench-app",
        "interviewStageId": "bench-stage",
        "updatedAt": "2026-11-01T00:00:00.000Z",
        "interviewEvents": [event],
    }
    return json.dumps({"action": "interviewScheduleUpdate", "data": {"interviewSchedule": schedule}}).encode()


async def _connection(
    port: int,
    secret: str,
    worker: int,
    stop_at: float,
    measure_from: float,
    latencies: list[float],
    statuses: dict[int, int],
    counts: dict[str, int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = worker * 10_000_000
    try:
        while time.perf_counter() < stop_at:
            n += 1
            body = webhook_body(n)
            head = (
                f"POST /webhooks/ashby HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                f"Ashby-Signature: {ashby_signature(secret, body)}\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            writer.write(head.encode() + body)
            started = time.perf_counter()
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            counts["total"] += 1
            if started >= measure_from:
                latencies.append(time.perf_counter() - started)
                status = int(status_line.split()[1])
                statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def run(port: int, secret: str, *, connections: int, warmup_s: float, duration_s: float) -> dict[str, object]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counts = {"total": 0}
    start = time.perf_counter()
    measure_from, stop_at = start + warmup_s, start + warmup_s + duration_s
    await asyncio.gather(
        *(_connection(port, secret, w, stop_at, measure_from, latencies, statuses, counts) for w in range(connections))
    )
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    return {
        "requests": len(latencies),
        "total_requests": counts["total"],
        "rps": round(len(latencies) / duration_s, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "statuses": statuses,
    }


def main() -> None:
    import sys

    port, secret, connections, warmup, duration = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
    result = asyncio.run(
        run(int(port), secret, connections=int(connections), warmup_s=float(warmup), duration_s=float(duration))
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
