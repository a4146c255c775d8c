"""A concurrency model: many users, several writers each, against real servers over TCP.

Every writer keeps a record of what the server acknowledged; at the end the stored state must be
exactly what those acknowledgements imply. Writers of one user share a counter task that they
increment by read-modify-write under If-Match (a lost update would show as a low count); each
writer also creates (with an Idempotency-Key, sometimes sent twice, as a retry would), renames,
toggles and deletes tasks of its own.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.keys import hs256

OK = {200, 201, 204}


@dataclass
class Expected:
    title: str
    completed: bool = False


@dataclass
class Writer:
    user: str
    number: int
    clients: list[httpx.AsyncClient]
    rng: random.Random
    tasks: dict[int, Expected] = field(default_factory=dict)
    increments: int = 0
    requests: int = 0
    conflicts: int = 0
    statuses: list[int] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {hs256(self.user)}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        client = self.rng.choice(self.clients)  # any server: they share the database
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = await client.request(
            method, f"/api/{self.user}/tasks{path}", headers=headers, **kwargs
        )
        self.requests += 1
        self.statuses.append(response.status_code)
        return response

    async def create(self) -> None:
        title = f"w{self.number}-{uuid.uuid4().hex[:8]}"
        key = {"Idempotency-Key": uuid.uuid4().hex}
        response = await self.call("POST", "", json={"title": title}, headers=key)
        if self.rng.random() < 0.3:  # the answer was "lost": retry with the same key
            retry = await self.call("POST", "", json={"title": title}, headers=key)
            assert retry.json()["id"] == response.json()["id"]
        if response.status_code == 201:
            self.tasks[response.json()["id"]] = Expected(title)

    async def rename(self, task_id: int) -> None:
        title = f"w{self.number}-{uuid.uuid4().hex[:8]}"
        response = await self.call(
            "PUT", f"/{task_id}", json={"title": title, "completed": self.tasks[task_id].completed}
        )
        if response.status_code == 200:
            self.tasks[task_id].title = title

    async def toggle(self, task_id: int) -> None:
        response = await self.call("PATCH", f"/{task_id}/complete")
        if response.status_code == 200:
            self.tasks[task_id].completed = not self.tasks[task_id].completed
            assert response.json()["completed"] is self.tasks[task_id].completed

    async def delete(self, task_id: int) -> None:
        response = await self.call("DELETE", f"/{task_id}")
        if response.status_code == 204:
            del self.tasks[task_id]

    async def increment(self, counter_id: int) -> None:
        current = (await self.call("GET", f"/{counter_id}")).json()
        while True:
            response = await self.call(
                "PATCH",
                f"/{counter_id}",
                json={"description": str(int(current["description"]) + 1)},
                headers={"If-Match": f'"{current["version"]}"'},
            )
            if response.status_code != 412:
                break
            self.conflicts += 1
            current = response.json()["current"]  # someone else got there first: build on theirs
        if response.status_code == 200:
            self.increments += 1

    async def run(self, operations: int, counter_id: int) -> None:
        for _ in range(operations):
            action = self.rng.random()
            own = list(self.tasks)
            if action < 0.35 or not own:
                await self.create()
            elif action < 0.55:
                await self.increment(counter_id)
            elif action < 0.7:
                await self.rename(self.rng.choice(own))
            elif action < 0.85:
                await self.toggle(self.rng.choice(own))
            else:
                await self.delete(self.rng.choice(own))


@dataclass
class Outcome:
    requests: int
    conflicts: int
    bad_statuses: list[int]
    mismatches: list[str]


async def run_model(
    bases: list[str], *, users: int = 6, writers: int = 4, operations: int = 30, seed: int = 1
) -> Outcome:
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=64)
    clients = [httpx.AsyncClient(base_url=base, timeout=30, limits=limits) for base in bases]
    try:
        names = [f"user-{uuid.uuid4().hex[:6]}" for _ in range(users)]
        team: dict[str, list[Writer]] = {
            name: [Writer(name, n, clients, random.Random(rng.random())) for n in range(writers)]
            for name in names
        }
        counters: dict[str, int] = {}
        for name, members in team.items():
            created = await members[0].call(
                "POST", "", json={"title": "counter", "description": "0"}
            )
            counters[name] = created.json()["id"]
        await asyncio.gather(
            *(
                member.run(operations, counters[name])
                for name, members in team.items()
                for member in members
            )
        )
        mismatches: list[str] = []
        for name, members in team.items():
            listing = await members[0].call("GET", "?limit=500")
            stored = {task["id"]: task for task in listing.json()}
            if int(listing.headers["X-Total-Count"]) != len(stored):
                mismatches.append(
                    f"{name}: X-Total-Count {listing.headers['X-Total-Count']} for {len(stored)}"
                )
            counter = stored.pop(counters[name])
            increments = sum(member.increments for member in members)
            if counter["description"] != str(increments) or counter["version"] != 1 + increments:
                mismatches.append(
                    f"{name}: counter {counter['description']} v{counter['version']}, "
                    f"{increments} increments acknowledged"
                )
            expected = {
                task_id: task for member in members for task_id, task in member.tasks.items()
            }
            if set(stored) != set(expected):
                mismatches.append(
                    f"{name}: stored ids {sorted(stored)} != acknowledged {sorted(expected)}"
                )
            for task_id, task in expected.items():
                got = stored.get(task_id)
                if got and (got["title"], got["completed"]) != (task.title, task.completed):
                    mismatches.append(
                        f"{name}: task {task_id} is {got['title']}/{got['completed']}, "
                        f"expected {task}"
                    )
        everyone = [member for members in team.values() for member in members]
        return Outcome(
            requests=sum(member.requests for member in everyone),
            conflicts=sum(member.conflicts for member in everyone),
            bad_statuses=[s for member in everyone for s in member.statuses if s not in OK | {412}],
            mismatches=mismatches,
        )
    finally:
        for client in clients:
            await client.aclose()
