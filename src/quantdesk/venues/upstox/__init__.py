"""Upstox (NSE) adapter, first slice: the REST layer.

`UpstoxClient` speaks the documented v2/v3 REST API; `RequestBudget` keeps it inside the
venue's rate limits; `errors` maps Upstox answers onto our error hierarchy; `payloads`
turns documented JSON into exact domain values. The `Venue` adapter, the websocket feeds
and reconciliation build on these.
"""

from quantdesk.venues.upstox.budget import BudgetWait, EndpointClass, Rate, RequestBudget
from quantdesk.venues.upstox.client import UpstoxClient
from quantdesk.venues.upstox.errors import AuthFailed, DuplicateTag, MalformedResponse
from quantdesk.venues.upstox.orders import ModifyRequest, OrderAck, PlaceRequest, UpstoxOrder
from quantdesk.venues.upstox.payloads import UpstoxPosition, UpstoxTrade

__all__ = [
    "AuthFailed",
    "BudgetWait",
    "DuplicateTag",
    "EndpointClass",
    "MalformedResponse",
    "ModifyRequest",
    "OrderAck",
    "PlaceRequest",
    "Rate",
    "RequestBudget",
    "UpstoxClient",
    "UpstoxOrder",
    "UpstoxPosition",
    "UpstoxTrade",
]
