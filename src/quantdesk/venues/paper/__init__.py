"""The paper venue: realistic simulated fills for backtests and paper trading."""

from quantdesk.venues.paper.config import PaperVenueConfig
from quantdesk.venues.paper.venue import PaperVenue

__all__ = ["PaperVenue", "PaperVenueConfig"]
