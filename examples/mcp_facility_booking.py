"""A sample MCP server with an effect: a simulated facility-booking system of a city office.

``list_rooms`` and ``find_free_rooms`` only read; ``book_room`` and ``cancel_booking`` change the
bookings, so hiraga's administrator should leave them *effectful* (a person approves each call).
The bookings live in memory; nothing leaves the process.

Run it (Streamable HTTP at http://127.0.0.1:8765/mcp):

    python examples/mcp_facility_booking.py --port 8765      # or --stdio

then register it in hiraga (system administrator) as ``http://127.0.0.1:8765/mcp`` with
``HIRAGA_ALLOWED_UPSTREAM_HOSTS=127.0.0.1`` (see docs/mcp.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

ROOMS = {
    "会議室A": 12,
    "会議室B": 6,
    "大会議室": 40,
}


@dataclass
class Bookings:
    """The simulated system's state: (room, date, slot) → booking."""

    entries: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    next_number: int = 1

    def book(self, room: str, date: str, slot: str, purpose: str) -> dict[str, Any]:
        if room not in ROOMS:
            raise ToolError(f"「{room}」という施設はありません。")
        dt.date.fromisoformat(date)
        if (room, date, slot) in self.entries:
            raise ToolError(f"{room} は {date} {slot} に予約済みです。")
        booking = {"number": f"R-{self.next_number:04d}", "room": room, "date": date, "slot": slot, "purpose": purpose}
        self.next_number += 1
        self.entries[(room, date, slot)] = booking
        return booking


def build(bookings: Bookings | None = None) -> MCPServer[Any]:
    state = bookings if bookings is not None else Bookings()
    server: MCPServer[Any] = MCPServer("facility", instructions="市役所の施設予約（シミュレーター）")
    read_only = ToolAnnotations(read_only_hint=True)

    @server.tool(description="施設の一覧と定員", annotations=read_only)
    def list_rooms() -> dict[str, Any]:
        return {"rooms": [{"room": name, "capacity": capacity} for name, capacity in ROOMS.items()]}

    @server.tool(description="指定日・時間帯に空いている施設", annotations=read_only)
    def find_free_rooms(
        date: Annotated[str, Field(description="日付（YYYY-MM-DD）")],
        slot: Annotated[str, Field(description="時間帯（午前 / 午後）")],
    ) -> dict[str, Any]:
        return {"free": [room for room in ROOMS if (room, date, slot) not in state.entries]}

    @server.tool(description="施設を予約する（予約が作られる）", annotations=ToolAnnotations(destructive_hint=False))
    def book_room(
        room: Annotated[str, Field(description="施設名")],
        date: Annotated[str, Field(description="日付（YYYY-MM-DD）")],
        slot: Annotated[str, Field(description="時間帯（午前 / 午後）")],
        purpose: Annotated[str, Field(description="利用目的")],
    ) -> dict[str, Any]:
        return state.book(room, date, slot, purpose)

    @server.tool(description="予約を取り消す", annotations=ToolAnnotations(destructive_hint=True))
    def cancel_booking(number: Annotated[str, Field(description="予約番号（R-0001 など）")]) -> dict[str, Any]:
        for key, booking in list(state.entries.items()):
            if booking["number"] == number:
                del state.entries[key]
                return {"cancelled": number}
        raise ToolError(f"予約番号 {number} は見つかりません。")

    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--stdio", action="store_true", help="speak MCP over stdin/stdout instead of HTTP")
    args = parser.parse_args()
    if args.stdio:
        build().run()
    else:
        build().run(transport="streamable-http", host=args.host, port=args.port)


if __name__ == "__main__":
    main()
